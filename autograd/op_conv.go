package autograd

import (
	"fmt"

	"winnow/internal/kernels"
)

// Conv2d returns the 2-D convolution (cross-correlation, as PyTorch) of x
// [N, C, H, W] with w [O, C, KH, KW], plus b [O] if not nil, with the given
// stride and zero padding. Each image is lowered to its column matrix
// col(x) [C*KH*KW, OH*OW] so that y_n = W col(x_n) + b:
//
//	forward:          y_n   = W col(x_n) + b
//	tangent-forward:  y_n'  = W' col(x_n) + W col(x_n') + b'
//	backward:         dW   += dy_n col(x_n)^T;  dx_n += col2im(W^T dy_n);  db += sum dy_n
//	tangent-backward: R{dW}  += R{dy_n} col(x_n)^T + dy_n col(x_n')^T
//	                  R{dx_n} += col2im(W^T R{dy_n} + W'^T dy_n);  R{db} += sum R{dy_n}
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
	direct := g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PH == 0 && g.PW == 0
	var col, colT []T
	if !direct {
		col = t.alloc(k * p)
		if x.Tangent != nil {
			colT = t.alloc(k * p)
		}
	}
	// lower returns col(src) for image i, in buf unless the conv is 1x1.
	lower := func(src []T, i int, buf []T) []T {
		img := src[i*g.C*g.H*g.W : (i+1)*g.C*g.H*g.W]
		if direct {
			return img
		}
		kernels.Im2col(g, img, buf)
		return buf
	}
	in, outSz := g.C*g.H*g.W, o*p
	for i := 0; i < n; i++ {
		c := lower(x.Value, i, col)
		yi := y.Value[i*outSz : (i+1)*outSz]
		kernels.Gemm(false, false, o, p, k, 1, w.Value, k, c, p, 0, yi, p)
		addBias(yi, valueOf(b), p)
		if y.Tangent == nil {
			continue
		}
		ti := y.Tangent[i*outSz : (i+1)*outSz]
		clear(ti)
		if w.Tangent != nil {
			kernels.Gemm(false, false, o, p, k, 1, w.Tangent, k, c, p, 0, ti, p)
		}
		addBias(ti, tangentOf(b), p)
		if x.Tangent != nil {
			ct := lower(x.Tangent, i, colT)
			kernels.Gemm(false, false, o, p, k, 1, w.Value, k, ct, p, 1, ti, p)
		}
	}
	var dcol []T
	if x.needsGrad() {
		dcol = t.alloc(k * p)
	}
	t.push(y, func() {
		for i := 0; i < n; i++ {
			dy := y.Grad[i*outSz : (i+1)*outSz]
			var rdy []T
			if y.RGrad != nil {
				rdy = y.RGrad[i*outSz : (i+1)*outSz]
			}
			if w.Grad != nil || b != nil && b.Grad != nil {
				c := lower(x.Value, i, col)
				if w.Grad != nil {
					kernels.Gemm(false, true, o, k, p, 1, dy, p, c, p, 1, w.Grad, k)
				}
				sumRows(gradOf(b), dy, p)
				if rdy != nil {
					if w.RGrad != nil {
						kernels.Gemm(false, true, o, k, p, 1, rdy, p, c, p, 1, w.RGrad, k)
						if x.Tangent != nil {
							ct := lower(x.Tangent, i, colT)
							kernels.Gemm(false, true, o, k, p, 1, dy, p, ct, p, 1, w.RGrad, k)
						}
					}
					sumRows(rgradOf(b), rdy, p)
				}
			}
			if x.Grad == nil {
				continue
			}
			dx := x.Grad[i*in : (i+1)*in]
			scatter := func(dst []T) {
				if direct {
					for j, v := range dcol[:len(dst)] {
						dst[j] += v
					}
				} else {
					kernels.Col2im(g, dcol, dst)
				}
			}
			kernels.Gemm(true, false, k, p, o, 1, w.Value, k, dy, p, 0, dcol, p)
			scatter(dx)
			if rdy == nil {
				continue
			}
			kernels.Gemm(true, false, k, p, o, 1, w.Value, k, rdy, p, 0, dcol, p)
			if w.Tangent != nil {
				kernels.Gemm(true, false, k, p, o, 1, w.Tangent, k, dy, p, 1, dcol, p)
			}
			scatter(x.RGrad[i*in : (i+1)*in])
		}
	})
	return y
}

// addBias adds b[c] to every element of row c of y (rows of length p).
func addBias[T Float](y, b []T, p int) {
	for c, bc := range b {
		row := y[c*p : (c+1)*p]
		for j := range row {
			row[j] += bc
		}
	}
}

// sumRows adds the sum of row c of src (rows of length p) to dst[c].
func sumRows[T Float](dst, src []T, p int) {
	for c := range dst {
		var s T
		for _, v := range src[c*p : (c+1)*p] {
			s += v
		}
		dst[c] += s
	}
}
