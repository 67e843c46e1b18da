package kernels

import (
	"sync"

	"github.com/winnow-ml/winnow/internal/kernels/micro"
)

// The packed matrix product follows Goto and van de Geijn ("Anatomy of
// high-performance matrix multiplication", 2008) as BLIS does: C is updated
// by blocks of kc steps of the inner dimension; for each, a kc x nc block
// of op(B) is packed into column panels of nr values per step, a mc x kc
// block of op(A) into row panels of mr values per step, and a micro-kernel
// multiplies one panel pair into an mr x nr block of C held in registers.
// Packing absorbs the transposes and pads ragged edges with zeros, so the
// micro-kernel sees one layout only.
const (
	microRows = 12   // mr: rows of C per micro-kernel call
	blockK    = 256  // kc: a B panel (kc x nr) fits the 48 KiB L1 cache
	blockM    = 96   // mc: an A block (mc x kc) fits in L2
	blockN    = 4096 // nc: columns of B packed at once
)

// microCols is nr, the columns of C per micro-kernel call: two AVX-512
// vectors of T.
func microCols[T Float]() int {
	var z T
	if any(z) == any(float32(0)) {
		return 32
	}
	return 16
}

// packBuffers are reused between calls (and goroutines) through pools.
type packBuffers[T Float] struct {
	a, b, tile, ct, zero []T
	left                 leftOperand[T] // its row pointers' slice kept
}

var (
	packPool32 = sync.Pool{New: func() any { return new(packBuffers[float32]) }}
	packPool64 = sync.Pool{New: func() any { return new(packBuffers[float64]) }}
)

func getPackBuffers[T Float]() (*packBuffers[T], *sync.Pool) {
	var z T
	pool := &packPool64
	if any(z) == any(float32(0)) {
		pool = &packPool32
	}
	return pool.Get().(*packBuffers[T]), pool
}

