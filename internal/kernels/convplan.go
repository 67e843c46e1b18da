package kernels

import (
	"runtime"
	"sync"

	"github.com/winnow-ml/winnow/internal/mem"
)

// convChunk bounds the buffers of one chunk of images (elements): images
// are convolved a chunk at a time so that one matrix product serves many of
// them.
const convChunk = 1 << 22

// Workspace lends convolutions their scratch buffers and keeps the Winograd
// transforms of the last two weights planned. A tape holds one; the
// convolutions of its passes share it, running one at a time. The zero
// value is ready to use.
type Workspace[T Float] struct {
	// Force makes the plans take a way of running their products where the
	// geometry allows it, whatever the rules of worth.go say: for tests
	// that must take it on every CPU.
	Force Path

	bufs [slots][]T
	// The weights whose Winograd transforms the two slots from
	// slotWinograd hold, and the slot to fill next.
	winograd     [2]winogradKey
	winogradNext int
}

// Path names a way a convolution's products may run.
type Path int

const (
	Chosen   Path = iota // as the rules choose
	Winograd             // by Winograd's transforms, where the geometry allows them
)

// winogradKey names transformed weights: the plan (one op's forward pass
// or one backward rule, during which weights do not change) and the
// weights' buffer.
type winogradKey struct {
	plan    *byte
	weights any
}

// The workspace's slots: buffers a convolution needs only while it runs.
const (
	slotCol = iota
	slotProduct
	slotDCol
	slotFlip
	slotFlipTangent
	slotWinograd // and the next: transformed weights
	slotWinograd2
	slots
)

// buf returns slot i with at least n elements (contents unspecified).
func (w *Workspace[T]) buf(i, n int) []T {
	if cap(w.bufs[i]) < n {
		w.bufs[i] = mem.Zeroed[T](n)
	}
	return w.bufs[i][:n]
}

// ConvPlan runs the products of one convolution: geometry g to out output
// channels, each image of C*H*W values giving one of out*P values (P =
// OH*OW). It chooses, once, how they run (the rules of worth.go): by
// Winograd's transforms, on the grid of padded images, over the weights'
// nonzeros, from panels packed from the images, or through column
// matrices; the results agree to rounding. Its four rules are a
// convolution's: Forward, ForwardTangent, WeightGrad and InputGrad.
type ConvPlan[T Float] struct {
	ws      *Workspace[T]
	g       ConvGeom
	out     int
	direct  bool    // pack panels from the images (no column matrix)
	gridded bool    // multiply on the grid of padded images in place
	imaged  bool    // forward on the grid, output pixels only (GemmGridImages)
	wino    bool    // by Winograd's transforms (WinogradConv)
	sparse  *CSR[T] // the weights' nonzeros, when few enough to pay
	support *CSR[T] // the weights whose gradients are wanted, when few
	id      *byte   // the plan's identity, shared by its dense copy (transformed)
	in, sz  int     // values per input and output image
	k, p    int     // rows and columns of an image's column matrix
}

// NewConvPlan plans the convolution of geometry g to out channels with
// weights w [out, g.Rows()], of n images. support, when not nil, marks the
// weights whose gradients are wanted (nonzero): where few enough, the
// others' gradients are left as they are.
func NewConvPlan[T Float](ws *Workspace[T], g ConvGeom, out int, w, support []T, n int) *ConvPlan[T] {
	c := &ConvPlan[T]{ws: ws, g: g, out: out, direct: DirectLowering(), gridded: GridWorth(g), imaged: GridImagesWorth[T](g),
		wino: WinogradWorth[T](g, out, n), id: new(byte), // not zero-size: each plan its own
		in: g.C * g.H * g.W, sz: out * g.Cols(), k: g.Rows(), p: g.Cols()}
	if ws.Force == Winograd && winogradFits(g) && winogradVector[T](g) && g.H >= 4 && g.W >= 4 {
		c.wino = true
	}
	if SparseWorth(g, w, c.wino) {
		s := NewCSR(out, c.k, w, nil)
		c.sparse = &s
	}
	if support != nil && SparseWorth(g, support, c.wino) {
		s := NewCSR(out, c.k, support, support)
		c.support = &s
	}
	return c
}

