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