func grow[T Float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// panelSource packs blocks of op(B), the right operand of a product:
// pack writes rows pc..pc+kb and columns jc..jc+nb of op(B) into panels of
// nr columns, step-major, dst[(j/nr*kb + l)*nr + j%nr] = op(B)[pc+l, jc+j],
// zero past column nb.
type panelSource[T Float] interface {
	pack(pc, kb, jc, nb, nr int, dst []T)
}

// denseSource is a row-major matrix B, transposed or not.
type denseSource[T Float] struct {
	trans bool
	b     []T
	ldb   int
}

func (s denseSource[T]) pack(pc, kb, jc, nb, nr int, dst []T) {
	packB(s.trans, s.b, s.ldb, pc, kb, jc, nb, nr, dst)
}

// panels is an op(B) already packed whole, as packedGemm's panels: panel
// after panel of nr columns, k steps of nr values each (column j of step l
// at (j/nr)*k*nr + l*nr + j%nr). packedGemm reads it in place.
type panels[T Float] struct {
	v []T
	k int
}

// at is the address of step l of the panel of column j (a multiple of nr).
func (s panels[T]) at(j, l int) *T {
	nr := microCols[T]()
	return &s.v[j/nr*s.k*nr+l*nr]
}

// packedGemm computes c = alpha*op(A)*src + beta*c on the micro-kernels,
// where src supplies the k x n matrix op(B) from its column jOff on.
func packedGemm[T Float](transA bool, m, n, k int, alpha T, a []T, lda int, src panelSource[T], jOff int, beta T, c []T, ldc int) {
	packedGemmPanels(transA, m, n, k, alpha, a, lda, src, nil, jOff, beta, c, ldc)
}

// packedGemmPanels is packedGemm with op(B) from src or, when pre is not
// nil, read in place from its panels (jOff then a multiple of nr).
func packedGemmPanels[T Float](transA bool, m, n, k int, alpha T, a []T, lda int, src panelSource[T], pre *panels[T], jOff int, beta T, c []T, ldc int) {
	// For beta 0, the first block of steps sets C rather than adding to
	// it: C is not cleared first (a pass over it that cost a Winograd
	// product as much as a tenth of its time).
	set := beta == 0 && k > 0 && alpha != 0
	if set {
		beta = 1
	}
	bufs, pool := startProduct(m, n, k, alpha, beta, c, ldc)
	if bufs == nil {
		return
	}
	defer endProduct(bufs, pool)
	nr := microCols[T]()
	left := bufs.left.reset(transA, a, lda)
	for jc := 0; jc < n; jc += blockN {
		nb := min(blockN, n-jc)
		for pc, step := 0, blockSteps(k); pc < k; pc += step {
			kb := min(step, k-pc)
			if pre == nil {
				bufs.b = grow(bufs.b, (nb+nr-1)/nr*nr*kb)
				src.pack(pc, kb, jOff+jc, nb, nr, bufs.b)
			}
			first := set && pc == 0
			for ic := 0; ic < m; ic += blockM {
				mb := min(blockM, m-ic)
				left.block(bufs, ic, mb, pc, kb)
				eachBlock(c, ic*ldc+jc, ldc, mb, nb, bufs.tile, first, func(ir, jr, rows int, cp *T, l int) {
					if pre != nil {
						left.multiply(bufs, ir, kb, pre.at(jOff+jc+jr, pc), cp, l, rows, alpha, first)
						return
					}
					left.multiply(bufs, ir, kb, &bufs.b[jr*kb], cp, l, rows, alpha, first)
				})
			}
		}
	}
}

// leftOperand gives the micro-kernels a block of op(A), the left operand
// of a product with packed B panels. A transposed A is packed into panels
// of 12 rows; an untransposed one is read in place, 12 rows at a time
// (its rows are contiguous runs of steps), which spares packing the
// weights of a large layer on every call and thread.
type leftOperand[T Float] struct {
	trans  bool
	a      []T
	lda    int
	packed func(k int, a, b, c *T, ldc, rows int, alpha T)
	rowsK  func(k int, a *[microRows]*T, b, c *T, ldc, rows int, alpha T)
	// The kernels setting C rather than adding to it.
	packedSet func(k int, a, b, c *T, ldc, rows int, alpha T)
	rowsKSet  func(k int, a *[microRows]*T, b, c *T, ldc, rows int, alpha T)
	rows      [][microRows]*T // the block's panels' row pointers (in place)
}

// reset makes o the operand op(A) of a, keeping its slice of row
// pointers: products reuse a pooled operand rather than allocate one.
func (o *leftOperand[T]) reset(trans bool, a []T, lda int) *leftOperand[T] {
	*o = leftOperand[T]{trans: trans, a: a, lda: lda, rows: o.rows[:0],
		packed: microKernel[T](), rowsK: microKernelARows[T](),
		packedSet: forType[T, func(k int, a, b, c *T, ldc, rows int, alpha T)](micro.Sgemm12x32Set, micro.Dgemm12x16Set),
		rowsKSet:  forType[T, func(k int, a *[microRows]*T, b, c *T, ldc, rows int, alpha T)](micro.Sgemm12x32ARowsSet, micro.Dgemm12x16ARowsSet),
	}
	return o
}

// release drops o's references to A, so that a pooled operand keeps no
// caller's memory alive.
func (o *leftOperand[T]) release() {
	o.a = nil
	clear(o.rows[:cap(o.rows)])
}

// block prepares rows ic..ic+mb and steps pc..pc+kb of op(A).
func (o *leftOperand[T]) block(bufs *packBuffers[T], ic, mb, pc, kb int) {
	mr := microRows
	if o.trans {
		bufs.a = grow(bufs.a, (mb+mr-1)/mr*mr*kb)
		packA(true, o.a, o.lda, ic, mb, pc, kb, mr, bufs.a)
		return
	}
	o.rows = o.rows[:0]
	for ir := 0; ir < mb; ir += mr {
		var p [microRows]*T
		for i := range p {
			// Rows past the block repeat its last row: computed, not stored.
			p[i] = &o.a[(ic+min(ir+i, mb-1))*o.lda+pc]
		}
		o.rows = append(o.rows, p)
	}
}

// multiply adds alpha times panel ir of the block times the B panel b to
// the rows x nr block of C at c (with set, writes it there).
func (o *leftOperand[T]) multiply(bufs *packBuffers[T], ir, kb int, b, c *T, ldc, rows int, alpha T, set bool) {
	switch {
	case o.trans && set:
		o.packedSet(kb, &bufs.a[ir*kb], b, c, ldc, rows, alpha)
	case o.trans:
		o.packed(kb, &bufs.a[ir*kb], b, c, ldc, rows, alpha)
	case set:
		o.rowsKSet(kb, &o.rows[ir/microRows], b, c, ldc, rows, alpha)
	default:
		o.rowsK(kb, &o.rows[ir/microRows], b, c, ldc, rows, alpha)
	}
}

// splitPacked runs packedGemm on GOMAXPROCS goroutines, each on a block of
// columns (or, for a tall C, rows) of C, when the product is large enough.
func splitPacked[T Float](transA bool, m, n, k int, alpha T, a []T, lda int, src panelSource[T], beta T, c []T, ldc int) {
	splitBlocks(m, n, m*n*k, func(i0, i1, j0, j1 int) {
		packedGemm(transA, i1-i0, j1-j0, k, alpha, a[offsetA(transA, i0, lda):], lda, src, j0, beta, c[i0*ldc+j0:], ldc)
	})
}

// eachBlock calls run for every micro-kernel block (mr x nr) of the mb x nb
// block of c at off: with c's own address and row stride when the block's
// columns are whole, else with the tile's, adding its valid part to c
// after (with set, writing it there). run gets the block's first row and
// column within the mb x nb block and its number of valid rows.
func eachBlock[T Float](c []T, off, ldc, mb, nb int, tile []T, set bool, run func(ir, jr, rows int, c *T, ldc int)) {
	mr, nr := microRows, microCols[T]()
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			o := off + ir*ldc + jr
			if cols == nr {
				run(ir, jr, rows, &c[o], ldc)
				continue
			}
			clear(tile)
			run(ir, jr, rows, &tile[0], nr)
			for i := 0; i < rows; i++ {
				row := c[o+i*ldc:][:cols]
				if set {
					copy(row, tile[i*nr:][:cols])
					continue
				}
				for j, v := range tile[i*nr:][:cols] {
					row[j] += v
				}
			}
		}
	}
}

