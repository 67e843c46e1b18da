package kernels

import (
	"runtime"
	"sync"
)

// minWork is the least work (in elements touched) worth a goroutine.
const minWork = 1 << 15

// ParallelFor calls f on disjoint ranges [lo, hi) covering [0, n), on up to
// GOMAXPROCS goroutines when n*cost (the elements touched) is large enough
// to pay for them, else on the caller's goroutine. Each index is handled by
// exactly one call, so results do not depend on the number of threads.
func ParallelFor(n, cost int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n, max(1, n*cost/minWork))
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// splitBlocks calls f on the blocks of an m x n matrix, rows i0..i1 and
// columns j0..j1, on GOMAXPROCS goroutines when work (the multiply-adds of
// the product filling it) is large enough: the larger side is split, at
// bounds that are multiples of 16 so that blocks keep the vector alignment.
func splitBlocks(m, n, work int, f func(i0, i1, j0, j1 int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers == 1 || work < minGemmSplit {
		f(0, m, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i0, i1, j0, j1 := 0, m, blockBound(n, w, workers), blockBound(n, w+1, workers)
			if n < m {
				i0, i1, j0, j1 = blockBound(m, w, workers), blockBound(m, w+1, workers), 0, n
			}
			if i0 < i1 && j0 < j1 {
				f(i0, i1, j0, j1)
			}
		}()
	}
	wg.Wait()
}

// offsetA is the offset of row i of op(A) for a row-major A with leading
// dimension lda.
func offsetA(trans bool, i, lda int) int {
	if trans {
		return i
	}
	return i * lda
}
