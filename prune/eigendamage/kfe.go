package eigendamage

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/winnow-ml/winnow/nn"
)

// eigenFloor: eigenvalues below it are taken as zero, as the official code.
const eigenFloor = 1e-10

// Basis is the Kronecker-factored eigenbasis of one layer: the columns of
// QA (In x In) and QS (Out x Out), row-major, are eigenvectors of A and S
// with eigenvalues LA and LS (ascending; those below 1e-10 set to 0).
type Basis struct {
	Layer   string
	In, Out int
	QA, QS  []float64
	LA, LS  []float64
}

// Decompose eigendecomposes a layer's factors.
func Decompose(f *Factors) (*Basis, error) {
	qa, la, err := eigenSym(f.A, f.In)
	if err != nil {
		return nil, fmt.Errorf("eigendamage: layer %s: A: %w", f.Layer, err)
	}
	qs, ls, err := eigenSym(f.S, f.Out)
	if err != nil {
		return nil, fmt.Errorf("eigendamage: layer %s: S: %w", f.Layer, err)
	}
	return &Basis{Layer: f.Layer, In: f.In, Out: f.Out, QA: qa, QS: qs, LA: la, LS: ls}, nil
}

func eigenSym(a []float64, n int) (q, l []float64, err error) {
	return eigenSymFloor(a, n, eigenFloor)
}

// eigenSymFloor eigendecomposes the symmetric part of a (n x n, row-major):
// eigenvectors as the columns of q, eigenvalues l ascending, those not above
// floor set to 0.
func eigenSymFloor(a []float64, n int, floor float64) (q, l []float64, err error) {
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			sym.SetSym(i, j, (a[i*n+j]+a[j*n+i])/2)
		}
	}
	var e mat.EigenSym
	if !e.Factorize(sym, true) {
		return nil, nil, fmt.Errorf("eigendecomposition of a %dx%d matrix did not converge", n, n)
	}
	l = e.Values(nil)
	for i, v := range l {
		if !(v > floor) {
			l[i] = 0
		}
	}
	var vec mat.Dense
	e.VectorsTo(&vec)
	q = make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			q[i*n+j] = vec.At(i, j)
		}
	}
	return q, l, nil
}

// Rotate returns W* = Q_Sᵀ W Q_A for each kernel position of w, a core
// weight [Out, In, K] (K = 1 for a linear layer), laid out as w.
func (b *Basis) Rotate(w []float64, k int) []float64 {
	o, in := b.Out, b.In
	ws := make([]float64, len(w))
	wk := mat.NewDense(o, in, nil)
	var tmp, res mat.Dense
	qa, qs := mat.NewDense(in, in, b.QA), mat.NewDense(o, o, b.QS)
	for pos := 0; pos < k; pos++ {
		for i := 0; i < o; i++ {
			for j := 0; j < in; j++ {
				wk.Set(i, j, w[(i*in+j)*k+pos])
			}
		}
		tmp.Mul(wk, qa)
		res.Mul(qs.T(), &tmp)
		for i := 0; i < o; i++ {
			for j := 0; j < in; j++ {
				ws[(i*in+j)*k+pos] = res.At(i, j)
			}
		}
	}
	return ws
}

// Importance returns the scores of the input directions (In) and output
// directions (Out) of a layer whose core weight in the eigenbasis is ws
// (from Rotate): Σ over the other index and kernel positions of
// (W*_ij)² Λ_S,i Λ_A,j.
func (b *Basis) Importance(ws []float64, k int) (in, out []float64) {
	in, out = make([]float64, b.In), make([]float64, b.Out)
	for i := 0; i < b.Out; i++ {
		for j := 0; j < b.In; j++ {
			s := 0.0
			for pos := 0; pos < k; pos++ {
				v := ws[(i*b.In+j)*k+pos]
				s += v * v
			}
			s *= b.LS[i] * b.LA[j]
			in[j] += s
			out[i] += s
		}
	}
	return in, out
}

// LayerPlan is what pruning keeps of one layer.
type LayerPlan struct {
	Layer               string
	KeepIn, KeepOut     []int // kept input and output directions, ascending
	In, Out             int   // directions before pruning
	ParamsBefore        int   // weights of the layer now (all three factors if factored)
	ParamsAfter         int   // weights of the three factors after pruning
	Rewrite             bool  // ParamsAfter <= ParamsBefore: the layer is rebuilt
	CappedIn, CappedOut bool  // the per-layer cap kept more than the threshold
}

// Scored is a layer's basis, rotated core and direction scores.
type Scored struct {
	Basis   *Basis
	WStar   []float64
	K       int // kernel positions
	In, Out []float64
	// Sizes of the layer as it is: the input and output widths the
	// network sees and the weights it holds now.
	Width, Height int
	Params        int
}

