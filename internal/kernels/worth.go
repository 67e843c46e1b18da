package kernels

import "github.com/winnow-ml/winnow/internal/kernels/micro"

// How each product and convolution runs is chosen by the rules of this
// file. They choose speed, never results: every way computes the same sums
// in another order, and the tests run every way on every CPU (the
// micro-kernels as their Go loops where the CPU lacks AVX-512). A rule's
// Worth function adds that the micro-kernels run here as AVX-512
// assembly; its pays function is the measured rule alone. The thresholds
// were measured on AVX-512 CPUs with the benchmark each row names; the
// measurements are in docs/perf/kernels.md.
//
//	rule             chooses                               threshold                                      set by
//	packedGemmPays   the packed product over the BLAS      m*n*k >= 2^15 and k >= 8                        -bench Gemm ./internal/kernels
//	gridPays         products on the grid of images        stride 1, Hp*Wp <= 6/5 OH*OW                    -bench Conv8x8C256 ./internal/kernels
//	gridImagesFit    GemmGridImages (output pixels only)   stride 1, rows of whole blocks (or 2 or 4 a block)  (no extra positions: always pays)
//	sparsePays       products over the nonzeros            density <= 0.38 - 0.14 r², r = Hp*Wp/(OH*OW);   -bench 'BenchmarkSparseConv$' ./internal/kernels
//	                                                       /2 against F(2x2, 3x3), /3.5 against F(4x4, 3x3)
//	winogradPays     Winograd's transforms                 3x3 stride-1 same, >= 128 tiles, and float32:   -bench 'Conv(64)?' ./autograd
//	                                                       maps >= 8x8 with >= 32 channels; float64: 8x8
//	                                                       to 32x32 with >= 64 (F(4x4, 3x3)), <= 16x16
//	                                                       with 64 and 128 (F(2x2, 3x3)), 4x4 with 128
//	                                                       and 256; never 2x2 maps
//	winogradTile     F(4x4, 3x3) over F(2x2, 3x3)          rows the transforms take, sides multiples of 4, -bench 'Conv(64)?' ./autograd
//	                                                       not 4x4 maps

// packedGemmWorth reports whether packedGemm should do a product.
func packedGemmWorth(m, n, k int) bool { return micro.Available && packedGemmPays(m, n, k) }

// packedGemmPays: the product is large enough to pay for packing.
func packedGemmPays(m, n, k int) bool { return m*n*k >= 1<<15 && k >= 8 }

// DirectLowering reports whether GemmLowered and GemmLoweredT pack from the
// images (the micro-kernels run here). Without them they form the column
// matrix first, and callers that keep their own buffers do better to lower
// with Im2col and call Gemm.
func DirectLowering() bool { return micro.Available }

// GridWorth reports whether products over all grid positions (GemmGrid,
// GemmGridT, the sparse products) beat packing the column matrix.
func GridWorth(g ConvGeom) bool { return micro.Available && gridPays(g) }

// gridPays: the convolution has stride 1 and the grid's extra positions
// add at most a fifth to the work (3x3 kernels on 32x32 and 16x16 maps: 6%
// and 13%; on 8x8, 27%, where packing was faster for 256 channels).
func gridPays(g ConvGeom) bool {
	hp, wp := gridDims(g)
	return gridFits(g) && 5*hp*wp <= 6*g.OH*g.OW
}

// gridFits reports whether geometry g can be laid out on a grid of padded
// images at all: stride 1, padding below the kernel's size.
func gridFits(g ConvGeom) bool { return g.SH == 1 && g.SW == 1 && g.PH < g.KH && g.PW < g.KW }

// GridImagesWorth reports whether the forward products run on output
// pixels only (GemmGridImages).
func GridImagesWorth[T Float](g ConvGeom) bool { return micro.Available && gridImagesFit[T](g) }

// gridImagesFit reports whether GemmGridImages takes geometry g: stride 1,
// output rows whole blocks of micro-kernel columns, or two or four of them
// a block. Its products then cost no extra positions, whatever the grid's
// share of them.
func gridImagesFit[T Float](g ConvGeom) bool {
	rows, _, _, _ := gridTiles[T](g)
	return gridFits(g) && rows > 0
}

// SparseWorth reports whether SparseGemmGrid beats the dense products for
// weights w on geometry g, the dense products running by Winograd's
// transforms where winograd says so.
func SparseWorth[T Float](g ConvGeom, w []T, winograd bool) bool {
	return micro.Available && sparsePays(g, w, winograd)
}

// sparsePays: stride 1, and w's density (fraction of nonzeros) at most
// 0.38 - 0.14 r^2, r = (Hp*Wp)/(OH*OW) the grid's share of extra
// positions, fitted below the break-even densities measured on ResNet and
// VGG layers (about 0.35 at 32x32, 0.2 at 8x8, 0.05 at 4x4, none at 2x2);
// against Winograd's products, which take fewer multiplications, half that
// by F(2x2, 3x3) and a 3.5th by F(4x4, 3x3). Dense weights are told apart
// after a fraction of them.
func sparsePays[T Float](g ConvGeom, w []T, winograd bool) bool {
	if g.SH != 1 || g.SW != 1 || len(w) == 0 {
		return false
	}
	hp, wp := gridDims(g)
	r := float64(hp*wp) / float64(g.OH*g.OW)
	density := 0.38 - 0.14*r*r
	switch {
	case winograd && winogradTile[T](g) == 4:
		density /= 3.5
	case winograd:
		density /= 2
	}
	if density <= 0 {
		return false
	}
	limit := int(density * float64(len(w)))
	nz := 0
	for i := 0; i < len(w) && nz <= limit; i += 4096 {
		nz += countNonzero(w[i:min(len(w), i+4096)])
	}
	return nz <= limit
}

// WinogradWorth reports whether a convolution of geometry g to out
// channels over a batch of images runs faster by Winograd's transforms.
func WinogradWorth[T Float](g ConvGeom, out, images int) bool {
	return micro.Available && winogradPays[T](g, out, images)
}

// winogradMinTiles is the fewest 2x2 tiles in a batch worth the transforms:
// the weights' transforms cost as much as a few images' products.
const winogradMinTiles = 128

// winogradPays: a 3x3 stride-1 "same" convolution of even maps whose rows
// of tiles the micro-kernels' transforms take (winogradVector), with
// enough tiles and channels for its maps (the table above).
func winogradPays[T Float](g ConvGeom, out, images int) bool {
	if !winogradFits(g) || images*(g.H/2)*(g.W/2) < winogradMinTiles || !winogradVector[T](g) || g.H < 4 || g.W < 4 {
		return false
	}
	lo, hi := min(g.C, out), max(g.C, out)
	switch {
	case is32[T]():
		return g.H >= 8 && g.W >= 8 && lo >= 32
	case g.H < 8 || g.W < 8:
		return lo >= 128 && hi >= 256
	case winogradTile[T](g) == 4:
		return lo >= 64
	default:
		return g.H <= 16 && lo >= 64 && hi >= 128
	}
}

// winogradFits reports whether Winograd's F(2x2, 3x3) computes geometry g:
// a 3x3 stride-1 convolution with padding 1 of even maps.
func winogradFits(g ConvGeom) bool {
	return g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.PH == 1 && g.PW == 1 && g.H%2 == 0 && g.W%2 == 0
}
