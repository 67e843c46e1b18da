// Package kernels holds the numeric loops under winnow's autograd: matrix
// products and the lowering of convolutions to them.
//
// Large products run on the AVX-512 micro-kernels of package micro under a
// packed product (gemm_packed.go, after Goto and van de Geijn): panels of
// both operands packed per cache block, 12 x 32 blocks of C in registers.
// Convolutions never form their column matrices: Lowered packs panels from a
// zero-padded copy of the images, and Grid lays stride-1 convolutions out on
// padded images where each row of the column matrix is a shifted plane, read
// in place; where image rows are whole blocks of micro-kernel columns the
// product is computed on output pixels only, straight into the images
// (GemmGridImages). Weights that are mostly zero multiply over their nonzeros
// (SparseGemmGrid, SparseGemmGridT, CSR). Small products, and machines
// without AVX-512 (or the purego build tag), go through a BLAS: gonum's pure
// Go, or OpenBLAS with the openblas build tag; im2col and col2im serve them.
//
// Layouts are row-major and images are CHW (one image of an NCHW batch).
// Kernels trust their arguments: the autograd ops that call them check
// shapes. Every routine is generic over float32 and float64; float32 trains,
// float64 scores and checks.
package kernels
