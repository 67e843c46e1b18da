package kernels

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
)

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
	workers := runtime.GOMAXPROCS(0)
	if !splitGemm || workers == 1 || m*n*k < minGemmSplit {
		gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	// Split the larger side of c into column or row blocks, one product
	// each, so the BLAS runs single-threaded on every core and no thread
	// of its own spins waiting while Go code runs.
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		if n >= m {
			lo, hi := blockBound(n, w, workers), blockBound(n, w+1, workers)
			bOff := lo
			if transB {
				bOff = lo * ldb
			}
			go func() {
				defer wg.Done()
				gemm(transA, transB, m, hi-lo, k, alpha, a, lda, b[bOff:], ldb, beta, c[lo:], ldc)
			}()
		} else {
			lo, hi := blockBound(m, w, workers), blockBound(m, w+1, workers)
			aOff := lo * lda
			if transA {
				aOff = lo
			}
			go func() {
				defer wg.Done()
				gemm(transA, transB, hi-lo, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[lo*ldc:], ldc)
			}()
		}
	}
	wg.Wait()
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
