package kernels

import (
	"sync"

	"github.com/winnow-ml/winnow/internal/kernels/micro"
)

// Lowered is the column matrix of a run of images side by side,
//
//	col[(c*KH+i)*KW+j, n*OH*OW + oy*OW+ox] = x_n[c, oy*SH-PH+i, ox*SW-PW+j]
//
// (zero in the padding), [G.Rows(), Images*G.Cols()], that Im2col writes,
// but never formed: products with it pack its blocks straight from the
// images, a panel at a time, so the matrix costs neither memory nor a pass.
type Lowered[T Float] struct {
	G      ConvGeom
	X      []T // Images CHW images, one after another
	Images int
}

// GemmLowered computes c = alpha*op(A)*col + beta*c, where op(A) is m x
// G.Rows() and c is m x Images*G.Cols().
func GemmLowered[T Float](transA bool, m int, alpha T, a []T, lda int, x Lowered[T], beta T, c []T, ldc int) {
	k, n := x.G.Rows(), x.Images*x.G.Cols()
	if !micro.Available {
		Gemm(transA, false, m, n, k, alpha, a, lda, x.form(), n, beta, c, ldc)
		return
	}
	src, release := newLoweredSource(x, false)
	defer release()
	splitPacked(transA, m, n, k, alpha, a, lda, src, beta, c, ldc)
}

// GemmLoweredT computes c = alpha*A*col^T + beta*c, where A is m x
// Images*G.Cols() and c is m x G.Rows().
func GemmLoweredT[T Float](m int, alpha T, a []T, lda int, x Lowered[T], beta T, c []T, ldc int) {
	k, n := x.Images*x.G.Cols(), x.G.Rows()
	if !micro.Available {
		Gemm(false, true, m, n, k, alpha, a, lda, x.form(), k, beta, c, ldc)
		return
	}
	src, release := newLoweredSource(x, true)
	defer release()
	splitPacked(false, m, n, k, alpha, a, lda, src, beta, c, ldc)
}

// form writes the column matrix out.
func (x Lowered[T]) form() []T {
	p, in := x.G.Cols(), x.G.C*x.G.H*x.G.W
	col := make([]T, x.G.Rows()*x.Images*p)
	for n := 0; n < x.Images; n++ {
		Im2col(x.G, x.X[n*in:(n+1)*in], col[n*p:], x.Images*p)
	}
	return col
}

// loweredSource packs col (trans false) or col^T (trans true) from a
// zero-padded copy of the images, [Images, C, Hp, Wp], on which every
// window reads inside the image: the element of window (c, i, j) at output
// pixel (n, oy, ox) is
//
//	padded[rowOff(c, i, j) + colOff(n, oy, ox)],
//	rowOff = (c*Hp + i)*Wp + j,  colOff = n*C*Hp*Wp + oy*SH*Wp + ox*SW.
type loweredSource[T Float] struct {
	g      ConvGeom
	padded []T
	trans  bool
}

var (
	padPool32 = sync.Pool{New: func() any { return new([]float32) }}
	padPool64 = sync.Pool{New: func() any { return new([]float64) }}
)

// newLoweredSource pads the images of x into a pooled buffer; release
// returns it.
func newLoweredSource[T Float](x Lowered[T], trans bool) (loweredSource[T], func()) {
	g := x.G
	var z T
	pool := &padPool64
	if any(z) == any(float32(0)) {
		pool = &padPool32
	}
	buf := pool.Get().(*[]T)
	hp, wp := g.H+2*g.PH, g.W+2*g.PW
	*buf = grow(*buf, x.Images*g.C*hp*wp)
	padded := *buf
	ParallelFor(x.Images*g.C, hp*wp, func(lo, hi int) {
		for p := lo; p < hi; p++ { // plane p = n*C + c
			dst, src := padded[p*hp*wp:][:hp*wp], x.X[p*g.H*g.W:][:g.H*g.W]
			if g.PH == 0 && g.PW == 0 {
				copy(dst, src)
				continue
			}
			clear(dst)
			for y := 0; y < g.H; y++ {
				copy(dst[(y+g.PH)*wp+g.PW:][:g.W], src[y*g.W:][:g.W])
			}
		}
	})
	return loweredSource[T]{g: g, padded: padded, trans: trans}, func() { pool.Put(buf) }
}

