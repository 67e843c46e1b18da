package corrbench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// Predictive is a model's prediction at a set of inputs: the latent
// function's mean and covariance, and the observation noise variance (so a
// target's predictive variance is Cov_ii + NoiseOf(i)): Noise for every
// input, or NoiseAt[i] per input where a model's noise varies (the official
// heteroscedastic ensembles).
type Predictive struct {
	Mean    []float64
	Cov     *mat.SymDense
	Noise   float64
	NoiseAt []float64
}

// NoiseOf is the noise variance at input i.
func (p Predictive) NoiseOf(i int) float64 {
	if p.NoiseAt != nil {
		return p.NoiseAt[i]
	}
	return p.Noise
}

// Kernel is a covariance function with hyperparameters in log space.
type Kernel interface {
	// Matrix returns K(a, b) (rows of a against rows of b).
	Matrix(a, b *mat.Dense) *mat.Dense
	// Params returns the log hyperparameters; SetParams sets them.
	Params() []float64
	SetParams([]float64)
	// Grads returns dK(x, x)/dθ_i for every hyperparameter.
	Grads(x *mat.Dense) []*mat.Dense
}

// RBF is the squared-exponential kernel σ² exp(-½ Σ_d (x_d - x'_d)² / ℓ_d²),
// with one lengthscale per input dimension (ARD) or one for all
// (Isotropic, as the official toy study's GP).
//
// Lengthscales nil means: set them when a GP is first fitted, from the
// training inputs as the official code does (MedianLengthscales), with
// variance 1. MinLengthscale bounds them below during fitting (the official
// min_ls, 1e-4): a lengthscale that runs to 0 fits every training point
// exactly and is a degenerate optimum of the marginal likelihood.
type RBF struct {
	Lengthscales   []float64
	Variance       float64
	Isotropic      bool
	MinLengthscale float64
}

// NewRBF is the official GP kernel: ARD, lengthscales from the training
// inputs at the first fit, bounded below by 1e-4.
func NewRBF() *RBF { return &RBF{MinLengthscale: 1e-4} }

// MedianLengthscales is the official starting point of a GP's lengthscales
// (median_distance_local and median_distance_global in its utils.py): per
// dimension, the median of |x_id - x_jd| over all ordered pairs (i, j), i = j
// included, times √D; isotropic, the median of the Euclidean distances
// ‖x_i - x_j‖ over the same pairs. A median below 1e-6 becomes 1. Inputs of
// more than maxMedianRows rows use their first maxMedianRows (the official
// code takes a random 10,000).
func MedianLengthscales(x *mat.Dense, isotropic bool) []float64 {
	n, d := x.Dims()
	n = min(n, maxMedianRows)
	pairs := make([]float64, 0, n*(n-1)/2)
	median := func() float64 {
		slices.Sort(pairs)
		// The n² ordered pairs: n zeros (i = j), each unordered pair twice.
		at := func(k int) float64 {
			if k < n {
				return 0
			}
			return pairs[(k-n)/2]
		}
		total := n * n
		if total%2 == 1 {
			return at(total / 2)
		}
		return (at(total/2-1) + at(total/2)) / 2
	}
	fix := func(v float64) float64 {
		if math.Abs(v) < 1e-6 {
			return 1
		}
		return v
	}
	if isotropic {
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				s := 0.0
				for c := 0; c < d; c++ {
					v := x.At(i, c) - x.At(j, c)
					s += v * v
				}
				pairs = append(pairs, math.Sqrt(s))
			}
		}
		return []float64{fix(median())}
	}
	out := make([]float64, d)
	for c := 0; c < d; c++ {
		pairs = pairs[:0]
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				pairs = append(pairs, math.Abs(x.At(i, c)-x.At(j, c)))
			}
		}
		out[c] = fix(median() * math.Sqrt(float64(d)))
	}
	return out
}

const maxMedianRows = 4000

