package kernels

import (
	"runtime"
	"sync"

	"github.com/winnow-ml/winnow/internal/kernels/micro"
)

// Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", CVPR 2016): a 2x2 block of
// a 3x3 convolution's output, from the 4x4 tile d of input around it, is
//
//	Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A
//
//	Bᵀ = | 1  0 -1  0 |    G = | 1    0    0  |    Aᵀ = | 1  1  1  0 |
//	     | 0  1  1  0 |        | 1/2  1/2  1/2 |         | 0  1 -1 -1 |
//	     | 0 -1  1  0 |        | 1/2 -1/2  1/2 |
//	     | 0  1  0 -1 |        | 0    0    1  |
//
// 16 multiplications where the direct form takes 36. Summed over input
// channels, each of the 16 tile positions ξ is a matrix product
// M[ξ] = U[ξ] V[ξ], U[ξ] [out, C] from the weights and V[ξ] [C, tiles] from
// the input. The weight gradient is the adjoint: with dM = A dY Aᵀ,
// dU[ξ] = dM[ξ] V[ξ]ᵀ and dW = Gᵀ dU G. The transforms' entries are 0, ±1
// and ±1/2, so the results agree with the direct form to rounding.
//
// F(4x4, 3x3) takes a 4x4 block from a 6x6 tile, with 36 multiplications
// where the direct form takes 144 (2.25 a value against 4), by matrices
// with entries up to 8 (Bᵀ and Aᵀ: micro/asmgen/winograd4.go) and G with
// sixths, twelfths and twenty-fourths (winogradG4): fewer products, and
// fewer transformed values to write and read per output, at some cost in
// rounding (float32 errors about 3e-5 of the sum's scale, sqrt(C*9) for
// unit values, against 1.3e-6 by F(2x2, 3x3); float64 7e-14 against 6e-15).
//
// The tile transforms run on the micro-kernels where the rows fit: F(2x2,
// 3x3)'s (micro.WinogradInputS and kin) a row of tiles per vector, rows of
// up to two vectors; F(4x4, 3x3)'s input two rows of tiles per vector
// (micro.WinogradInput4S) or, for rows of up to four vectors and rows of
// tiles that do not pair, one (micro.WinogradInput4WS), its output and
// adjoint one to four rows of tiles side by side (winogradSegs). F(2x2,
// 3x3) falls back on the Go below elsewhere (tests; Winograd is not
// chosen there). A block's input transforms write V straight into the
// packed panels of its products.

// winogradTile is the side of the output tiles geometry g's transforms
// take: 4, F(4x4, 3x3), where the micro-kernels' transforms take its maps
// (rows of up to two vectors, width a multiple of 4 and height of 8, the
// input's transform taking rows of tiles in pairs; or winogradWide's),
// else 2.
func winogradTile[T Float](g ConvGeom) int {
	if winogradWide[T](g) || winogradVector[T](g) && g.H%8 == 0 && g.W%4 == 0 {
		return 4
	}
	return 2
}

// winogradPlanes is the number of planes of a tile's transform, (m+2)².
func winogradPlanes[T Float](g ConvGeom) int {
	a := winogradTile[T](g) + 2
	return a * a
}

// winogradTiles is the number of output tiles of m images.
func winogradTiles[T Float](g ConvGeom, m int) int {
	t := winogradTile[T](g)
	return m * (g.H / t) * (g.W / t)
}

// winogradBudget bounds (bytes) a block's transformed input and product:
// images run a block at a time, so that a block's transforms stay in cache
// from the transform through the products to the inverse transform. But a
// block has at least winogradBlockTiles tiles (the columns of its
// products): each product reads the whole of U[ξ], out x C, for them, and
// with many channels and few tiles that read, not the arithmetic, bounds
// it (docs/perf/kernels.md).
const (
	winogradBudget     = 4 << 20
	winogradBlockTiles = 128
)

// winogradBlock is the number of images per block.
func winogradBlock[T Float](g ConvGeom, out, m int) int {
	per := winogradTiles[T](g, 1)
	n := max(winogradBudget/(winogradPlanes[T](g)*(g.C+out)*per*sizeOf[T]()), (winogradBlockTiles+per-1)/per)
	return max(1, min(m, n))
}

// WinogradBufLen is the scratch a product of m images needs: the
// transformed weights (planes*out*C, planes = 16 or 36), and, for each of
// the workers, a block's transformed input (planes*C*tiles) and product
// (planes*out*tiles); or, for the weight gradient, one gradient block's
// (winogradGradBlock).
func WinogradBufLen[T Float](g ConvGeom, out, m int) (u, v, prod int) {
	n := winogradPlanes[T](g)
	p := winogradTiles[T](g, winogradBlock[T](g, out, m))
	v, prod = n*winogradVStride[T](g, p), n*planeStride[T](out*p)
	w := winogradWorkers(m)
	pg := winogradTiles[T](g, winogradGradBlock[T](g, out, m))
	return n * planeStride[T](out*g.C), max(w*v, n*planeStride[T](g.C*pg)), max(w*prod, n*planeStride[T](out*pg))
}