// pixelRun is a run of output pixels of one image row: len pixels of image
// n, row oy, from column ox on.
type pixelRun struct{ n, oy, ox, len int }

// runs splits the side-by-side pixel columns q..end-1 into runs of one
// image row each, appending to dst.
func (g ConvGeom) runs(q, end int, dst []pixelRun) []pixelRun {
	p := g.OH * g.OW
	n, pix := q/p, q%p
	oy, ox := pix/g.OW, pix%g.OW
	for q < end {
		l := min(g.OW-ox, end-q)
		dst = append(dst, pixelRun{n, oy, ox, l})
		q += l
		ox = 0
		if oy++; oy == g.OH {
			oy, n = 0, n+1
		}
	}
	return dst
}

// rowOffsets writes the padded-image offsets of column-matrix rows
// w..w+len(dst)-1 (windows) into dst.
func (g ConvGeom) rowOffsets(w int, dst []int) {
	kk, hp, wp := g.KH*g.KW, g.H+2*g.PH, g.W+2*g.PW
	c, i, j := w/kk, w%kk/g.KW, w%g.KW
	for t := range dst {
		dst[t] = (c*hp+i)*wp + j
		if j++; j == g.KW {
			j = 0
			if i++; i == g.KH {
				i, c = 0, c+1
			}
		}
	}
}

// colOffset is the padded-image offset of the first pixel of run r.
func (g ConvGeom) colOffset(r pixelRun) int {
	hp, wp := g.H+2*g.PH, g.W+2*g.PW
	return r.n*g.C*hp*wp + r.oy*g.SH*wp + r.ox*g.SW
}

func (s loweredSource[T]) pack(pc, kb, jc, nb, nr int, dst []T) {
	g := s.g
	var runBuf [blockK + 1]pixelRun
	if !s.trans {
		// Rows of op(B) are windows, columns pixels.
		var rows [blockK]int
		g.rowOffsets(pc, rows[:kb])
		for jr := 0; jr < nb; jr += nr {
			cols := min(nr, nb-jr)
			panel := dst[jr*kb:][:kb*nr]
			if cols < nr {
				clear(panel)
			}
			if g.SW != 1 || g.OW < 16 {
				var pixels [32]int
				gatherPanel(panel, s.padded, rows[:kb], g.pixelOffsets(jc+jr, jc+jr+cols, runBuf[:0], pixels[:0]), nr)
				continue
			}
			off := 0
			for _, r := range g.runs(jc+jr, jc+jr+cols, runBuf[:0]) {
				base := s.padded[g.colOffset(r):]
				for l, ro := range rows[:kb] {
					copy(panel[l*nr+off:][:r.len], base[ro:][:r.len])
				}
				off += r.len
			}
		}
		return
	}
	// op(B) = col^T: rows are pixels, columns windows.
	var pixels [blockK]int
	steps := g.pixelOffsets(pc, pc+kb, runBuf[:0], pixels[:0])
	var windows [32]int
	for jr := 0; jr < nb; jr += nr {
		ncols := min(nr, nb-jr)
		panel := dst[jr*kb:][:kb*nr]
		if ncols < nr {
			clear(panel)
		}
		g.rowOffsets(jc+jr, windows[:ncols])
		gatherPanel(panel, s.padded, steps, windows[:ncols], nr)
	}
}

// pixelOffsets appends to dst the padded-image offsets of the windows'
// first values for the side-by-side pixel columns q..end-1.
func (g ConvGeom) pixelOffsets(q, end int, runBuf []pixelRun, dst []int) []int {
	for _, r := range g.runs(q, end, runBuf) {
		base := g.colOffset(r)
		for t := 0; t < r.len; t++ {
			dst = append(dst, base+t*g.SW)
		}
	}
	return dst
}

// gatherPanel fills a panel of nr columns, step l and column t from
// src[steps[l]+cols[t]]: the packing of short image rows, strided
// convolutions and col^T, where copying runs would copy a few values at a
// time.
func gatherPanel[T Float](panel, src []T, steps, cols []int, nr int) {
	for l, so := range steps {
		s, d := src[so:], panel[l*nr:][:len(cols)]
		for t, o := range cols {
			d[t] = s[o]
		}
	}
}
