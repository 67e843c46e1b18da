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

// Filter-pruning baselines of the EigenDamage paper, as its official code
// defines them (alecwangcq/EigenDamage-Pytorch: pruner/fisher_diag_pruner.py,
// kfac_full_pruner.py, kfac_OBD_F2.py, kfac_OBS_F2.py). A layer's weight is
// read as the matrix W (O x D) of the official fetch_mat_weights: a row per
// output unit holding its in·kh·kw weights and, where the layer has one, its
// bias as a last column. The Kronecker factors are over those coordinates:
// A (D x D) over im2col patches with a constant 1 appended (ComputeCovA),
// G (O x O) over the output gradients (ComputeCovG), both averaged over the
// curvature batches. Output unit i scores
//
//	C-OBD     s_i = Σ_j W_ij² (F_ij + 1e-10)          F: exact diagonal Fisher, Σ over examples of
//	                                                  squared per-example gradients / batches
//	C-OBS     s_i = Σ_j W_ij² / ([G⁺]_ii [A⁺]_jj)     the diagonal of the K-FAC inverse
//	Kron-OBD  s_i = G_ii Σ_j [(W∘W) A]_ij
//	Kron-OBS  s_i = Σ_j [(W∘W) A]_ij / [G⁺]_ii
//
// and the two OBS methods correct the kept rows (bias included) for the
// removed set R, each removed row's single-unit OBS correction summed:
//
//	C-OBS     ΔW = -G⁺ C A⁺,  C_ij = W_ij / ([G⁺]_ii [A⁺]_jj) for i in R, 0 otherwise
//	Kron-OBS  ΔW_k = -Σ_{r in R} [G⁺]_kr / [G⁺]_rr W_r
//
// X⁺ is the official pseudo-inverse Q diag(1/(λ + 1e-10)) Qᵀ with the
// eigenvalues λ not above 1e-15 set to 0: a unit that no gradient reaches
// (a zero row of G) has [G⁺]_ii = 1e10 and scores about 0, so dead units go
// first. Config.Damping adds to the factors before they are inverted; the
// official code has none, and neither has the default.
//
// Every layer whose outputs can be removed (nn.Chains) is scored, and so is
// the classifier: one threshold over all scores, at the official position
// floor(ratio·n) of the sorted scores, and a unit is kept when it scores
// above it. The classifier keeps all its outputs, as in the official code;
// its scores only move the threshold. Layers whose outputs join residual
// additions (nn.ResidualWriters: the stem, each block's conv2 and shortcut)
// are scored and pruned like the others, by the official union rule
// (nn.SlimResidual): a block's output keeps a channel when its branch or its
// shortcut does. Config.KeepResidual keeps their outputs whole instead, out
// of the score pool.
const (
	COBD    = "c-obd"
	COBS    = "c-obs"
	KronOBD = "kron-obd"
	KronOBS = "kron-obs"
)

// Methods lists the structured methods: EigenDamage and the baselines.
var Methods = []string{"eigendamage", COBD, COBS, KronOBD, KronOBS}

// The official constants: eigenvalues not above inverseFloor are zero,
// the pseudo-inverse adds inverseOffset, the diagonal Fisher fisherOffset.
const (
	inverseFloor  = 1e-15
	inverseOffset = 1e-10
	fisherOffset  = 1e-10
)

// PruneFilters runs one round of a filter-pruning baseline on net: units
// scoring at or below the global threshold (the fraction ratio of all
// scores) are removed, at most the fraction limit of any layer's, and at
// least one unit of a layer is kept.
func PruneFilters[T nn.Float](ctx context.Context, net nn.Module[T], batches iter.Seq2[Batch[T], error], method string, c Config) (*Result, error) {
	if method == "eigendamage" {
		return nil, fmt.Errorf("eigendamage: PruneFilters: %q is not a filter method", method)
	}
	if !(c.Ratio >= 0 && c.Ratio < 1) {
		return nil, fmt.Errorf("eigendamage: ratio %v: want 0 <= ratio < 1", c.Ratio)
	}
	r, err := NewRound(ctx, net, batches, method, c)
	if err != nil {
		return nil, err
	}
	return r.Apply(net, c.Ratio)
}

