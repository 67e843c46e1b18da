//go:build amd64 && !purego

package micro

import "golang.org/x/sys/cpu"

//go:generate go run ./asmgen

// hasAVX512 reports whether the assembly runs here: the CPU has AVX-512F
// and the operating system saves its registers.
var hasAVX512 = cpu.X86.HasAVX512F

// The assembly of the exported kernels (kernels.go), written by asmgen.

//go:noescape
func sgemm12x32AVX512(k int, a, b, c *float32, ldc, rows int, alpha float32)

//go:noescape
func dgemm12x16AVX512(k int, a, b, c *float64, ldc, rows int, alpha float64)

//go:noescape
func sgemm12x32RowsAVX512(k int, a, b *float32, offs *int, half int, c *float32, ldc, rows int, alpha float32)

//go:noescape
func dgemm12x16RowsAVX512(k int, a, b *float64, offs *int, half int, c *float64, ldc, rows int, alpha float64)

//go:noescape
func sgemm12x32Rows4AVX512(k int, a, b *float32, offs *int, stride int, c *float32, ldc, rows int, alpha float32)

//go:noescape
func dgemm12x16Rows4AVX512(k int, a, b *float64, offs *int, stride int, c *float64, ldc, rows int, alpha float64)

//go:noescape
func sgemm12x32ARowsAVX512(k int, a *[12]*float32, b, c *float32, ldc, rows int, alpha float32)

//go:noescape
func dgemm12x16ARowsAVX512(k int, a *[12]*float64, b, c *float64, ldc, rows int, alpha float64)

//go:noescape
func sgemm12x32SetAVX512(k int, a, b, c *float32, ldc, rows int, alpha float32)

//go:noescape
func dgemm12x16SetAVX512(k int, a, b, c *float64, ldc, rows int, alpha float64)

//go:noescape
func sgemm12x32ARowsSetAVX512(k int, a *[12]*float32, b, c *float32, ldc, rows int, alpha float32)

//go:noescape
func dgemm12x16ARowsSetAVX512(k int, a *[12]*float64, b, c *float64, ldc, rows int, alpha float64)

//go:noescape
func sparseSRowAVX512(n int, vals *float32, offs *int, b, c *float32)

//go:noescape
func sparseDRowAVX512(n int, vals *float64, offs *int, b, c *float64)

//go:noescape
func sparseSDotAVX512(n int, offs *int, a, b, acc *float32)

//go:noescape
func sparseDDotAVX512(n int, offs *int, a, b, acc *float64)

//go:noescape
func momentsSAVX512(x *float32, n int, s *[2]float64)

//go:noescape
func scaleShiftSAVX512(y, x *float32, n int, scale, shift float32)

//go:noescape
func scaleShiftReLUSAVX512(y, x *float32, n int, scale, shift float32)

//go:noescape
func centeredSumsSAVX512(dy, x *float32, n int, mu float32, s *[2]float32)

//go:noescape
func affineSAVX512(dx, dy, x *float32, n int, a, b, d float32)

//go:noescape
func affineAddSAVX512(dx, dy, x *float32, n int, a, b, d float32)

//go:noescape
func addReLUSAVX512(y, a, b *float32, n int)

//go:noescape
func reLUMaskSAVX512(dst, src, x *float32, n int)

//go:noescape
func reLUMaskAddSAVX512(dst, src, x *float32, n int)

//go:noescape
func momentsDAVX512(x *float64, n int, s *[2]float64)

//go:noescape
func scaleShiftDAVX512(y, x *float64, n int, scale, shift float64)

//go:noescape
func scaleShiftReLUDAVX512(y, x *float64, n int, scale, shift float64)

//go:noescape
func centeredSumsDAVX512(dy, x *float64, n int, mu float64, s *[2]float64)

//go:noescape
func affineDAVX512(dx, dy, x *float64, n int, a, b, d float64)

//go:noescape
func affineAddDAVX512(dx, dy, x *float64, n int, a, b, d float64)

//go:noescape
func addReLUDAVX512(y, a, b *float64, n int)

//go:noescape
func reLUMaskDAVX512(dst, src, x *float64, n int)

//go:noescape
func reLUMaskAddDAVX512(dst, src, x *float64, n int)

//go:noescape
func winogradInputSAVX512(dst, src *float32, h, w, stride, first, run, jump int)

//go:noescape
func winogradOutputSAVX512(dst, src *float32, h, w, stride int)

//go:noescape
func winogradOutputAddSAVX512(dst, src *float32, h, w, stride int)

//go:noescape
func winogradOutputAdjointSAVX512(dst, src *float32, h, w, stride int)

//go:noescape
func winogradInputDAVX512(dst, src *float64, h, w, stride, first, run, jump int)

//go:noescape
func winogradOutputDAVX512(dst, src *float64, h, w, stride int)

//go:noescape
func winogradOutputAddDAVX512(dst, src *float64, h, w, stride int)

//go:noescape
func winogradOutputAdjointDAVX512(dst, src *float64, h, w, stride int)

//go:noescape
func winogradInput4SAVX512(dst, src *float32, h, w, stride, first, run, jump int)

//go:noescape
func winogradOutput4SAVX512(dst, src *float32, h, w, stride int)

//go:noescape
func winogradOutputAdd4SAVX512(dst, src *float32, h, w, stride int)

//go:noescape
func winogradOutputAdjoint4SAVX512(dst, src *float32, h, w, stride int)

//go:noescape
func winogradInput4DAVX512(dst, src *float64, h, w, stride, first, run, jump int)

//go:noescape
func winogradOutput4DAVX512(dst, src *float64, h, w, stride int)

//go:noescape
func winogradOutputAdd4DAVX512(dst, src *float64, h, w, stride int)

//go:noescape
func winogradOutputAdjoint4DAVX512(dst, src *float64, h, w, stride int)

//go:noescape
func winogradInput4WSAVX512(dst, src *float32, h, w, stride, first, run, jump int)

//go:noescape
func winogradOutput4WSAVX512(dst, src *float32, h, w, stride, segs int)

//go:noescape
func winogradOutputAdd4WSAVX512(dst, src *float32, h, w, stride, segs int)

//go:noescape
func winogradOutputAdjoint4WSAVX512(dst, src *float32, h, w, stride, segs int)

//go:noescape
func winogradInput4WDAVX512(dst, src *float64, h, w, stride, first, run, jump int)

//go:noescape
func winogradOutput4WDAVX512(dst, src *float64, h, w, stride, segs int)

//go:noescape
func winogradOutputAdd4WDAVX512(dst, src *float64, h, w, stride, segs int)

//go:noescape
func winogradOutputAdjoint4WDAVX512(dst, src *float64, h, w, stride, segs int)

//go:noescape
func winogradInput16SAVX512(dst, src *float32, stride int)

//go:noescape
func transposeSAVX512(dst, src *float32, lddst, ldsrc, n int)

//go:noescape
func transposeDAVX512(dst, src *float64, lddst, ldsrc, n int)
