package autograd

import (
	"fmt"

	"github.com/winnow-ml/winnow/internal/kernels"
)

// ReLU returns max(x, 0). Its derivative is the mask m = [x > 0]: at x = 0
// the gradient is 0, as in PyTorch.
//
//	y' = m x';  dx += m dy;  R{dx} += m R{dy}
func ReLU[T Float](t *Tape[T], x *Var[T]) *Var[T] {
	y := t.newVar(append([]int(nil), x.Shape...), x)
	t.record("relu", y.Shape, int64(numel(y.Shape)), nil)
	if t.cfg.shapesOnly {
		return y
	}
	kernels.ParallelFor(len(x.Value), 1, func(lo, hi int) {
		yv := y.Value[lo:hi]
		for i, v := range x.Value[lo:hi] {
			yv[i] = max(v, 0)
		}
	})
	// masked sets (add false) or adds to dst the elements of src where x > 0.
	masked := func(dst, src []T, add bool) {
		kernels.ParallelFor(len(x.Value), 1, func(lo, hi int) {
			kernels.ReLUMask(dst[lo:hi], src[lo:hi], x.Value[lo:hi], add)
		})
	}
	if y.Tangent != nil {
		masked(y.Tangent, x.Tangent, false)
	}
	t.pushSetting(y, func() {
		add := !t.overwrite(x)
		if x.Grad != nil {
			masked(x.Grad, y.Grad, add)
		}
		if x.RGrad != nil {
			masked(x.RGrad, y.RGrad, add)
		}
	})
	return y
}

// Add returns a + b for operands of one shape (the residual connection).
//
//	y' = a' + b';  da += dy, db += dy;  R{da} += R{dy}, R{db} += R{dy}
func Add[T Float](t *Tape[T], a, b *Var[T]) *Var[T] { return add(t, a, b, false) }

// AddReLU is ReLU(Add(a, b)) as one op, the end of a residual block: the
// same values, derivatives and operation records with one output instead
// of two. With m = [y > 0]:
//
//	y = max(a + b, 0);  y' = m (a' + b');  da += m dy, db += m dy;
//	R{da} += m R{dy}, R{db} += m R{dy}
//
// The backward rule leaves y.Grad (and y.RGrad) masked.
func AddReLU[T Float](t *Tape[T], a, b *Var[T]) *Var[T] { return add(t, a, b, true) }

func add[T Float](t *Tape[T], a, b *Var[T], relu bool) *Var[T] {
	if !SameShape(a.Shape, b.Shape) {
		panic(fmt.Sprintf("autograd: Add: %v vs %v", a.Shape, b.Shape))
	}
	y := t.newVar(append([]int(nil), a.Shape...), a, b)
	t.record("add", y.Shape, int64(numel(y.Shape)), nil)
	if relu {
		t.record("relu", y.Shape, int64(numel(y.Shape)), nil)
	}
	if t.cfg.shapesOnly {
		return y
	}
	kernels.ParallelFor(len(y.Value), 1, func(lo, hi int) {
		yv, av, bv := y.Value[lo:hi], a.Value[lo:hi], b.Value[lo:hi]
		if relu {
			kernels.AddReLU(yv, av, bv)
			return
		}
		for i := range yv {
			yv[i] = av[i] + bv[i]
		}
	})
	if y.Tangent != nil {
		for i := range y.Tangent {
			var s T
			if a.Tangent != nil {
				s += a.Tangent[i]
			}
			if b.Tangent != nil {
				s += b.Tangent[i]
			}
			y.Tangent[i] = s
		}
		if relu {
			kernels.ReLUMask(y.Tangent, y.Tangent, y.Value, false)
		}
	}
	t.pushSetting(y, func() {
		if relu { // ReLU's backward rule, in place
			for _, d := range [][]T{y.Grad, y.RGrad} {
				if d != nil {
					kernels.ParallelFor(len(d), 1, func(lo, hi int) {
						kernels.ReLUMask(d[lo:hi], d[lo:hi], y.Value[lo:hi], false)
					})
				}
			}
		}
		// The first input whose gradients are pending takes y's buffers
		// (no copy); the other gets a copy or adds.
		gy, rgy := y.Grad, y.RGrad
		for _, in := range [2]*Var[T]{a, b} {
			if in.Grad == nil || t.handOver(y, in) {
				continue
			}
			if t.overwrite(in) {
				copy(in.Grad, gy)
				copy(in.RGrad, rgy)
				continue
			}
			addTo(in.Grad, gy)
			if in.RGrad != nil {
				addTo(in.RGrad, rgy)
			}
		}
	})
	return y
}

// Reshape returns x with a new shape of the same size. It shares x's value
// and tangent; its gradients are its own and pass to x unchanged:
//
//	dx += dy;  R{dx} += R{dy}
func Reshape[T Float](t *Tape[T], x *Var[T], shape ...int) *Var[T] {
	if numel(shape) != numel(x.Shape) {
		panic(fmt.Sprintf("autograd: Reshape: %v to %v", x.Shape, shape))
	}
	t.keep(x)
	y := &Var[T]{Shape: append([]int(nil), shape...), Value: x.Value, Tangent: x.Tangent, inputs: []*Var[T]{x}}
	if x.Grad == nil {
		return y
	}
	t.pendingGrads(y, x.RGrad != nil)
	t.pushSetting(y, func() {
		if t.handOver(y, x) {
			return
		}
		if t.overwrite(x) {
			copy(x.Grad, y.Grad)
			copy(x.RGrad, y.RGrad)
			return
		}
		addTo(x.Grad, y.Grad)
		if x.RGrad != nil {
			addTo(x.RGrad, y.RGrad)
		}
	})
	return y
}

// Flatten reshapes x [N, ...] to [N, rest].
func Flatten[T Float](t *Tape[T], x *Var[T]) *Var[T] {
	return Reshape(t, x, x.Shape[0], numel(x.Shape[1:]))
}

func addTo[T Float](dst, src []T) {
	kernels.ParallelFor(len(src), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] += src[i]
		}
	})
}
