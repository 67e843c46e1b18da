package autograd

import (
	"fmt"
	"math"

	"github.com/winnow-ml/winnow/internal/kernels"
)

// MaxPool2d takes the maximum over k x k windows of x [N, C, H, W] with the
// given stride and padding (padded cells never win). Ties go to the first
// maximum in row-major window order, as PyTorch's CPU kernel. With a the
// argmax of each window, fixed by the forward pass:
//
//	forward: y = x[a];  tangent-forward: y' = x'[a]
//	backward: dx[a] += dy;  tangent-backward: R{dx}[a] += R{dy}
func MaxPool2d[T Float](t *Tape[T], x *Var[T], k, stride, pad int) *Var[T] {
	oh, ow := poolOut(x, "MaxPool2d", k, stride, pad)
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	y := t.newVar([]int{n, c, oh, ow}, x)
	t.record("maxpool2d", y.Shape, int64(n*c*oh*ow*k*k), nil)
	if t.cfg.shapesOnly {
		return y
	}
	arg := t.allocInt(len(y.Value)) // index into the input plane
	kernels.ParallelFor(n*c, h*w, func(plo, phi int) {
		for pl := plo; pl < phi; pl++ {
			xp := x.Value[pl*h*w : (pl+1)*h*w]
			if k == 2 && stride == 2 && pad == 0 {
				maxPool2x2(xp, w, oh, ow, y.Value[pl*oh*ow:(pl+1)*oh*ow], arg[pl*oh*ow:(pl+1)*oh*ow])
				continue
			}
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					best, bi := T(math.Inf(-1)), int32(-1)
					for i := 0; i < k; i++ {
						yy := oy*stride - pad + i
						if yy < 0 || yy >= h {
							continue
						}
						for j := 0; j < k; j++ {
							xx := ox*stride - pad + j
							if xx < 0 || xx >= w {
								continue
							}
							v := xp[yy*w+xx]
							if v > best || bi < 0 || v != v {
								best, bi = v, int32(yy*w+xx)
							}
						}
					}
					o := (pl*oh+oy)*ow + ox
					arg[o] = bi
					y.Value[o] = best
				}
			}
		}
	})
	plane, oplane := h*w, oh*ow
	// gather and scatter go plane by plane (planes on different threads):
	// output o of plane pl is input pl*plane + arg[o].
	gather := func(dst, src []T) {
		kernels.ParallelFor(n*c, plane, func(lo, hi int) {
			for pl := lo; pl < hi; pl++ {
				xp, a := src[pl*plane:(pl+1)*plane], arg[pl*oplane:(pl+1)*oplane]
				for o, i := range a {
					dst[pl*oplane+o] = xp[i]
				}
			}
		})
	}
	scatter := func(dst, src []T) {
		kernels.ParallelFor(n*c, plane, func(lo, hi int) {
			for pl := lo; pl < hi; pl++ {
				dp, a := dst[pl*plane:(pl+1)*plane], arg[pl*oplane:(pl+1)*oplane]
				for o, v := range src[pl*oplane : (pl+1)*oplane] {
					dp[a[o]] += v
				}
			}
		})
	}
	if y.Tangent != nil {
		gather(y.Tangent, x.Tangent)
	}
	t.pushReading(y, nil, func() { // by the indices, without values
		scatter(x.Grad, y.Grad)
		if x.RGrad != nil {
			scatter(x.RGrad, y.RGrad)
		}
	})
	return y
}