func (k *RBF) initFrom(x *mat.Dense) {
	if k.Lengthscales == nil {
		k.Lengthscales = MedianLengthscales(x, k.Isotropic)
		k.Variance = 1
	}
}

func (k *RBF) lengthscale(d int) float64 {
	if len(k.Lengthscales) == 1 {
		return k.Lengthscales[0]
	}
	return k.Lengthscales[d]
}

func (k *RBF) sqdist(a, b *mat.Dense, i, j int) float64 {
	_, dims := a.Dims()
	s := 0.0
	for d := 0; d < dims; d++ {
		v := (a.At(i, d) - b.At(j, d)) / k.lengthscale(d)
		s += v * v
	}
	return s
}

// Matrix implements Kernel.
func (k *RBF) Matrix(a, b *mat.Dense) *mat.Dense {
	ra, _ := a.Dims()
	rb, _ := b.Dims()
	out := mat.NewDense(ra, rb, nil)
	for i := 0; i < ra; i++ {
		for j := 0; j < rb; j++ {
			out.Set(i, j, k.Variance*math.Exp(-0.5*k.sqdist(a, b, i, j)))
		}
	}
	return out
}

// Params implements Kernel: log(ℓ_d - MinLengthscale) for each lengthscale,
// then log σ².
func (k *RBF) Params() []float64 {
	var p []float64
	for _, l := range k.Lengthscales {
		p = append(p, math.Log(l-k.MinLengthscale))
	}
	return append(p, math.Log(k.Variance))
}

// SetParams implements Kernel.
func (k *RBF) SetParams(p []float64) {
	for d := range k.Lengthscales {
		k.Lengthscales[d] = k.MinLengthscale + math.Exp(p[d])
	}
	k.Variance = math.Exp(p[len(k.Lengthscales)])
}

// Grads implements Kernel: ∂K/∂u_d = K Σ (x_d - x'_d)²/ℓ_d³ (ℓ_d - min),
// summed over the dimensions a lengthscale serves; ∂K/∂log σ² = K.
func (k *RBF) Grads(x *mat.Dense) []*mat.Dense {
	n, dims := x.Dims()
	kx := k.Matrix(x, x)
	var out []*mat.Dense
	for p, l := range k.Lengthscales {
		dimsOf := []int{p}
		if len(k.Lengthscales) == 1 {
			dimsOf = make([]int, dims)
			for d := range dimsOf {
				dimsOf[d] = d
			}
		}
		g := mat.NewDense(n, n, nil)
		scale := (l - k.MinLengthscale) / (l * l * l)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				s := 0.0
				for _, d := range dimsOf {
					diff := x.At(i, d) - x.At(j, d)
					s += diff * diff
				}
				g.Set(i, j, kx.At(i, j)*s*scale)
			}
		}
		out = append(out, g)
	}
	return append(out, kx)
}

// ReLUNNGP is the kernel of an infinitely wide network with one hidden ReLU
// layer (the arc-cosine kernel), as the official code's NNGPReLUKernel:
//
//	K0(x, x') = σ_b0² + σ_w0² x·x'/d
//	K(x, x')  = σ_b1² + σ_w1² J(K0_xx, K0_x'x', K0_xx')
//	J(a, c, k) = (2D + π k + 2 k arctan(k/D)) / (4π),  D = √(a c - k²)
//
// The official toy oracle has σ_b² = 2.5, 2.5 and σ_w² = 1.414, 1.737
// (OracleNNGP), fixed. Trainable kernels (NewTrainableNNGP, the official
// UCI kernel without ARD) share one σ_b² and one σ_w² between the layers and
// fit them by marginal likelihood, in log space.
type ReLUNNGP struct {
	VarB, VarW [2]float64
	Trainable  bool
}

// OracleNNGP is the official toy data's kernel.
func OracleNNGP() *ReLUNNGP {
	return &ReLUNNGP{VarB: [2]float64{2.5, 2.5}, VarW: [2]float64{1.414, 1.737}}
}

