// Package kernels holds the numeric loops under winnow's autograd: matrix
// products, and convolutions as products.
//
// A newcomer finds it by part:
//
//   - The API autograd calls: ConvPlan (convplan.go), one convolution's
//     four rules over a Workspace the tape provides; Gemm and GemmSerial
//     (blas.go) for other products; the elementwise loops of batch
//     normalisation and ReLU (elementwise.go); ParallelFor (parallel.go).
//   - The rules that choose how each product runs, in one table (worth.go),
//     each with the benchmark that sets it.
//   - Dense products (gemm_packed.go): the packed product after Goto and
//     van de Geijn over the micro-kernels of package micro, panels of both
//     operands packed per cache block, 12 x 32 blocks of C in registers;
//     small products, and machines without AVX-512, through a BLAS (gonum's
//     pure Go, or OpenBLAS with the openblas tag: blas_*.go).
//   - Convolutions without column matrices: Lowered (lowered.go) packs
//     panels from the images; Grid (grid.go) lays stride-1 convolutions out
//     on padded images, each row of the column matrix a shifted plane read
//     in place, and GemmGridImages computes output pixels only, straight
//     into the images; Winograd's F(4x4, 3x3) and F(2x2, 3x3)
//     (winograd.go) run 3x3 stride-1 layers as 36 or 16 products per block
//     of images, the tile transforms on the micro-kernels; im2col and
//     col2im (conv.go) serve the BLAS path.
//   - Sparse products (sparse.go, and SparseGemmGrid, SparseGemmGridT in
//     grid.go): weights that are mostly zero multiply over their nonzeros
//     (CSR), the weight gradient computed only where masks keep weights.
//
// Layouts are row-major and images are CHW (one image of an NCHW batch).
// Kernels trust their arguments: the autograd ops that call them check
// shapes. Every routine is generic over float32 and float64; float32 trains,
// float64 scores and checks.
package kernels
