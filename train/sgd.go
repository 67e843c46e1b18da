package train

import (
	"fmt"

	"github.com/winnow-ml/winnow/internal/kernels"
	"github.com/winnow-ml/winnow/nn"
)

// SGD is stochastic gradient descent with momentum and weight decay, as
// torch.optim.SGD (dampening 0):
//
//	d = g + wd*θ;  b = μ b + d (b = d at the first step);
//	d = d + μ b (Nesterov) or d = b;  θ = θ - lr d
//
// Masked weights, their gradients and their momentum stay exactly zero.
type SGD struct {
	LR, Momentum, WeightDecay float32
	Nesterov                  bool
	params                    []*nn.Param[float32]
	buf                       map[*nn.Param[float32]][]float32
	steps                     int
}

// NewSGD makes an optimiser over params.
func NewSGD(params []*nn.Param[float32], lr, momentum, weightDecay float32, nesterov bool) *SGD {
	return &SGD{LR: lr, Momentum: momentum, WeightDecay: weightDecay, Nesterov: nesterov, params: params,
		buf: map[*nn.Param[float32]][]float32{}}
}

// Step updates every parameter from its gradient.
func (o *SGD) Step() {
	o.steps++
	mom, wd, lr := o.Momentum, o.WeightDecay, o.LR
	for _, p := range o.params {
		buf, first := o.buf[p], false
		if buf == nil && mom != 0 {
			buf, first = make([]float32, p.Len()), true
			o.buf[p] = buf
		}
		kernels.ParallelFor(p.Len(), 4, func(lo, hi int) {
			step(p.Data[lo:hi], p.Grad[lo:hi], part(buf, lo, hi), part(p.Mask, lo, hi), lr, wd, mom, first, o.Nesterov)
		})
	}
}

func part(x []float32, lo, hi int) []float32 {
	if x == nil {
		return nil
	}
	return x[lo:hi]
}

// step updates w from g and the momentum buffer b (nil without momentum),
// masked weights (mask 0) and their momentum set to zero. The common case,
// momentum without Nesterov past the first step, has a loop of its own
// without branches; every case computes the same operations in the same
// order.
func step(w, g, b, mask []float32, lr, wd, mom float32, first, nesterov bool) {
	if b != nil && !first && !nesterov {
		g, b = g[:len(w)], b[:len(w)]
		if mask == nil {
			for i, v := range w {
				d := g[i] + wd*v
				bi := mom*b[i] + d
				b[i] = bi
				w[i] = v - lr*bi
			}
			return
		}
		mask = mask[:len(w)]
		for i, v := range w {
			if mask[i] == 0 {
				w[i], b[i] = 0, 0
				continue
			}
			d := g[i] + wd*v
			bi := mom*b[i] + d
			b[i] = bi
			w[i] = v - lr*bi
		}
		return
	}
	for i := range w {
		if mask != nil && mask[i] == 0 { // pruned: stays zero, as its momentum
			w[i] = 0
			if b != nil {
				b[i] = 0
			}
			continue
		}
		d := g[i] + wd*w[i]
		if b != nil {
			if first {
				b[i] = d
			} else {
				b[i] = mom*b[i] + d
			}
			if nesterov {
				d += mom * b[i]
			} else {
				d = b[i]
			}
		}
		w[i] -= lr * d
	}
}

// SetLR implements Optimizer.
func (o *SGD) SetLR(lr float64) { o.LR = float32(lr) }

// Buffers implements Optimizer: "momentum".
func (o *SGD) Buffers(p *nn.Param[float32]) map[string][]float32 {
	if o.buf[p] == nil {
		return nil
	}
	return map[string][]float32{"momentum": o.buf[p]}
}

// SetBuffer implements Optimizer.
func (o *SGD) SetBuffer(kind string, p *nn.Param[float32], b []float32) error {
	if kind != "momentum" || o.Momentum == 0 {
		return fmt.Errorf("sgd (momentum %g) has no %q state", o.Momentum, kind)
	}
	o.buf[p] = b
	return nil
}

// Steps implements Optimizer.
func (o *SGD) Steps() int { return o.steps }

// SetSteps implements Optimizer.
func (o *SGD) SetSteps(n int) { o.steps = n }

// MomentumBuffer returns the momentum buffer of p (nil before the first step).
func (o *SGD) MomentumBuffer(p *nn.Param[float32]) []float32 { return o.buf[p] }

// SetMomentumBuffer restores p's momentum buffer (from a checkpoint).
func (o *SGD) SetMomentumBuffer(p *nn.Param[float32], b []float32) { o.buf[p] = b }