// NewTrainableNNGP is the official UCI NNGP kernel: σ_b² = σ_w² = 1 to start,
// shared by the layers, trainable.
func NewTrainableNNGP() *ReLUNNGP {
	return &ReLUNNGP{VarB: [2]float64{1, 1}, VarW: [2]float64{1, 1}, Trainable: true}
}

func (k *ReLUNNGP) dot(a, b *mat.Dense, i, j int) float64 {
	_, d := a.Dims()
	s := 0.0
	for c := 0; c < d; c++ {
		s += a.At(i, c) * b.At(j, c)
	}
	return s / float64(d)
}

// diagonal is each row's dot product with itself over d.
func (k *ReLUNNGP) diagonal(x *mat.Dense) []float64 {
	n, _ := x.Dims()
	out := make([]float64, n)
	for i := range out {
		out[i] = k.dot(x, x, i, i)
	}
	return out
}

// relu is J(a, c, k) and its partial derivatives (D kept off 0 by 1e-10).
func relu(a, c, k float64) (j, da, dc, dk float64) {
	d := math.Sqrt(math.Max(0, a*c-k*k)) + 1e-10
	at := math.Atan(k / d)
	j = (2*d + k*math.Pi + 2*k*at) / (4 * math.Pi)
	return j, d / (4 * math.Pi * a), d / (4 * math.Pi * c), (math.Pi + 2*at) / (4 * math.Pi)
}

// Matrix implements Kernel.
func (k *ReLUNNGP) Matrix(a, b *mat.Dense) *mat.Dense {
	ra, _ := a.Dims()
	rb, _ := b.Dims()
	out := mat.NewDense(ra, rb, nil)
	k0 := func(s float64) float64 { return k.VarB[0] + k.VarW[0]*s }
	bDiag := k.diagonal(b)
	for i := 0; i < ra; i++ {
		kii := k0(k.dot(a, a, i, i))
		for j := 0; j < rb; j++ {
			kjj, kij := k0(bDiag[j]), k0(k.dot(a, b, i, j))
			v, _, _, _ := relu(kii, kjj, kij)
			out.Set(i, j, k.VarB[1]+k.VarW[1]*v)
		}
	}
	return out
}

// Params implements Kernel: log σ_b², log σ_w² when trainable, else none.
func (k *ReLUNNGP) Params() []float64 {
	if !k.Trainable {
		return nil
	}
	return []float64{math.Log(k.VarB[0]), math.Log(k.VarW[0])}
}

// SetParams implements Kernel.
func (k *ReLUNNGP) SetParams(p []float64) {
	if !k.Trainable {
		return
	}
	b, w := math.Exp(p[0]), math.Exp(p[1])
	k.VarB, k.VarW = [2]float64{b, b}, [2]float64{w, w}
}

// Grads implements Kernel: with one σ_b² = b and σ_w² = w in both layers,
// ∂K/∂b = 1 + w (J_a + J_c + J_k) and ∂K/∂w = J + w (J_a s_xx + J_c s_x'x' +
// J_k s_xx'), s the inputs' dot products over d; times b or w for their logs.
func (k *ReLUNNGP) Grads(x *mat.Dense) []*mat.Dense {
	if !k.Trainable {
		return nil
	}
	n, _ := x.Dims()
	b, w := k.VarB[0], k.VarW[0]
	gb, gw := mat.NewDense(n, n, nil), mat.NewDense(n, n, nil)
	diag := k.diagonal(x)
	for i := 0; i < n; i++ {
		sii := diag[i]
		for j := 0; j < n; j++ {
			sjj, sij := diag[j], k.dot(x, x, i, j)
			v, da, dc, dk := relu(b+w*sii, b+w*sjj, b+w*sij)
			gb.Set(i, j, b*(1+w*(da+dc+dk)))
			gw.Set(i, j, w*(v+w*(da*sii+dc*sjj+dk*sij)))
		}
	}
	return []*mat.Dense{gb, gw}
}

