package train

import (
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
}

// NewSGD makes an optimiser over params.
func NewSGD(params []*nn.Param[float32], lr, momentum, weightDecay float32, nesterov bool) *SGD {
	return &SGD{LR: lr, Momentum: momentum, WeightDecay: weightDecay, Nesterov: nesterov, params: params,
		buf: map[*nn.Param[float32]][]float32{}}
}

// Step updates every parameter from its gradient.
func (o *SGD) Step() {
	mom, wd, lr := o.Momentum, o.WeightDecay, o.LR
	for _, p := range o.params {
		buf, first := o.buf[p], false
		if buf == nil && mom != 0 {
			buf, first = make([]float32, p.Len()), true
			o.buf[p] = buf
		}
		mask := p.Mask
		kernels.ParallelFor(p.Len(), 4, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if mask != nil && mask[i] == 0 { // pruned: stays zero, as its momentum
					p.Data[i] = 0
					if buf != nil {
						buf[i] = 0
					}
					continue
				}
				d := p.Grad[i] + wd*p.Data[i]
				if mom != 0 {
					if first {
						buf[i] = d
					} else {
						buf[i] = mom*buf[i] + d
					}
					if o.Nesterov {
						d += mom * buf[i]
					} else {
						d = buf[i]
					}
				}
				p.Data[i] -= lr * d
			}
		})
	}
}

// MomentumBuffer returns the momentum buffer of p (nil before the first step).
func (o *SGD) MomentumBuffer(p *nn.Param[float32]) []float32 { return o.buf[p] }

// SetMomentumBuffer restores p's momentum buffer (from a checkpoint).
func (o *SGD) SetMomentumBuffer(p *nn.Param[float32], b []float32) { o.buf[p] = b }