// filterRound scores the output units of every chain, residual writer
// and the classifier of net.
func (r *Round[T]) scoreFilters(ctx context.Context, net nn.Module[T], batches iter.Seq2[Batch[T], error]) error {
	method, c := r.Method, r.Config
	chains := nn.Chains(net)
	if len(chains) == 0 {
		return fmt.Errorf("eigendamage: the network has no layer whose outputs can be removed")
	}
	all := nn.Layers(net)
	classifier := all[len(all)-1]
	layers := make([]nn.Layer[T], 0, len(chains)+1)
	for _, ch := range chains {
		if ch.Layer.Factored() || ch.Next.Factored() {
			return fmt.Errorf("eigendamage: %s: filter pruning needs unfactored layers", ch.Layer.Name)
		}
		layers = append(layers, ch.Layer)
	}
	if classifier.Factored() {
		return fmt.Errorf("eigendamage: %s: filter pruning needs an unfactored classifier", classifier.Name)
	}
	var writers []nn.Writer[T]
	if !c.KeepResidual {
		writers = nn.ResidualWriters(net)
	}
	for _, w := range writers {
		layers = append(layers, w.Layer)
	}
	layers = append(layers, classifier)
	r.chains, r.writers = len(chains), len(writers)
	rng := rand.New(rand.NewPCG(c.Seed, 0x6569_6765_6e))
	weights := make([]*mat.Dense, len(layers))
	for i, l := range layers {
		weights[i] = unitMatrix(l)
		r.names = append(r.names, l.Name)
	}
	scores := make([][]float64, len(layers))
	var ginv, ainv []*mat.Dense // G⁺ (C-OBS, Kron-OBS) and A⁺ (C-OBS) of each layer
	switch method {
	case COBD:
		diag, err := DiagonalFisher(ctx, net, layers, batches, c.Fisher, rng)
		if err != nil {
			return err
		}
		for i := range layers {
			scores[i] = cobdScores(weights[i], diag[i])
		}
	case COBS, KronOBD, KronOBS:
		stats, err := collectKron(ctx, net, layers, batches, c.Fisher, rng, method == COBS)
		if err != nil {
			return err
		}
		ginv, ainv = make([]*mat.Dense, len(layers)), make([]*mat.Dense, len(layers))
		for i, st := range stats {
			if method != KronOBD {
				if ginv[i], err = pseudoInverse(st.G, st.Out, c.Damping); err != nil {
					return fmt.Errorf("eigendamage: layer %s: G: %w", layers[i].Name, err)
				}
			}
			switch method {
			case COBS:
				if ainv[i], err = pseudoInverse(st.A, st.D, c.Damping); err != nil {
					return fmt.Errorf("eigendamage: layer %s: A: %w", layers[i].Name, err)
				}
				st.A = nil
				scores[i] = cobsScores(weights[i], ginv[i], ainv[i])
			case KronOBD:
				scores[i] = kronOBDScores(weights[i], st.RowSumA, st.G, st.Out)
			case KronOBS:
				scores[i] = kronOBSScores(weights[i], st.RowSumA, ginv[i])
			}
		}
	default:
		return fmt.Errorf("eigendamage: unknown method %q (%v)", method, Methods)
	}
	for _, s := range scores {
		for _, v := range s {
			if math.IsNaN(v) {
				return fmt.Errorf("eigendamage: %s: a unit's score is NaN (non-finite weights or curvature)", method)
			}
		}
	}
	r.unitScores, r.weights, r.ginv, r.ainv = scores, weights, ginv, ainv
	return nil
}

