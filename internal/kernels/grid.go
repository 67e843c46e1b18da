package kernels

import (
	"runtime"
	"sync"
	"unsafe"

	"github.com/winnow-ml/winnow/internal/kernels/micro"
)

// Grid is a chunk of images laid out for stride-1 convolutions as products
// that read the images in place. Each channel is one plane holding the
// images one after another, Hp = H+PH rows of Wp = W+PW, the padding
// between neighbours shared (the PW zero columns right of a row are also
// left of the next, the PH zero rows below an image also above the next):
//
//	plane_c[n*Hp*Wp + y*Wp + x] = x_n[c, y-PH, x-PW]   (zero in the padding)
//
// On this grid the window (c, i, j) of the output pixel at grid position
// q = n*Hp*Wp + oy*Wp + ox is plane_c[q + i*Wp + j]: each row of the column
// matrix is the plane shifted, and a product with it needs neither a
// column matrix nor packing. The grid also has positions that are not
// output pixels (ox >= OW or oy >= OH); their columns are computed and
// dropped by Unpad, a share of (Hp*Wp)/(OH*OW) - 1 more work.
type Grid[T Float] struct {
	G    ConvGeom // stride 1
	M    int      // images
	Data []T      // G.C planes of planeLen values
}

// gridDims are the rows and columns a grid gives each image, Hp = H+PH and
// Wp = W+PW: the image and the padding below and right of it, which is the
// padding above and left of the next. With padding below the kernel's size
// (PH < KH, PW < KW), OH <= Hp and OW <= Wp.
func gridDims(g ConvGeom) (hp, wp int) { return g.H + g.PH, g.W + g.PW }

// GridLen is the length of the Data of a grid of m images.
func GridLen(g ConvGeom, m int) int { return g.C * planeLen(g, m) }

// planeLen is Q plus room for the farthest window offset and a ragged
// last block of micro-kernel columns or sparse strip, which read past Q.
func planeLen(g ConvGeom, m int) int {
	hp, wp := gridDims(g)
	return m*hp*wp + (g.KH-1)*wp + g.KW - 1 + sparseStrip
}

// Cols is the number of grid positions, Q = M*Hp*Wp: the columns of a
// product on the grid.
func (gr Grid[T]) Cols() int {
	hp, wp := gridDims(gr.G)
	return gr.M * hp * wp
}

// LoadGrid lays out m CHW images x (one after another) as a grid in data,
// which has at least GridLen(g, m) elements.
func LoadGrid[T Float](g ConvGeom, m int, x, data []T) Grid[T] {
	hp, wp := gridDims(g)
	hw := g.H * g.W
	plane := planeLen(g, m)
	data = data[:g.C*plane]
	ParallelFor(g.C, m*hp*wp, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			p, at := data[c*plane:(c+1)*plane], 0
			for n := 0; n < m; n++ {
				src := x[(n*g.C+c)*hw:][:hw]
				for y := 0; y < g.H; y++ {
					at = placeRow(p, at, (n*hp+y+g.PH)*wp+g.PW, src[y*g.W:][:g.W])
				}
			}
			clear(p[at:])
		}
	})
	return Grid[T]{G: g, M: m, Data: data}
}

// placeRow writes row into dst at pos and zeros dst[at:pos], the gap
// since the last row placed, which ended at at; it returns the row's end.
// Placing rows in order this way writes every value once.
func placeRow[T Float](dst []T, at, pos int, row []T) int {
	clear(dst[at:pos])
	return pos + copy(dst[pos:], row)
}

// GemmGrid computes c = alpha*op(A)*col + beta*c, where col [G.Rows(), Q]
// is the column matrix on the grid, op(A) is m x G.Rows() and c is m x Q.
// It needs the micro-kernels (GridWorth).
func GemmGrid[T Float](transA bool, m int, alpha T, a []T, lda int, gr Grid[T], beta T, c []T, ldc int) {
	g := gr.G
	k, n := g.Rows(), gr.Cols()
	offs := gr.allOffsets()
	splitBlocks(m, n, m*n*k, func(i0, i1, j0, j1 int) {
		gridGemm(transA, i1-i0, j1-j0, k, alpha, a[offsetA(transA, i0, lda):], lda, gr.Data[j0:], offs, beta, c[i0*ldc+j0:], ldc)
	})
}

