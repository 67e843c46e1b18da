package main

import (
	"bytes"
	"fmt"
)

// emitter writes assembly for one element type: the helpers the Winograd
// transforms' generators share.
type emitter struct {
	b     *bytes.Buffer
	e     elem
	lanes int    // values per vector
	mov   string // VMOVUPS / VMOVUPD
	align string // VALIGND / VALIGNQ: a lane shift across two vectors
}

func newEmitter(b *bytes.Buffer, e elem) emitter {
	return emitter{b: b, e: e, lanes: 64 / e.size, mov: "VMOVUP" + e.p[1:], align: map[int]string{4: "VALIGND", 8: "VALIGNQ"}[e.size]}
}

// p writes an instruction.
func (m emitter) p(format string, args ...any) { fmt.Fprintf(m.b, "\t"+format+"\n", args...) }

// label writes a label.
func (m emitter) label(l string) { fmt.Fprintf(m.b, "%s:\n", l) }

// op is the packed instruction o for the element type (VADD: VADDPS).
func (m emitter) op(o string) string { return o + m.e.p }

// table writes a vector of lane indices, f(j) mod 2*lanes for lane j (a
// two-vector permutation's), as the read-only symbol prefix+name+suffix,
// and returns the symbol.
func (m emitter) table(prefix, name string, f func(j int) int) string {
	sym := fmt.Sprintf("%s%s%s<>", prefix, name, m.e.sfx)
	for j := range m.lanes {
		fmt.Fprintf(m.b, "DATA %s+%d(SB)/%d, $%d\n", sym, j*m.e.size, m.e.size, f(j)%(2*m.lanes))
	}
	fmt.Fprintf(m.b, "GLOBL %s(SB), RODATA|NOPTR, $64\n", sym)
	return sym
}

// maskCX sets the mask register k to CX's low lanes, (1 << CX) - 1, with
// R13 scratch.
func (m emitter) maskCX(k string) {
	m.p("MOVQ $1, R13")
	m.p("SHLQ CX, R13")
	m.p("DECQ R13")
	m.p("KMOVW R13, %s", k)
}

// header writes the TEXT line of the function name (frame bytes of
// arguments) and loads the transforms' first five arguments: DI = dst,
// SI = src, DX = h, BX = w, R8 = stride.
func (m emitter) header(name, sig string, frame int) {
	fmt.Fprintf(m.b, "\n// func %s(%s)\nTEXT ·%s(SB), NOSPLIT, $0-%d\n", name, sig, name, frame)
	m.p("MOVQ dst+0(FP), DI")
	m.p("MOVQ src+8(FP), SI")
	m.p("MOVQ h+16(FP), DX")
	m.p("MOVQ w+24(FP), BX")
	m.p("MOVQ stride+32(FP), R8")
}

// rowMasks sets K1 .. K<n> to the lanes a row of BX values takes in each of
// its n vectors, BX - v*lanes clamped to 0 .. lanes (CX, R13 scratch).
func (m emitter) rowMasks(n int) {
	for v := range n {
		m.p("MOVQ BX, CX")
		if v > 0 {
			m.p("SUBQ $%d, CX", v*m.lanes)
			m.p("XORQ R13, R13")
			m.p("CMPQ CX, R13")
			m.p("CMOVQLT R13, CX")
		}
		m.p("MOVQ $%d, R13", m.lanes)
		m.p("CMPQ CX, R13")
		m.p("CMOVQGT R13, CX")
		m.maskCX(fmt.Sprintf("K%d", v+1))
	}
}