func microKernel[T Float]() func(k int, a, b, c *T, ldc, rows int, alpha T) {
	return forType[T, func(k int, a, b, c *T, ldc, rows int, alpha T)](micro.Sgemm12x32, micro.Dgemm12x16)
}

// forType is f32 for float32 and f64 for float64, as an F.
func forType[T Float, F any](f32, f64 any) F {
	var z T
	if any(z) == any(float32(0)) {
		return f32.(F)
	}
	return f64.(F)
}

// startProduct sets c = beta*c for the m x n product about to be added and
// returns pooled buffers with a tile and their pool (endProduct gives them
// back); nil when k or alpha leaves nothing to add.
func startProduct[T Float](m, n, k int, alpha, beta T, c []T, ldc int) (*packBuffers[T], *sync.Pool) {
	scaleRows(m, n, beta, c, ldc)
	if k == 0 || alpha == 0 {
		return nil, nil
	}
	bufs, pool := getPackBuffers[T]()
	bufs.tile = grow(bufs.tile, microRows*microCols[T]())
	return bufs, pool
}

// endProduct gives a product's buffers back to their pool.
func endProduct[T Float](bufs *packBuffers[T], pool *sync.Pool) {
	bufs.left.release()
	pool.Put(bufs)
}

// packB copies rows pc..pc+kb and columns jc..jc+nb of op(B) into panels of
// nr columns, step-major: dst[(j/nr*kb + l)*nr + j%nr] = op(B)[pc+l, jc+j],
// zero past column nb.
func packB[T Float](trans bool, b []T, ldb, pc, kb, jc, nb, nr int, dst []T) {
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		panel := dst[jr*kb:][:kb*nr]
		if !trans {
			for l := 0; l < kb; l++ {
				row := panel[l*nr:][:nr]
				copy(row, b[(pc+l)*ldb+jc+jr:][:cols])
				clear(row[cols:])
			}
			continue
		}
		if cols < nr {
			clear(panel)
		}
		// op(B)[l, j] = B[j, l]: each column of the panel is a row of B.
		// With the micro-kernels, a vector's worth of rows of B at a time
		// goes through transposes of square blocks.
		j := 0
		if lanes := transposeLanes[T](); lanes > 0 {
			for ; j+lanes <= cols; j += lanes {
				blocks := kb / lanes
				transposeBlocks(panel[j:], b[(jc+jr+j)*ldb+pc:], nr, ldb, blocks)
				for jj := j; jj < j+lanes; jj++ {
					src := b[(jc+jr+jj)*ldb+pc:][:kb]
					for l := blocks * lanes; l < kb; l++ {
						panel[l*nr+jj] = src[l]
					}
				}
			}
		}
		for ; j < cols; j++ {
			src := b[(jc+jr+j)*ldb+pc:][:kb]
			for l, v := range src {
				panel[l*nr+j] = v
			}
		}
	}
}