// gridTiles is how GemmGridImages covers the output with blocks of nr
// columns: rows image rows per block, perRow blocks per row; the second
// half of a block's columns is arg positions after its first on the grid,
// or with four the block is four quarters arg positions apart; rows 0 when
// it cannot.
func gridTiles[T Float](g ConvGeom) (rows, perRow, arg int, four bool) {
	nr := microCols[T]()
	_, wp := gridDims(g)
	switch {
	case g.OW%nr == 0:
		return 1, g.OW / nr, nr / 2, false // whole rows of whole blocks
	case 2*g.OW == nr && g.OH%2 == 0:
		return 2, 1, wp, false // two rows, each half a block
	case 4*g.OW == nr && g.OH%4 == 0:
		return 4, 1, wp, true // four rows, each a quarter
	}
	return 0, 0, 0, false
}

// GemmGridImages sets (add false) or adds to dst, M images [m, OH, OW],
// the product alpha*A*col, where col [G.Rows(), Q] is the column matrix on
// the grid and A is m x G.Rows(): GemmGrid and Unpad in one, computing the
// output pixels only, each micro-kernel block a run of one output row, or
// of two or four rows, written in place. It needs gridImagesFit.
func GemmGridImages[T Float](m int, alpha T, a []T, lda int, gr Grid[T], dst []T, add bool) {
	g := gr.G
	if !gridImagesFit[T](g) {
		panic("kernels: GemmGridImages: output rows are not whole blocks of columns")
	}
	k, p := g.Rows(), g.OH*g.OW
	if !add {
		// In parallel: on a fresh tape this is the first touch of dst.
		ParallelFor(gr.M, m*p, func(lo, hi int) { clear(dst[lo*m*p : hi*m*p]) })
	}
	if k == 0 || alpha == 0 {
		return
	}
	hp, wp := gridDims(g)
	nr := microCols[T]()
	// Tile t: image n, output rows oy..oy+rows-1, columns tx*nr.. of a
	// row, or all of those rows.
	rows, perRow, arg, four := gridTiles[T](g)
	perImage := g.OH / rows * perRow
	tiles := gr.M * perImage
	offs := gr.allOffsets()
	tile := func(t int) (q, d int) {
		n, r := t/perImage, t%perImage
		oy, tx := r/perRow*rows, r%perRow
		return n*hp*wp + oy*wp + tx*nr, n*m*p + oy*g.OW + tx*nr
	}
	// A packed once for all threads: the block of steps pc.. and rows ic..
	// at pc*mp + ic*kb.
	mr, step := microRows, blockSteps(k)
	mp := (m + mr - 1) / mr * mr
	shared, pool := getPackBuffers[T]()
	defer pool.Put(shared)
	shared.a = grow(shared.a, mp*k)
	packed := shared.a
	ParallelFor((k+step-1)/step, m*step, func(lo, hi int) {
		for pc := lo * step; pc < min(k, hi*step); pc += step {
			kb := min(step, k-pc)
			for ic := 0; ic < m; ic += blockM {
				packA(false, a, lda, ic, min(blockM, m-ic), pc, kb, mr, packed[pc*mp+ic*kb:])
			}
		}
	})
	kernel := microKernelRows[T]()
	if four {
		kernel = microKernelRows4[T]()
	}
	ParallelFor(tiles, m*k*nr, func(lo, hi int) {
		for pc := 0; pc < k; pc += step {
			kb := min(step, k-pc)
			for ic := 0; ic < m; ic += blockM {
				mb, block := min(blockM, m-ic), packed[pc*mp+ic*kb:]
				for t := lo; t < hi; t++ {
					q, d := tile(t)
					for ir := 0; ir < mb; ir += mr {
						kernel(kb, &block[ir*kb], &gr.Data[q], &offs[pc], arg, &dst[d+(ic+ir)*p], p, min(mr, mb-ir), alpha)
					}
				}
			}
		}
	})
}

