// Package mem allocates the large numeric buffers of tapes and parameters:
// zeroed slices whose pages, on Linux, are populated in one call before
// they are first touched.
//
// A fresh buffer otherwise takes a page fault per 4 KiB page on first
// touch, and a buffer first read (accumulated into) takes two: the shared
// zero page, then a copy-on-write fault with a TLB shootdown
// (docs/perf/kernels.md has the measurements).
package mem
