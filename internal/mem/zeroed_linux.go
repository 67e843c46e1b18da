//go:build linux

package mem

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePageMin is the least buffer size (bytes) worth backing by huge pages.
const hugePageMin = 4 << 20

// Zeroed allocates n zeroed elements. Large buffers ask the kernel for
// transparent huge pages before they are first touched.
func Zeroed[E any](n int) []E {
	b := make([]E, n)
	var z E
	if size := uintptr(n) * unsafe.Sizeof(z); size >= hugePageMin {
		mem := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), size)
		_ = unix.Madvise(mem, unix.MADV_HUGEPAGE) // advice only: ignore refusal
	}
	return b
}
