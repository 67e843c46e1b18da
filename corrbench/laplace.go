package corrbench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
)

// Laplace is a Kronecker-factored Laplace posterior around the MAP network
// (Ritter, Botev, Barber 2018): for each layer, with weights and bias W̃ =
// [W b] (out x in+1), the Gauss-Newton matrix of the summed negative
// log-likelihood is approximated as N A ⊗ G / σ², with A = E[ã ãᵀ] over the
// layer's inputs with a 1 appended and G = E[g gᵀ] over the gradients g of
// the network output with respect to the layer's outputs (the K-FAC
// statistics EigenDamage collects, for a regression output). With the prior
// precision τ, the posterior is the matrix normal
//
//	W̃ ~ MN(W̃_MAP, (√N G/σ² + √τ I)⁻¹, (√N A + √τ I)⁻¹)
//
// and the predictive covariance is estimated from Samples draws.
type Laplace struct {
	PriorPrec float64
	Net       NetConfig
	Seed      uint64
	n         *net
	rng       *rand.Rand
	layers    []*laplaceLayer
}

type laplaceLayer struct {
	lin      *nn.Linear[float64]
	in, out  int
	mapW     []float64  // out x (in+1), bias last
	rowChol  *mat.Dense // L with L Lᵀ = (√N G/σ² + √τ I)⁻¹
	colChol  *mat.Dense // L with L Lᵀ = (√N A + √τ I)⁻¹
	a, g     []float64  // accumulated statistics
	observed [2]*autograd.Var[float64]
}

// Name implements Model.
func (l *Laplace) Name() string { return "kfac-laplace" }

// Fit implements Model: MAP training, then one pass for the factors.
func (l *Laplace) Fit(ctx context.Context, x *mat.Dense, y []float64) error {
	rows, d := x.Dims()
	l.rng = rand.New(rand.NewPCG(l.Seed, 0x1a))
	l.n = newNet(l.rng, d, l.Net)
	if err := train(ctx, l.n, x, y, l.Net, l.rng, 0, l.PriorPrec); err != nil {
		return err
	}
	l.layers = nil
	for _, lin := range []*nn.Linear[float64]{l.n.l1, l.n.l2} {
		out, in := lin.Weight.Shape[0], lin.Weight.Shape[1]
		ll := &laplaceLayer{lin: lin, in: in, out: out, a: make([]float64, (in+1)*(in+1)), g: make([]float64, out*out)}
		ll.mapW = make([]float64, out*(in+1))
		for o := 0; o < out; o++ {
			copy(ll.mapW[o*(in+1):], lin.Weight.Data[o*in:(o+1)*in])
			ll.mapW[o*(in+1)+in] = lin.Bias.Data[o]
		}
		lin.Observe = func(xv, yv *autograd.Var[float64]) { ll.observed = [2]*autograd.Var[float64]{xv, yv} }
		l.layers = append(l.layers, ll)
	}
	defer func() {
		for _, ll := range l.layers {
			ll.lin.Observe = nil
		}
	}()
	// One pass: the output's gradient with respect to each layer's outputs,
	// per example, by a backward pass seeded with ones (rows are examples).
	t := autograd.NewTape[float64](autograd.KeepGrads()) // reads the layers' output gradients
	ones := make([]float64, rows)
	for i := range ones {
		ones[i] = 1
	}
	out := l.n.forward(t, x.RawMatrix().Data, rows, d, nil)
	t.BackwardFrom(out, ones)
	for _, ll := range l.layers {
		xv, yv := ll.observed[0], ll.observed[1]
		for n := 0; n < rows; n++ {
			a := append(append([]float64(nil), xv.Value[n*ll.in:(n+1)*ll.in]...), 1)
			for i, ai := range a {
				for j, aj := range a {
					ll.a[i*(ll.in+1)+j] += ai * aj / float64(rows)
				}
			}
			g := yv.Grad[n*ll.out : (n+1)*ll.out]
			for i, gi := range g {
				for j, gj := range g {
					ll.g[i*ll.out+j] += gi * gj / float64(rows)
				}
			}
		}
	}
	nn.ZeroGrad[float64](l.n.l1)
	nn.ZeroGrad[float64](l.n.l2)
	sqrtN, sqrtTau := math.Sqrt(float64(rows)), math.Sqrt(l.PriorPrec)
	noise := math.Exp(l.n.logVar[0])
	for _, ll := range l.layers {
		var err error
		if ll.rowChol, err = invChol(ll.g, ll.out, sqrtN/noise, sqrtTau); err != nil {
			return err
		}
		if ll.colChol, err = invChol(ll.a, ll.in+1, sqrtN, sqrtTau); err != nil {
			return err
		}
	}
	return nil
}

// invChol returns the Cholesky factor of (scale M + damping I)⁻¹.
func invChol(m []float64, n int, scale, damping float64) (*mat.Dense, error) {
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := scale * (m[i*n+j] + m[j*n+i]) / 2
			if i == j {
				v += damping
			}
			sym.SetSym(i, j, v)
		}
	}
	var c mat.Cholesky
	if !c.Factorize(sym) {
		return nil, fmt.Errorf("corrbench: a K-FAC factor is not positive definite")
	}
	var inv mat.SymDense
	if err := c.InverseTo(&inv); err != nil {
		return nil, err
	}
	var ci mat.Cholesky
	if !ci.Factorize(&inv) {
		return nil, fmt.Errorf("corrbench: the inverse K-FAC factor is not positive definite")
	}
	var l mat.TriDense
	ci.LTo(&l)
	return mat.DenseCopyOf(&l), nil
}

// sample draws W̃ = W̃_MAP + L_row E L_colᵀ into every layer.
func (l *Laplace) sample() {
	for _, ll := range l.layers {
		cols := ll.in + 1
		e := mat.NewDense(ll.out, cols, nil)
		for i := 0; i < ll.out; i++ {
			for j := 0; j < cols; j++ {
				e.Set(i, j, l.rng.NormFloat64())
			}
		}
		var tmp, w mat.Dense
		tmp.Mul(ll.rowChol, e)
		w.Mul(&tmp, ll.colChol.T())
		for o := 0; o < ll.out; o++ {
			for j := 0; j < ll.in; j++ {
				ll.lin.Weight.Data[o*ll.in+j] = ll.mapW[o*cols+j] + w.At(o, j)
			}
			ll.lin.Bias.Data[o] = ll.mapW[o*cols+ll.in] + w.At(o, ll.in)
		}
	}
}

// Predict implements Model.
func (l *Laplace) Predict(x *mat.Dense) (Predictive, error) {
	if l.layers == nil {
		return Predictive{}, fmt.Errorf("corrbench: the Laplace model is not fitted")
	}
	return l.n.sampled(x, l.Net.Samples, func() ([]float64, []float64) { l.sample(); return nil, nil }), nil
}
