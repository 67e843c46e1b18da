package kernels

import "gonum.org/v1/gonum/blas"

// Float is the set of element types the kernels support.
type Float interface{ float32 | float64 }

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// Gemm computes c = alpha*op(a)*op(b) + beta*c for row-major matrices, where
// op(a) is m x k, op(b) is k x n and c is m x n. It is BLAS xGEMM:
//
//	for i < m, j < n: c[i*ldc+j] = alpha * sum_l op(a)[i,l]*op(b)[l,j] + beta*c[i*ldc+j]
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if packedGemmWorth(m, n, k) {
		splitPacked(transA, m, n, k, alpha, a, lda, denseSource[T]{transB, b, ldb}, beta, c, ldc)
		return
	}
	if !splitGemm {
		gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	// Blocks of C, one product each, so that the BLAS runs single-threaded
	// on every core and no thread of its own spins waiting while Go code
	// runs.
	splitBlocks(m, n, m*n*k, func(i0, i1, j0, j1 int) {
		gemm(transA, transB, i1-i0, j1-j0, k, alpha, a[offsetA(transA, i0, lda):], lda,
			b[offsetA(!transB, j0, ldb):], ldb, beta, c[i0*ldc+j0:], ldc)
	})
}

// GemmSerial is Gemm on the calling goroutine only: for products that
// callers already run in parallel with others.
func GemmSerial[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if packedGemmWorth(m, n, k) {
		packedGemm(transA, m, n, k, alpha, a, lda, denseSource[T]{transB, b, ldb}, 0, beta, c, ldc)
		return
	}
	gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// minGemmSplit is the least m*n*k worth splitting a product over goroutines.
const minGemmSplit = 1 << 18

// blockBound is the start of block w of `workers` blocks over n, rounded
// to a multiple of 16 so blocks keep the BLAS's vector alignment.
func blockBound(n, w, workers int) int {
	if w == workers {
		return n
	}
	return min(n, (w*n/workers+8)/16*16)
}

func gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	switch a := any(a).(type) {
	case []float32:
		blasImpl.Sgemm(trans(transA), trans(transB), m, n, k, float32(alpha), a, lda,
			any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blasImpl.Dgemm(trans(transA), trans(transB), m, n, k, float64(alpha), a, lda,
			any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// BLAS names the BLAS implementation this binary was built with.
func BLAS() string { return blasName }
