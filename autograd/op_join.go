package autograd

import "fmt"

// JoinReLU is the residual addition of a network pruned by the official
// EigenDamage code's union rule, where the two summands hold different
// channels of the output: a's channel c adds into y's channel aPos[c], b's
// into bPos[c], channels neither covers are zero, and a ReLU follows:
//
//	y = relu(Σ scatter), y [N, width, H, W]
//	da[:, c] += dy[:, aPos[c]] where y > 0; likewise db; R{dy} the same way
//
// Tangents scatter likewise. a and b are [N, C, H, W] of the same N, H, W.
func JoinReLU[T Float](t *Tape[T], a *Var[T], aPos []int, b *Var[T], bPos []int, width int) *Var[T] {
	if len(a.Shape) != 4 || len(b.Shape) != 4 || a.Shape[0] != b.Shape[0] || a.Shape[2] != b.Shape[2] || a.Shape[3] != b.Shape[3] ||
		len(aPos) != a.Shape[1] || len(bPos) != b.Shape[1] {
		panic(fmt.Sprintf("autograd: JoinReLU: %v at %d positions and %v at %d", a.Shape, len(aPos), b.Shape, len(bPos)))
	}
	for _, p := range [][]int{aPos, bPos} {
		for _, c := range p {
			if c < 0 || c >= width {
				panic(fmt.Sprintf("autograd: JoinReLU: channel %d of a %d-channel output", c, width))
			}
		}
	}
	n, hw := a.Shape[0], a.Shape[2]*a.Shape[3]
	y := t.newVar([]int{n, width, a.Shape[2], a.Shape[3]}, a, b)
	t.record("add", y.Shape, int64(numel(y.Shape)), nil)
	t.record("relu", y.Shape, int64(numel(y.Shape)), nil)
	if t.cfg.shapesOnly {
		return y
	}
	// scatter adds src [N, len(pos), HW] into dst [N, width, HW].
	scatter := func(dst, src []T, pos []int) {
		c := len(pos)
		for e := 0; e < n; e++ {
			for k, p := range pos {
				d := dst[(e*width+p)*hw : (e*width+p+1)*hw]
				for i, v := range src[(e*c+k)*hw : (e*c+k+1)*hw] {
					d[i] += v
				}
			}
		}
	}
	// gather adds the masked dst-shaped gradient g back into src's shape.
	gather := func(dst, g []T, pos []int) {
		c := len(pos)
		for e := 0; e < n; e++ {
			for k, p := range pos {
				d := dst[(e*c+k)*hw : (e*c+k+1)*hw]
				yv := y.Value[(e*width+p)*hw : (e*width+p+1)*hw]
				for i, v := range g[(e*width+p)*hw : (e*width+p+1)*hw] {
					if yv[i] > 0 {
						d[i] += v
					}
				}
			}
		}
	}
	clear(y.Value)
	scatter(y.Value, a.Value, aPos)
	scatter(y.Value, b.Value, bPos)
	for i, v := range y.Value {
		y.Value[i] = max(v, 0)
	}
	if y.Tangent != nil {
		clear(y.Tangent)
		if a.Tangent != nil {
			scatter(y.Tangent, a.Tangent, aPos)
		}
		if b.Tangent != nil {
			scatter(y.Tangent, b.Tangent, bPos)
		}
		for i := range y.Tangent {
			if !(y.Value[i] > 0) {
				y.Tangent[i] = 0
			}
		}
	}
	t.push(y, func() {
		for k, in := range [2]*Var[T]{a, b} {
			pos := [2][]int{aPos, bPos}[k]
			if in.Grad == nil {
				continue
			}
			gather(in.Grad, y.Grad, pos)
			if in.RGrad != nil && y.RGrad != nil {
				gather(in.RGrad, y.RGrad, pos)
			}
		}
	})
	return y
}