// AvgPool2d averages k x k windows of x [N, C, H, W] with the given stride
// (no padding). It is linear, so tangents go forward through the same map
// and R{dy} back through its adjoint:
//
//	y = mean of the window;  dx[window] += dy/(k*k)
func AvgPool2d[T Float](t *Tape[T], x *Var[T], k, stride int) *Var[T] {
	oh, ow := poolOut(x, "AvgPool2d", k, stride, 0)
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	y := t.newVar([]int{n, c, oh, ow}, x)
	t.record("avgpool2d", y.Shape, int64(n*c*oh*ow*k*k), nil)
	if t.cfg.shapesOnly {
		return y
	}
	scale := 1 / T(k*k)
	fwd := func(dst, src []T) {
		for pl := 0; pl < n*c; pl++ {
			xp := src[pl*h*w:]
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					var s T
					for i := 0; i < k; i++ {
						row := xp[(oy*stride+i)*w+ox*stride:]
						for j := 0; j < k; j++ {
							s += row[j]
						}
					}
					dst[(pl*oh+oy)*ow+ox] = s * scale
				}
			}
		}
	}
	bwd := func(dst, src []T) {
		for pl := 0; pl < n*c; pl++ {
			xp := dst[pl*h*w:]
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					g := src[(pl*oh+oy)*ow+ox] * scale
					for i := 0; i < k; i++ {
						row := xp[(oy*stride+i)*w+ox*stride:]
						for j := 0; j < k; j++ {
							row[j] += g
						}
					}
				}
			}
		}
	}
	fwd(y.Value, x.Value)
	if y.Tangent != nil {
		fwd(y.Tangent, x.Tangent)
	}
	t.push(y, func() {
		bwd(x.Grad, y.Grad)
		if x.RGrad != nil {
			bwd(x.RGrad, y.RGrad)
		}
	})
	return y
}

// GlobalAvgPool averages each channel of x [N, C, H, W] over its H*W values,
// giving [N, C]. Linear: dx += dy/(H*W), and the same for tangents.
func GlobalAvgPool[T Float](t *Tape[T], x *Var[T]) *Var[T] {
	if len(x.Shape) != 4 {
		panic(fmt.Sprintf("autograd: GlobalAvgPool: x %v, want [N C H W]", x.Shape))
	}
	n, c, hw := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	y := t.newVar([]int{n, c}, x)
	t.record("globalavgpool", y.Shape, int64(n*c*hw), nil)
	if t.cfg.shapesOnly {
		return y
	}
	scale := 1 / T(hw)
	fwd := func(dst, src []T) {
		for i := range dst {
			var s T
			for _, v := range src[i*hw : (i+1)*hw] {
				s += v
			}
			dst[i] = s * scale
		}
	}
	bwd := func(dst, src []T) {
		for i, g := range src {
			g *= scale
			row := dst[i*hw : (i+1)*hw]
			for j := range row {
				row[j] += g
			}
		}
	}
	fwd(y.Value, x.Value)
	if y.Tangent != nil {
		fwd(y.Tangent, x.Tangent)
	}
	t.push(y, func() {
		bwd(x.Grad, y.Grad)
		if x.RGrad != nil {
			bwd(x.RGrad, y.RGrad)
		}
	})
	return y
}

func poolOut[T Float](x *Var[T], op string, k, stride, pad int) (int, int) {
	if len(x.Shape) != 4 || k < 1 || stride < 1 || pad < 0 || 2*pad > k {
		panic(fmt.Sprintf("autograd: %s: x %v, kernel %d, stride %d, padding %d", op, x.Shape, k, stride, pad))
	}
	oh, ow := (x.Shape[2]+2*pad-k)/stride+1, (x.Shape[3]+2*pad-k)/stride+1
	if oh < 1 || ow < 1 {
		panic(fmt.Sprintf("autograd: %s: input %v smaller than kernel %d", op, x.Shape, k))
	}
	return oh, ow
}

// maxPool2x2 is MaxPool2d's forward rule on one plane for 2 x 2 windows at
// stride 2 without padding (VGG's), with the general loop's choices: the
// first maximum, or the last NaN.
func maxPool2x2[T Float](xp []T, w, oh, ow int, y []T, arg []int32) {
	for oy := 0; oy < oh; oy++ {
		r0, r1 := xp[2*oy*w:][:2*ow], xp[(2*oy+1)*w:][:2*ow]
		yr, ar := y[oy*ow:][:ow], arg[oy*ow:][:ow]
		for ox := range yr {
			i := int32(2*oy*w + 2*ox)
			best, bi := r0[2*ox], i
			if v := r0[2*ox+1]; v > best || v != v {
				best, bi = v, i+1
			}
			if v := r1[2*ox]; v > best || v != v {
				best, bi = v, i+int32(w)
			}
			if v := r1[2*ox+1]; v > best || v != v {
				best, bi = v, i+int32(w)+1
			}
			yr[ox], ar[ox] = best, bi
		}
	}
}