// applyFilters removes the units of net (net or a copy of it) the
// threshold of ratio leaves, the OBS methods correcting the kept rows.
func (r *Round[T]) applyFilters(net nn.Module[T], ratio float64) (*Result, error) {
	chains := nn.Chains(net)
	var writers []nn.Writer[T]
	if r.writers > 0 {
		writers = nn.ResidualWriters(net)
	}
	if len(chains) != r.chains || len(writers) != r.writers {
		return nil, fmt.Errorf("eigendamage: the network is not the one scored (%d chains and %d residual writers, scored %d and %d)", len(chains), len(writers), r.chains, r.writers)
	}
	var pruned []nn.Layer[T] // every scored layer but the classifier
	for _, ch := range chains {
		pruned = append(pruned, ch.Layer)
	}
	for _, w := range writers {
		pruned = append(pruned, w.Layer)
	}
	for i, l := range pruned {
		if l.Name != r.names[i] {
			return nil, fmt.Errorf("eigendamage: layer %s of the network is not %s, the one scored", l.Name, r.names[i])
		}
	}
	var pool []float64
	for _, s := range r.unitScores {
		pool = append(pool, s...)
	}
	sort.Float64s(pool)
	threshold := math.Inf(-1)
	if ratio > 0 {
		threshold = pool[int(ratio*float64(len(pool)))]
	}
	res := &Result{}
	kept := make([][]int, len(pruned))
	for i, l := range pruned {
		w := l.Core()
		res.Layers = append(res.Layers, LayerPlan{Layer: l.Name, Out: w.Shape[0], In: w.Shape[1], ParamsBefore: w.Len(), Rewrite: true})
		var capped bool
		kept[i], capped = keep(r.unitScores[i], threshold, r.Config.Limit)
		if len(kept[i]) < len(r.unitScores[i]) && (r.Method == COBS || r.Method == KronOBS) {
			corrected := mat.DenseCopyOf(r.weights[i]) // a Round applies more than once
			if r.Method == COBS {
				cobsUpdate(corrected, r.ginv[i], r.ainv[i], kept[i])
			} else {
				kronOBSUpdate(corrected, r.ginv[i], kept[i])
			}
			setUnitMatrix(l, corrected)
		}
		res.Layers[i].KeepOut, res.Layers[i].CappedOut = kept[i], capped
	}
	for i, ch := range chains {
		ch.Slim(kept[i])
	}
	if len(writers) > 0 {
		byName := map[string][]int{}
		for i, w := range writers {
			byName[w.Layer.Name] = kept[len(chains)+i]
		}
		if err := nn.SlimResidual(net, byName); err != nil {
			return nil, err
		}
	}
	// Sizes after all slimming: a layer loses inputs to the layers before.
	for i, l := range pruned {
		w := l.Core()
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

// unitMatrix is the layer's W (O x D) in float64: each output unit's
// weights, in·kh·kw of them, and its bias last where there is one.
func unitMatrix[T nn.Float](l nn.Layer[T]) *mat.Dense {
	w := l.Core()
	o := w.Shape[0]
	k := w.Len() / o
	b := l.Bias()
	d := k
	if b != nil {
		d++
	}
	m := mat.NewDense(o, d, nil)
	for i := 0; i < o; i++ {
		for j := 0; j < k; j++ {
			m.Set(i, j, float64(w.Data[i*k+j]))
		}
		if b != nil {
			m.Set(i, k, float64(b.Data[i]))
		}
	}
	return m
}

// setUnitMatrix writes m back into the layer's weight and bias.
func setUnitMatrix[T nn.Float](l nn.Layer[T], m *mat.Dense) {
	w := l.Core()
	o := w.Shape[0]
	k := w.Len() / o
	for i := 0; i < o; i++ {
		for j := 0; j < k; j++ {
			w.Data[i*k+j] = T(m.At(i, j))
		}
		if b := l.Bias(); b != nil {
			b.Data[i] = T(m.At(i, k))
		}
	}
}

func cobdScores(w *mat.Dense, fisher []float64) []float64 {
	o, d := w.Dims()
	s := make([]float64, o)
	for i := 0; i < o; i++ {
		for j := 0; j < d; j++ {
			v := w.At(i, j)
			s[i] += v * v * (fisher[i*d+j] + fisherOffset)
		}
	}
	return s
}

func cobsScores(w, ginv, ainv *mat.Dense) []float64 {
	o, d := w.Dims()
	s := make([]float64, o)
	for i := 0; i < o; i++ {
		g := ginv.At(i, i)
		for j := 0; j < d; j++ {
			v := w.At(i, j)
			s[i] += v * v / (g * ainv.At(j, j))
		}
	}
	return s
}

// squaredTimesRowSums is Σ_j [(W∘W) A]_ij = Σ_k W_ik² (Σ_j A_kj) per row.
func squaredTimesRowSums(w *mat.Dense, rowSumA []float64) []float64 {
	o, d := w.Dims()
	s := make([]float64, o)
	for i := 0; i < o; i++ {
		for k := 0; k < d; k++ {
			v := w.At(i, k)
			s[i] += v * v * rowSumA[k]
		}
	}
	return s
}

func kronOBDScores(w *mat.Dense, rowSumA, g []float64, o int) []float64 {
	s := squaredTimesRowSums(w, rowSumA)
	for i := range s {
		s[i] *= g[i*o+i]
	}
	return s
}

func kronOBSScores(w *mat.Dense, rowSumA []float64, ginv *mat.Dense) []float64 {
	s := squaredTimesRowSums(w, rowSumA)
	for i := range s {
		s[i] /= ginv.At(i, i)
	}
	return s
}

func removedOf(o int, kept []int) []int {
	isKept := make([]bool, o)
	for _, k := range kept {
		isKept[k] = true
	}
	var r []int
	for i := 0; i < o; i++ {
		if !isKept[i] {
			r = append(r, i)
		}
	}
	return r
}

// cobsUpdate: W += -G⁺ C A⁺ with C_ij = W_ij / ([G⁺]_ii [A⁺]_jj) on the
// removed rows and 0 on the kept: each removed weight's OBS correction
// under the K-FAC inverse G⁺ ⊗ A⁺, summed.
func cobsUpdate(w, ginv, ainv *mat.Dense, kept []int) {
	o, d := w.Dims()
	cm := mat.NewDense(o, d, nil)
	for _, r := range removedOf(o, kept) {
		g := ginv.At(r, r)
		for j := 0; j < d; j++ {
			cm.Set(r, j, w.At(r, j)/(g*ainv.At(j, j)))
		}
	}
	var gc, delta mat.Dense
	gc.Mul(ginv, cm)
	delta.Mul(&gc, ainv)
	w.Sub(w, &delta)
}

// kronOBSUpdate: W_k += -Σ_{r removed} [G⁺]_kr / [G⁺]_rr W_r.
func kronOBSUpdate(w, ginv *mat.Dense, kept []int) {
	o, d := w.Dims()
	removed := removedOf(o, kept)
	delta := mat.NewDense(o, d, nil)
	for k := 0; k < o; k++ {
		for _, r := range removed {
			c := ginv.At(k, r) / ginv.At(r, r)
			for j := 0; j < d; j++ {
				delta.Set(k, j, delta.At(k, j)+c*w.At(r, j))
			}
		}
	}
	w.Sub(w, delta)
}

// pseudoInverse is the official Q diag(1/(λ + 1e-10)) Qᵀ of the symmetric
// positive semi-definite n x n matrix a, eigenvalues not above 1e-15 set to
// 0 first; damping > 0 adds damping times the mean diagonal to a before.
// It is computed as (a + 1e-10 I)⁻¹ by Cholesky, which differs from the
// eigenvector form only where the floor moves an eigenvalue: by at most
// 1e-15 against the 1e-10 added, a relative 1e-5. Where a is too far from
// semi-definite for Cholesky, the eigendecomposition is used.
func pseudoInverse(a []float64, n int, damping float64) (*mat.Dense, error) {
	shift := 0.0
	if damping > 0 {
		for i := 0; i < n; i++ {
			shift += damping * a[i*n+i] / float64(n)
		}
	}
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := (a[i*n+j] + a[j*n+i]) / 2
			if i == j {
				v += shift + inverseOffset
			}
			sym.SetSym(i, j, v)
		}
	}
	var ch mat.Cholesky
	if ch.Factorize(sym) {
		var inv mat.SymDense
		if err := ch.InverseTo(&inv); err == nil {
			return mat.DenseCopyOf(&inv), nil
		}
	}
	shifted := append([]float64(nil), a...)
	for i := 0; i < n; i++ {
		shifted[i*n+i] += shift
	}
	q, l, err := eigenSymFloor(shifted, n, inverseFloor)
	if err != nil {
		return nil, err
	}
	qs := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			qs.Set(i, j, q[i*n+j]/(l[j]+inverseOffset))
		}
	}
	var inv mat.Dense
	inv.Mul(qs, mat.NewDense(n, n, q).T())
	return &inv, nil
}

