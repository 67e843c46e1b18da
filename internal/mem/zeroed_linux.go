//go:build linux

package mem

import (
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// populateMin is the least buffer size (bytes) worth populating at once,
// and the least part of one a thread populates.
const populateMin = 4 << 20

// Zeroed allocates n zeroed elements. Large buffers have their pages
// populated, writable, before they are first touched (MADV_POPULATE_WRITE,
// Linux 5.14; refused on older kernels, where pages fault in as touched).
func Zeroed[E any](n int) []E {
	b := make([]E, n)
	var z E
	if size := uintptr(n) * unsafe.Sizeof(z); size >= populateMin {
		populate(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), size))
	}
	return b
}

// populate populates the pages of mem, in parts on up to GOMAXPROCS
// threads: the kernel zeroes every page while the other threads would be
// idle (a tape allocates an op's output before the op runs).
func populate(mem []byte) {
	page := unix.Getpagesize()
	parts := min(runtime.GOMAXPROCS(0), len(mem)/populateMin)
	if parts <= 1 || uintptr(unsafe.Pointer(unsafe.SliceData(mem)))%uintptr(page) != 0 {
		_ = unix.Madvise(mem, unix.MADV_POPULATE_WRITE) // advice only: ignore refusal
		return
	}
	per := (len(mem)/parts + page - 1) / page * page
	var wg sync.WaitGroup
	for lo := 0; lo < len(mem); lo += per {
		part := mem[lo:min(lo+per, len(mem))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = unix.Madvise(part, unix.MADV_POPULATE_WRITE)
		}()
	}
	wg.Wait()
}
