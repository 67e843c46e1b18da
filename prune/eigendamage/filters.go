package eigendamage

import (
	"context"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/internal/kernels"
	"github.com/winnow-ml/winnow/nn"
)

// Filter-pruning baselines of the EigenDamage paper: whole output units
// (filters, features) of every chain (nn.Chains) are scored by a quadratic
// model of the loss and removed, and the layers rebuilt slimmer.
//
//	C-OBD     ΔL_i = ½ Σ_{q in unit i} F_qq w_q²              (exact diagonal Fisher)
//	Kron-OBD  ΔL_i = ½ S_ii Σ_j A_jj Σ_pos W_ij,pos²          (diagonals of the K-FAC factors)
//	Kron-OBS  ΔL_i = ½ Σ_pos w_i,posᵀ A w_i,pos / [S⁻¹]_ii     (K-FAC Fisher, OBS; the remaining
//	          units are corrected by ΔW = -S⁻¹[:, R] ([S⁻¹]_RR)⁻¹ W_R for the removed set R)
//
// With a diagonal Fisher, OBS scores and updates reduce to OBD's, so C-OBS
// is C-OBD. A is over input channels only, as for EigenDamage.
const (
	COBD    = "c-obd"
	KronOBD = "kron-obd"
	KronOBS = "kron-obs"
)

// Methods lists the structured methods: EigenDamage and the baselines.
var Methods = []string{"eigendamage", COBD, KronOBD, KronOBS}

// obsDamping is added to S, relative to its mean diagonal, before Kron-OBS
// inverts it.
const obsDamping = 1e-3

// PruneFilters runs one round of a filter-pruning baseline on net: the
// fraction ratio of all output units of all chains is removed under one
// global threshold, at most the fraction limit of any layer and at least
// one unit kept.
func PruneFilters[T nn.Float](ctx context.Context, net nn.Module[T], batches iter.Seq2[Batch[T], error], method string, c Config) (*Result, error) {
	if !(c.Ratio >= 0 && c.Ratio < 1) || !(c.Limit > 0 && c.Limit < 1) {
		return nil, fmt.Errorf("eigendamage: ratio %v, limit %v: want 0 <= ratio < 1, 0 < limit < 1", c.Ratio, c.Limit)
	}
	chains := nn.Chains(net)
	if len(chains) == 0 {
		return nil, fmt.Errorf("eigendamage: the network has no layer whose outputs can be removed")
	}
	layers := make([]nn.Layer[T], len(chains))
	for i, ch := range chains {
		if ch.Layer.Factored() || ch.Next.Factored() {
			return nil, fmt.Errorf("eigendamage: %s: filter pruning needs unfactored layers", ch.Layer.Name)
		}
		layers[i] = ch.Layer
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x6569_6765_6e))
	scores := make([][]float64, len(layers))
	var factors []*Factors
	switch method {
	case COBD:
		diag, err := DiagonalFisher(ctx, net, layers, batches, c.Fisher, rng)
		if err != nil {
			return nil, err
		}
		for i, l := range layers {
			scores[i] = obdScores(l.Core(), func(q int) float64 { return diag[i][q] })
		}
	case KronOBD, KronOBS:
		var err error
		factors, err = CollectLayers(ctx, net, layers, batches, c.Fisher, rng)
		if err != nil {
			return nil, err
		}
		for i, l := range layers {
			if method == KronOBD {
				f := factors[i]
				w := l.Core()
				per := w.Len() / (f.Out * f.In)
				scores[i] = obdScores(w, func(q int) float64 {
					row, col := q/(f.In*per), (q/per)%f.In
					return f.S[row*f.Out+row] * f.A[col*f.In+col]
				})
			} else {
				scores[i] = obsScores(l.Core(), factors[i])
			}
		}
	default:
		return nil, fmt.Errorf("eigendamage: unknown filter method %q (%v)", method, Methods[1:])
	}
	var all []float64
	for _, s := range scores {
		all = append(all, s...)
	}
	sort.Float64s(all)
	threshold := math.Inf(-1)
	if c.Ratio > 0 {
		threshold = all[int(c.Ratio*float64(len(all)))]
	}
	res := &Result{}
	for _, ch := range chains {
		w := ch.Layer.Core()
		res.Layers = append(res.Layers, LayerPlan{Layer: ch.Layer.Name, Out: w.Shape[0], In: w.Shape[1],
			ParamsBefore: w.Len(), Rewrite: true})
	}
	for i, ch := range chains {
		kept, capped := keep(scores[i], threshold, c.Limit)
		if method == KronOBS && len(kept) < len(scores[i]) {
			obsUpdate(ch.Layer.Core(), factors[i], kept)
		}
		ch.Slim(kept)
		res.Layers[i].KeepOut, res.Layers[i].CappedOut = kept, capped
	}
	// Sizes after all slimming: a layer loses inputs to the chain before it.
	for i, ch := range chains {
		w := ch.Layer.Core()
		res.Layers[i].KeepIn = seqInts(w.Shape[1])
		res.Layers[i].ParamsAfter = w.Len()
	}
	return res, nil
}

