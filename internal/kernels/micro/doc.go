// Package micro holds the innermost loops of winnow's products and
// convolutions: the micro-kernels of the packed matrix product
// (kernels.Gemm), the sparse rows and dots of the sparse products, the
// elementwise loops of batch normalisation and ReLU, the tile transforms of
// Winograd's F(2x2, 3x3) and F(4x4, 3x3), and square transposes.
//
// Every kernel is a Go function whose doc comment gives its loop. Where the
// CPU has AVX-512 (Available) it runs as Go assembly written by asmgen (go
// generate ./internal/kernels/micro; TestGeneratedAssembly holds the .s
// files to the generator), elsewhere, and with the purego tag, as that
// loop in Go (loops.go): Available chooses speed, never correctness, and
// the tests hold both to the same sums. It is a package of its own because
// a package that uses cgo (the OpenBLAS build of kernels) cannot hold
// assembly.
//
// A gemm kernel multiplies a packed panel of A (k steps of 12 values) by a
// packed panel of B (k steps of Cols values) and adds alpha times the
// product to the first rows rows of a 12 x Cols block of C with row stride
// ldc. The Rows variants read B in place, step l from b[offs[l]:] (the
// second half of the Cols values from b[offs[l]+half:]), the Rows4 variants
// as four quarters stride apart; the ARows variants read A in place from 12
// row pointers; the Set variants set C instead of adding to it.
// Convolutions use them to multiply with column matrices that are never
// formed.
package micro