// winogradGradBudget bounds (bytes) the transformed input and output
// gradient of a block of images of the weight gradient, whose products
// sum over the tiles: blocks keep the scratch bounded and in cache. But a
// block has at least winogradGradTiles tiles, the steps of its products:
// each block reads and writes the whole of dU, out x C for each ξ.
const (
	winogradGradBudget = 8 << 20
	winogradGradTiles  = 256
)

// winogradGradBlock is the number of images per weight-gradient block.
func winogradGradBlock[T Float](g ConvGeom, out, m int) int {
	per := winogradTiles[T](g, 1)
	n := max(winogradGradBudget/(winogradPlanes[T](g)*(g.C+out)*per*sizeOf[T]()), (winogradGradTiles+per-1)/per)
	return max(1, min(m, n))
}

// winogradWorkers is the number of threads WinogradConv runs on.
func winogradWorkers(m int) int {
	return max(1, min(runtime.GOMAXPROCS(0), m))
}

// planeStride is the distance between the 16 planes of a transform of n
// values each: an odd number of cache lines, so that the 16 streams a tile
// writes or reads fall in different cache sets.
func planeStride[T Float](n int) int {
	per := 64 / sizeOf[T]()
	lines := (n + per - 1) / per
	return (lines | 1) * per
}

// WinogradConv sets (add false) or adds to dst, m images [out, H, W], the
// convolution of the m images x [C, H, W] with w [out, C, 3, 3], for a
// geometry WinogradWorth accepts. u, v and prod are scratch of
// WinogradBufLen's sizes. Each thread takes its share of the images a block
// at a time, from transform to inverse transform.
func WinogradConv[T Float](g ConvGeom, out, m int, w, x, dst []T, add bool, u, v, prod []T) {
	WinogradWeights(g, out, w, u)
	WinogradConvTransformed(g, out, m, u, x, dst, add, v, prod)
}

// WinogradWeights writes the transformed weights U of w [out, C, 3, 3] to
// u (WinogradBufLen's u elements), for WinogradConvTransformed.
func WinogradWeights[T Float](g ConvGeom, out int, w, u []T) {
	if winogradTile[T](g) == 4 {
		winogradWeights4(g.C, out, w, u)
		return
	}
	winogradWeights(g.C, out, w, u)
}

// WinogradConvTransformed is WinogradConv with the weights already
// transformed into u by WinogradWeights: weights that serve several
// products are transformed once.
func WinogradConvTransformed[T Float](g ConvGeom, out, m int, u, x, dst []T, add bool, v, prod []T) {
	eachImageBlock(g, out, m, v, prod, func(b0, nb int, v, prod []T) {
		blk := newWinogradBlock[T](g, out, b0, nb)
		blk.input(x, v)
		blk.product(u, v, prod, 0)
		blk.output(prod, dst, add)
	})
}

// WinogradConvTangent computes a convolution and its tangent at once, from
// the transformed weights u of W and ut of W' (WinogradWeights): y = W x
// and y' = W' x + W x' over m images, setting or adding each (addY,
// addYt). x's transform serves both products and y' takes one inverse
// transform. The same serves dx on a Hessian-vector tape, dx = Wf dy and
// R{dx} = Wf' dy + Wf R{dy}.
func WinogradConvTangent[T Float](g ConvGeom, out, m int, u, ut, x, xt, y, yt []T, addY, addYt bool, v, prod []T) {
	eachImageBlock(g, out, m, v, prod, func(b0, nb int, v, prod []T) {
		blk := newWinogradBlock[T](g, out, b0, nb)
		blk.input(x, v)
		blk.product(u, v, prod, 0)
		blk.output(prod, y, addY)
		blk.product(ut, v, prod, 0)
		blk.input(xt, v)
		blk.product(u, v, prod, 1)
		blk.output(prod, yt, addYt)
	})
}

// eachImageBlock runs f for the m images a block at a time, each thread its
// share of the images with its own part of the scratch v and prod.
func eachImageBlock[T Float](g ConvGeom, out, m int, v, prod []T, f func(b0, nb int, v, prod []T)) {
	mb := winogradBlock[T](g, out, m)
	pb, n := winogradTiles[T](g, mb), winogradPlanes[T](g)
	lv, lp := n*winogradVStride[T](g, pb), n*planeStride[T](out*pb)
	workers := winogradWorkers(m)
	var wg sync.WaitGroup
	for wk := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, prod := v[wk*lv:][:lv], prod[wk*lp:][:lp]
			for b0 := wk * m / workers; b0 < (wk+1)*m/workers; b0 += mb {
				f(b0, min(mb, (wk+1)*m/workers-b0), v, prod)
			}
		}()
	}
	wg.Wait()
}

