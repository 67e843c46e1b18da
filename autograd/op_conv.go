package autograd

import (
	"fmt"

	"winnow/internal/kernels"
)

// convChunk bounds the column matrix of one chunk of images (elements):
// images are lowered a chunk at a time so that one matrix product serves
// many of them.
const convChunk = 1 << 22

// Conv2d returns the 2-D convolution (cross-correlation, as PyTorch) of x
// [N, C, H, W] with w [O, C, KH, KW], plus b [O] if not nil, with the given
// stride and zero padding. Images are lowered to column matrices col(x)
// [C*KH*KW, OH*OW], side by side for a chunk of images, so that
// y = W col(x) + b is one matrix product per chunk:
//
//	forward:          y   = W col(x) + b
//	tangent-forward:  y'  = W' col(x) + W col(x') + b'
//	backward:         dW += dy col(x)^T;  dx += col2im(W^T dy);  db += sum dy
//	tangent-backward: R{dW} += R{dy} col(x)^T + dy col(x')^T
//	                  R{dx} += col2im(W^T R{dy} + W'^T dy);  R{db} += sum R{dy}
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
	nc := max(1, min(n, convChunk/(k*p))) // images per chunk
	in, outSz := g.C*g.H*g.W, o*p
	// Scratch shared with the other ops: valid while this op's rule runs.
	var col, colT, tmp, dcol, rdy []T // [K, m*P], [K, m*P], [O, m*P], [K, m*P], [O, m*P]
	// For a stride-1 "same" convolution (output as large as the input), dx is
	// itself such a convolution (of dy with the flipped weights): one
	// well-shaped product instead of W^T dy and col2im. Unpadded convolutions
	// keep col2im, which touches no padding.
	transposed := stride == [2]int{1, 1} && 2*pad[0] == g.KH-1 && 2*pad[1] == g.KW-1
	// Those whose padded images are not much larger than their outputs
	// multiply on the grid of padded images (kernels.Grid), all three
	// products.
	gridded := transposed && kernels.GridWorth(g)
	scratch := func() {
		if gridded {
			tmp = t.shared(scratchProduct, o*nc*(g.H+2*g.PH)*(g.W+2*g.PW))
		} else {
			tmp = t.shared(scratchProduct, o*nc*p)
		}
		if kernels.DirectLowering() {
			return // no column matrices: products pack from the images
		}
		col = t.shared(scratchCol, k*nc*p)
		if x.Tangent != nil {
			colT = t.shared(scratchColTangent, k*nc*p)
		}
	}
	scratch()
	// lower writes col(src) of images c0..c0+m-1 side by side into buf.
	lower := func(src []T, c0, m int, buf []T) {
		kernels.ParallelFor(m, k*p, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				kernels.Im2col(g, src[(c0+j)*in:(c0+j+1)*in], buf[j*p:], m*p)
			}
		})
	}
	// scatter adds (or sets) tmp [O, m*P] into NCHW dst for images c0..
	scatter := func(dst []T, c0, m int) {
		kernels.ParallelFor(m, outSz, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				for oc := 0; oc < o; oc++ {
					copy(dst[(c0+j)*outSz+oc*p:][:p], tmp[oc*m*p+j*p:][:p])
				}
			}
		})
	}
	// gather copies NCHW src of images c0.. into buf [O, m*P].
	gather := func(buf, src []T, c0, m int) {
		kernels.ParallelFor(m, outSz, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				for oc := 0; oc < o; oc++ {
					copy(buf[oc*m*p+j*p:][:p], src[(c0+j)*outSz+oc*p:][:p])
				}
			}
		})
	}
	// fold adds the column matrix dcol of images c0.. back into dst (NCHW).
	fold := func(dst []T, c0, m int) {
		kernels.ParallelFor(m, k*p, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				kernels.Col2im(g, dcol[j*p:], dst[(c0+j)*in:(c0+j+1)*in], m*p)
			}
		})
	}
	// product sets (beta 0) or adds to tmp the product of weights wv with
	// col(src) of images c0..c0+m-1, lowered into buf unless the kernels pack
	// straight from the images; lowered says buf holds col(src) already.
	direct := kernels.DirectLowering()
	product := func(wv, src []T, c0, m int, buf []T, lowered bool, beta T) {
		if direct {
			kernels.GemmLowered(false, o, 1, wv, k, kernels.Lowered[T]{G: g, X: src[c0*in : (c0+m)*in], Images: m}, beta, tmp, m*p)
			return
		}
		if !lowered {
			lower(src, c0, m, buf)
		}
		kernels.Gemm(false, false, o, m*p, k, 1, wv, k, buf, m*p, beta, tmp, m*p)
	}
	// weightProduct adds dy col(src)^T to dst, dy = buf [O, m*P].
	weightProduct := func(dst, dy, src []T, c0, m int, buf []T) {
		if direct {
			kernels.GemmLoweredT(o, 1, dy, m*p, kernels.Lowered[T]{G: g, X: src[c0*in : (c0+m)*in], Images: m}, 1, dst, k)
			return
		}
		lower(src, c0, m, buf)
		kernels.Gemm(false, true, o, k, m*p, 1, dy, m*p, buf, m*p, 1, dst, k)
	}
	// gridForward is the forward (and tangent) pass of images c0..c0+m-1
	// on the grid.
	gridForward := func(c0, m int) {
		gr := kernels.LoadGrid(g, m, x.Value[c0*in:(c0+m)*in], t.shared(scratchCol, kernels.GridLen(g, m)))
		q := gr.Cols()
		kernels.GemmGrid(false, o, 1, w.Value, k, gr, 0, tmp, q)
		addBias(tmp[:o*q], valueOf(b), q)
		gr.Unpad(tmp, o, y.Value[c0*outSz:], false)
		if y.Tangent == nil {
			return
		}
		clear(tmp[:o*q])
		if w.Tangent != nil {
			kernels.GemmGrid(false, o, 1, w.Tangent, k, gr, 0, tmp, q)
		}
		addBias(tmp[:o*q], tangentOf(b), q)
		if x.Tangent != nil {
			gt := kernels.LoadGrid(g, m, x.Tangent[c0*in:(c0+m)*in], t.shared(scratchColTangent, kernels.GridLen(g, m)))
			kernels.GemmGrid(false, o, 1, w.Value, k, gt, 1, tmp, q)
		}
		gr.Unpad(tmp, o, y.Tangent[c0*outSz:], false)
	}
	// gridWeightGrad adds dW (and R{dW}, R{db}; db) of images c0..c0+m-1 on
	// the grid, with dy padded onto it, and dx by convInputGrad below.
	gridWeightGrad := func(c0, m int) {
		if w.Grad == nil && (b == nil || b.Grad == nil) {
			return
		}
		gr := kernels.LoadGrid(g, m, x.Value[c0*in:(c0+m)*in], t.shared(scratchCol, kernels.GridLen(g, m)))
		q := gr.Cols()
		pad := func(src []T, slot int) []T {
			buf := t.shared(slot, o*q)
			gr.Pad(src[c0*outSz:(c0+m)*outSz], o, buf)
			return buf
		}
		dyg := pad(y.Grad, scratchProduct)
		var rdyg []T
		if y.RGrad != nil {
			rdyg = pad(y.RGrad, scratchRDY)
		}
		if b != nil && b.Grad != nil { // the padding adds zeros
			sumRows(b.Grad, dyg, q)
			if b.RGrad != nil {
				sumRows(b.RGrad, rdyg, q)
			}
		}
		if w.Grad == nil {
			return
		}
		kernels.GemmGridT(o, 1, dyg, q, gr, 1, w.Grad, k)
		if w.RGrad == nil {
			return
		}
		kernels.GemmGridT(o, 1, rdyg, q, gr, 1, w.RGrad, k)
		if x.Tangent != nil {
			gt := kernels.LoadGrid(g, m, x.Tangent[c0*in:(c0+m)*in], t.shared(scratchColTangent, kernels.GridLen(g, m)))
			kernels.GemmGridT(o, 1, dyg, q, gt, 1, w.RGrad, k)
		}
	}
	for c0 := 0; c0 < n; c0 += nc {
		m := min(nc, n-c0)
		if gridded {
			gridForward(c0, m)
			continue
		}
		product(w.Value, x.Value, c0, m, col, false, 0)
		addBias(tmp[:o*m*p], valueOf(b), m*p)
		scatter(y.Value, c0, m)
		if y.Tangent == nil {
			continue
		}
		clear(tmp[:o*m*p])
		if w.Tangent != nil {
			product(w.Tangent, x.Value, c0, m, col, true, 0)
		}
		addBias(tmp[:o*m*p], tangentOf(b), m*p)
		if x.Tangent != nil {
			product(w.Value, x.Tangent, c0, m, colT, false, 1)
		}
		scatter(y.Tangent, c0, m)
	}
	t.push(y, func() {
		scratch()
		if x.needsGrad() && !transposed {
			dcol = t.shared(scratchDCol, k*nc*p)
		}
		if t.cfg.hvp {
			rdy = t.shared(scratchRDY, o*nc*p)
		}
		dy := tmp
		for c0 := 0; c0 < n; c0 += nc {
			m := min(nc, n-c0)
			mp := m * p
			if gridded {
				gridWeightGrad(c0, m)
				continue
			}
			gather(dy, y.Grad, c0, m)
			if y.RGrad != nil {
				gather(rdy, y.RGrad, c0, m)
			}
			if w.Grad != nil {
				weightProduct(w.Grad, dy, x.Value, c0, m, col)
				if w.RGrad != nil {
					if direct {
						weightProduct(w.RGrad, rdy, x.Value, c0, m, col)
					} else { // col holds col(x) already
						kernels.Gemm(false, true, o, k, mp, 1, rdy, mp, col, mp, 1, w.RGrad, k)
					}
					if x.Tangent != nil {
						weightProduct(w.RGrad, dy, x.Tangent, c0, m, colT)
					}
				}
			}
			if b != nil && b.Grad != nil {
				sumRows(b.Grad, dy[:o*mp], mp)
				if b.RGrad != nil {
					sumRows(b.RGrad, rdy[:o*mp], mp)
				}
			}
			if x.Grad == nil || transposed {
				continue
			}
			kernels.Gemm(true, false, k, mp, o, 1, w.Value, k, dy, mp, 0, dcol, mp)
			fold(x.Grad, c0, m)
			if x.RGrad == nil {
				continue
			}
			kernels.Gemm(true, false, k, mp, o, 1, w.Value, k, rdy, mp, 0, dcol, mp)
			if w.Tangent != nil {
				kernels.Gemm(true, false, k, mp, o, 1, w.Tangent, k, dy, mp, 1, dcol, mp)
			}
			fold(x.RGrad, c0, m)
		}
		if x.Grad != nil && transposed {
			convInputGrad(t, g, n, o, w, x, y)
		}
	})
	return y
}