// Dense is the plan for weights other than those planned for (tangents).
func (c *ConvPlan[T]) Dense() *ConvPlan[T] {
	d := *c
	d.sparse = nil
	return &d
}

// Chunk is the number of images per product: callers convolve a batch of
// n images chunk by chunk.
func (c *ConvPlan[T]) Chunk(n int) int { return max(1, min(n, convChunk/(c.k*c.p))) }

// Forward sets (add false) or adds to dst, images c0..c0+m-1 (NCHW), the
// convolution with weights w of the same images of src:
//
//	dst_n (+)= W col(src_n)
func (c *ConvPlan[T]) Forward(dst, w, src []T, c0, m int, add bool) {
	g, ws, out := c.g, c.ws, c.out
	xs, ys := src[c0*c.in:(c0+m)*c.in], dst[c0*c.sz:(c0+m)*c.sz]
	if c.sparse == nil && c.wino {
		_, nv, np := WinogradBufLen[T](g, out, m)
		WinogradConvTransformed(g, out, m, c.transformed(w), xs, ys, add, ws.buf(slotCol, nv), ws.buf(slotProduct, np))
		return
	}
	if c.sparse == nil && c.imaged {
		GemmGridImages(out, 1, w, c.k, c.grid(xs, m), ys, add)
		return
	}
	if c.sparse != nil || c.gridded {
		gr := c.grid(xs, m)
		q := gr.Cols()
		prod := ws.buf(slotProduct, out*q)
		if c.sparse != nil {
			SparseGemmGrid(*c.sparse, gr, 0, prod, q)
		} else {
			GemmGrid(false, out, 1, w, c.k, gr, 0, prod, q)
		}
		gr.Unpad(prod, out, ys, add)
		return
	}
	mp := m * c.p
	prod := ws.buf(slotProduct, out*mp)
	if c.direct {
		GemmLowered(false, out, 1, w, c.k, Lowered[T]{G: g, X: xs, Images: m}, 0, prod, mp)
	} else {
		col := ws.buf(slotCol, c.k*mp)
		c.lower(xs, m, col)
		Gemm(false, false, out, mp, c.k, 1, w, c.k, col, mp, 0, prod, mp)
	}
	c.scatter(ys, prod, m, add)
}

// ForwardTangent computes, where the plan runs by Winograd's transforms,
// the convolution and its tangent at once (WinogradConvTangent): over
// images c0..c0+m-1, dst = conv(w, src) and dstT = conv(wT, src) +
// conv(w, srcT), setting or adding each. It reports whether it did; if
// not, the caller runs the products with Forward.
func (c *ConvPlan[T]) ForwardTangent(dst, dstT, w, wT, src, srcT []T, c0, m int, add, addT bool) bool {
	if c.sparse != nil || !c.wino {
		return false
	}
	ws, g, out := c.ws, c.g, c.out
	lo, hi := c0*c.in, (c0+m)*c.in
	ylo, yhi := c0*c.sz, (c0+m)*c.sz
	_, nv, np := WinogradBufLen[T](g, out, m)
	WinogradConvTangent(g, out, m, c.transformed(w), c.transformed(wT), src[lo:hi], srcT[lo:hi], dst[ylo:yhi], dstT[ylo:yhi],
		add, addT, ws.buf(slotCol, nv), ws.buf(slotProduct, np))
	return true
}

// transformed returns the Winograd transform of weights w, computed once
// per plan and weights: the workspace's two slots hold the last two
// transformed (a forward pass's W and W', or dx's flipped W and W').
func (c *ConvPlan[T]) transformed(w []T) []T {
	ws := c.ws
	key := winogradKey{plan: c.id, weights: &w[0]}
	for i, k := range ws.winograd {
		if k == key {
			return ws.bufs[slotWinograd+i]
		}
	}
	i := ws.winogradNext
	ws.winogradNext = 1 - i
	nu, _, _ := WinogradBufLen[T](c.g, c.out, 1)
	u := ws.buf(slotWinograd+i, nu)
	WinogradWeights(c.g, c.out, w, u)
	ws.winograd[i] = key
	return u
}