// eachABlock packs op(A) (m x k) into bufs.a a block at a time, blockM rows
// of blockSteps(k) steps, and calls run on each: rows ic..ic+mb-1, steps
// pc..pc+kb-1.
func eachABlock[T Float](bufs *packBuffers[T], transA bool, a []T, lda, m, k int, run func(pc, kb, ic, mb int)) {
	mr := microRows
	for pc, step := 0, blockSteps(k); pc < k; pc += step {
		kb := min(step, k-pc)
		for ic := 0; ic < m; ic += blockM {
			mb := min(blockM, m-ic)
			bufs.a = grow(bufs.a, (mb+mr-1)/mr*mr*kb)
			packA(transA, a, lda, ic, mb, pc, kb, mr, bufs.a)
			run(pc, kb, ic, mb)
		}
	}
}

// gridGemm is packedGemm with B read in place: step l of column j is
// b[offs[l]+j].
func gridGemm[T Float](transA bool, m, n, k int, alpha T, a []T, lda int, b []T, offs []int, beta T, c []T, ldc int) {
	bufs, pool := startProduct(m, n, k, alpha, beta, c, ldc)
	if bufs == nil {
		return
	}
	defer endProduct(bufs, pool)
	half := microCols[T]() / 2
	kernel := microKernelRows[T]()
	eachABlock(bufs, transA, a, lda, m, k, func(pc, kb, ic, mb int) {
		eachBlock(c, ic*ldc, ldc, mb, n, bufs.tile, false, func(ir, jr, rows int, cp *T, l int) {
			kernel(kb, &bufs.a[ir*kb], &b[jr], &offs[pc], half, cp, l, rows, alpha)
		})
	})
}

func microKernelRows4[T Float]() func(k int, a, b *T, offs *int, stride int, c *T, ldc, rows int, alpha T) {
	return forType[T, func(k int, a, b *T, offs *int, stride int, c *T, ldc, rows int, alpha T)](micro.Sgemm12x32Rows4, micro.Dgemm12x16Rows4)
}

func microKernelRows[T Float]() func(k int, a, b *T, offs *int, half int, c *T, ldc, rows int, alpha T) {
	return forType[T, func(k int, a, b *T, offs *int, half int, c *T, ldc, rows int, alpha T)](micro.Sgemm12x32Rows, micro.Dgemm12x16Rows)
}

// Unpad copies (add false) or adds (add true) the output pixels of c
// [o, Q], rows of grid positions, into dst, M images [o, OH, OW].
func (gr Grid[T]) Unpad(c []T, o int, dst []T, add bool) {
	g := gr.G
	hp, wp := gridDims(g)
	q, p := gr.Cols(), g.OH*g.OW
	ParallelFor(gr.M, o*p, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			for ch := 0; ch < o; ch++ {
				d := dst[(n*o+ch)*p:][:p]
				src := c[ch*q+n*hp*wp:]
				for oy := 0; oy < g.OH; oy++ {
					s := src[oy*wp:][:g.OW]
					row := d[oy*g.OW:][:g.OW]
					if !add {
						copy(row, s)
						continue
					}
					for x, v := range s {
						row[x] += v
					}
				}
			}
		}
	})
}

// Pad writes c [o, Q] from src, M images [o, OH, OW]: each output pixel at
// its grid position and zero at the others (the inverse of Unpad).
func (gr Grid[T]) Pad(src []T, o int, c []T) {
	g := gr.G
	hp, wp := gridDims(g)
	q, p := gr.Cols(), g.OH*g.OW
	ParallelFor(o, q, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			row, at := c[ch*q:][:q], 0
			for n := 0; n < gr.M; n++ {
				s := src[(n*o+ch)*p:][:p]
				for oy := 0; oy < g.OH; oy++ {
					at = placeRow(row, at, n*hp*wp+oy*wp, s[oy*g.OW:][:g.OW])
				}
			}
			clear(row[at:])
		}
	})
}

