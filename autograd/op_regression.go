package autograd

import (
	"fmt"
	"math"
)

// GaussianNLL returns the mean over the batch of the Gaussian negative
// log-likelihood of targets y under means pred (shape [N] or [N, 1]) and one
// shared log noise variance s (shape [1]), without the constant ½ log 2π:
// with r = y - pred,
//
//	L = (1/N) Σ_n ( ½ r_n² e^{-s} + ½ s )
//	tangent-forward:  L' = (1/N) Σ_n ( -r_n pred'_n e^{-s} + ½ (1 - r_n² e^{-s}) s' )
//	backward:         dpred_n += -dL r_n e^{-s} / N;  ds += dL (1/N) Σ_n ½ (1 - r_n² e^{-s})
//	tangent-backward: R{dpred_n} += (dL (pred'_n + r_n s') + R{dL} (-r_n)) e^{-s} / N
//	                  R{ds} += (1/N) Σ_n [ dL (r_n pred'_n + ½ r_n² s') e^{-s} + R{dL} ½ (1 - r_n² e^{-s}) ]
func GaussianNLL[T Float](t *Tape[T], pred *Var[T], y []T, logVar *Var[T]) *Var[T] {
	n := len(y)
	if numel(pred.Shape) != n || pred.Shape[0] != n || numel(logVar.Shape) != 1 {
		panic(fmt.Sprintf("autograd: GaussianNLL: predictions %v, %d targets, log variance %v", pred.Shape, n, logVar.Shape))
	}
	loss := t.newVar([]int{1}, pred, logVar)
	t.record("gaussian_nll", loss.Shape, int64(4*n), nil)
	if t.cfg.shapesOnly {
		return loss
	}
	s := float64(logVar.Value[0])
	prec := math.Exp(-s)
	var total, totalT float64
	var st float64
	if logVar.Tangent != nil {
		st = float64(logVar.Tangent[0])
	}
	for i, v := range y {
		r := float64(v - pred.Value[i])
		total += 0.5*r*r*prec + 0.5*s
		if loss.Tangent != nil {
			var pt float64
			if pred.Tangent != nil {
				pt = float64(pred.Tangent[i])
			}
			totalT += -r*pt*prec + 0.5*(1-r*r*prec)*st
		}
	}
	loss.Value[0] = T(total / float64(n))
	if loss.Tangent != nil {
		loss.Tangent[0] = T(totalT / float64(n))
	}
	t.push(loss, func() {
		dl := float64(loss.Grad[0])
		var rdl float64
		if loss.RGrad != nil {
			rdl = float64(loss.RGrad[0])
		}
		var ds, rds float64
		for i, v := range y {
			r := float64(v - pred.Value[i])
			var pt float64
			if pred.Tangent != nil {
				pt = float64(pred.Tangent[i])
			}
			if pred.Grad != nil {
				pred.Grad[i] += T(-dl * r * prec / float64(n))
				if pred.RGrad != nil {
					pred.RGrad[i] += T((dl*(pt+r*st) - rdl*r) * prec / float64(n))
				}
			}
			ds += 0.5 * (1 - r*r*prec)
			rds += dl*(r*pt+0.5*r*r*st)*prec + rdl*0.5*(1-r*r*prec)
		}
		if logVar.Grad != nil {
			logVar.Grad[0] += T(dl * ds / float64(n))
			if logVar.RGrad != nil {
				logVar.RGrad[0] += T(rds / float64(n))
			}
		}
	})
	return loss
}

// Scale returns x ⊙ s for a constant s of x's size (a dropout mask with its
// 1/(1-p) folded in, for one).
//
//	y' = s ⊙ x';  dx += s ⊙ dy;  R{dx} += s ⊙ R{dy}
func Scale[T Float](t *Tape[T], x *Var[T], s []T) *Var[T] {
	if len(s) != numel(x.Shape) {
		panic(fmt.Sprintf("autograd: Scale: %d factors for shape %v", len(s), x.Shape))
	}
	y := t.newVar(append([]int(nil), x.Shape...), x)
	t.record("scale", y.Shape, int64(len(s)), nil)
	if t.cfg.shapesOnly {
		return y
	}
	for i, v := range x.Value {
		y.Value[i] = v * s[i]
	}
	if y.Tangent != nil {
		for i := range y.Tangent {
			if x.Tangent != nil {
				y.Tangent[i] = x.Tangent[i] * s[i]
			} else {
				y.Tangent[i] = 0
			}
		}
	}
	t.push(y, func() {
		if x.Grad != nil {
			for i, g := range y.Grad {
				x.Grad[i] += g * s[i]
			}
		}
		if x.RGrad != nil {
			for i, g := range y.RGrad {
				x.RGrad[i] += g * s[i]
			}
		}
	})
	return y
}