// winogradImages is a block of nb images from image b0, on one thread.
type winogradImages[T Float] struct {
	g          ConvGeom
	out, b0, n int
	p          int // tiles
}

func newWinogradBlock[T Float](g ConvGeom, out, b0, nb int) winogradImages[T] {
	return winogradImages[T]{g: g, out: out, b0: b0, n: nb, p: winogradTiles[T](g, nb)}
}

// winogradVStride is the distance between the 16 planes of a block's
// transformed input of p tiles: room for its panels.
func winogradVStride[T Float](g ConvGeom, p int) int {
	nr := microCols[T]()
	return planeStride[T](g.C * ((p + nr - 1) / nr * nr))
}

// winogradPanels reports whether a block's input transforms go straight
// into the packed panels of the products (panels[T]), which then need no
// packing: on the micro-kernels, where no row of tiles straddles panels.
func winogradPanels[T Float](g ConvGeom) bool {
	return winogradVector[T](g) && microCols[T]()%(g.W/winogradTile[T](g)) == 0
}

// input writes the transforms of the block's images of x to v, as panels
// where winogradPanels.
func (b winogradImages[T]) input(x, v []T) {
	in := b.g.C * b.g.H * b.g.W
	winogradInputSerial(b.g, 0, b.n*b.g.C, b.n, x[b.b0*in:(b.b0+b.n)*in], v, winogradVStride[T](b.g, b.p), winogradPanels[T](b.g))
}

// product sets (beta 0) or adds to (beta 1) prod the products U[ξ] V[ξ],
// one for each of the tile's transform's planes ξ.
func (b winogradImages[T]) product(u, v, prod []T, beta T) {
	su, sv, sp := planeStride[T](b.out*b.g.C), winogradVStride[T](b.g, b.p), planeStride[T](b.out*b.p)
	for xi := range winogradPlanes[T](b.g) {
		if winogradPanels[T](b.g) {
			pre := panels[T]{v[xi*sv:], b.g.C}
			packedGemmPanels(false, b.out, b.p, b.g.C, 1, u[xi*su:], b.g.C, nil, &pre, 0, beta, prod[xi*sp:], b.p)
			continue
		}
		GemmSerial(false, false, b.out, b.p, b.g.C, 1, u[xi*su:], b.g.C, v[xi*sv:], b.p, beta, prod[xi*sp:], b.p)
	}
}

// output sets (or adds) the inverse transforms of prod into the block's
// images of dst.
func (b winogradImages[T]) output(prod, dst []T, add bool) {
	sz := b.out * b.g.H * b.g.W
	winogradOutputSerial(b.g, b.out, 0, b.n*b.out, b.n, prod, dst[b.b0*sz:(b.b0+b.n)*sz], add)
}

// WinogradWeightGrad adds to dw [out, C*9] the gradient dy col(x)ᵀ of the
// convolution of m images x [C, H, W] giving dy [out, H, W] each. v, dm and
// du are scratch of WinogradBufLen's v, prod and u sizes. The images run a
// block at a time, each block's dU = dM Vᵀ summed into du.
func WinogradWeightGrad[T Float](g ConvGeom, out, m int, dy, x, dw []T, v, dm, du []T) {
	su := planeStride[T](out * g.C)
	in, ot := g.C*g.H*g.W, out*g.H*g.W
	mb := winogradGradBlock[T](g, out, m)
	for b0 := 0; b0 < m; b0 += mb {
		nb := min(mb, m-b0)
		p := winogradTiles[T](g, nb)
		sv, sp := planeStride[T](g.C*p), planeStride[T](out*p)
		winogradInput(g, nb, x[b0*in:(b0+nb)*in], v)
		winogradOutputAdjoint(g, out, nb, dy[b0*ot:(b0+nb)*ot], dm)
		beta := T(1)
		if b0 == 0 {
			beta = 0
		}
		for xi := range winogradPlanes[T](g) {
			Gemm(false, true, out, g.C, p, 1, dm[xi*sp:], p, v[xi*sv:], p, beta, du[xi*su:], g.C)
		}
	}
	if winogradTile[T](g) == 4 {
		winogradWeightsAdjoint4(g.C, out, du, dw)
		return
	}
	winogradWeightsAdjoint(g.C, out, du, dw)
}