// WeightGrad adds dy col(x)^T, over images c0..c0+m-1 of dy (NCHW, out
// channels) and x, to dst [out, k]: a convolution's weight gradient. Where
// the plan has a support, only the supported weights' gradients are
// computed.
func (c *ConvPlan[T]) WeightGrad(dst, dy, x []T, c0, m int) {
	g, ws, out := c.g, c.ws, c.out
	xs, dys := x[c0*c.in:(c0+m)*c.in], dy[c0*c.sz:(c0+m)*c.sz]
	if c.support == nil && c.wino {
		nu, nv, np := WinogradBufLen[T](g, out, m)
		ws.winograd[0] = winogradKey{} // the slot holds dU now
		WinogradWeightGrad(g, out, m, dys, xs, dst, ws.buf(slotCol, nv), ws.buf(slotProduct, np), ws.buf(slotWinograd, nu))
		return
	}
	if c.support != nil || c.gridded {
		gr := c.grid(xs, m)
		if c.support == nil {
			buf := ws.buf(slotProduct, GridTBufLen(out, gr))
			GemmGridTImages(out, 1, dys, gr, 1, dst, c.k, buf)
			return
		}
		q := gr.Cols()
		dyg := ws.buf(slotProduct, out*q)
		gr.Pad(dys, out, dyg)
		SparseGemmGridT(*c.support, dyg, q, gr, dst, c.k)
		return
	}
	mp := m * c.p
	dyc := ws.buf(slotProduct, out*mp)
	c.gather(dyc, dys, m)
	if c.direct {
		GemmLoweredT(out, 1, dyc, mp, Lowered[T]{G: g, X: xs, Images: m}, 1, dst, c.k)
		return
	}
	col := ws.buf(slotCol, c.k*mp)
	c.lower(xs, m, col)
	Gemm(false, true, out, c.k, mp, 1, dyc, mp, col, mp, 1, dst, c.k)
}

// SetsInputGrad reports whether InputGrad can set its result rather than
// add it: for stride-1 convolutions whose output is as large as their
// input, whose dx is itself such a convolution.
func (c *ConvPlan[T]) SetsInputGrad() bool {
	g := c.g
	return g.SH == 1 && g.SW == 1 && 2*g.PH == g.KH-1 && 2*g.PW == g.KW-1
}

// InputGrad adds to dx (or sets, with set and SetsInputGrad) the adjoint of
// the convolution of n images, dx = col2im(W^T dy); with dxR not nil it
// also adds R{dx} = col2im(W^T dyR + wT^T dy) (wT may be nil), the
// tangent of an HVP tape. A stride-1 "same" convolution's adjoint is the
// convolution of dy with the flipped, transposed weights and padding
// K-1-P:
//
//	dx_n = Wf col'(dy_n),  Wf[c, (o*KH+i)*KW+j] = W[o, c, KH-1-i, KW-1-j]
//
// and runs as one, by its own plan; the others fold the columns back an
// image at a time.
func (c *ConvPlan[T]) InputGrad(dx, dxR, w, wT, dy, dyR []T, n int, set bool) {
	if c.SetsInputGrad() {
		c.flippedInputGrad(dx, dxR, w, wT, dy, dyR, n, set)
		return
	}
	nc := c.Chunk(n)
	for c0 := 0; c0 < n; c0 += nc {
		m := min(nc, n-c0)
		c.foldInputGrad(dx, w, dy, nil, nil, c0, m)
		if dxR != nil {
			c.foldInputGrad(dxR, w, dyR, wT, dy, c0, m)
		}
	}
}