// convInputGrad adds to x.Grad the adjoint of a stride-1 convolution, which
// is the convolution of dy with the flipped, transposed weights and padding
// K-1-P:
//
//	dx_n = Wf col'(dy_n),  Wf[c, (o*KH+i)*KW+j] = W[o, c, KH-1-i, KW-1-j]
//
// where col' lowers dy_n with that padding. On an HVP tape it adds
// R{dx} = Wf col'(R{dy}) + W'f col'(dy) to x.RGrad.
func convInputGrad[T Float](t *Tape[T], g kernels.ConvGeom, n, o int, w, x, y *Var[T]) {
	gt := kernels.NewConvGeom(o, g.OH, g.OW, g.KH, g.KW, 1, 1, g.KH-1-g.PH, g.KW-1-g.PW)
	kt, hw, in, outSz := gt.Rows(), g.H*g.W, g.C*g.H*g.W, o*g.OH*g.OW
	flip := func(dst, src []T) {
		kk := g.KH * g.KW
		for oc := 0; oc < o; oc++ {
			for c := 0; c < g.C; c++ {
				s := src[(oc*g.C+c)*kk:][:kk]
				d := dst[c*kt+oc*kk:][:kk]
				for i := range kk {
					d[i] = s[kk-1-i]
				}
			}
		}
	}
	wf := t.shared(scratchFlip, g.C*kt)
	flip(wf, w.Value)
	var wft []T
	if x.RGrad != nil && w.Tangent != nil {
		wft = t.shared(scratchFlipTangent, g.C*kt)
		flip(wft, w.Tangent)
	}
	nc := max(1, min(n, convChunk/(kt*hw)))
	direct := kernels.DirectLowering()
	var col []T
	if !direct {
		col = t.shared(scratchColDY, kt*nc*hw)
	}
	gridded := kernels.GridWorth(gt)
	if gridded {
		hw = (gt.H + 2*gt.PH) * (gt.W + 2*gt.PW) // dx holds grid positions
	}
	dx := t.shared(scratchDX, g.C*nc*hw)
	hw = g.H * g.W
	// product sets (beta 0) or adds to dx the product of flipped weights wv
	// with col'(src) of images c0..c0+m-1; lowered says col holds it already.
	product := func(wv, src []T, c0, m int, lowered bool, beta T) {
		mhw := m * hw
		if direct {
			kernels.GemmLowered(false, g.C, 1, wv, kt, kernels.Lowered[T]{G: gt, X: src[c0*outSz : (c0+m)*outSz], Images: m}, beta, dx, mhw)
			return
		}
		if !lowered {
			kernels.ParallelFor(m, kt*hw, func(lo, hi int) {
				for j := lo; j < hi; j++ {
					kernels.Im2col(gt, src[(c0+j)*outSz:(c0+j+1)*outSz], col[j*hw:], mhw)
				}
			})
		}
		kernels.Gemm(false, false, g.C, mhw, kt, 1, wv, kt, col, mhw, beta, dx, mhw)
	}
	addInto := func(dst []T, c0, m int) {
		kernels.ParallelFor(m, in, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				for c := 0; c < g.C; c++ {
					d := dst[(c0+j)*in+c*hw:][:hw]
					for i, v := range dx[c*m*hw+j*hw:][:hw] {
						d[i] += v
					}
				}
			}
		})
	}
	// gridBackward adds dx (and R{dx}) of images c0..c0+m-1 on the grid.
	gridBackward := func(c0, m int) {
		grid := func(src []T) kernels.Grid[T] {
			return kernels.LoadGrid(gt, m, src[c0*outSz:(c0+m)*outSz], t.shared(scratchColDY, kernels.GridLen(gt, m)))
		}
		gr := grid(y.Grad)
		q := gr.Cols()
		kernels.GemmGrid(false, g.C, 1, wf, kt, gr, 0, dx, q)
		gr.Unpad(dx, g.C, x.Grad[c0*in:], true)
		if x.RGrad == nil {
			return
		}
		clear(dx[:g.C*q])
		if wft != nil {
			kernels.GemmGrid(false, g.C, 1, wft, kt, gr, 0, dx, q)
		}
		kernels.GemmGrid(false, g.C, 1, wf, kt, grid(y.RGrad), 1, dx, q)
		gr.Unpad(dx, g.C, x.RGrad[c0*in:], true)
	}
	for c0 := 0; c0 < n; c0 += nc {
		m := min(nc, n-c0)
		if gridded {
			gridBackward(c0, m)
			continue
		}
		product(wf, y.Grad, c0, m, false, 0)
		addInto(x.Grad, c0, m)
		if x.RGrad == nil {
			continue
		}
		clear(dx[:g.C*m*hw])
		if wft != nil {
			product(wft, y.Grad, c0, m, true, 0)
		}
		product(wf, y.RGrad, c0, m, false, 1)
		addInto(x.RGrad, c0, m)
	}
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
