package train

import (
	"fmt"
	"math"

	"github.com/winnow-ml/winnow/internal/kernels"
	"github.com/winnow-ml/winnow/nn"
)

// Optimizer updates parameters from their gradients. Its state (buffers
// per parameter and a count of steps) travels in checkpoints, so that a
// resumed run takes the same steps as one never stopped.
type Optimizer interface {
	// Step updates every parameter from its gradient.
	Step()
	// SetLR sets the learning rate of the following steps.
	SetLR(lr float64)
	// Buffers returns the state of p by kind ("momentum", "exp_avg", ...),
	// nil before the first step.
	Buffers(p *nn.Param[float32]) map[string][]float32
	// SetBuffer restores the buffer of one kind of p; an unknown kind is an
	// error.
	SetBuffer(kind string, p *nn.Param[float32], b []float32) error
	// Steps returns the steps taken; SetSteps restores it.
	Steps() int
	SetSteps(n int)
}

// NewOptimizer makes the optimiser of c over params: "sgd" (or ""),
// "adam" or "adamw".
func NewOptimizer(c Config, params []*nn.Param[float32]) (Optimizer, error) {
	switch c.Optimizer {
	case "", "sgd":
		return NewSGD(params, float32(c.LR), float32(c.Momentum), float32(c.WeightDecay), c.Nesterov), nil
	case "adam", "adamw":
		b1, b2, eps := 0.9, 0.999, 1e-8
		if c.Betas != [2]float64{} {
			b1, b2 = c.Betas[0], c.Betas[1]
		}
		if c.Eps != 0 {
			eps = c.Eps
		}
		return NewAdam(params, c.LR, b1, b2, eps, c.WeightDecay, c.Optimizer == "adamw"), nil
	}
	return nil, fmt.Errorf("train: unknown optimizer %q (sgd, adam, adamw)", c.Optimizer)
}

// Adam is torch.optim.Adam (Decoupled false: weight decay added to the
// gradient, L2) or torch.optim.AdamW (Decoupled true: the weights shrink by
// lr*wd before the step), without amsgrad:
//
//	AdamW: θ = θ (1 - lr wd);  Adam: g = g + wd θ
//	m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²
//	θ = θ - (lr / (1-β1^t)) m / (sqrt(v)/sqrt(1-β2^t) + eps)
//
// with t the steps taken, this one included. Masked weights and their
// moments stay exactly zero.
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	Decoupled                          bool
	params                             []*nn.Param[float32]
	m, v                               map[*nn.Param[float32]][]float32
	steps                              int
}

// NewAdam makes an Adam (decoupled: AdamW) optimiser over params.
func NewAdam(params []*nn.Param[float32], lr, beta1, beta2, eps, weightDecay float64, decoupled bool) *Adam {
	return &Adam{LR: lr, Beta1: beta1, Beta2: beta2, Eps: eps, WeightDecay: weightDecay, Decoupled: decoupled, params: params,
		m: map[*nn.Param[float32]][]float32{}, v: map[*nn.Param[float32]][]float32{}}
}

// Step implements Optimizer. The scalars are computed in float64 and
// rounded to float32 once, as PyTorch rounds Python floats.
func (o *Adam) Step() {
	o.steps++
	t := float64(o.steps)
	c := adamScalars{
		b1: float32(o.Beta1), nb1: float32(1 - o.Beta1), b2: float32(o.Beta2), nb2: float32(1 - o.Beta2),
		stepSize: float32(o.LR / (1 - math.Pow(o.Beta1, t))),
		bc2Sqrt:  float32(math.Sqrt(1 - math.Pow(o.Beta2, t))),
		eps:      float32(o.Eps),
	}
	if o.Decoupled {
		c.shrink = float32(1 - o.LR*o.WeightDecay)
	} else {
		c.wd = float32(o.WeightDecay)
	}
	for _, p := range o.params {
		m, v := o.m[p], o.v[p]
		if m == nil {
			m = make([]float32, p.Len())
			o.m[p] = m
		}
		if v == nil {
			v = make([]float32, p.Len())
			o.v[p] = v
		}
		kernels.ParallelFor(p.Len(), 4, func(lo, hi int) {
			c.step(p.Data[lo:hi], p.Grad[lo:hi], m[lo:hi], v[lo:hi], part(p.Mask, lo, hi), o.Decoupled)
		})
	}
}

type adamScalars struct {
	b1, nb1, b2, nb2, stepSize, bc2Sqrt, eps, wd, shrink float32
}

func (c adamScalars) step(w, g, m, v, mask []float32, decoupled bool) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i := range w {
		if mask != nil && mask[i] == 0 {
			w[i], m[i], v[i] = 0, 0, 0
			continue
		}
		gi := g[i]
		if decoupled {
			w[i] *= c.shrink
		} else {
			gi += c.wd * w[i]
		}
		m[i] = float32(c.b1*m[i]) + c.nb1*gi
		v[i] = float32(c.b2*v[i]) + c.nb2*gi*gi
		denom := float32(math.Sqrt(float64(v[i])))/c.bc2Sqrt + c.eps
		w[i] -= c.stepSize * (m[i] / denom)
	}
}

// SetLR implements Optimizer.
func (o *Adam) SetLR(lr float64) { o.LR = lr }

// Buffers implements Optimizer: "exp_avg" (m) and "exp_avg_sq" (v), as
// PyTorch names them.
func (o *Adam) Buffers(p *nn.Param[float32]) map[string][]float32 {
	if o.m[p] == nil {
		return nil
	}
	return map[string][]float32{"exp_avg": o.m[p], "exp_avg_sq": o.v[p]}
}

// SetBuffer implements Optimizer.
func (o *Adam) SetBuffer(kind string, p *nn.Param[float32], b []float32) error {
	switch kind {
	case "exp_avg":
		o.m[p] = b
	case "exp_avg_sq":
		o.v[p] = b
	default:
		return fmt.Errorf("adam has no %q state", kind)
	}
	return nil
}

// Steps implements Optimizer.
func (o *Adam) Steps() int { return o.steps }

// SetSteps implements Optimizer.
func (o *Adam) SetSteps(n int) { o.steps = n }