// winogradRun is the number of filters whose transforms are gathered
// before being written out, a run of that many to each of the (up to 36)
// planes.
const winogradRun = 64

// filterRun is the buffer of a run of filters' transforms, plane by plane.
type filterRun[T Float] [36][winogradRun]T

// eachFilterRun calls f, on the threads, for every run of winogradRun of
// n filters (the first f0, nf of them) with a run buffer of the thread's.
func eachFilterRun[T Float](n int, f func(f0, nf int, run *filterRun[T])) {
	ParallelFor((n+winogradRun-1)/winogradRun, 64*winogradRun, func(lo, hi int) {
		pool := &filterRuns64
		if is32[T]() {
			pool = &filterRuns32
		}
		run := pool.Get().(*filterRun[T])
		defer pool.Put(run)
		for r := lo; r < hi; r++ {
			f0 := r * winogradRun
			f(f0, min(winogradRun, n-f0), run)
		}
	})
}

// The run buffers of eachFilterRun, pooled: a training step transforms
// weights a few hundred times.
var (
	filterRuns32 = sync.Pool{New: func() any { return new(filterRun[float32]) }}
	filterRuns64 = sync.Pool{New: func() any { return new(filterRun[float64]) }}
)

// winogradWeights writes U = G g Gᵀ of every 3x3 filter of w [out, C, 3, 3]
// to u [16, out, C].
func winogradWeights[T Float](c, out int, w, u []T) {
	n := out * c
	sn := planeStride[T](n)
	eachFilterRun(n, func(f0, nf int, run *filterRun[T]) {
		var t [12]T
		for f := range nf {
			g := w[(f0+f)*9 : (f0+f)*9+9]
			for j := range 3 { // G g: rows 0..3 of column j
				g0, g1, g2 := g[j], g[3+j], g[6+j]
				t[j], t[3+j], t[6+j], t[9+j] = g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2
			}
			for i := range 4 { // (G g) Gᵀ: row i
				r0, r1, r2 := t[3*i], t[3*i+1], t[3*i+2]
				run[4*i][f] = r0
				run[4*i+1][f] = (r0 + r1 + r2) / 2
				run[4*i+2][f] = (r0 - r1 + r2) / 2
				run[4*i+3][f] = r2
			}
		}
		for xi := range 16 {
			copy(u[xi*sn+f0:][:nf], run[xi][:nf])
		}
	})
}

// winogradWeightsAdjoint adds Gᵀ dU G of every filter in du [16, out, C] to
// dw [out, C, 3, 3].
func winogradWeightsAdjoint[T Float](c, out int, du, dw []T) {
	n := out * c
	sn := planeStride[T](n)
	eachFilterRun(n, func(f0, nf int, run *filterRun[T]) {
		var t [12]T
		for xi := range 16 {
			copy(run[xi][:nf], du[xi*sn+f0:][:nf])
		}
		for f := range nf {
			for i := range 4 { // dU G: row i
				d0, d1, d2, d3 := run[4*i][f], run[4*i+1][f], run[4*i+2][f], run[4*i+3][f]
				t[3*i], t[3*i+1], t[3*i+2] = d0+(d1+d2)/2, (d1-d2)/2, (d1+d2)/2+d3
			}
			g := dw[(f0+f)*9 : (f0+f)*9+9]
			for j := range 3 { // Gᵀ (dU G): column j
				d0, d1, d2, d3 := t[j], t[3+j], t[6+j], t[9+j]
				g[j] += d0 + (d1+d2)/2
				g[3+j] += (d1 - d2) / 2
				g[6+j] += (d1+d2)/2 + d3
			}
		}
	})
}

// winogradG4 is G f of F(4x4, 3x3) for three values f0, f1, f2 of a filter's
// column or row: G's rows (1/4, 0, 0), -(1, 1, 1)/6, -(1, -1, 1)/6,
// (1, 2, 4)/24, (1, -2, 4)/24 and (0, 0, 1). (By reciprocals: divisions
// took most of a layer's weight transforms.)
func winogradG4[T Float](f0, f1, f2 T) (T, T, T, T, T, T) {
	const sixth, twentyFourth = 1.0 / 6, 1.0 / 24
	even, odd := f0+f2, f1
	a, b := f0+4*f2, 2*f1
	return f0 / 4, -(even + odd) * sixth, (odd - even) * sixth, (a + b) * twentyFourth, (a - b) * twentyFourth, f2
}

// winogradGT4 is Gᵀ d of F(4x4, 3x3) for six values d0..d5 of a
// transform's column or row.
func winogradGT4[T Float](d0, d1, d2, d3, d4, d5 T) (T, T, T) {
	const sixth, twelfth, twentyFourth = 1.0 / 6, 1.0 / 12, 1.0 / 24
	s12, s34 := d1+d2, d3+d4
	return d0/4 - s12*sixth + s34*twentyFourth, (d2-d1)*sixth + (d3-d4)*twelfth, (s34-s12)*sixth + d5
}

