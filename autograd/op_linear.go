package autograd

import (
	"fmt"

	"github.com/winnow-ml/winnow/internal/kernels"
)

// Linear returns y = x W^T + b for x [N, in], w [out, in] (PyTorch's layout)
// and b [out] or nil.
//
//	forward:          y   = x W^T + b
//	tangent-forward:  y'  = x' W^T + x W'^T + b'
//	backward:         dW += dy^T x;   dx += dy W;   db += sum_n dy
//	tangent-backward: R{dW} += R{dy}^T x + dy^T x';  R{dx} += R{dy} W + dy W';
//	                  R{db} += sum_n R{dy}
func Linear[T Float](t *Tape[T], x, w, b *Var[T]) *Var[T] {
	if len(x.Shape) != 2 || len(w.Shape) != 2 || x.Shape[1] != w.Shape[1] || (b != nil && (len(b.Shape) != 1 || b.Shape[0] != w.Shape[0])) {
		panic(fmt.Sprintf("autograd: Linear: x %v, w %v, b %v", x.Shape, w.Shape, shapeOf(b)))
	}
	n, in, out := x.Shape[0], x.Shape[1], w.Shape[0]
	y := t.newVar([]int{n, out}, x, w, b)
	flops := int64(2 * n * in * out)
	if b != nil {
		flops += int64(n * out)
	}
	t.record("linear", y.Shape, flops, w, b)
	if t.cfg.shapesOnly {
		return y
	}
	linearForward(n, in, out, x.Value, w.Value, valueOf(b), y.Value, 0)
	if y.Tangent != nil {
		clear(y.Tangent)
		if x.Tangent != nil {
			linearForward(n, in, out, x.Tangent, w.Value, nil, y.Tangent, 1)
		}
		if w.Tangent != nil || (b != nil && b.Tangent != nil) {
			var wt []T
			if w.Tangent != nil {
				wt = w.Tangent
			}
			linearForward(n, in, out, x.Value, wt, tangentOf(b), y.Tangent, 1)
		}
	}
	t.pushSetting(y, func() {
		t.accumulate(w)
		t.accumulate(b)
		beta := T(1) // dx is added to, or written over pending zeros
		if t.overwrite(x) {
			beta = 0
		}
		dw, db := w.Grad, gradOf(b)
		if t.cfg.rgradOnly {
			dw, db = nil, nil
		}
		linearBackward(n, in, out, x.Value, w.Value, y.Grad, x.Grad, dw, db, beta)
		if y.RGrad == nil {
			return
		}
		linearBackward(n, in, out, x.Value, w.Value, y.RGrad, x.RGrad, w.RGrad, rgradOf(b), beta)
		if x.Tangent != nil && w.RGrad != nil {
			kernels.Gemm(true, false, out, in, n, 1, y.Grad, out, x.Tangent, in, 1, w.RGrad, in)
		}
		if w.Tangent != nil && x.RGrad != nil {
			kernels.Gemm(false, false, n, in, out, 1, y.Grad, out, w.Tangent, in, 1, x.RGrad, in)
		}
	})
	return y
}

// linearForward sets y = x W^T + b (beta = 0) or adds it (beta = 1).
// A nil w skips the product; a nil b skips the bias.
func linearForward[T Float](n, in, out int, x, w, b, y []T, beta T) {
	if w != nil {
		kernels.Gemm(false, true, n, out, in, 1, x, in, w, in, beta, y, out)
	} else if beta == 0 {
		clear(y)
	}
	if b != nil {
		for i := 0; i < n; i++ {
			row := y[i*out : (i+1)*out]
			for j, bj := range b {
				row[j] += bj
			}
		}
	}
}

// linearBackward accumulates dW += dy^T x, dx = dy W + beta dx, db +=
// sum_n dy for whichever of dx, dw, db is not nil.
func linearBackward[T Float](n, in, out int, x, w, dy, dx, dw, db []T, beta T) {
	if dw != nil {
		kernels.Gemm(true, false, out, in, n, 1, dy, out, x, in, 1, dw, in)
	}
	if dx != nil {
		kernels.Gemm(false, false, n, in, out, 1, dy, out, w, in, beta, dx, in)
	}
	if db != nil {
		for i := 0; i < n; i++ {
			for j, g := range dy[i*out : (i+1)*out] {
				db[j] += g
			}
		}
	}
}

func shapeOf[T Float](v *Var[T]) []int {
	if v == nil {
		return nil
	}
	return v.Shape
}

func valueOf[T Float](v *Var[T]) []T {
	if v == nil {
		return nil
	}
	return v.Value
}

func gradOf[T Float](v *Var[T]) []T {
	if v == nil {
		return nil
	}
	return v.Grad
}

func tangentOf[T Float](v *Var[T]) []T {
	if v == nil {
		return nil
	}
	return v.Tangent
}

func rgradOf[T Float](v *Var[T]) []T {
	if v == nil {
		return nil
	}
	return v.RGrad
}