func seqInts(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// obdScores sums ½ h_q w_q² over each output unit's weights.
func obdScores[T nn.Float](w *nn.Param[T], h func(q int) float64) []float64 {
	o := w.Shape[0]
	per := w.Len() / o
	s := make([]float64, o)
	for i := 0; i < o; i++ {
		for q := i * per; q < (i+1)*per; q++ {
			v := float64(w.Data[q])
			s[i] += 0.5 * h(q) * v * v
		}
	}
	return s
}

func dampedInverse(s []float64, n int) *mat.Dense {
	m := mat.NewDense(n, n, append([]float64(nil), s...))
	mean := 0.0
	for i := 0; i < n; i++ {
		mean += s[i*n+i] / float64(n)
	}
	for i := 0; i < n; i++ {
		m.Set(i, i, m.At(i, i)+obsDamping*mean+1e-12)
	}
	var inv mat.Dense
	if err := inv.Inverse(m); err != nil {
		// A damped PSD matrix is invertible; fall back to the identity scale.
		inv.Scale(0, m)
		for i := 0; i < n; i++ {
			inv.Set(i, i, 1/(obsDamping*mean+1e-12))
		}
	}
	return &inv
}

// obsScores: ½ Σ_pos w_i,posᵀ A w_i,pos / [S⁻¹]_ii.
func obsScores[T nn.Float](w *nn.Param[T], f *Factors) []float64 {
	inv := dampedInverse(f.S, f.Out)
	per := w.Len() / (f.Out * f.In)
	s := make([]float64, f.Out)
	for i := 0; i < f.Out; i++ {
		q := 0.0
		for pos := 0; pos < per; pos++ {
			for a := 0; a < f.In; a++ {
				wa := float64(w.Data[(i*f.In+a)*per+pos])
				if wa == 0 {
					continue
				}
				for b := 0; b < f.In; b++ {
					q += wa * f.A[a*f.In+b] * float64(w.Data[(i*f.In+b)*per+pos])
				}
			}
		}
		s[i] = 0.5 * q / inv.At(i, i)
	}
	return s
}

// obsUpdate corrects the kept rows of w for removing the others:
// W += -S⁻¹[:, R] ([S⁻¹]_RR)⁻¹ W_R.
func obsUpdate[T nn.Float](w *nn.Param[T], f *Factors, kept []int) {
	inv := dampedInverse(f.S, f.Out)
	isKept := make([]bool, f.Out)
	for _, k := range kept {
		isKept[k] = true
	}
	var removed []int
	for i := 0; i < f.Out; i++ {
		if !isKept[i] {
			removed = append(removed, i)
		}
	}
	r := len(removed)
	cols := w.Len() / f.Out
	invRR := mat.NewDense(r, r, nil)
	invAR := mat.NewDense(f.Out, r, nil)
	wR := mat.NewDense(r, cols, nil)
	for a, i := range removed {
		for b, j := range removed {
			invRR.Set(a, b, inv.At(i, j))
		}
		for row := 0; row < f.Out; row++ {
			invAR.Set(row, a, inv.At(row, i))
		}
		for c := 0; c < cols; c++ {
			wR.Set(a, c, float64(w.Data[i*cols+c]))
		}
	}
	var solved, delta mat.Dense
	if err := solved.Solve(invRR, wR); err != nil {
		return // leave the weights as they are when the block is singular
	}
	delta.Mul(invAR, &solved)
	for _, k := range kept {
		for c := 0; c < cols; c++ {
			w.Data[k*cols+c] -= T(delta.At(k, c))
		}
	}
}

// DiagonalFisher returns, for each layer, the exact diagonal of the Fisher
// of its core weight: the mean over examples of the squared per-example
// gradient (labels as Collect draws them).
func DiagonalFisher[T nn.Float](ctx context.Context, net nn.Module[T], layers []nn.Layer[T], batches iter.Seq2[Batch[T], error], fisher Fisher, rng *rand.Rand) ([][]float64, error) {
	diag := make([][]float64, len(layers))
	for i, l := range layers {
		diag[i] = make([]float64, l.Core().Len())
	}
	examples := 0
	var grad, col, img, dy []float64
	count, err := curvaturePass(ctx, net, layers, batches, fisher, rng, func(i int, x, y *autograd.Var[T]) {
		n := x.Shape[0]
		if i == 0 {
			examples += n
		}
		w := layers[i].Core()
		o := w.Shape[0]
		k := w.Len() / o
		if cap(grad) < o*k {
			grad = make([]float64, o*k)
		}
		g := grad[:o*k]
		for e := 0; e < n; e++ {
			if c := layers[i].Conv; c != nil {
				ch, h, wd := x.Shape[1], x.Shape[2], x.Shape[3]
				geom := kernels.NewConvGeom(ch, h, wd, w.Shape[2], w.Shape[3], c.Stride[0], c.Stride[1], c.Padding[0], c.Padding[1])
				p := geom.Cols()
				if cap(col) < k*p {
					col = make([]float64, k*p)
				}
				img = float64s(img, x.Value[e*ch*h*wd:(e+1)*ch*h*wd])
				kernels.Im2col(geom, img, col[:k*p], p)
				// Per example: the loss is a batch mean, so its gradient is n dy.
				dy = float64s(dy, y.Grad[e*o*p:(e+1)*o*p])
				kernels.Gemm(false, true, o, k, p, float64(n), dy, p, col[:k*p], p, 0, g, k)
			} else {
				for a := 0; a < o; a++ {
					ga := float64(n) * float64(y.Grad[e*o+a])
					for b := 0; b < k; b++ {
						g[a*k+b] = ga * float64(x.Value[e*k+b])
					}
				}
			}
			for q, v := range g {
				diag[i][q] += v * v
			}
		}
	})
	if err != nil {
		return nil, err
	}
	_ = count
	for _, d := range diag {
		for q := range d {
			d[q] /= float64(examples)
		}
	}
	return diag, nil
}
