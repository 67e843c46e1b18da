package kernels

// ConvGeom is the geometry of a 2-D convolution or pooling window over one
// CHW image.
type ConvGeom struct {
	C, H, W int // input channels, height, width
	KH, KW  int // window
	SH, SW  int // stride
	PH, PW  int // zero padding on each side
	OH, OW  int // output height, width
}

// NewConvGeom fills in the output size: OH = (H + 2*PH - KH)/SH + 1.
func NewConvGeom(c, h, w, kh, kw, sh, sw, ph, pw int) ConvGeom {
	return ConvGeom{C: c, H: h, W: w, KH: kh, KW: kw, SH: sh, SW: sw, PH: ph, PW: pw,
		OH: (h+2*ph-kh)/sh + 1, OW: (w+2*pw-kw)/sw + 1}
}

// Rows is the number of rows of the column matrix, C*KH*KW.
func (g ConvGeom) Rows() int { return g.C * g.KH * g.KW }

// Cols is the number of columns of the column matrix, OH*OW.
func (g ConvGeom) Cols() int { return g.OH * g.OW }

// Im2col writes the column matrix of image x (C x H x W) into col
// (C*KH*KW rows of OH*OW values, row r starting at r*ld; ld >= OH*OW lets
// several images share the rows), zero where the window overlaps the
// padding:
//
//	col[((c*KH+i)*KW+j)*ld + oy*OW+ox] = x[c, oy*SH-PH+i, ox*SW-PW+j]
func Im2col[T Float](g ConvGeom, x, col []T, ld int) {
	p := g.OH * g.OW
	for c := 0; c < g.C; c++ {
		xc := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for i := 0; i < g.KH; i++ {
			for j := 0; j < g.KW; j++ {
				row := col[((c*g.KH+i)*g.KW+j)*ld:][:p]
				for oy := 0; oy < g.OH; oy++ {
					y := oy*g.SH - g.PH + i
					dst := row[oy*g.OW : (oy+1)*g.OW]
					if y < 0 || y >= g.H {
						clear(dst)
						continue
					}
					xr := xc[y*g.W : (y+1)*g.W]
					if g.SW == 1 {
						// Contiguous run: ox in [lo, hi) maps to x columns ox-PW+j.
						lo, hi := max(0, g.PW-j), min(g.OW, g.W+g.PW-j)
						clear(dst[:max(lo, 0)])
						if hi > lo {
							copy(dst[lo:hi], xr[lo-g.PW+j:hi-g.PW+j])
						} else {
							hi = lo
						}
						clear(dst[hi:])
						continue
					}
					for ox := range dst {
						xx := ox*g.SW - g.PW + j
						if xx < 0 || xx >= g.W {
							dst[ox] = 0
						} else {
							dst[ox] = xr[xx]
						}
					}
				}
			}
		}
	}
}

// Col2im adds the column matrix col (rows starting at multiples of ld) back
// into image dx, the adjoint of Im2col:
//
//	dx[c, oy*SH-PH+i, ox*SW-PW+j] += col[((c*KH+i)*KW+j)*ld + oy*OW+ox]
func Col2im[T Float](g ConvGeom, col, dx []T, ld int) {
	p := g.OH * g.OW
	for c := 0; c < g.C; c++ {
		xc := dx[c*g.H*g.W : (c+1)*g.H*g.W]
		for i := 0; i < g.KH; i++ {
			for j := 0; j < g.KW; j++ {
				row := col[((c*g.KH+i)*g.KW+j)*ld:][:p]
				for oy := 0; oy < g.OH; oy++ {
					y := oy*g.SH - g.PH + i
					if y < 0 || y >= g.H {
						continue
					}
					src := row[oy*g.OW : (oy+1)*g.OW]
					xr := xc[y*g.W : (y+1)*g.W]
					for ox, v := range src {
						xx := ox*g.SW - g.PW + j
						if xx >= 0 && xx < g.W {
							xr[xx] += v
						}
					}
				}
			}
		}
	}
}
