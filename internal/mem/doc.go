// Package mem allocates the large numeric buffers of tapes and parameters:
// zeroed slices that, on Linux, ask for transparent huge pages before they
// are first touched.
//
// A fresh buffer costs a page fault per 4 KiB page on first touch, and a
// buffer first read (accumulated into) costs two: the shared zero page, then
// a copy-on-write fault with a TLB shootdown. On the 1.5 GB of a GraSP call
// that took as long as a quarter of the computation; with huge pages it is
// one fault per 2 MiB.
package mem