// winogradWeights4 writes U = G g Gᵀ of F(4x4, 3x3) of every 3x3 filter of
// w [out, C, 3, 3] to u [36, out, C].
func winogradWeights4[T Float](c, out int, w, u []T) {
	n := out * c
	sn := planeStride[T](n)
	eachFilterRun(n, func(f0, nf int, run *filterRun[T]) {
		for f := range nf {
			g := w[(f0+f)*9 : (f0+f)*9+9 : (f0+f)*9+9]
			// G g, column by column: rows i of columns 0..2 in c0[i], c1[i], c2[i].
			var c0, c1, c2 [6]T
			c0[0], c0[1], c0[2], c0[3], c0[4], c0[5] = winogradG4(g[0], g[3], g[6])
			c1[0], c1[1], c1[2], c1[3], c1[4], c1[5] = winogradG4(g[1], g[4], g[7])
			c2[0], c2[1], c2[2], c2[3], c2[4], c2[5] = winogradG4(g[2], g[5], g[8])
			for i := range 6 { // (G g) Gᵀ, row by row
				run[6*i][f], run[6*i+1][f], run[6*i+2][f], run[6*i+3][f], run[6*i+4][f], run[6*i+5][f] = winogradG4(c0[i], c1[i], c2[i])
			}
		}
		for xi := range 36 {
			copy(u[xi*sn+f0:][:nf], run[xi][:nf])
		}
	})
}

// winogradWeightsAdjoint4 adds Gᵀ dU G of F(4x4, 3x3) of every filter in
// du [36, out, C] to dw [out, C, 3, 3].
func winogradWeightsAdjoint4[T Float](c, out int, du, dw []T) {
	n := out * c
	sn := planeStride[T](n)
	eachFilterRun(n, func(f0, nf int, run *filterRun[T]) {
		for xi := range 36 {
			copy(run[xi][:nf], du[xi*sn+f0:][:nf])
		}
		for f := range nf {
			// dU G, row by row: columns 0..2 of rows i in r0[i], r1[i], r2[i].
			var r0, r1, r2 [6]T
			for i := range 6 {
				r0[i], r1[i], r2[i] = winogradGT4(run[6*i][f], run[6*i+1][f], run[6*i+2][f], run[6*i+3][f], run[6*i+4][f], run[6*i+5][f])
			}
			g := dw[(f0+f)*9 : (f0+f)*9+9 : (f0+f)*9+9]
			for j, col := range [3]*[6]T{&r0, &r1, &r2} { // Gᵀ (dU G), column by column
				a, b, c := winogradGT4(col[0], col[1], col[2], col[3], col[4], col[5])
				g[j] += a
				g[3+j] += b
				g[6+j] += c
			}
		}
	})
}

// winogradVector reports whether the tile transforms of geometry g run on
// the micro-kernels: a row's tiles fit a vector (rows of up to 32 float32
// or 16 float64 values), or, by F(4x4, 3x3) (sides multiples of 4), rows
// of up to four vectors (winogradWide).
func winogradVector[T Float](g ConvGeom) bool {
	return g.W <= 2*64/sizeOf[T]() || winogradWide[T](g)
}

// winogradSegs is the number of rows of tiles F(4x4, 3x3)'s output
// transforms (micro.WinogradOutput4WS and kin) take at a time, their rows
// side by side filling four vectors: 1 for wide rows, 2 for rows of two
// vectors, 4 for rows of one where the rows of tiles come in fours; 0
// where those kernels do not serve (one row of tiles per vector).
func winogradSegs[T Float](g ConvGeom) int {
	lanes := 64 / sizeOf[T]()
	switch {
	case winogradWide[T](g):
		return 1
	case winogradTile[T](g) != 4:
		return 0
	case g.W == 2*lanes:
		return 2
	case g.W == lanes && g.H%16 == 0:
		return 4
	}
	return 0
}

// winogradWide reports whether geometry g takes F(4x4, 3x3)'s transforms
// one row of tiles at a time, the rows up to four vectors (64 float32 or
// 32 float64 values): rows past two vectors, or rows of tiles that do not
// pair (h/4 odd) but on 4x4 maps (one tile an image: F(2x2, 3x3) is
// faster there, for the weights' transforms).
func winogradWide[T Float](g ConvGeom) bool {
	lanes := 64 / sizeOf[T]()
	if g.H%4 != 0 || g.W%4 != 0 || g.W > 4*lanes {
		return false
	}
	return g.W > 2*lanes || g.H%8 != 0 && g.H >= 8
}

