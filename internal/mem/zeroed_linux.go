//go:build linux

package mem

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// populateMin is the least buffer size (bytes) worth populating at once.
const populateMin = 4 << 20

// Zeroed allocates n zeroed elements. Large buffers have their pages
// populated, writable, before they are first touched (MADV_POPULATE_WRITE,
// Linux 5.14; refused on older kernels, where pages fault in as touched).
func Zeroed[E any](n int) []E {
	b := make([]E, n)
	var z E
	if size := uintptr(n) * unsafe.Sizeof(z); size >= populateMin {
		mem := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), size)
		_ = unix.Madvise(mem, unix.MADV_POPULATE_WRITE) // advice only: ignore refusal
	}
	return b
}