// jitter is added to the diagonal before a Cholesky factorisation.
const jitter = 1e-8

// GP is exact Gaussian-process regression with a zero mean.
type GP struct {
	Kernel Kernel
	Noise  float64 // observation noise variance (the start of the fit when it is fitted)
	// MinNoise bounds the fitted noise below (the official min_var: 1e-5,
	// 1e-8 for wine and energy).
	MinNoise float64
	Optimise bool // fit the hyperparameters by maximising the marginal likelihood
	FixNoise bool // when optimising, keep Noise as given (the official toy runs)
	// Restarts is the number of fits from perturbed starts besides the one
	// from the given start; the fit of largest marginal likelihood is kept.
	// Seed seeds the perturbations.
	Restarts int
	Seed     uint64

	x     *mat.Dense
	y     []float64
	chol  mat.Cholesky
	alpha *mat.VecDense
}

// NewGP is the official GP model: the RBF-ARD kernel started from the
// median distances, noise 0.1 bounded below by 1e-5, fitted by marginal
// likelihood from that start and from two perturbed ones.
func NewGP(seed uint64) *GP {
	return &GP{Kernel: NewRBF(), Noise: 0.1, MinNoise: 1e-5, Optimise: true, Restarts: 2, Seed: seed}
}

// Name implements Model.
func (g *GP) Name() string {
	if _, ok := g.Kernel.(*ReLUNNGP); ok {
		return "nngp"
	}
	return "gp"
}

// params is the vector the fit moves: the kernel's, then log(noise - MinNoise)
// unless the noise is fixed.
func (g *GP) params() []float64 {
	p := g.Kernel.Params()
	if !g.FixNoise {
		p = append(p, math.Log(g.Noise-g.MinNoise))
	}
	return p
}

func (g *GP) setParams(p []float64) {
	nk := len(g.Kernel.Params())
	g.Kernel.SetParams(p[:nk])
	if !g.FixNoise {
		g.Noise = g.MinNoise + math.Exp(p[nk])
	}
}

// Fit conditions on (x, y), first maximising the log marginal likelihood
// over the hyperparameters (BFGS on the analytic gradient) when Optimise is
// set: from the given start and from Restarts others, each log
// hyperparameter of the given start moved by a standard normal draw.
func (g *GP) Fit(ctx context.Context, x *mat.Dense, y []float64) error {
	g.x, g.y = x, y
	if k, ok := g.Kernel.(interface{ initFrom(*mat.Dense) }); ok {
		k.initFrom(x)
	}
	if !(g.Noise > g.MinNoise) {
		return fmt.Errorf("corrbench: GP noise %v must exceed its bound %v", g.Noise, g.MinNoise)
	}
	if g.Optimise && len(g.params()) > 0 {
		start := g.params()
		rng := rand.New(rand.NewPCG(g.Seed, 0x6e9))
		best, bestF := start, math.Inf(1)
		for r := 0; r <= g.Restarts; r++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			p0 := append([]float64(nil), start...)
			if r > 0 {
				for i := range p0 {
					p0[i] += rng.NormFloat64()
				}
			}
			p, f := g.minimise(p0)
			if f < bestF {
				best, bestF = p, f
			}
		}
		g.setParams(best)
	}
	return g.condition()
}

// minimise runs BFGS from p0; it returns the start itself if no finite
// point was reached.
func (g *GP) minimise(p0 []float64) ([]float64, float64) {
	prob := optimize.Problem{
		Func: func(p []float64) float64 {
			v, _ := g.nlml(p, nil)
			return v
		},
		Grad: func(grad, p []float64) { g.nlml(p, grad) },
	}
	res, _ := optimize.Minimize(prob, p0, &optimize.Settings{MajorIterations: 200}, &optimize.BFGS{})
	if res != nil && !math.IsInf(res.F, 0) && !math.IsNaN(res.F) {
		return res.X, res.F
	}
	f, _ := g.nlml(p0, nil)
	return p0, f
}