// winogradInput writes V = Bᵀ d B of every 4x4 input tile (stride 2, the
// padding zero) of the m images x [C, H, W] to v [16, C, tiles], tiles
// numbered image by image, row by row. Bᵀ runs down whole padded rows at
// once, then B across each tile's four columns.
func winogradInput[T Float](g ConvGeom, m int, x, v []T) {
	cp := planeStride[T](g.C * winogradTiles[T](g, m))
	ParallelFor(m*g.C, g.H*g.W*4, func(lo, hi int) { winogradInputSerial(g, lo, hi, m, x, v, cp, false) })
}

// winogradInputSerial is winogradInput of planes lo..hi-1 (image by image,
// channel by channel) into planes cp apart, on the calling thread. With
// panels (winogradPanels), each plane holds the panels of nr tiles of a
// packed product, panels[T]: tile q of channel c at (q/nr)*C*nr + c*nr +
// q%nr.
func winogradInputSerial[T Float](g ConvGeom, lo, hi, m int, x, v []T, cp int, panels bool) {
	t := winogradTile[T](g)
	tw := g.W / t
	per := (g.H / t) * tw
	p := m * per
	if winogradVector[T](g) {
		nr := microCols[T]()
		wide := winogradWide[T](g)
		// 16x16 float32 planes: a vector's worth of tiles, in one call.
		whole16 := t == 4 && g.H == 16 && g.W == 16
		for job := lo; job < hi; job++ {
			n, c := job/g.C, job%g.C
			src, base := (n*g.C+c)*g.H*g.W, c*p+n*per
			first, run, jump := 0, 0, 0
			if q := n * per; panels {
				base = q/nr*g.C*nr + c*nr + q%nr
				first, run, jump = (nr-q%nr)/tw, nr/tw, (g.C-1)*nr
			}
			switch {
			case is32[T]() && whole16: // a plane's 16 tiles in one vector (a panel holds two)
				micro.WinogradInput16S(f32(v, base), f32(x, src), cp)
			case is32[T]() && wide:
				micro.WinogradInput4WS(f32(v, base), f32(x, src), g.H, g.W, cp, first, run, jump)
			case wide:
				micro.WinogradInput4WD(f64(v, base), f64(x, src), g.H, g.W, cp, first, run, jump)
			case is32[T]() && t == 4:
				micro.WinogradInput4S(f32(v, base), f32(x, src), g.H, g.W, cp, first, run, jump)
			case is32[T]():
				micro.WinogradInputS(f32(v, base), f32(x, src), g.H, g.W, cp, first, run, jump)
			case t == 4:
				micro.WinogradInput4D(f64(v, base), f64(x, src), g.H, g.W, cp, first, run, jump)
			default:
				micro.WinogradInputD(f64(v, base), f64(x, src), g.H, g.W, cp, first, run, jump)
			}
		}
		return
	}
	wp := g.W + 2
	pad := make([]T, (g.H+2)*wp) // the plane with its zero border
	for job := lo; job < hi; job++ {
		n, c := job/g.C, job%g.C
		src := x[(n*g.C+c)*g.H*g.W:][:g.H*g.W]
		for r := range g.H {
			copy(pad[(r+1)*wp+1:][:g.W], src[r*g.W:][:g.W])
		}
		base := c*p + n*per
		// The 16 planes of this image and channel, tile by tile.
		v0 := v[base:][:per]
		v1, v2, v3 := v[cp+base:][:len(v0)], v[2*cp+base:][:len(v0)], v[3*cp+base:][:len(v0)]
		v4, v5, v6, v7 := v[4*cp+base:][:len(v0)], v[5*cp+base:][:len(v0)], v[6*cp+base:][:len(v0)], v[7*cp+base:][:len(v0)]
		v8, v9, v10, v11 := v[8*cp+base:][:len(v0)], v[9*cp+base:][:len(v0)], v[10*cp+base:][:len(v0)], v[11*cp+base:][:len(v0)]
		v12, v13, v14, v15 := v[12*cp+base:][:len(v0)], v[13*cp+base:][:len(v0)], v[14*cp+base:][:len(v0)], v[15*cp+base:][:len(v0)]
		at, tx := 0, 0
		for q := range v0 {
			d := pad[at : at+3*wp+4 : at+3*wp+4]
			// Bᵀ d, column by column: rows (d0-d2, d1+d2, d2-d1, d1-d3).
			var t [4][4]T
			for j := range 4 {
				a0, a1, a2, a3 := d[j], d[wp+j], d[2*wp+j], d[3*wp+j]
				t[0][j], t[1][j], t[2][j], t[3][j] = a0-a2, a1+a2, a2-a1, a1-a3
			}
			// (Bᵀ d) B, row by row.
			v0[q], v1[q], v2[q], v3[q] = t[0][0]-t[0][2], t[0][1]+t[0][2], t[0][2]-t[0][1], t[0][1]-t[0][3]
			v4[q], v5[q], v6[q], v7[q] = t[1][0]-t[1][2], t[1][1]+t[1][2], t[1][2]-t[1][1], t[1][1]-t[1][3]
			v8[q], v9[q], v10[q], v11[q] = t[2][0]-t[2][2], t[2][1]+t[2][2], t[2][2]-t[2][1], t[2][1]-t[2][3]
			v12[q], v13[q], v14[q], v15[q] = t[3][0]-t[3][2], t[3][1]+t[3][2], t[3][2]-t[3][1], t[3][1]-t[3][3]
			if tx++; tx == tw { // the next row of tiles, two rows down
				tx, at = 0, at+2*wp-g.W+2
			} else {
				at += 2
			}
		}
	}
}