func (c *ConvPlan[T]) flippedInputGrad(dx, dxR, w, wT, dy, dyR []T, n int, set bool) {
	g, o := c.g, c.out
	gt := NewConvGeom(o, g.OH, g.OW, g.KH, g.KW, 1, 1, g.KH-1-g.PH, g.KW-1-g.PW)
	kt := gt.Rows()
	flip := func(dst, src []T) {
		kk := g.KH * g.KW
		for oc := 0; oc < o; oc++ {
			for ch := 0; ch < g.C; ch++ {
				s := src[(oc*g.C+ch)*kk:][:kk]
				d := dst[ch*kt+oc*kk:][:kk]
				for i := range kk {
					d[i] = s[kk-1-i]
				}
			}
		}
	}
	wf := c.ws.buf(slotFlip, g.C*kt)
	flip(wf, w)
	var wft []T
	if dxR != nil && wT != nil {
		wft = c.ws.buf(slotFlipTangent, g.C*kt)
		flip(wft, wT)
	}
	bwd := NewConvPlan(c.ws, gt, g.C, wf, nil, n)
	nc := bwd.Chunk(n)
	for c0 := 0; c0 < n; c0 += nc {
		m := min(nc, n-c0)
		if dxR != nil && wft != nil && bwd.ForwardTangent(dx, dxR, wf, wft, dy, dyR, c0, m, !set, !set) {
			continue
		}
		bwd.Forward(dx, wf, dy, c0, m, !set)
		if dxR == nil {
			continue
		}
		bwd.Forward(dxR, wf, dyR, c0, m, !set)
		if wft != nil {
			bwd.Dense().Forward(dxR, wft, dy, c0, m, true)
		}
	}
}

// foldInputGrad adds col2im(W^T dy + W2^T dy2) (W2, dy2 may be nil) of
// images c0..c0+m-1 to dst (NCHW): an image at a time on each thread, its
// gradient's column matrix staying in cache from the product to col2im
// (and dy read in place).
func (c *ConvPlan[T]) foldInputGrad(dst, w, dy, w2, dy2 []T, c0, m int) {
	workers := max(1, min(runtime.GOMAXPROCS(0), m))
	bufs := c.ws.buf(slotDCol, workers*c.k*c.p)
	var wg sync.WaitGroup
	for wk := 0; wk < workers; wk++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dcol := bufs[wk*c.k*c.p:][:c.k*c.p]
			for j := c0 + wk*m/workers; j < c0+(wk+1)*m/workers; j++ {
				GemmSerial(true, false, c.k, c.p, c.out, 1, w, c.k, dy[j*c.sz:], c.p, 0, dcol, c.p)
				if w2 != nil {
					GemmSerial(true, false, c.k, c.p, c.out, 1, w2, c.k, dy2[j*c.sz:], c.p, 1, dcol, c.p)
				}
				Col2im(c.g, dcol, dst[j*c.in:(j+1)*c.in], c.p)
			}
		}()
	}
	wg.Wait()
}

// grid lays out the m images xs on the grid of padded images (in scratch).
func (c *ConvPlan[T]) grid(xs []T, m int) Grid[T] {
	return LoadGrid(c.g, m, xs, c.ws.buf(slotCol, GridLen(c.g, m)))
}

// lower writes the column matrices of m images xs side by side into col
// [k, m*p].
func (c *ConvPlan[T]) lower(xs []T, m int, col []T) {
	ParallelFor(m, c.k*c.p, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			Im2col(c.g, xs[j*c.in:(j+1)*c.in], col[j*c.p:], m*c.p)
		}
	})
}

// scatter sets (or adds) prod [out, m*p] into m NCHW images ys.
func (c *ConvPlan[T]) scatter(ys, prod []T, m int, add bool) {
	p := c.p
	ParallelFor(m, c.sz, func(lo, hi int) {
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
func (c *ConvPlan[T]) gather(buf, ys []T, m int) {
	p := c.p
	ParallelFor(m, c.sz, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			for oc := 0; oc < c.out; oc++ {
				copy(buf[oc*m*p+j*p:][:p], ys[j*c.sz+oc*p:][:p])
			}
		}
	})
}
