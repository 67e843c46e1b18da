package autograd

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/winnow-ml/winnow/internal/kernels"
)

// convChunk bounds the buffers of one chunk of images (elements): images
// are convolved a chunk at a time so that one matrix product serves many of
// them.
const convChunk = 1 << 22

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
	fwd := newConvPlan(t, g, o, w.Value, n)
	if w.Support != nil && kernels.SparseWorth(g, w.Support, fwd.wino) {
		s := kernels.NewCSR(o, k, w.Support, w.Support)
		fwd.support = &s
	}
	nc := fwd.chunk(n)
	for c0 := 0; c0 < n; c0 += nc {
		m := min(nc, n-c0)
		yt := y.Tangent
		if yt != nil {
			yt = yt[c0*o*p : (c0+m)*o*p]
		}
		if y.Tangent != nil && w.Tangent != nil && x.Tangent != nil && fwd.convTangent(y.Value, y.Tangent, w.Value, w.Tangent, x.Value, x.Tangent, c0, m, false, false) {
			addPlaneBias(y.Value[c0*o*p:(c0+m)*o*p], valueOf(b), p)
			addPlaneBias(yt, tangentOf(b), p)
			continue
		}
		fwd.conv(y.Value, w.Value, x.Value, c0, m, false)
		addPlaneBias(y.Value[c0*o*p:(c0+m)*o*p], valueOf(b), p)
		if y.Tangent == nil {
			continue
		}
		switch {
		case w.Tangent != nil:
			fwd.dense().conv(y.Tangent, w.Tangent, x.Value, c0, m, false)
			if x.Tangent != nil {
				fwd.conv(y.Tangent, w.Value, x.Tangent, c0, m, true)
			}
		case x.Tangent != nil:
			fwd.conv(y.Tangent, w.Value, x.Tangent, c0, m, false)
		default:
			clear(yt)
		}
		addPlaneBias(yt, tangentOf(b), p)
	}
	// A stride-1 "same" convolution's dx is the convolution of dy with the
	// flipped, transposed weights and padding K-1-P.
	same := stride == [2]int{1, 1} && 2*pad[0] == g.KH-1 && 2*pad[1] == g.KW-1
	t.pushSetting(y, func() {
		t.accumulate(w)
		t.accumulate(b)
		for c0 := 0; c0 < n; c0 += nc {
			m := min(nc, n-c0)
			if w.Grad != nil {
				if !t.cfg.rgradOnly {
					fwd.weightGrad(w.Grad, y.Grad, x.Value, c0, m)
				}
				if w.RGrad != nil {
					fwd.weightGrad(w.RGrad, y.RGrad, x.Value, c0, m)
					if x.Tangent != nil {
						fwd.weightGrad(w.RGrad, y.Grad, x.Tangent, c0, m)
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
		t.done(x) // dx reads dy and the weights only
		if same {
			convInputGrad(t, g, n, o, w, x, y, t.overwrite(x))
			return
		}
		t.accumulate(x)
		for c0 := 0; c0 < n; c0 += nc {
			m := min(nc, n-c0)
			fwd.foldInputGrad(x.Grad, w.Value, y.Grad, nil, nil, c0, m)
			if x.RGrad != nil {
				fwd.foldInputGrad(x.RGrad, w.Value, y.RGrad, w.Tangent, y.Grad, c0, m)
			}
		}
	})
	return y
}

// convInputGrad adds to x.Grad the adjoint of a stride-1 "same"
// convolution, the convolution of dy with the flipped, transposed weights
// and padding K-1-P:
//
//	dx_n = Wf col'(dy_n),  Wf[c, (o*KH+i)*KW+j] = W[o, c, KH-1-i, KW-1-j]
//
// where col' lowers dy_n with that padding. On an HVP tape it adds
// R{dx} = Wf col'(R{dy}) + W'f col'(dy) to x.RGrad. With set it writes
// them instead of adding.
func convInputGrad[T Float](t *Tape[T], g kernels.ConvGeom, n, o int, w, x, y *Var[T], set bool) {
	gt := kernels.NewConvGeom(o, g.OH, g.OW, g.KH, g.KW, 1, 1, g.KH-1-g.PH, g.KW-1-g.PW)
	kt := gt.Rows()
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
	bwd := newConvPlan(t, gt, g.C, wf, n)
	nc := bwd.chunk(n)
	for c0 := 0; c0 < n; c0 += nc {
		m := min(nc, n-c0)
		if x.RGrad != nil && wft != nil && bwd.convTangent(x.Grad, x.RGrad, wf, wft, y.Grad, y.RGrad, c0, m, !set, !set) {
			continue
		}
		bwd.conv(x.Grad, wf, y.Grad, c0, m, !set)
		if x.RGrad == nil {
			continue
		}
		bwd.conv(x.RGrad, wf, y.RGrad, c0, m, !set)
		if wft != nil {
			bwd.dense().conv(x.RGrad, wft, y.Grad, c0, m, true)
		}
	}
}

// convPlan says how the products of one convolution geometry run: with g
// and out output channels, each image of in = C*H*W values gives one of
// out*P values (P = OH*OW).
type convPlan[T Float] struct {
	t       *Tape[T]
	g       kernels.ConvGeom
	out     int
	direct  bool            // pack panels from the images (no column matrix)
	gridded bool            // multiply on the grid of padded images in place
	imaged  bool            // forward on the grid, output pixels only (kernels.GemmGridImages)
	wino    bool            // by Winograd's transforms (kernels.WinogradConv)
	sparse  *kernels.CSR[T] // the weights' nonzeros, when few enough to pay
	support *kernels.CSR[T] // the weights whose gradients are wanted, when few
	id      *byte           // the plan's identity, shared by its dense copy (convPlan.transformed)
	in, sz  int             // values per input and output image
	k, p    int             // rows and columns of an image's column matrix
}

// newConvPlan plans the convolution of geometry g to out channels with
// weights wv [out, g.Rows()], of n images.
func newConvPlan[T Float](t *Tape[T], g kernels.ConvGeom, out int, wv []T, n int) *convPlan[T] {
	c := &convPlan[T]{t: t, g: g, out: out, direct: kernels.DirectLowering(), gridded: kernels.GridWorth(g), imaged: kernels.GridImagesWorth[T](g),
		wino: kernels.WinogradWorth[T](g, out, n), id: new(byte), // not zero-size: each plan its own
		in: g.C * g.H * g.W, sz: out * g.Cols(), k: g.Rows(), p: g.Cols()}
	if kernels.SparseWorth(g, wv, c.wino) {
		s := kernels.NewCSR(out, c.k, wv, nil)
		c.sparse = &s
	}
	return c
}

// dense is the plan for weights other than those planned for (tangents).
func (c *convPlan[T]) dense() *convPlan[T] {
	d := *c
	d.sparse = nil
	return &d
}

// chunk is the number of images per product.
func (c *convPlan[T]) chunk(n int) int { return max(1, min(n, convChunk/(c.k*c.p))) }

// conv sets (add false) or adds to dst, images c0..c0+m-1 (NCHW), the
// convolution with weights wv of the same images of src.
func (c *convPlan[T]) conv(dst, wv, src []T, c0, m int, add bool) {
	g, t, out := c.g, c.t, c.out
	xs, ys := src[c0*c.in:(c0+m)*c.in], dst[c0*c.sz:(c0+m)*c.sz]
	if c.sparse == nil && c.wino {
		_, nv, np := kernels.WinogradBufLen[T](g, out, m)
		kernels.WinogradConvTransformed(g, out, m, c.transformed(wv), xs, ys, add, t.shared(scratchCol, nv), t.shared(scratchProduct, np))
		return
	}
	if c.sparse == nil && c.imaged {
		kernels.GemmGridImages(out, 1, wv, c.k, c.grid(xs, m), ys, add)
		return
	}
	if c.sparse != nil || c.gridded {
		gr := c.grid(xs, m)
		q := gr.Cols()
		prod := t.shared(scratchProduct, out*q)
		if c.sparse != nil {
			kernels.SparseGemmGrid(*c.sparse, gr, 0, prod, q)
		} else {
			kernels.GemmGrid(false, out, 1, wv, c.k, gr, 0, prod, q)
		}
		gr.Unpad(prod, out, ys, add)
		return
	}
	mp := m * c.p
	prod := t.shared(scratchProduct, out*mp)
	if c.direct {
		kernels.GemmLowered(false, out, 1, wv, c.k, kernels.Lowered[T]{G: g, X: xs, Images: m}, 0, prod, mp)
	} else {
		col := t.shared(scratchCol, c.k*mp)
		c.lower(xs, m, col)
		kernels.Gemm(false, false, out, mp, c.k, 1, wv, c.k, col, mp, 0, prod, mp)
	}
	c.scatter(ys, prod, m, add)
}

// convTangent computes, where the plan runs by Winograd's transforms, the
// convolution and its tangent at once (kernels.WinogradConvTangent): dst =
// conv(wv, src) and dstT = conv(wvT, src) + conv(wv, srcT) over images
// c0..c0+m-1, setting or adding each. It reports whether it did; if not,
// the caller runs the three products.
func (c *convPlan[T]) convTangent(dst, dstT, wv, wvT, src, srcT []T, c0, m int, add, addT bool) bool {
	if c.sparse != nil || !c.wino {
		return false
	}
	t, g, out := c.t, c.g, c.out
	lo, hi := c0*c.in, (c0+m)*c.in
	ylo, yhi := c0*c.sz, (c0+m)*c.sz
	_, nv, np := kernels.WinogradBufLen[T](g, out, m)
	kernels.WinogradConvTangent(g, out, m, c.transformed(wv), c.transformed(wvT), src[lo:hi], srcT[lo:hi], dst[ylo:yhi], dstT[ylo:yhi],
		add, addT, t.shared(scratchCol, nv), t.shared(scratchProduct, np))
	return true
}

// transformed returns the Winograd transform of weights wv, computed once
// per plan and weights: the tape's two slots for them hold the last two
// transformed (a forward pass's W and W', or dx's flipped W and W').
func (c *convPlan[T]) transformed(wv []T) []T {
	t := c.t
	key := winogradKey{plan: c.id, weights: &wv[0]}
	for i, k := range t.winograd {
		if k == key {
			return t.scratch[scratchWinograd+i]
		}
	}
	i := t.winogradNext
	t.winogradNext = 1 - i
	nu, _, _ := kernels.WinogradBufLen[T](c.g, c.out, 1)
	u := t.shared(scratchWinograd+i, nu)
	kernels.WinogradWeights(c.g, c.out, wv, u)
	t.winograd[i] = key
	return u
}

// weightGrad adds dy col(x)^T, over images c0..c0+m-1 of dy (NCHW, out
// channels) and x, to dst [out, k].
func (c *convPlan[T]) weightGrad(dst, dy, x []T, c0, m int) {
	g, t, out := c.g, c.t, c.out
	xs, dys := x[c0*c.in:(c0+m)*c.in], dy[c0*c.sz:(c0+m)*c.sz]
	if c.support == nil && c.wino {
		nu, nv, np := kernels.WinogradBufLen[T](g, out, m)
		t.winograd[0] = winogradKey{} // the slot holds dU now
		kernels.WinogradWeightGrad(g, out, m, dys, xs, dst, t.shared(scratchCol, nv), t.shared(scratchProduct, np), t.shared(scratchWinograd, nu))
		return
	}
	if c.support != nil || c.gridded {
		gr := c.grid(xs, m)
		if c.support == nil {
			buf := t.shared(scratchProduct, kernels.GridTBufLen(out, gr))
			kernels.GemmGridTImages(out, 1, dys, gr, 1, dst, c.k, buf)
			return
		}
		q := gr.Cols()
		dyg := t.shared(scratchProduct, out*q)
		gr.Pad(dys, out, dyg)
		kernels.SparseGemmGridT(*c.support, dyg, q, gr, dst, c.k)
		return
	}
	mp := m * c.p
	dyc := t.shared(scratchProduct, out*mp)
	c.gather(dyc, dys, m)
	if c.direct {
		kernels.GemmLoweredT(out, 1, dyc, mp, kernels.Lowered[T]{G: g, X: xs, Images: m}, 1, dst, c.k)
		return
	}
	col := t.shared(scratchCol, c.k*mp)
	c.lower(xs, m, col)
	kernels.Gemm(false, true, out, c.k, mp, 1, dyc, mp, col, mp, 1, dst, c.k)
}

// foldInputGrad adds col2im(W^T dy + W2^T dy2) (W2, dy2 may be nil) of
// images c0..c0+m-1 to dst (NCHW), for convolutions that are not "same": an
// image at a time on each thread, its gradient's column matrix staying in
// cache from the product to col2im (and dy read in place).
func (c *convPlan[T]) foldInputGrad(dst, wv, dy, w2, dy2 []T, c0, m int) {
	workers := max(1, min(runtime.GOMAXPROCS(0), m))
	bufs := c.t.shared(scratchDCol, workers*c.k*c.p)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dcol := bufs[w*c.k*c.p:][:c.k*c.p]
			for j := c0 + w*m/workers; j < c0+(w+1)*m/workers; j++ {
				kernels.GemmSerial(true, false, c.k, c.p, c.out, 1, wv, c.k, dy[j*c.sz:], c.p, 0, dcol, c.p)
				if w2 != nil {
					kernels.GemmSerial(true, false, c.k, c.p, c.out, 1, w2, c.k, dy2[j*c.sz:], c.p, 1, dcol, c.p)
				}
				kernels.Col2im(c.g, dcol, dst[j*c.in:(j+1)*c.in], c.p)
			}
		}()
	}
	wg.Wait()
}

// grid lays out the m images xs on the grid of padded images (in scratch).
func (c *convPlan[T]) grid(xs []T, m int) kernels.Grid[T] {
	return kernels.LoadGrid(c.g, m, xs, c.t.shared(scratchCol, kernels.GridLen(c.g, m)))
}

// lower writes the column matrices of m images xs side by side into col
// [k, m*p].
func (c *convPlan[T]) lower(xs []T, m int, col []T) {
	kernels.ParallelFor(m, c.k*c.p, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			kernels.Im2col(c.g, xs[j*c.in:(j+1)*c.in], col[j*c.p:], m*c.p)
		}
	})
}

// scatter sets (or adds) prod [out, m*p] into m NCHW images ys.
func (c *convPlan[T]) scatter(ys, prod []T, m int, add bool) {
	p := c.p
	kernels.ParallelFor(m, c.sz, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			for oc := 0; oc < c.out; oc++ {
				d, s := ys[j*c.sz+oc*p:][:p], prod[oc*m*p+j*p:][:p]
				if !add {
					copy(d, s)
					continue
				}
				for i, v := range s {
					d[i] += v
				}
			}
		}
	})
}

// gather copies m NCHW images ys into buf [out, m*p].
func (c *convPlan[T]) gather(buf, ys []T, m int) {
	p := c.p
	kernels.ParallelFor(m, c.sz, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			for oc := 0; oc < c.out; oc++ {
				copy(buf[oc*m*p+j*p:][:p], ys[j*c.sz+oc*p:][:p])
			}
		}
	})
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