// Plan sets one global threshold over all directions of all layers so that
// the fraction ratio of them scores at or below it (the official rule: the
// threshold is the score at position floor(ratio*n) of the sorted scores and
// a direction is kept when it scores above it), then caps each layer: at
// most the fraction limit of its input (and of its output) directions is
// removed, and at least one of each is kept.
func Plan(layers []*Scored, ratio, limit float64) ([]LayerPlan, error) {
	if !(ratio >= 0 && ratio < 1) {
		return nil, fmt.Errorf("eigendamage: ratio %v: want 0 <= ratio < 1", ratio)
	}
	if !(limit > 0 && limit < 1) {
		return nil, fmt.Errorf("eigendamage: per-layer limit %v: want 0 < limit < 1", limit)
	}
	var all []float64
	for _, l := range layers {
		all = append(all, l.In...)
		all = append(all, l.Out...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("eigendamage: no directions to prune")
	}
	sort.Float64s(all)
	threshold := all[int(ratio*float64(len(all)))]
	if ratio == 0 {
		threshold = math.Inf(-1)
	}
	plans := make([]LayerPlan, len(layers))
	for i, l := range layers {
		keepIn, cappedIn := keep(l.In, threshold, limit)
		keepOut, cappedOut := keep(l.Out, threshold, limit)
		p := LayerPlan{Layer: l.Basis.Layer, KeepIn: keepIn, KeepOut: keepOut, In: len(l.In), Out: len(l.Out),
			ParamsBefore: l.Params, CappedIn: cappedIn, CappedOut: cappedOut}
		p.ParamsAfter = len(keepIn)*l.Width + len(keepOut)*len(keepIn)*l.K + l.Height*len(keepOut)
		p.Rewrite = p.ParamsAfter <= p.ParamsBefore
		plans[i] = p
	}
	return plans, nil
}

// keep returns the indices scoring above threshold. When that removes
// more than the fraction limit, it keeps, as the official code does, those
// scoring above the layer's own score at position floor(n·limit) of its
// sorted scores (n - floor(n·limit) - 1 of n when they differ: 3 of 64 at
// 0.95). At least one is kept: the best (the official code keeps unit 0).
func keep(scores []float64, threshold, limit float64) (idx []int, capped bool) {
	above := func(t float64) []int {
		var idx []int
		for i, s := range scores {
			if s > t {
				idx = append(idx, i)
			}
		}
		return idx
	}
	n := len(scores)
	idx = above(threshold)
	if 1-float64(len(idx))/float64(n) > limit {
		sorted := slices.Sorted(slices.Values(scores))
		idx, capped = above(sorted[int(float64(n)*limit)]), true
	}
	if len(idx) == 0 {
		best := 0
		for i, s := range scores {
			if s > scores[best] {
				best = i
			}
		}
		idx, capped = []int{best}, true
	}
	return idx, capped
}

// Score rotates a layer's core into its eigenbasis and scores its
// directions.
func Score[T nn.Float](l nn.Layer[T], b *Basis) *Scored {
	w := l.Core()
	k := 1
	if len(w.Shape) == 4 {
		k = w.Shape[2] * w.Shape[3]
	}
	w64 := make([]float64, len(w.Data))
	for i, v := range w.Data {
		w64[i] = float64(v)
	}
	ws := b.Rotate(w64, k)
	in, out := b.Importance(ws, k)
	width, height := l.Dims()
	params := w.Len()
	if rin, rout := l.Rotations(); rin != nil {
		params += rin.Len() + rout.Len()
	}
	return &Scored{Basis: b, WStar: ws, K: k, In: in, Out: out, Width: width, Height: height, Params: params}
}

// Apply rebuilds the layer as its plan says: input rotation Q_A[:, keepIn]ᵀ
// (composed with the layer's present input rotation), core W*[keepOut,
// keepIn], output rotation Q_S[:, keepOut] (composed with the present one).
// It does nothing when the plan does not rewrite the layer.
func Apply[T nn.Float](l nn.Layer[T], s *Scored, p LayerPlan) {
	if !p.Rewrite {
		return
	}
	b := s.Basis
	kin, kout := len(p.KeepIn), len(p.KeepOut)
	// New input rotation (kin x core inputs), then composed with the old
	// one (core inputs x layer inputs).
	rin := mat.NewDense(kin, b.In, nil)
	for r, j := range p.KeepIn {
		for c := 0; c < b.In; c++ {
			rin.Set(r, c, b.QA[c*b.In+j])
		}
	}
	rout := mat.NewDense(b.Out, kout, nil)
	for r := 0; r < b.Out; r++ {
		for c, i := range p.KeepOut {
			rout.Set(r, c, b.QS[r*b.Out+i])
		}
	}
	if oldIn, oldOut := l.Rotations(); oldIn != nil {
		var composedIn, composedOut mat.Dense
		composedIn.Mul(rin, toDense(oldIn.Data, oldIn.Shape[0], oldIn.Shape[1]))
		composedOut.Mul(toDense(oldOut.Data, oldOut.Shape[0], oldOut.Shape[1]), rout)
		rin, rout = &composedIn, &composedOut
	}
	core := make([]T, kout*kin*s.K)
	for r, i := range p.KeepOut {
		for c, j := range p.KeepIn {
			for pos := 0; pos < s.K; pos++ {
				core[(r*kin+c)*s.K+pos] = T(s.WStar[(i*b.In+j)*s.K+pos])
			}
		}
	}
	l.Factor(fromDense[T](rin), kin, core, fromDense[T](rout), kout)
}

func toDense[T nn.Float](v []T, r, c int) *mat.Dense {
	d := make([]float64, r*c)
	for i := range d {
		d[i] = float64(v[i])
	}
	return mat.NewDense(r, c, d)
}

func fromDense[T nn.Float](m *mat.Dense) []T {
	r, c := m.Dims()
	out := make([]T, 0, r*c)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out = append(out, T(m.At(i, j)))
		}
	}
	return out
}
