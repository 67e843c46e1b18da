//go:build amd64 && !purego

package micro

import "golang.org/x/sys/cpu"

//go:generate go run ./asmgen

// Available reports whether the kernels run here: the CPU has AVX-512F and
// the operating system saves its registers.
var Available = cpu.X86.HasAVX512F

// Sgemm12x32 adds alpha * A B, over k steps, to the first rows rows of the
// 12 x 32 block of C at c.
//
//go:noescape
func Sgemm12x32(k int, a, b, c *float32, ldc, rows int, alpha float32)

// Dgemm12x16 adds alpha * A B, over k steps, to the first rows rows of the
// 12 x 16 block of C at c.
//
//go:noescape
func Dgemm12x16(k int, a, b, c *float64, ldc, rows int, alpha float64)

// Sgemm12x32Rows is Sgemm12x32 with B read in place: step l reads the 32
// values at b[offs[l]:], the first 16 there and the last 16 at
// b[offs[l]+half:] (half = 16: 32 values in a row).
//
//go:noescape
func Sgemm12x32Rows(k int, a, b *float32, offs *int, half int, c *float32, ldc, rows int, alpha float32)

// Dgemm12x16Rows is Dgemm12x16 with B read in place: step l reads the 16
// values at b[offs[l]:], the first 8 there and the last 8 at
// b[offs[l]+half:].
//
//go:noescape
func Dgemm12x16Rows(k int, a, b *float64, offs *int, half int, c *float64, ldc, rows int, alpha float64)

// Sgemm12x32Rows4 is Sgemm12x32 with B read in place as four quarters:
// step l reads 8 values at each of b[offs[l]+q*stride:], q = 0..3 (four
// image rows of a grid).
//
//go:noescape
func Sgemm12x32Rows4(k int, a, b *float32, offs *int, stride int, c *float32, ldc, rows int, alpha float32)

// Dgemm12x16Rows4 is Sgemm12x32Rows4 for float64: 4 values per quarter.
//
//go:noescape
func Dgemm12x16Rows4(k int, a, b *float64, offs *int, stride int, c *float64, ldc, rows int, alpha float64)

// Sgemm12x32ARows is Sgemm12x32 with A read in place: step l broadcasts
// a[i][l] from the 12 rows a[i], each of k values.
//
//go:noescape
func Sgemm12x32ARows(k int, a *[12]*float32, b, c *float32, ldc, rows int, alpha float32)

// Dgemm12x16ARows is Dgemm12x16 with A read in place from 12 rows.
//
//go:noescape
func Dgemm12x16ARows(k int, a *[12]*float64, b, c *float64, ldc, rows int, alpha float64)

// Sgemm12x32Set sets the first rows rows of the 12 x 32 block of C at c to
// alpha * A B (Sgemm12x32 adds it): C need not be cleared first.
//
//go:noescape
func Sgemm12x32Set(k int, a, b, c *float32, ldc, rows int, alpha float32)

// Dgemm12x16Set is Sgemm12x32Set for float64.
//
//go:noescape
func Dgemm12x16Set(k int, a, b, c *float64, ldc, rows int, alpha float64)

// Sgemm12x32ARowsSet is Sgemm12x32ARows setting C (Sgemm12x32Set).
//
//go:noescape
func Sgemm12x32ARowsSet(k int, a *[12]*float32, b, c *float32, ldc, rows int, alpha float32)

// Dgemm12x16ARowsSet is Dgemm12x16ARows setting C (Sgemm12x32Set).
//
//go:noescape
func Dgemm12x16ARowsSet(k int, a *[12]*float64, b, c *float64, ldc, rows int, alpha float64)

// SparseSRow adds to the 128 values at c the n rows of B at b[offs[i]:],
// each scaled by vals[i]: c[j] += sum_i vals[i] * b[offs[i]+j].
//
//go:noescape
func SparseSRow(n int, vals *float32, offs *int, b, c *float32)

// SparseDRow is SparseSRow for float64, 64 values.
//
//go:noescape
func SparseDRow(n int, vals *float64, offs *int, b, c *float64)

// SparseSDot adds to the 16 partial sums at acc[16*i:] the products of the
// 128 values at a with the 128 at b[offs[i]:], for i < n:
// acc[16*i+l] += sum_r a[16*r+l] * b[offs[i]+16*r+l].
//
//go:noescape
func SparseSDot(n int, offs *int, a, b, acc *float32)

// SparseDDot is SparseSDot for float64: 64 values, 8 partial sums each.
//
//go:noescape
func SparseDDot(n int, offs *int, a, b, acc *float64)
