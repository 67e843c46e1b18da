package autograd

import (
	"fmt"

	"github.com/winnow-ml/winnow/internal/kernels"
)

// Conv2d returns the 2-D convolution (cross-correlation, as PyTorch) of x
// [N, C, H, W] with w [O, C, KH, KW], plus b [O] if not nil, with the given
// stride and zero padding. With col(x) [C*KH*KW, OH*OW] the column matrix of
// an image (its windows side by side), y = W col(x) + b is a matrix product:
//
//	forward:          y   = W col(x) + b
//	tangent-forward:  y'  = W' col(x) + W col(x') + b'
//	backward:         dW += dy col(x)^T;  dx += col2im(W^T dy);  db += sum dy
//	tangent-backward: R{dW} += R{dy} col(x)^T + dy col(x')^T
//	                  R{dx} += col2im(W^T R{dy} + W'^T dy);  R{db} += sum R{dy}
//
// For a stride-1 convolution whose output is as large as its input, dx is
// itself such a convolution, of dy with the flipped weights, and is computed
// as one. How each product runs (from the images in place on a grid of
// padded images, packed from them, or through an explicit column matrix;
// by Winograd's F(4x4, 3x3) or F(2x2, 3x3) for 3x3 stride-1 layers where
// kernels.WinogradWorth finds it faster; with weights that are mostly zero,
// over their nonzeros only) is chosen by convolution; the results agree to
// rounding. When w.Support marks pruned weights, their gradients may be
// left as they are.
func Conv2d[T Float](t *Tape[T], x, w, b *Var[T], stride, pad [2]int) *Var[T] {
	if len(x.Shape) != 4 || len(w.Shape) != 4 || x.Shape[1] != w.Shape[1] || (b != nil && (len(b.Shape) != 1 || b.Shape[0] != w.Shape[0])) ||
		stride[0] < 1 || stride[1] < 1 || pad[0] < 0 || pad[1] < 0 {
		panic(fmt.Sprintf("autograd: Conv2d: x %v, w %v, b %v, stride %v, pad %v", x.Shape, w.Shape, shapeOf(b), stride, pad))
	}
	n, o := x.Shape[0], w.Shape[0]
	g := kernels.NewConvGeom(x.Shape[1], x.Shape[2], x.Shape[3], w.Shape[2], w.Shape[3], stride[0], stride[1], pad[0], pad[1])
	if g.OH < 1 || g.OW < 1 {
		panic(fmt.Sprintf("autograd: Conv2d: input %v too small for kernel %v with padding %v", x.Shape, w.Shape[2:], pad))
	}
	y := t.newVar([]int{n, o, g.OH, g.OW}, x, w, b)
	k, p := g.Rows(), g.Cols()
	flops := int64(2 * n * o * k * p)
	if b != nil {
		flops += int64(n * o * p)
	}
	t.record("conv2d", y.Shape, flops, w, b)
	if t.cfg.shapesOnly {
		return y
	}
	plan := kernels.NewConvPlan(&t.conv, g, o, w.Value, w.Support, n)
	nc := plan.Chunk(n)
	// Forward and tangent-forward: y = W x + b, y' = W' x + W x' + b'.
	for c0 := 0; c0 < n; c0 += nc {
		m := min(nc, n-c0)
		yt := y.Tangent
		if yt != nil {
			yt = yt[c0*o*p : (c0+m)*o*p]
		}
		if y.Tangent != nil && w.Tangent != nil && x.Tangent != nil && plan.ForwardTangent(y.Value, y.Tangent, w.Value, w.Tangent, x.Value, x.Tangent, c0, m, false, false) {
			addPlaneBias(y.Value[c0*o*p:(c0+m)*o*p], valueOf(b), p)
			addPlaneBias(yt, tangentOf(b), p)
			continue
		}
		plan.Forward(y.Value, w.Value, x.Value, c0, m, false)
		addPlaneBias(y.Value[c0*o*p:(c0+m)*o*p], valueOf(b), p)
		if y.Tangent == nil {
			continue
		}
		switch {
		case w.Tangent != nil:
			plan.Dense().Forward(y.Tangent, w.Tangent, x.Value, c0, m, false)
			if x.Tangent != nil {
				plan.Forward(y.Tangent, w.Value, x.Tangent, c0, m, true)
			}
		case x.Tangent != nil:
			plan.Forward(y.Tangent, w.Value, x.Tangent, c0, m, false)
		default:
			clear(yt)
		}
		addPlaneBias(yt, tangentOf(b), p)
	}
	t.pushSetting(y, func() {
		// Backward and tangent-backward of the weights and bias:
		// dW += dy x^T, R{dW} += R{dy} x^T + dy x'^T; db += sum dy.
		t.accumulate(w)
		t.accumulate(b)
		for c0 := 0; c0 < n; c0 += nc {
			m := min(nc, n-c0)
			if w.Grad != nil {
				if !t.cfg.rgradOnly {
					plan.WeightGrad(w.Grad, y.Grad, x.Value, c0, m)
				}
				if w.RGrad != nil {
					plan.WeightGrad(w.RGrad, y.RGrad, x.Value, c0, m)
					if x.Tangent != nil {
						plan.WeightGrad(w.RGrad, y.Grad, x.Tangent, c0, m)
					}
				}
			}
			if b != nil && b.Grad != nil {
				if !t.cfg.rgradOnly {
					sumPlanes(b.Grad, y.Grad[c0*o*p:(c0+m)*o*p], p)
				}
				if b.RGrad != nil {
					sumPlanes(b.RGrad, y.RGrad[c0*o*p:(c0+m)*o*p], p)
				}
			}
		}
		if x.Grad == nil {
			return
		}
		// Backward and tangent-backward of the input: dx += W^T dy,
		// R{dx} += W^T R{dy} + W'^T dy.
		t.done(x) // dx reads dy and the weights only
		set := plan.SetsInputGrad() && t.overwrite(x)
		if !set {
			t.accumulate(x)
		}
		plan.InputGrad(x.Grad, x.RGrad, w.Value, w.Tangent, y.Grad, y.RGrad, n, set)
	})
	return y
}

// addPlaneBias adds b[c] to every value of plane c of each image of y
// (planes of p values); nothing when b is nil.
func addPlaneBias[T Float](y, b []T, p int) {
	if b == nil {
		return
	}
	for i := 0; i < len(y)/p; i++ {
		bc := b[i%len(b)]
		for j := range y[i*p : (i+1)*p] {
			y[i*p+j] += bc
		}
	}
}

// sumPlanes adds to db[c] the sum of plane c of each image of dy.
func sumPlanes[T Float](db, dy []T, p int) {
	for i := 0; i < len(dy)/p; i++ {
		var s T
		for _, v := range dy[i*p : (i+1)*p] {
			s += v
		}
		db[i%len(db)] += s
	}
}
