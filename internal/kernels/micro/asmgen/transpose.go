package main

import (
	"bytes"
	"fmt"
)

// transpose writes TransposeS and TransposeD: n blocks of L x L values
// (L = 16 float32 or 8 float64, a vector's worth), block b taking rows
// j < L of src (row stride ldsrc) at columns b*L .. b*L+L-1 to rows b*L ..
// b*L+L-1 of dst (row stride lddst), lanes j:
//
//	dst[(b*L+l)*lddst + j] = src[j*ldsrc + b*L + l]
//
// The L rows are transposed in registers: pairs of rows interleaved
// (unpack), then pairs of pairs (unpack as float64, float32 only), then the
// four 128-bit lanes of four vectors as a 4x4 transpose (two rounds of
// 128-bit lane shuffles).
func transpose(b *bytes.Buffer, e elem) {
	p := func(format string, args ...any) { fmt.Fprintf(b, "\t"+format+"\n", args...) }
	lanes := 64 / e.size
	name := "Transpose" + e.sfx
	mov := "VMOVUP" + e.p[1:]
	fmt.Fprintf(b, "\n// func %s(dst, src *%s, lddst, ldsrc, n int)\nTEXT ·%s(SB), NOSPLIT, $0-40\n", name, e.typ, name)
	p("MOVQ dst+0(FP), DI")
	p("MOVQ src+8(FP), SI")
	p("MOVQ lddst+16(FP), R8")
	p("MOVQ ldsrc+24(FP), R9")
	p("MOVQ n+32(FP), CX")
	p("SHLQ $%d, R8", shift(e.size))
	p("SHLQ $%d, R9", shift(e.size))
	p("TESTQ CX, CX")
	p("JZ %s_done", name)
	fmt.Fprintf(b, "%s_loop:\n", name)
	// Rows into Z0 .. Z<lanes-1>.
	p("MOVQ SI, AX")
	for j := range lanes {
		p("%s (AX), Z%d", mov, j)
		if j < lanes-1 {
			p("ADDQ R9, AX")
		}
	}
	// shuf4 does the 4x4 transpose of 128-bit lanes of Z<a>, Z<b>, Z<c>,
	// Z<d> (rows' groups 0..3), leaving lane-row k in Z<out[k]>.
	shuf := map[int]string{4: "VSHUFF32X4", 8: "VSHUFF64X2"}[e.size]
	shuf4 := func(a, bb, c, d int, out [4]int) {
		p("%s $0x44, Z%d, Z%d, Z28", shuf, bb, a)
		p("%s $0xEE, Z%d, Z%d, Z29", shuf, bb, a)
		p("%s $0x44, Z%d, Z%d, Z30", shuf, d, c)
		p("%s $0xEE, Z%d, Z%d, Z31", shuf, d, c)
		p("%s $0x88, Z30, Z28, Z%d", shuf, out[0])
		p("%s $0xDD, Z30, Z28, Z%d", shuf, out[1])
		p("%s $0x88, Z31, Z29, Z%d", shuf, out[2])
		p("%s $0xDD, Z31, Z29, Z%d", shuf, out[3])
	}
	// store writes the vector of column l, Z<z>, to dst row l.
	store := func(l, z int) {
		p("MOVQ $%d, AX", l)
		p("IMULQ R8, AX")
		p("%s Z%d, (DI)(AX*1)", mov, z)
	}
	if e.size == 4 {
		// Pairs: t(2i) = lo(r2i, r2i+1), t(2i+1) = hi(...), in Z16..Z31
		// would collide with shuf4's temporaries: rows' pairs go to Z16..Z27
		// in two halves instead.
		for half := range 2 {
			// Rows 8*half .. 8*half+7: unpack into Z16..Z23.
			for i := range 4 {
				r := 8*half + 2*i
				p("VUNPCKLPS Z%d, Z%d, Z%d", r+1, r, 16+2*i)
				p("VUNPCKHPS Z%d, Z%d, Z%d", r+1, r, 17+2*i)
			}
			// Quads: u(4g+m) for the two groups g of this half, back into
			// the rows' registers (free now).
			for g := range 2 {
				t := 16 + 4*g
				u := 8*half + 4*g
				p("VUNPCKLPD Z%d, Z%d, Z%d", t+2, t, u)
				p("VUNPCKHPD Z%d, Z%d, Z%d", t+2, t, u+1)
				p("VUNPCKLPD Z%d, Z%d, Z%d", t+3, t+1, u+2)
				p("VUNPCKHPD Z%d, Z%d, Z%d", t+3, t+1, u+3)
			}
		}
		// u(4g+m) lane k = rows 4g..4g+3 at column 4k+m: column 4k+m is
		// lanes k of u(m), u(4+m), u(8+m), u(12+m).
		for m := range 4 {
			shuf4(m, 4+m, 8+m, 12+m, [4]int{16, 17, 18, 19})
			for k := range 4 {
				store(4*k+m, 16+k)
			}
		}
	} else {
		// Pairs: t(2g+m) lane k = rows 2g, 2g+1 at column 2k+m.
		for g := range 4 {
			p("VUNPCKLPD Z%d, Z%d, Z%d", 2*g+1, 2*g, 16+2*g)
			p("VUNPCKHPD Z%d, Z%d, Z%d", 2*g+1, 2*g, 17+2*g)
		}
		for m := range 2 {
			shuf4(16+m, 18+m, 20+m, 22+m, [4]int{0, 1, 2, 3})
			for k := range 4 {
				store(2*k+m, k)
			}
		}
	}
	p("ADDQ $64, SI")
	p("MOVQ R8, AX")
	p("SHLQ $%d, AX", map[int]int{4: 4, 8: 3}[e.size])
	p("ADDQ AX, DI")
	p("DECQ CX")
	p("JNZ %s_loop", name)
	fmt.Fprintf(b, "%s_done:\n", name)
	p("VZEROUPPER")
	p("RET")
}
