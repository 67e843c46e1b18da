package corrbench

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// Predictive is a model's prediction at a set of inputs: the latent
// function's mean and covariance, and the observation noise variance (so a
// target's predictive variance is Cov_ii + Noise).
type Predictive struct {
	Mean  []float64
	Cov   *mat.SymDense
	Noise float64
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

// RBF is the squared-exponential kernel with one lengthscale per input
// dimension (ARD): σ² exp(-½ Σ_d (x_d - x'_d)² / ℓ_d²).
type RBF struct {
	LogLengthscales []float64
	LogVariance     float64
}

// NewRBF starts with unit lengthscales and variance (for standardised data).
func NewRBF(dims int) *RBF { return &RBF{LogLengthscales: make([]float64, dims)} }

func (k *RBF) sqdist(a, b *mat.Dense, i, j int) float64 {
	s := 0.0
	for d, ll := range k.LogLengthscales {
		v := (a.At(i, d) - b.At(j, d)) / math.Exp(ll)
		s += v * v
	}
	return s
}

// Matrix implements Kernel.
func (k *RBF) Matrix(a, b *mat.Dense) *mat.Dense {
	ra, _ := a.Dims()
	rb, _ := b.Dims()
	out := mat.NewDense(ra, rb, nil)
	v := math.Exp(k.LogVariance)
	for i := 0; i < ra; i++ {
		for j := 0; j < rb; j++ {
			out.Set(i, j, v*math.Exp(-0.5*k.sqdist(a, b, i, j)))
		}
	}
	return out
}

// Params implements Kernel: log lengthscales, then log variance.
func (k *RBF) Params() []float64 {
	return append(append([]float64(nil), k.LogLengthscales...), k.LogVariance)
}

// SetParams implements Kernel.
func (k *RBF) SetParams(p []float64) {
	copy(k.LogLengthscales, p[:len(k.LogLengthscales)])
	k.LogVariance = p[len(k.LogLengthscales)]
}

// Grads implements Kernel.
func (k *RBF) Grads(x *mat.Dense) []*mat.Dense {
	n, _ := x.Dims()
	kx := k.Matrix(x, x)
	var out []*mat.Dense
	for d, ll := range k.LogLengthscales {
		g := mat.NewDense(n, n, nil)
		l2 := math.Exp(2 * ll)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				diff := x.At(i, d) - x.At(j, d)
				g.Set(i, j, kx.At(i, j)*diff*diff/l2)
			}
		}
		out = append(out, g)
	}
	return append(out, kx) // d/d log σ² = K
}

// ReLUNNGP is the kernel of an infinitely wide network with one hidden ReLU
// layer (the arc-cosine kernel), as the official toy oracle:
//
//	K0(x, x') = σ_b0² + σ_w0² x·x'/d
//	K(x, x')  = σ_b1² + σ_w1² (2√(K0_xx K0_x'x' - K0²) + π K0 + 2 K0 arctan(K0/√(...))) / (4π)
//
// with σ_b² = 2.5, 2.5 and σ_w² = 1.414, 1.737 (its defaults). It has no
// trainable hyperparameters.
type ReLUNNGP struct {
	VarB, VarW [2]float64
}

// OracleNNGP is the official toy data's kernel.
func OracleNNGP() *ReLUNNGP {
	return &ReLUNNGP{VarB: [2]float64{2.5, 2.5}, VarW: [2]float64{1.414, 1.737}}
}

func (k *ReLUNNGP) k0(a, b *mat.Dense, i, j int) float64 {
	_, d := a.Dims()
	s := 0.0
	for c := 0; c < d; c++ {
		s += a.At(i, c) * b.At(j, c)
	}
	return k.VarB[0] + k.VarW[0]*s/float64(d)
}