// GemmGridT computes c = alpha*A*col^T + beta*c, the weight gradient's
// product, where col [G.Rows(), Q] is the column matrix on the grid, A is
// m x Q and zero at the grid positions that are not output pixels (as Pad
// leaves it), and c is m x G.Rows(). It needs the micro-kernels
// (GridWorth).
//
// It multiplies col A^T, whose left operand is the shifted planes read in
// place by the micro-kernel and whose right operand, A^T, is the one
// packed (once, shared by the threads), and adds the transpose of that
// K x m result into c.
func GemmGridT[T Float](m int, alpha T, a []T, lda int, gr Grid[T], beta T, c []T, ldc int) {
	buf := make([]T, GridTBufLen[T](m, gr))
	gemmGridT(m, alpha, gr, beta, c, ldc, buf, func(dst []T, np int) {
		eachGradBlock(dst, gr.Cols(), np, func(pc, kb int, block []T) {
			packB(true, a, lda, pc, kb, 0, m, microCols[T](), block)
		})
	})
}

// GemmGridTImages is GemmGridT with A given as M images [m, OH, OW] (as
// Pad takes them), packed straight from the images into buf (at least
// GridTBufLen(m, gr) values): the weight gradient dy col(x)^T without
// laying dy out on the grid first.
func GemmGridTImages[T Float](m int, alpha T, dy []T, gr Grid[T], beta T, c []T, ldc int, buf []T) {
	g := gr.G
	hp, wp := gridDims(g)
	plane, p := hp*wp, g.OH*g.OW
	nr := microCols[T]()
	gemmGridT(m, alpha, gr, beta, c, ldc, buf, func(dst []T, np int) {
		eachGradBlock(dst, gr.Cols(), np, func(pc, kb int, block []T) {
			// The output pixels among grid positions pc..pc+kb-1, runs of
			// one image row: at step l of the block, from dy[src] on of
			// each channel's plane. The rest of the block stays zero.
			type run struct{ l, src, len int }
			var runs [blockK]run
			nruns := 0
			for q := pc; q < pc+kb; {
				n, r := q/plane, q%plane
				oy, ox := r/wp, r%wp
				if oy >= g.OH {
					q += plane - r // the gap rows below the image
					continue
				}
				if ox >= g.OW {
					q += wp - ox
					continue
				}
				l := min(g.OW-ox, pc+kb-q)
				runs[nruns] = run{q - pc, n*m*p + oy*g.OW + ox, l}
				nruns++
				q += l
			}
			clear(block)
			for o := 0; o < m; o++ {
				panel := block[o/nr*kb*nr+o%nr:]
				for _, r := range runs[:nruns] {
					d := panel[r.l*nr:]
					for t, v := range dy[r.src+o*p:][:r.len] {
						d[t*nr] = v
					}
				}
			}
		})
	})
}

// eachGradBlock runs pack, in parallel, on the blocks of the packed right
// operand of a weight-gradient product on the grid: blocks of blockK grid
// positions, block pc..pc+kb-1 at np*pc, np*kb values (np/nr panels of kb
// steps), np the columns (m rounded up to whole panels).
func eachGradBlock[T Float](dst []T, q, np int, pack func(pc, kb int, block []T)) {
	blocks := (q + blockK - 1) / blockK
	ParallelFor(blocks, blockK*np, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			pc := b * blockK
			kb := min(blockK, q-pc)
			pack(pc, kb, dst[np*pc:][:np*kb])
		}
	})
}

// GridTBufLen is the size of the buffer that GemmGridTImages packs m
// channels of dy into: Q positions of m channels rounded up to whole
// micro-kernel panels.
func GridTBufLen[T Float](m int, gr Grid[T]) int {
	nr := microCols[T]()
	return (m + nr - 1) / nr * nr * gr.Cols()
}