func (g *GP) condition() error {
	n := len(g.y)
	k := g.Kernel.Matrix(g.x, g.x)
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := k.At(i, j)
			if i == j {
				v += g.Noise + jitter
			}
			sym.SetSym(i, j, v)
		}
	}
	if !g.chol.Factorize(sym) {
		return fmt.Errorf("corrbench: the GP's kernel matrix is not positive definite")
	}
	g.alpha = mat.NewVecDense(n, nil)
	return g.chol.SolveVecTo(g.alpha, mat.NewVecDense(n, append([]float64(nil), g.y...)))
}

// nlml is the negative log marginal likelihood at the fit's parameters p
// (see params) and, with grad, its gradient:
//
//	½ yᵀ K⁻¹ y + ½ log|K| + n/2 log 2π,   ∂/∂θ = -½ tr((α αᵀ - K⁻¹) ∂K/∂θ)
func (g *GP) nlml(p, grad []float64) (float64, error) {
	g.setParams(p)
	if err := g.condition(); err != nil {
		for i := range grad {
			grad[i] = 0
		}
		return math.Inf(1), err
	}
	n := len(g.y)
	v := 0.5*mat.Dot(mat.NewVecDense(n, g.y), g.alpha) + 0.5*g.chol.LogDet() + 0.5*float64(n)*math.Log(2*math.Pi)
	if grad == nil {
		return v, nil
	}
	var kinv mat.SymDense
	if err := g.chol.InverseTo(&kinv); err != nil {
		return math.Inf(1), err
	}
	// W = α αᵀ - K⁻¹
	w := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			w.Set(i, j, g.alpha.AtVec(i)*g.alpha.AtVec(j)-kinv.At(i, j))
		}
	}
	trace := func(d *mat.Dense) float64 {
		s := 0.0
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				s += w.At(i, j) * d.At(j, i)
			}
		}
		return s
	}
	grads := g.Kernel.Grads(g.x)
	for i, d := range grads {
		grad[i] = -0.5 * trace(d)
	}
	if !g.FixNoise {
		tr := 0.0
		for i := 0; i < n; i++ {
			tr += w.At(i, i)
		}
		grad[len(grads)] = -0.5 * tr * (g.Noise - g.MinNoise)
	}
	return v, nil
}

// LogMarginalLikelihood is log p(y | x) at the present hyperparameters.
func (g *GP) LogMarginalLikelihood() float64 {
	v, _ := g.nlml(g.params(), nil)
	return -v
}

// Predict implements Model: mean K*ᵀ α, covariance K** - K*ᵀ K⁻¹ K*.
func (g *GP) Predict(x *mat.Dense) (Predictive, error) {
	if g.alpha == nil {
		return Predictive{}, fmt.Errorf("corrbench: the GP is not fitted")
	}
	ks := g.Kernel.Matrix(g.x, x) // n x m
	m, _ := x.Dims()
	mean := mat.NewVecDense(m, nil)
	mean.MulVec(ks.T(), g.alpha)
	var sol mat.Dense
	if err := g.chol.SolveTo(&sol, ks); err != nil {
		return Predictive{}, err
	}
	var reduce mat.Dense
	reduce.Mul(ks.T(), &sol)
	kss := g.Kernel.Matrix(x, x)
	cov := mat.NewSymDense(m, nil)
	for i := 0; i < m; i++ {
		for j := i; j < m; j++ {
			cov.SetSym(i, j, kss.At(i, j)-(reduce.At(i, j)+reduce.At(j, i))/2)
		}
	}
	return Predictive{Mean: mean.RawVector().Data, Cov: cov, Noise: g.Noise}, nil
}