// Matrix implements Kernel.
func (k *ReLUNNGP) Matrix(a, b *mat.Dense) *mat.Dense {
	ra, _ := a.Dims()
	rb, _ := b.Dims()
	out := mat.NewDense(ra, rb, nil)
	for i := 0; i < ra; i++ {
		kii := k.k0(a, a, i, i)
		for j := 0; j < rb; j++ {
			kjj, kij := k.k0(b, b, j, j), k.k0(a, b, i, j)
			det := math.Sqrt(math.Max(0, kii*kjj-kij*kij)) + 1e-10
			next := (2*det + kij*math.Pi + 2*kij*math.Atan(kij/det)) / (4 * math.Pi)
			out.Set(i, j, next*k.VarW[1]+k.VarB[1])
		}
	}
	return out
}

// Params implements Kernel: none.
func (k *ReLUNNGP) Params() []float64 { return nil }

// SetParams implements Kernel.
func (k *ReLUNNGP) SetParams([]float64) {}

// Grads implements Kernel.
func (k *ReLUNNGP) Grads(*mat.Dense) []*mat.Dense { return nil }

// jitter is added to the diagonal before a Cholesky factorisation.
const jitter = 1e-8

// GP is exact Gaussian-process regression with a zero mean.
type GP struct {
	Kernel   Kernel
	LogNoise float64 // log observation noise variance
	Optimise bool    // fit the hyperparameters by maximising the marginal likelihood

	x     *mat.Dense
	y     []float64
	chol  mat.Cholesky
	alpha *mat.VecDense
}

// Name implements Model.
func (g *GP) Name() string {
	if _, ok := g.Kernel.(*ReLUNNGP); ok {
		return "nngp"
	}
	return "gp"
}

// Fit conditions on (x, y), first maximising the log marginal likelihood
// over the kernel's log hyperparameters and the log noise variance (BFGS)
// when Optimise is set.
func (g *GP) Fit(ctx context.Context, x *mat.Dense, y []float64) error {
	g.x, g.y = x, y
	if g.Optimise {
		p0 := append(g.Kernel.Params(), g.LogNoise)
		prob := optimize.Problem{
			Func: func(p []float64) float64 {
				v, _ := g.nlml(p, nil)
				return v
			},
			Grad: func(grad, p []float64) { g.nlml(p, grad) },
		}
		res, err := optimize.Minimize(prob, p0, &optimize.Settings{MajorIterations: 200}, &optimize.BFGS{})
		if err != nil && res == nil {
			return fmt.Errorf("corrbench: fitting the GP: %w", err)
		}
		if res != nil && !math.IsInf(res.F, 0) && !math.IsNaN(res.F) {
			g.Kernel.SetParams(res.X[:len(res.X)-1])
			g.LogNoise = res.X[len(res.X)-1]
		} else {
			g.Kernel.SetParams(p0[:len(p0)-1])
			g.LogNoise = p0[len(p0)-1]
		}
	}
	return g.condition()
}

func (g *GP) condition() error {
	n := len(g.y)
	k := g.Kernel.Matrix(g.x, g.x)
	noise := math.Exp(g.LogNoise)
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := k.At(i, j)
			if i == j {
				v += noise + jitter
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

// nlml is the negative log marginal likelihood at log hyperparameters p
// (kernel's, then log noise) and, with grad, its gradient:
//
//	½ yᵀ K⁻¹ y + ½ log|K| + n/2 log 2π,   ∂/∂θ = -½ tr((α αᵀ - K⁻¹) ∂K/∂θ)
func (g *GP) nlml(p, grad []float64) (float64, error) {
	nk := len(p) - 1
	g.Kernel.SetParams(p[:nk])
	g.LogNoise = p[nk]
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
	for i, d := range g.Kernel.Grads(g.x) {
		grad[i] = -0.5 * trace(d)
	}
	noise := math.Exp(g.LogNoise)
	tr := 0.0
	for i := 0; i < n; i++ {
		tr += w.At(i, i)
	}
	grad[nk] = -0.5 * tr * noise
	return v, nil
}

// LogMarginalLikelihood is log p(y | x) at the present hyperparameters.
func (g *GP) LogMarginalLikelihood() float64 {
	v, _ := g.nlml(append(g.Kernel.Params(), g.LogNoise), nil)
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
	return Predictive{Mean: mean.RawVector().Data, Cov: cov, Noise: math.Exp(g.LogNoise)}, nil
}