// gemmGridT is GemmGridT after the right operand is packed by pack into
// buf, np*Q values (np = m rounded up to whole panels), block pc (blockK
// positions) at np*pc.
func gemmGridT[T Float](m int, alpha T, gr Grid[T], beta T, c []T, ldc int, buf []T, pack func(dst []T, np int)) {
	g := gr.G
	k, q := g.Rows(), gr.Cols()
	scaleRows(m, k, beta, c, ldc)
	if alpha == 0 || q == 0 {
		return
	}
	nr := microCols[T]()
	np := (m + nr - 1) / nr * nr
	packed := buf[:np*q]
	pack(packed, np)
	offs := gr.allOffsets()
	workers := runtime.GOMAXPROCS(0)
	if m*k*q < minGemmSplit {
		workers = 1
	}
	workers = max(1, min(workers, k/microRows))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		// Worker w adds the windows lo..hi-1 (whole micro-panels).
		lo, hi := w*k/workers/microRows*microRows, (w+1)*k/workers/microRows*microRows
		if w == workers-1 {
			hi = k
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			gridGemmT(m, np, alpha, packed, gr, offs[lo:hi], c[lo:], ldc)
		}()
	}
	wg.Wait()
}

// gridGemmT adds alpha*(rows offs of col) A^T, transposed, into c, with A^T
// packed in b as gemmGridT lays it out.
func gridGemmT[T Float](m, np int, alpha T, b []T, gr Grid[T], offs []int, c []T, ldc int) {
	q, k := gr.Cols(), len(offs)
	mr, nr := microRows, microCols[T]()
	bufs, pool := getPackBuffers[T]()
	defer pool.Put(bufs)
	bufs.ct = grow(bufs.ct, (k+mr-1)/mr*mr*np) // col A^T, k x np (whole micro-panels)
	clear(bufs.ct)
	bufs.zero = grow(bufs.zero, blockK)
	clear(bufs.zero)
	kernel := microKernelARows[T]()
	var rows [microRows]*T
	for pc := 0; pc < q; pc += blockK {
		kb := min(blockK, q-pc)
		block := b[np*pc:][:np*kb]
		for ir := 0; ir < k; ir += mr {
			for i := range rows {
				if ir+i < k {
					rows[i] = &gr.Data[offs[ir+i]+pc]
				} else {
					rows[i] = &bufs.zero[0]
				}
			}
			for jr := 0; jr < np; jr += nr {
				kernel(kb, &rows, &block[jr*kb], &bufs.ct[ir*np+jr], np, mr, 1)
			}
		}
	}
	// c[j, w] += alpha * ct[w, j]
	for w := 0; w < k; w++ {
		for j, v := range bufs.ct[w*np:][:m] {
			c[j*ldc+w] += alpha * v
		}
	}
}

func microKernelARows[T Float]() func(k int, a *[microRows]*T, b, c *T, ldc, rows int, alpha T) {
	return forType[T, func(k int, a *[microRows]*T, b, c *T, ldc, rows int, alpha T)](micro.Sgemm12x32ARows, micro.Dgemm12x16ARows)
}

// sizeOf is the size of T in bytes.
func sizeOf[T Float]() int {
	var z T
	return int(unsafe.Sizeof(z))
}

// windowOffset is the grid offset of row w of the column matrix (window
// (c, i, j)): the row is Data[c*plane + i*Wp + j:].
func (gr Grid[T]) windowOffset(w int) int {
	g := gr.G
	kk := g.KH * g.KW
	ch, r := w/kk, w%kk
	_, wp := gridDims(g)
	return ch*planeLen(g, gr.M) + r/g.KW*wp + r%g.KW
}

// windowOffsets are the grid offsets of the given rows of the column matrix.
func (gr Grid[T]) windowOffsets(rows []int32) []int {
	offs := make([]int, len(rows))
	for i, w := range rows {
		offs[i] = gr.windowOffset(int(w))
	}
	return offs
}

// allOffsets are the grid offsets of all rows of the column matrix.
func (gr Grid[T]) allOffsets() []int {
	offs := make([]int, gr.G.Rows())
	for w := range offs {
		offs[w] = gr.windowOffset(w)
	}
	return offs
}
