package kernels

import "winnow/internal/kernels/micro"

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

// DirectLowering reports whether GemmLowered and GemmLoweredT pack from the
// images (the micro-kernels run here). Without them they form the column
// matrix first, and callers that keep their own buffers do better to lower
// with Im2col and call Gemm.
func DirectLowering() bool { return micro.Available }

// GemmLowered computes c = alpha*op(A)*col + beta*c, where op(A) is m x
// G.Rows() and c is m x Images*G.Cols().
func GemmLowered[T Float](transA bool, m int, alpha T, a []T, lda int, x Lowered[T], beta T, c []T, ldc int) {
	k, n := x.G.Rows(), x.Images*x.G.Cols()
	if !micro.Available {
		Gemm(transA, false, m, n, k, alpha, a, lda, x.form(), n, beta, c, ldc)
		return
	}
	splitPacked(transA, m, n, k, alpha, a, lda, loweredSource[T]{x, false}, beta, c, ldc)
}

// GemmLoweredT computes c = alpha*A*col^T + beta*c, where A is m x
// Images*G.Cols() and c is m x G.Rows().
func GemmLoweredT[T Float](m int, alpha T, a []T, lda int, x Lowered[T], beta T, c []T, ldc int) {
	k, n := x.Images*x.G.Cols(), x.G.Rows()
	if !micro.Available {
		Gemm(false, true, m, n, k, alpha, a, lda, x.form(), k, beta, c, ldc)
		return
	}
	splitPacked(false, m, n, k, alpha, a, lda, loweredSource[T]{x, true}, beta, c, ldc)
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

// loweredSource packs col (trans false) or col^T (trans true).
type loweredSource[T Float] struct {
	x     Lowered[T]
	trans bool
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

// window is one row of the column matrix: channel c, window offset (i, j).
type window struct{ c, i, j int }

// windows lists rows w..w+len(dst)-1 of the column matrix.
func (g ConvGeom) windows(w int, dst []window) {
	kk := g.KH * g.KW
	c, i, j := w/kk, w%kk/g.KW, w%g.KW
	for t := range dst {
		dst[t] = window{c, i, j}
		if j++; j == g.KW {
			j = 0
			if i++; i == g.KH {
				i, c = 0, c+1
			}
		}
	}
}

// fill writes window row w of the pixels of run r into dst at stride step:
// dst[t*step] = x_n[c, oy*SH-PH+i, (ox+t)*SW-PW+j], zero in the padding.
func fill[T Float](g ConvGeom, x []T, w window, r pixelRun, dst []T, step int) {
	y := r.oy*g.SH - g.PH + w.i
	if y < 0 || y >= g.H {
		for t := 0; t < r.len; t++ {
			dst[t*step] = 0
		}
		return
	}
	row := x[((r.n*g.C+w.c)*g.H+y)*g.W:][:g.W]
	x0 := r.ox*g.SW - g.PW + w.j
	if g.SW != 1 {
		for t := 0; t < r.len; t++ {
			xx := x0 + t*g.SW
			var v T
			if xx >= 0 && xx < g.W {
				v = row[xx]
			}
			dst[t*step] = v
		}
		return
	}
	// t in [lo, hi) reads row[x0+t]; the rest is padding.
	lo, hi := max(0, -x0), max(0, min(r.len, g.W-x0))
	if step == 1 {
		d := dst[:r.len]
		if hi <= lo {
			clear(d)
			return
		}
		clear(d[:lo])
		copy(d[lo:hi], row[x0+lo:x0+hi])
		clear(d[hi:])
		return
	}
	for t := 0; t < min(lo, r.len); t++ {
		dst[t*step] = 0
	}
	if hi > lo {
		src := row[x0+lo : x0+hi]
		d := dst[lo*step:]
		for t, v := range src {
			d[t*step] = v
		}
	}
	for t := max(hi, lo); t < r.len; t++ {
		dst[t*step] = 0
	}
}

func (s loweredSource[T]) pack(pc, kb, jc, nb, nr int, dst []T) {
	g := s.x.G
	var runBuf [blockK + 1]pixelRun
	if !s.trans {
		// Rows of op(B) are windows, columns pixels.
		var wins [blockK]window
		g.windows(pc, wins[:kb])
		for jr := 0; jr < nb; jr += nr {
			cols := min(nr, nb-jr)
			panel := dst[jr*kb:][:kb*nr]
			if cols < nr {
				clear(panel)
			}
			off := 0
			for _, r := range g.runs(jc+jr, jc+jr+cols, runBuf[:0]) {
				for l, w := range wins[:kb] {
					fill(g, s.x.X, w, r, panel[l*nr+off:], 1)
				}
				off += r.len
			}
		}
		return
	}
	// op(B) = col^T: rows are pixels, columns windows.
	runs := g.runs(pc, pc+kb, runBuf[:0])
	var win [1]window
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		panel := dst[jr*kb:][:kb*nr]
		if cols < nr {
			clear(panel)
		}
		for jj := 0; jj < cols; jj++ {
			g.windows(jc+jr+jj, win[:])
			off := 0
			for _, r := range runs {
				fill(g, s.x.X, win[0], r, panel[off*nr+jj:], nr)
				off += r.len
			}
		}
	}
}