// winogradOutputSerial sets (or adds) Y = Aᵀ M A of the tiles of planes
// lo..hi-1 (image by image, channel by channel) of prod [16, out, tiles]
// into the m images dst [out, H, W], on the calling thread.
func winogradOutputSerial[T Float](g ConvGeom, out, lo, hi, m int, prod, dst []T, add bool) {
	t := winogradTile[T](g)
	tw := g.W / t
	per := (g.H / t) * tw
	p := m * per
	kp := planeStride[T](out * p)
	if winogradVector[T](g) {
		segs := winogradSegs[T](g)
		for job := lo; job < hi; job++ {
			n, k := job/out, job%out
			y, base := (n*out+k)*g.H*g.W, k*p+n*per
			switch {
			case segs > 0 && is32[T]() && add:
				micro.WinogradOutputAdd4WS(f32(dst, y), f32(prod, base), g.H, g.W, kp, segs)
			case segs > 0 && is32[T]():
				micro.WinogradOutput4WS(f32(dst, y), f32(prod, base), g.H, g.W, kp, segs)
			case segs > 0 && add:
				micro.WinogradOutputAdd4WD(f64(dst, y), f64(prod, base), g.H, g.W, kp, segs)
			case segs > 0:
				micro.WinogradOutput4WD(f64(dst, y), f64(prod, base), g.H, g.W, kp, segs)
			case t == 4 && is32[T]() && add:
				micro.WinogradOutputAdd4S(f32(dst, y), f32(prod, base), g.H, g.W, kp)
			case t == 4 && is32[T]():
				micro.WinogradOutput4S(f32(dst, y), f32(prod, base), g.H, g.W, kp)
			case t == 4 && add:
				micro.WinogradOutputAdd4D(f64(dst, y), f64(prod, base), g.H, g.W, kp)
			case t == 4:
				micro.WinogradOutput4D(f64(dst, y), f64(prod, base), g.H, g.W, kp)
			case is32[T]() && add:
				micro.WinogradOutputAddS(f32(dst, y), f32(prod, base), g.H, g.W, kp)
			case is32[T]():
				micro.WinogradOutputS(f32(dst, y), f32(prod, base), g.H, g.W, kp)
			case add:
				micro.WinogradOutputAddD(f64(dst, y), f64(prod, base), g.H, g.W, kp)
			default:
				micro.WinogradOutputD(f64(dst, y), f64(prod, base), g.H, g.W, kp)
			}
		}
		return
	}
	w := g.W
	for job := lo; job < hi; job++ {
		n, k := job/out, job%out
		y := dst[(n*out+k)*g.H*w:][:g.H*w]
		base := k*p + n*per
		// The 16 planes of this image and channel, tile by tile.
		m0 := prod[base:][:per]
		m1, m2, m3 := prod[kp+base:][:len(m0)], prod[2*kp+base:][:len(m0)], prod[3*kp+base:][:len(m0)]
		m4, m5, m6, m7 := prod[4*kp+base:][:len(m0)], prod[5*kp+base:][:len(m0)], prod[6*kp+base:][:len(m0)], prod[7*kp+base:][:len(m0)]
		m8, m9, m10, m11 := prod[8*kp+base:][:len(m0)], prod[9*kp+base:][:len(m0)], prod[10*kp+base:][:len(m0)], prod[11*kp+base:][:len(m0)]
		m12, m13, m14, m15 := prod[12*kp+base:][:len(m0)], prod[13*kp+base:][:len(m0)], prod[14*kp+base:][:len(m0)], prod[15*kp+base:][:len(m0)]
		at, tx := 0, 0
		for q := range m0 {
			// Aᵀ M, column by column, then (Aᵀ M) A.
			a0, b0 := m0[q]+m4[q]+m8[q], m4[q]-m8[q]-m12[q]
			a1, b1 := m1[q]+m5[q]+m9[q], m5[q]-m9[q]-m13[q]
			a2, b2 := m2[q]+m6[q]+m10[q], m6[q]-m10[q]-m14[q]
			a3, b3 := m3[q]+m7[q]+m11[q], m7[q]-m11[q]-m15[q]
			r := y[at : at+w+2 : at+w+2]
			if add {
				r[0] += a0 + a1 + a2
				r[1] += a1 - a2 - a3
				r[w] += b0 + b1 + b2
				r[w+1] += b1 - b2 - b3
			} else {
				r[0] = a0 + a1 + a2
				r[1] = a1 - a2 - a3
				r[w] = b0 + b1 + b2
				r[w+1] = b1 - b2 - b3
			}
			if tx++; tx == tw { // the next row of tiles
				tx, at = 0, at+w+2
			} else {
				at += 2
			}
		}
	}
}

