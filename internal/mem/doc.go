// Package mem allocates the large numeric buffers of tapes and parameters:
// zeroed slices whose pages, on Linux, are populated in one call before
// they are first touched.
//
// A fresh buffer otherwise takes a page fault per 4 KiB page on first
// touch, and a buffer first read (accumulated into) takes two: the shared
// zero page, then a copy-on-write fault with a TLB shootdown. Measured on
// a cold GraSP call of VGG-19 (winnow bench --grasp, right after another
// process; 1.4 GB touched for the first time): pages faulting in as
// touched 4.2-4.7 s with 1.6-1.9 s of system time; transparent huge pages
// (MADV_HUGEPAGE, which an earlier version asked for) 5.2-6.1 s with
// 2.8-3.5 s; populated at allocation 4.2-4.3 s with 1.0 s. Training, which
// reuses its buffers, runs at the same speed either way.
package mem
