package main

import (
	"bytes"
	"fmt"
)

// winograd writes the tile transforms of Winograd's F(2x2, 3x3) for element
// type e, one plane (one image's channel) of h x w values per call, w at
// most two vectors (32 float32 or 16 float64 values), h and w even. The
// tw = w/2 tiles of a row of tiles sit in the lanes of a vector: a row of
// the plane is split into its even and odd columns (d[2j] and d[2j+1], lane
// j), so that the four columns 2j-1 .. 2j+2 of tile j's window are the odd
// columns shifted up a lane, the even, the odd and the even shifted down a
// lane, with zeros for the padding. The 16 transformed planes are stride
// values apart, tile row i at offset i*tw in each:
//
//	WinogradInput:          V = Bᵀ d B of every 4x4 window (padding 1); after
//	                        the first first rows of tiles and every run rows
//	                        on, the planes' pointers jump by jump values more
//	                        (the panels of a packed product; first 0: never)
//	WinogradOutput:         Y = Aᵀ M A into the 2x2 tiles of dst (add: +=)
//	WinogradOutputAdjoint:  dM = A dY Aᵀ of every 2x2 tile of dy
func winograd(b *bytes.Buffer, e elem) {
	m := newEmitter(b, e)
	p, label, op, mov, align, lanes := m.p, m.label, m.op, m.mov, m.align, m.lanes
	sfx, typ := e.sfx, e.typ
	perm := "VPERMT2" + e.p // VPERMT2PS / VPERMT2PD
	// The permutations: even and odd lanes of two vectors, and the
	// interleaving of two vectors' lanes (low and high halves).
	idx := func(name string, f func(j int) int) string { return m.table("wino", name, f) }
	even := idx("Even", func(j int) int { return 2 * j })
	odd := idx("Odd", func(j int) int { return 2*j + 1 })
	lo := idx("Lo", func(j int) int { return j/2 + (j%2)*lanes })
	hi := idx("Hi", func(j int) int { return lanes/2 + j/2 + (j%2)*lanes })

	// prologue loads the arguments and sets K1 and K2 to a row's lanes in
	// its first and second vector, K3 to a row of tiles' lanes, R8 = the
	// planes' stride in bytes, R10 = 3 R8, R11 = a row of tiles' bytes,
	// R12 = a row's bytes, DX = rows of tiles; the planes' pointers DI (0),
	// R14 (4), R9 (8), AX (12) from the pointer in reg.
	prologue := func(name, sig string, frame int, planes string) {
		m.header(name, sig, frame)
		m.rowMasks(2)
		p("MOVQ BX, CX")
		p("SHRQ $1, CX")
		m.maskCX("K3")
		p("MOVQ CX, R11")
		p("SHLQ $%d, R11", shift(e.size))
		p("SHLQ $%d, R8", shift(e.size))
		p("LEAQ (R8)(R8*2), R10")
		p("MOVQ BX, R12")
		p("SHLQ $%d, R12", shift(e.size))
		p("SHRQ $1, DX")
		p("MOVQ %s, R14", planes)
		p("LEAQ (R14)(R8*4), R14")
		p("LEAQ (R14)(R8*4), R9")
		p("LEAQ (R9)(R8*4), AX")
	}
	planeReg := []string{"DI", "R14", "R9", "AX"}
	// plane is the address of transformed plane 4a+c of the row of tiles
	// (the planes' pointers in base, base[0] DI unless said).
	plane := func(base []string, a, c int) string {
		return fmt.Sprintf("(%s)%s", base[a], []string{"", "(R8*1)", "(R8*2)", "(R10*1)"}[c])
	}
	advance := func(regs []string, by string) {
		for _, r := range regs {
			p("ADDQ %s, %s", by, r)
		}
	}
	// split loads the row at addr into its even (Z<ze>) and odd (Z<zo>)
	// columns, zero past w.
	split := func(addr string, ze, zo int) {
		p("%s.Z %s, K1, Z24", mov, addr)
		p("%s.Z 64%s, K2, Z25", mov, addr)
		p("VMOVAPD Z24, Z%d", ze)
		p("%s Z25, Z30, Z%d", perm, ze)
		p("VMOVAPD Z24, Z%d", zo)
		p("%s Z25, Z29, Z%d", perm, zo)
	}
	loadSplitIdx := func() {
		p("%s %s(SB), Z30", mov, even)
		p("%s %s(SB), Z29", mov, odd)
		p("VPXORD Z31, Z31, Z31")
	}
	// columns writes, for the row te (even columns) and to (odd) of a
	// row transform, Bᵀ's four column combinations across each tile to
	// planes 4a .. 4a+3: (d0-d2, d1+d2, d2-d1, d1-d3) with d0 = to shifted
	// up a lane, d1 = te, d2 = to, d3 = te shifted down a lane.
	columns := func(te, to, a int) {
		p("%s $%d, Z31, Z%d, Z16", align, lanes-1, to)
		p("%s Z%d, Z16, Z16", op("VSUB"), to)
		p("%s Z%d, Z%d, Z17", op("VADD"), to, te)
		p("%s Z%d, Z%d, Z18", op("VSUB"), te, to)
		p("%s $1, Z%d, Z31, Z19", align, te)
		p("%s Z19, Z%d, Z19", op("VSUB"), te)
		for c := range 4 {
			p("%s Z%d, K3, %s", mov, 16+c, plane(planeReg, a, c))
		}
	}

	// WinogradInput: rows r0..r3 of the window of tile row i are the rows
	// 2i-1 .. 2i+2 of the plane, in Z0/Z1 .. Z6/Z7 (even/odd columns).
	name := "WinogradInput" + sfx
	prologue(name, fmt.Sprintf("dst, src *%s, h, w, stride, first, run, jump int", typ), 64, "DI")
	// Rows of tiles may go to panels: after first rows of tiles, and every
	// run rows after that, the planes' pointers jump on by jump values.
	p("MOVQ first+40(FP), CX")
	p("MOVQ run+48(FP), BX")
	p("MOVQ jump+56(FP), R13")
	p("SHLQ $%d, R13", shift(e.size))
	loadSplitIdx()
	p("VPXORD Z0, Z0, Z0")
	p("VPXORD Z1, Z1, Z1")
	split("(SI)", 2, 3)
	p("ADDQ R12, SI")
	label(name + "_row")
	split("(SI)", 4, 5)
	p("VPXORD Z6, Z6, Z6")
	p("VPXORD Z7, Z7, Z7")
	p("CMPQ DX, $1")
	p("JEQ %s_last", name)
	split("(SI)(R12*1)", 6, 7)
	label(name + "_last")
	// Bᵀ d down the rows: (r0-r2, r1+r2, r2-r1, r1-r3).
	for h := range 2 {
		p("%s Z%d, Z%d, Z%d", op("VSUB"), 4+h, 0+h, 8+h)
		p("%s Z%d, Z%d, Z%d", op("VADD"), 4+h, 2+h, 10+h)
		p("%s Z%d, Z%d, Z%d", op("VSUB"), 2+h, 4+h, 12+h)
		p("%s Z%d, Z%d, Z%d", op("VSUB"), 6+h, 2+h, 14+h)
	}
	for a := range 4 {
		columns(8+2*a, 9+2*a, a)
	}
	advance(planeReg, "R11")
	p("DECQ CX")
	p("JNZ %s_same", name)
	p("MOVQ BX, CX")
	advance(planeReg, "R13")
	label(name + "_same")
	p("LEAQ (SI)(R12*2), SI")
	for z := range 4 {
		p("VMOVAPD Z%d, Z%d", 4+z, z)
	}
	p("DECQ DX")
	p("JNZ %s_row", name)
	p("VZEROUPPER")
	p("RET")

	// WinogradOutputAdjoint: rows 2i and 2i+1 of dy in Z0/Z1 and Z2/Z3
	// (a, b and c, d: even and odd columns); dY Aᵀ across is (a, a+b, a-b,
	// -b) and (c, c+d, c-d, -d), then A down: (t, t+u, t-u, -u).
	name = "WinogradOutputAdjoint" + sfx
	prologue(name, fmt.Sprintf("dst, src *%s, h, w, stride int", typ), 40, "DI")
	loadSplitIdx()
	label(name + "_row")
	split("(SI)", 0, 1)
	split("(SI)(R12*1)", 2, 3)
	for r := range 2 { // t in Z4..Z7, u in Z8..Z11
		x, y, t := 2*r, 2*r+1, 4+4*r
		p("VMOVAPD Z%d, Z%d", x, t)
		p("%s Z%d, Z%d, Z%d", op("VADD"), y, x, t+1)
		p("%s Z%d, Z%d, Z%d", op("VSUB"), y, x, t+2)
		p("%s Z%d, Z31, Z%d", op("VSUB"), y, t+3)
	}
	for c := range 4 {
		p("%s Z%d, K3, %s", mov, 4+c, plane(planeReg, 0, c))
		p("%s Z%d, Z%d, Z16", op("VADD"), 8+c, 4+c)
		p("%s Z16, K3, %s", mov, plane(planeReg, 1, c))
		p("%s Z%d, Z%d, Z17", op("VSUB"), 8+c, 4+c)
		p("%s Z17, K3, %s", mov, plane(planeReg, 2, c))
		p("%s Z%d, Z31, Z18", op("VSUB"), 8+c)
		p("%s Z18, K3, %s", mov, plane(planeReg, 3, c))
	}
	advance(planeReg, "R11")
	p("LEAQ (SI)(R12*2), SI")
	p("DECQ DX")
	p("JNZ %s_row", name)
	p("VZEROUPPER")
	p("RET")

	// WinogradOutput: the 16 planes of a row of tiles in Z0..Z15; Aᵀ M
	// down: A0 = m0+m1+m2 and A1 = m1-m2-m3 (Z16..Z19, Z20..Z23), then
	// across: even columns A_0+A_1+A_2, odd A_1-A_2-A_3, interleaved.
	for _, add := range []bool{false, true} {
		name = "WinogradOutput" + sfx
		if add {
			name = "WinogradOutputAdd" + sfx
		}
		// Here the planes are the source: SI takes them, DI the image.
		prologue(name, fmt.Sprintf("dst, src *%s, h, w, stride int", typ), 40, "SI")
		src := []string{"SI", "R14", "R9", "AX"}
		p("%s %s(SB), Z28", mov, lo)
		p("%s %s(SB), Z29", mov, hi)
		label(name + "_row")
		for a := range 4 {
			for c := range 4 {
				p("%s.Z %s, K3, Z%d", mov, plane(src, a, c), 4*a+c)
			}
		}
		for c := range 4 {
			p("%s Z%d, Z%d, Z%d", op("VADD"), 4+c, c, 16+c)
			p("%s Z%d, Z%d, Z%d", op("VADD"), 8+c, 16+c, 16+c)
			p("%s Z%d, Z%d, Z%d", op("VSUB"), 8+c, 4+c, 20+c)
			p("%s Z%d, Z%d, Z%d", op("VSUB"), 12+c, 20+c, 20+c)
		}
		for r := range 2 {
			z := 16 + 4*r
			p("%s Z%d, Z%d, Z24", op("VADD"), z+1, z)
			p("%s Z%d, Z24, Z24", op("VADD"), z+2)
			p("%s Z%d, Z%d, Z25", op("VSUB"), z+2, z+1)
			p("%s Z%d, Z25, Z25", op("VSUB"), z+3)
			p("VMOVAPD Z24, Z26")
			p("%s Z25, Z28, Z26", perm)
			p("VMOVAPD Z24, Z27")
			p("%s Z25, Z29, Z27", perm)
			row := "(DI)"
			if r == 1 {
				row = "(DI)(R12*1)"
			}
			if add {
				p("%s.Z %s, K1, Z24", mov, row)
				p("%s Z24, Z26, Z26", op("VADD"))
				p("%s.Z 64%s, K2, Z25", mov, row)
				p("%s Z25, Z27, Z27", op("VADD"))
			}
			p("%s Z26, K1, %s", mov, row)
			p("%s Z27, K2, 64%s", mov, row)
		}
		advance(src, "R11")
		p("LEAQ (DI)(R12*2), DI")
		p("DECQ DX")
		p("JNZ %s_row", name)
		p("VZEROUPPER")
		p("RET")
	}
}