// kronStats are a layer's factors over its unit matrix's coordinates: G
// (Out x Out), the row sums of A (D), and A itself (D x D) when asked for.
type kronStats struct {
	D, Out  int
	G       []float64
	RowSumA []float64
	A       []float64
}

// collectKron accumulates, over batches, the official factors of each layer
// on its unit matrix W (ComputeCovA without patches, ComputeCovG): per batch
// of N, a linear layer adds Σ ã ãᵀ / N to A (ã the input with a 1 appended
// when there is a bias) and N Σ g gᵀ to G; a convolution with P output
// positions adds Σ p̃ p̃ᵀ / (P² N) over its im2col patches p̃ (a 1 appended
// likewise) and N P Σ g gᵀ over examples and positions. Sums are divided by
// the number of batches. The row sums of A need one pass over the patches;
// A itself (full) costs D² per patch.
func collectKron[T nn.Float](ctx context.Context, net nn.Module[T], layers []nn.Layer[T], batches iter.Seq2[Batch[T], error], fisher Fisher, rng *rand.Rand, full bool) ([]*kronStats, error) {
	stats := make([]*kronStats, len(layers))
	for i, l := range layers {
		w := l.Core()
		o := w.Shape[0]
		d := w.Len() / o
		if l.Bias() != nil {
			d++
		}
		st := &kronStats{D: d, Out: o, G: make([]float64, o*o), RowSumA: make([]float64, d)}
		if full {
			st.A = make([]float64, d*d)
		}
		stats[i] = st
	}
	var buf scratch
	var col []float64
	count, err := curvaturePass(ctx, net, layers, batches, fisher, rng, func(i int, x, y *autograd.Var[T]) {
		st, l := stats[i], layers[i]
		bias := l.Bias() != nil
		n := x.Shape[0]
		if l.Conv == nil {
			in := x.Shape[1]
			buf.a = float64s(buf.a, x.Value)
			for e := 0; e < n; e++ {
				accumulatePatch(st, buf.a[e*in:(e+1)*in], 1, bias, 1/float64(n))
			}
			buf.b = float64s(buf.b, y.Grad)
			kernels.Gemm(true, false, st.Out, st.Out, n, float64(n), buf.b, st.Out, buf.b, st.Out, 1, st.G, st.Out)
			return
		}
		c := l.Conv
		ch, h, wd := x.Shape[1], x.Shape[2], x.Shape[3]
		ws := c.Weight.Shape
		g := kernels.NewConvGeom(ch, h, wd, ws[2], ws[3], c.Stride[0], c.Stride[1], c.Padding[0], c.Padding[1])
		p, k := g.Cols(), g.Rows()
		// The patches of several examples side by side, so that A's update
		// is one product of a long inner dimension.
		chunk := max(1, min(n, (1<<22)/(k*p)))
		if cap(col) < k*p*chunk {
			col = make([]float64, k*p*chunk)
		}
		scale := 1 / (float64(p) * float64(p) * float64(n))
		for e0 := 0; e0 < n; e0 += chunk {
			m := min(chunk, n-e0)
			cols := col[:k*p*m]
			for e := e0; e < e0+m; e++ {
				buf.a = float64s(buf.a, x.Value[e*ch*h*wd:(e+1)*ch*h*wd])
				kernels.Im2col(g, buf.a, cols[(e-e0)*p:], p*m)
			}
			accumulatePatch(st, cols, p*m, bias, scale)
		}
		out, q := st.Out, y.Shape[2]*y.Shape[3]
		for e := 0; e < n; e++ {
			buf.b = float64s(buf.b, y.Grad[e*out*q:(e+1)*out*q])
			kernels.Gemm(false, true, out, out, q, float64(n)*float64(p), buf.b, q, buf.b, q, 1, st.G, out)
		}
	})
	if err != nil {
		return nil, err
	}
	for _, st := range stats {
		for _, v := range [][]float64{st.G, st.RowSumA, st.A} {
			for j := range v {
				v[j] /= float64(count)
			}
		}
	}
	return stats, nil
}