// winogradOutputAdjoint writes dM = A dY Aᵀ of every 2x2 tile of the m
// images dy [out, H, W] to dm [16, out, tiles].
func winogradOutputAdjoint[T Float](g ConvGeom, out, m int, dy, dm []T) {
	t := winogradTile[T](g)
	tw := g.W / t
	per := (g.H / t) * tw
	p := m * per
	kp := planeStride[T](out * p)
	w := g.W
	ParallelFor(m*out, g.H*g.W*4, func(lo, hi int) {
		if winogradVector[T](g) {
			segs := winogradSegs[T](g)
			for job := lo; job < hi; job++ {
				n, k := job/out, job%out
				src, base := (n*out+k)*g.H*w, k*p+n*per
				switch {
				case is32[T]() && segs > 0:
					micro.WinogradOutputAdjoint4WS(f32(dm, base), f32(dy, src), g.H, w, kp, segs)
				case segs > 0:
					micro.WinogradOutputAdjoint4WD(f64(dm, base), f64(dy, src), g.H, w, kp, segs)
				case is32[T]() && t == 4:
					micro.WinogradOutputAdjoint4S(f32(dm, base), f32(dy, src), g.H, w, kp)
				case is32[T]():
					micro.WinogradOutputAdjointS(f32(dm, base), f32(dy, src), g.H, w, kp)
				case t == 4:
					micro.WinogradOutputAdjoint4D(f64(dm, base), f64(dy, src), g.H, w, kp)
				default:
					micro.WinogradOutputAdjointD(f64(dm, base), f64(dy, src), g.H, w, kp)
				}
			}
			return
		}
		for job := lo; job < hi; job++ {
			n, k := job/out, job%out
			d := dy[(n*out+k)*g.H*w:][:g.H*w]
			base := k*p + n*per
			m0 := dm[base:][:per]
			m1, m2, m3 := dm[kp+base:][:len(m0)], dm[2*kp+base:][:len(m0)], dm[3*kp+base:][:len(m0)]
			m4, m5, m6, m7 := dm[4*kp+base:][:len(m0)], dm[5*kp+base:][:len(m0)], dm[6*kp+base:][:len(m0)], dm[7*kp+base:][:len(m0)]
			m8, m9, m10, m11 := dm[8*kp+base:][:len(m0)], dm[9*kp+base:][:len(m0)], dm[10*kp+base:][:len(m0)], dm[11*kp+base:][:len(m0)]
			m12, m13, m14, m15 := dm[12*kp+base:][:len(m0)], dm[13*kp+base:][:len(m0)], dm[14*kp+base:][:len(m0)], dm[15*kp+base:][:len(m0)]
			at, tx := 0, 0
			for q := range m0 {
				r := d[at : at+w+2 : at+w+2]
				// dY Aᵀ, row by row: (a, a+b, a-b, -b); then A (dY Aᵀ).
				a, b := r[0], r[1]
				t0, t1, t2, t3 := a, a+b, a-b, -b
				a, b = r[w], r[w+1]
				u0, u1, u2, u3 := a, a+b, a-b, -b
				m0[q], m1[q], m2[q], m3[q] = t0, t1, t2, t3
				m4[q], m5[q], m6[q], m7[q] = t0+u0, t1+u1, t2+u2, t3+u3
				m8[q], m9[q], m10[q], m11[q] = t0-u0, t1-u1, t2-u2, t3-u3
				m12[q], m13[q], m14[q], m15[q] = -u0, -u1, -u2, -u3
				if tx++; tx == tw {
					tx, at = 0, at+w+2
				} else {
					at += 2
				}
			}
		}
	})
}