// transposeLanes is the side of the square blocks transposeBlocks takes
// (a vector: 16 float32 or 8 float64 values), 0 without the micro-kernels.
func transposeLanes[T Float]() int {
	if !micro.Available {
		return 0
	}
	return 64 / sizeOf[T]()
}

// transposeBlocks transposes n square blocks of transposeLanes: block b
// takes the rows of src (ldsrc apart) at its columns to its rows of dst
// (lddst apart).
func transposeBlocks[T Float](dst, src []T, lddst, ldsrc, n int) {
	if n == 0 {
		return
	}
	if is32[T]() {
		micro.TransposeS(f32(dst, 0), f32(src, 0), lddst, ldsrc, n)
	} else {
		micro.TransposeD(f64(dst, 0), f64(src, 0), lddst, ldsrc, n)
	}
}

// packA copies rows ic..ic+mb and columns pc..pc+kb of op(A) into panels of
// mr rows, step-major: dst[(i/mr*kb + l)*mr + i%mr] = op(A)[ic+i, pc+l],
// zero past row mb.
func packA[T Float](trans bool, a []T, lda, ic, mb, pc, kb, mr int, dst []T) {
	for ir := 0; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		panel := dst[ir*kb:][:kb*mr]
		if trans {
			// op(A)[i, l] = A[l, i]: each step is a contiguous run of A.
			for l := 0; l < kb; l++ {
				step := panel[l*mr:][:mr]
				copy(step, a[(pc+l)*lda+ic+ir:][:rows])
				clear(step[rows:])
			}
			continue
		}
		if rows < mr {
			clear(panel)
		}
		for i := 0; i < rows; i++ {
			src := a[(ic+ir+i)*lda+pc:][:kb]
			for l, v := range src {
				panel[l*mr+i] = v
			}
		}
	}
}

// scaleRows sets c = beta*c for the m x n matrix c (zero for beta 0, even
// where c held NaN).
func scaleRows[T Float](m, n int, beta T, c []T, ldc int) {
	switch {
	case beta == 0:
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
	case beta != 1:
		for i := 0; i < m; i++ {
			for j := range c[i*ldc : i*ldc+n] {
				c[i*ldc+j] *= beta
			}
		}
	}
}

// blockSteps splits k into the fewest blocks of at most blockK steps, of
// equal size: every micro-kernel call then runs long enough to pay for
// loading and storing its block of C.
func blockSteps(k int) int {
	n := (k + blockK - 1) / blockK
	return (k + n - 1) / n
}