// accumulatePatch adds scale Σ_p p̃ p̃ᵀ (its row sums, and the whole when
// st.A is kept) for the patches held as the p columns of col, a matrix of
// D (less the bias coordinate) rows; bias appends a coordinate of 1.
func accumulatePatch(st *kronStats, col []float64, p int, bias bool, scale float64) {
	k := len(col) / p
	// Row sums: Σ_p p̃_k (Σ_j p̃_j).
	for c := 0; c < p; c++ {
		total := 0.0
		for r := 0; r < k; r++ {
			total += col[r*p+c]
		}
		if bias {
			total++
		}
		for r := 0; r < k; r++ {
			st.RowSumA[r] += scale * col[r*p+c] * total
		}
		if bias {
			st.RowSumA[k] += scale * total
		}
	}
	if st.A == nil {
		return
	}
	d := st.D
	kernels.Gemm(false, true, k, k, p, scale, col, p, col, p, 1, st.A, d)
	if bias {
		for r := 0; r < k; r++ {
			sum := 0.0
			for c := 0; c < p; c++ {
				sum += col[r*p+c]
			}
			st.A[r*d+k] += scale * sum
			st.A[k*d+r] += scale * sum
		}
		st.A[k*d+k] += scale * float64(p)
	}
}

// DiagonalFisher returns, for each layer, the exact diagonal of the Fisher
// over its unit matrix W (weights and bias, as unitMatrix), as the official
// fisher_diag_pruner accumulates it: the squared per-example gradients
// summed over examples and divided by the number of batches (labels as
// Collect draws them).
func DiagonalFisher[T nn.Float](ctx context.Context, net nn.Module[T], layers []nn.Layer[T], batches iter.Seq2[Batch[T], error], fisher Fisher, rng *rand.Rand) ([][]float64, error) {
	diag := make([][]float64, len(layers))
	dims := make([]int, len(layers))
	for i, l := range layers {
		w := l.Core()
		dims[i] = w.Len() / w.Shape[0]
		d := dims[i]
		if l.Bias() != nil {
			d++
		}
		diag[i] = make([]float64, w.Shape[0]*d)
	}
	var grad, col, img, dy []float64
	count, err := curvaturePass(ctx, net, layers, batches, fisher, rng, func(i int, x, y *autograd.Var[T]) {
		n := x.Shape[0]
		l := layers[i]
		w := l.Core()
		o, k := w.Shape[0], dims[i]
		bias := l.Bias() != nil
		d := k
		if bias {
			d++
		}
		if cap(grad) < o*d {
			grad = make([]float64, o*d)
		}
		g := grad[:o*d]
		for e := 0; e < n; e++ {
			if c := l.Conv; c != nil {
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
				kernels.Gemm(false, true, o, k, p, float64(n), dy, p, col[:k*p], p, 0, g, d)
				if bias {
					for a := 0; a < o; a++ {
						s := 0.0
						for _, v := range dy[a*p : (a+1)*p] {
							s += v
						}
						g[a*d+k] = float64(n) * s
					}
				}
			} else {
				for a := 0; a < o; a++ {
					ga := float64(n) * float64(y.Grad[e*o+a])
					for b := 0; b < k; b++ {
						g[a*d+b] = ga * float64(x.Value[e*k+b])
					}
					if bias {
						g[a*d+k] = ga
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
	for _, dg := range diag {
		for q := range dg {
			dg[q] /= float64(count)
		}
	}
	return diag, nil
}
