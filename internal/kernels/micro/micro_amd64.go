//go:build amd64 && !purego

package micro

import "golang.org/x/sys/cpu"

//go:generate go run ./asmgen

// Available reports whether the kernels run here: the CPU has AVX-512F and
// the operating system saves its registers.
var Available = cpu.X86.HasAVX512F

// Sgemm12x32 adds alpha * A B to the 12 x 32 block of C at c over k steps.
//
//go:noescape
func Sgemm12x32(k int, a, b, c *float32, ldc int, alpha float32)

// Dgemm12x16 adds alpha * A B to the 12 x 16 block of C at c over k steps.
//
//go:noescape
func Dgemm12x16(k int, a, b, c *float64, ldc int, alpha float64)
