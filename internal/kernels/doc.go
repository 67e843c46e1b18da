// Package kernels holds the numeric loops under winnow's autograd: matrix
// products through a BLAS implementation, and the im2col / col2im lowering of
// convolutions to matrix products.
//
// Layouts are row-major and images are CHW (one image of an NCHW batch).
// Kernels trust their arguments: the autograd ops that call them check
// shapes. Every routine is generic over float32 and float64; float32 trains,
// float64 scores and checks.
package kernels
