//go:build linux

package autograd

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePageMin is the least buffer size (bytes) worth backing by huge pages.
const hugePageMin = 4 << 20

// makeBuffer allocates n zeroed elements. Large buffers ask the kernel for
// transparent huge pages before they are first touched: a pass over a fresh
// tape otherwise spends as long taking 4 KiB page faults as computing.
func makeBuffer[E any](n int) []E {
	b := make([]E, n)
	var z E
	if size := uintptr(n) * unsafe.Sizeof(z); size >= hugePageMin {
		mem := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), size)
		_ = unix.Madvise(mem, unix.MADV_HUGEPAGE) // advice only: ignore refusal
	}
	return b
}
