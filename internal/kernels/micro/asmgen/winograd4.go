package main

import (
	"bytes"
	"fmt"
)

// winograd4 writes the tile transforms of Winograd's F(4x4, 3x3) for
// element type e, one plane (one image's channel) of h x w values per call,
// h and w multiples of 4, w at most two vectors (32 float32 or 16 float64
// values). The tw = w/4 tiles of a row of tiles sit in the lanes of a
// vector: a row is split into its four phases (columns 4j+k, lane j, k =
// 0..3), so that the six columns 4j-1 .. 4j+4 of tile j's window are phase
// 3 shifted up a lane, phases 0 to 3, and phase 0 shifted down a lane, with
// zeros for the padding. The matrices (Lavin and Gray):
//
//	Bᵀ = | 4  0 -5  0  1  0 |    Aᵀ = | 1  1  1  1  1  0 |
//	     | 0 -4 -4  1  1  0 |         | 0  1 -1  2 -2  0 |
//	     | 0  4 -4 -1  1  0 |         | 0  1  1  4  4  0 |
//	     | 0 -2 -1  2  1  0 |         | 0  1 -1  8 -8  1 |
//	     | 0  2 -1 -2  1  0 |
//	     | 0  4  0 -5  0  1 |
//
// Down the rows the transforms run on whole rows (two vectors), across
// them on the phases. The 36 transformed planes are stride values apart,
// tile row i at offset i*tw in each, written or read in order (plane 6a+b:
// row a, column b of the tile's transform):
//
//	WinogradInput4:          V = Bᵀ d B of every 6x6 window (padding 1), two
//	                         rows of tiles per vector; rows of tiles jump as
//	                         WinogradInput's do, in pairs (first and run
//	                         even, or h 4: no jump within the plane)
//	WinogradOutput4:         Y = Aᵀ M A into the 4x4 tiles of dst (add: +=)
//	WinogradOutputAdjoint4:  dM = A dY Aᵀ of every 4x4 tile of dy
func winograd4(b *bytes.Buffer, e elem) {
	m := newEmitter(b, e)
	p, label, op, mov, align, lanes := m.p, m.label, m.op, m.mov, m.align, m.lanes
	sfx, typ := e.sfx, e.typ
	perm := "VPERMT2" + e.p // VPERMT2PS / VPERMT2PD
	fma, fnma := op("VFMADD231"), op("VFNMADD231")
	table := func(name string, f func(j int) int) string { return m.table("wino4", name, f) }
	// Phase k of a row in two vectors: lane j = column 4j+k.
	var phase [4]string
	for k := range phase {
		phase[k] = table(fmt.Sprintf("Phase%d", k), func(j int) int { return 4*j + k })
	}
	// Interleaving: two phases' lanes alternately, then two such pairs
	// into a row's first and second vector (column l = 4j+k from pair
	// k/2's lane 2j+k%2).
	pair := table("Pair", func(l int) int { return l/2 + (l%2)*lanes })
	rowOf := func(l int) int {
		j, k := l/4, l%4
		return 2*j + k%2 + (k/2)*lanes
	}
	rowLo := table("RowLo", rowOf)
	rowHi := table("RowHi", func(l int) int { return rowOf(l + lanes) })
	constant := func(name string, bits uint64) string {
		sym := fmt.Sprintf("wino4%s%s<>", name, sfx)
		fmt.Fprintf(b, "DATA %s+0(SB)/%d, $0x%x\n", sym, e.size, bits)
		fmt.Fprintf(b, "GLOBL %s(SB), RODATA|NOPTR, $%d\n", sym, e.size)
		return sym
	}
	bits := map[float64][2]uint64{
		2: {0x40000000, 0x4000000000000000}, 4: {0x40800000, 0x4010000000000000},
		5: {0x40a00000, 0x4014000000000000}, 8: {0x41000000, 0x4020000000000000},
	}
	consts := map[float64]string{}
	for _, v := range []float64{2, 4, 5, 8} {
		consts[v] = constant(fmt.Sprintf("C%d", int(v)), bits[v][e.size/8])
	}

	// prologue loads the arguments and sets K1 and K2 to a row's lanes in
	// its first and second vector, K3 to a row of tiles' lanes, R8 = the
	// planes' stride in bytes, R11 = a row of tiles' bytes less 36
	// strides (the step from past the last plane to the next row of
	// tiles), R12 = a row's bytes, R10 = three rows', DX = rows of tiles.
	prologue := func(name, sig string, frame int) {
		m.header(name, sig, frame)
		m.rowMasks(2)
		p("MOVQ BX, CX")
		p("SHRQ $2, CX")
		m.maskCX("K3")
		p("MOVQ CX, R11")
		p("SHLQ $%d, R11", shift(e.size))
		p("SHLQ $%d, R8", shift(e.size))
		p("IMUL3Q $36, R8, R13")
		p("SUBQ R13, R11")
		p("MOVQ BX, R12")
		p("SHLQ $%d, R12", shift(e.size))
		p("LEAQ (R12)(R12*2), R10")
		p("SHRQ $2, DX")
	}
	broadcast := func(v float64, z int) { p("%s %s(SB), Z%d", e.bcast, consts[v], z) }
	loadRow := func(addr string, z int) {
		p("%s.Z %s, K1, Z%d", mov, addr, z)
		p("%s.Z 64%s, K2, Z%d", mov, addr, z+1)
	}
	// store writes Z<z> to the next plane at DI.
	store := func(z int) {
		p("%s Z%d, K3, (DI)", mov, z)
		p("ADDQ R8, DI")
	}
	// combine6 writes, to Z<dst> (tmp a scratch register), combination
	// c (0..5) of the six values x[0..5] by Bᵀ's row c, with the
	// constants 4 and 5 in Z<four> and Z<five>.
	combine6 := func(c int, x [6]int, dst, tmp, four, five int) {
		switch c {
		case 0, 5: // 4 x0 - 5 x2 + x4; 4 x1 - 5 x3 + x5
			o := c / 5
			p("VMOVAPD Z%d, Z%d", x[4+o], dst)
			p("%s Z%d, Z%d, Z%d", fma, four, x[o], dst)
			p("%s Z%d, Z%d, Z%d", fnma, five, x[2+o], dst)
		case 1: // (x3 + x4) - 4 (x1 + x2)
			p("%s Z%d, Z%d, Z%d", op("VADD"), x[2], x[1], tmp)
			p("%s Z%d, Z%d, Z%d", op("VADD"), x[4], x[3], dst)
			p("%s Z%d, Z%d, Z%d", fnma, four, tmp, dst)
		case 2: // (x4 - x3) + 4 (x1 - x2)
			p("%s Z%d, Z%d, Z%d", op("VSUB"), x[2], x[1], tmp)
			p("%s Z%d, Z%d, Z%d", op("VSUB"), x[3], x[4], dst)
			p("%s Z%d, Z%d, Z%d", fma, four, tmp, dst)
		case 3, 4: // (x4 - x2) ± 2 (x3 - x1), 2 = 4/2
			p("%s Z%d, Z%d, Z%d", op("VSUB"), x[1], x[3], tmp)
			p("%s Z%d, Z%d, Z%d", op("VADD"), tmp, tmp, tmp)
			p("%s Z%d, Z%d, Z%d", op("VSUB"), x[2], x[4], dst)
			if c == 3 {
				p("%s Z%d, Z%d, Z%d", op("VADD"), tmp, dst, dst)
			} else {
				p("%s Z%d, Z%d, Z%d", op("VSUB"), tmp, dst, dst)
			}
		}
	}

	// WinogradInput4: two rows of tiles at once, i and i+1, their 2tw
	// tiles in the lanes of a vector as in the planes (a last one alone
	// where h/4 is odd).
	// Rows 4i-1 .. 4i+8 of the plane in Z0/Z1 .. Z18/Z19 (first and second
	// vector; the windows' rows d0..d5 are the first six for tile row i,
	// the last six for i+1). For each row a of Bᵀ: Bᵀ d of both in
	// Z20/Z21 and Z22/Z23, their phases permuted into the lanes of each
	// and blended (K4: lanes tw and up) into Z25..Z28; phase 3 shifted up
	// into Z20 and phase 0 down into Z21, zero at each row of tiles' edge
	// (K5, K6); combinations in Z22 (Z23, Z24 scratch). 4 and 5 in Z29,
	// Z30; -4tw in Z31's lanes, the phase tables' shift to the second row
	// of tiles. Planes at DI, (R8*1), (R8*2), (R15*1), (R8*4), (R14*1): 0
	// to 5 strides on; AX = 6 strides; K7 the stored lanes.
	name := "WinogradInput4" + sfx
	prologue(name, fmt.Sprintf("dst, src *%s, h, w, stride, first, run, jump int", typ), 64)
	kmask := func(k string) { p("KMOVW R13, %s", k) }
	// K4 = lanes from tw; K5 = all but 0 and tw; K6 = all but tw-1 and
	// 2tw-1; K7 = lanes below 2tw (CX = tw after the prologue).
	p("MOVQ $-1, R13")
	p("SHLQ CX, R13")
	kmask("K4")
	p("MOVQ $1, R9")
	p("SHLQ CX, R9")
	p("ORQ $1, R9")
	p("MOVQ R9, R13")
	p("NOTQ R13")
	kmask("K5")
	p("SHLQ CX, R9")
	p("SHRQ $1, R9")
	p("MOVQ R9, R13")
	p("NOTQ R13")
	kmask("K6")
	p("MOVQ $1, R13")
	p("SHLQ CX, R13")
	p("SHLQ CX, R13")
	p("DECQ R13")
	kmask("K7")
	p("LEAQ 0(CX*4), R13")
	p("NEGQ R13")
	p("%s R13, Z31", map[int]string{4: "VPBROADCASTD", 8: "VPBROADCASTQ"}[e.size])
	// Two rows of tiles per step: R11 gains one more row of tiles; DX
	// counts the rows of tiles left.
	p("MOVQ CX, R13")
	p("SHLQ $%d, R13", shift(e.size))
	p("ADDQ R13, R11")
	p("LEAQ (R8)(R8*2), R15")
	p("LEAQ (R8)(R8*4), R14")
	p("LEAQ (R8)(R8*2), AX")
	p("SHLQ $1, AX")
	// The panels' jumps, in pairs of rows of tiles.
	p("MOVQ first+40(FP), CX")
	p("SHRQ $1, CX")
	p("MOVQ run+48(FP), BX")
	p("SHRQ $1, BX")
	p("MOVQ jump+56(FP), R13")
	p("SHLQ $%d, R13", shift(e.size))
	broadcast(4, 29)
	broadcast(5, 30)
	p("VPXORD Z0, Z0, Z0")
	p("VPXORD Z1, Z1, Z1")
	loadRow("(SI)", 2)
	p("ADDQ R12, SI")
	// Rows 4i+1 .. 4i+3 are the plane's; 4i+4 .. 4i+7 where tile row
	// i+1 is, 4i+8 where i+2 is, else zero. A last row of tiles alone
	// (h/4 odd) stores its tw lanes only (K7 = K3).
	label(name + "_row")
	p("LEAQ (SI)(R12*4), R9")
	for r, addr := range []string{"(SI)", "(SI)(R12*1)", "(SI)(R12*2)"} {
		loadRow(addr, 4+2*r)
	}
	for z := 10; z < 20; z++ {
		p("VPXORD Z%d, Z%d, Z%d", z, z, z)
	}
	p("CMPQ DX, $1")
	p("JGT %s_pair", name)
	p("KMOVW K3, K7")
	p("JMP %s_last", name)
	label(name + "_pair")
	for r, addr := range []string{"(SI)(R10*1)", "(R9)", "(R9)(R12*1)", "(R9)(R12*2)"} {
		loadRow(addr, 10+2*r)
	}
	p("CMPQ DX, $2")
	p("JEQ %s_last", name)
	loadRow("(R9)(R10*1)", 18)
	label(name + "_last")
	planeAt := []string{"(DI)", "(DI)(R8*1)", "(DI)(R8*2)", "(DI)(R15*1)", "(DI)(R8*4)", "(DI)(R14*1)"}
	for a := range 6 {
		for h := range 2 {
			combine6(a, [6]int{h, 2 + h, 4 + h, 6 + h, 8 + h, 10 + h}, 20+h, 24, 29, 30)
			combine6(a, [6]int{8 + h, 10 + h, 12 + h, 14 + h, 16 + h, 18 + h}, 22+h, 24, 29, 30)
		}
		for k := range 4 {
			z := 25 + k
			p("%s %s(SB), Z%d", mov, phase[k], z)
			p("VPERMI2%s Z21, Z20, Z%d", e.p, z)
			p("%s %s(SB), Z31, Z24", map[int]string{4: "VPADDD", 8: "VPADDQ"}[e.size], phase[k])
			p("VPERMI2%s Z23, Z22, Z24", e.p)
			p("VBLENDM%s Z24, Z%d, K4, Z%d", e.p, z, z)
		}
		p("%s.Z $%d, Z28, Z28, K5, Z20", align, lanes-1)
		p("%s.Z $1, Z25, Z25, K6, Z21", align)
		cols := [6]int{20, 25, 26, 27, 28, 21}
		for c := range 6 {
			combine6(c, cols, 22, 23, 29, 30)
			p("%s Z22, K7, %s", mov, planeAt[c])
		}
		p("ADDQ AX, DI")
	}
	p("ADDQ R11, DI")
	p("DECQ CX")
	p("JNZ %s_same", name)
	p("MOVQ BX, CX")
	p("ADDQ R13, DI")
	label(name + "_same")
	for z := range 4 {
		p("VMOVAPD Z%d, Z%d", 16+z, z)
	}
	p("LEAQ (SI)(R12*8), SI")
	p("SUBQ $2, DX")
	p("JGT %s_row", name)
	p("VZEROUPPER")
	p("RET")

	// combine4 writes to Z<dst> combination a (0..5) of four values x by
	// A's row a (Aᵀ's column): x0; x0+x1+x2+x3; x0-x1+x2-x3; x0+2x1+4x2+8x3;
	// x0-2x1+4x2-8x3; x3, from the sums e = x0+x2, f = x1+x3, g = x0+4x2,
	// h = 2x1+8x3 in Z<s>..Z<s+3>.
	combine4 := func(a int, s, dst int) {
		switch a {
		case 1, 3:
			p("%s Z%d, Z%d, Z%d", op("VADD"), s+1+(a/3)*2, s+(a/3)*2, dst)
		case 2, 4:
			p("%s Z%d, Z%d, Z%d", op("VSUB"), s+1+(a/3)*2, s+(a/3)*2, dst)
		}
	}
	sums4 := func(x [4]int, s, two, four, eight int) {
		p("%s Z%d, Z%d, Z%d", op("VADD"), x[2], x[0], s)
		p("%s Z%d, Z%d, Z%d", op("VADD"), x[3], x[1], s+1)
		p("VMOVAPD Z%d, Z%d", x[0], s+2)
		p("%s Z%d, Z%d, Z%d", fma, four, x[2], s+2)
		p("%s Z%d, Z%d, Z%d", op("VMUL"), two, x[1], s+3)
		p("%s Z%d, Z%d, Z%d", fma, eight, x[3], s+3)
	}

	// WinogradOutputAdjoint4: rows y0..y3 (4i .. 4i+3) of dy in Z0/Z1 ..
	// Z6/Z7; A dy: their sums in Z8..Z15 (first vectors Z8..Z11, second
	// Z12..Z15), row a in Z16/Z17 (or y0, y3 themselves), its phases in
	// Z18..Z21, their sums Z22..Z25; phase tables Z26, Z27, Z31 and the one
	// for phase 3 reloaded; 2, 4, 8 in Z28..Z30.
	name = "WinogradOutputAdjoint4" + sfx
	prologue(name, fmt.Sprintf("dst, src *%s, h, w, stride int", typ), 40)
	broadcast(2, 28)
	broadcast(4, 29)
	broadcast(8, 30)
	label(name + "_row")
	loadRow("(SI)", 0)
	loadRow("(SI)(R12*1)", 2)
	loadRow("(SI)(R12*2)", 4)
	loadRow("(SI)(R10*1)", 6)
	for h := range 2 {
		sums4([4]int{h, 2 + h, 4 + h, 6 + h}, 8+4*h, 28, 29, 30)
	}
	// Phase tables: with the sums taking Z8..Z25, in Z26, Z27 and a
	// register pair per use.
	for a := range 6 {
		lo := 16
		switch a {
		case 0:
			lo = 0
		case 5:
			lo = 6
		default:
			for h := range 2 {
				combine4(a, 8+4*h, 16+h)
			}
		}
		for k := range 4 {
			p("%s %s(SB), Z31", mov, phase[k])
			p("VMOVAPD Z%d, Z%d", lo, 18+k)
			p("%s.Z Z%d, Z31, K3, Z%d", perm, lo+1, 18+k)
		}
		sums4([4]int{18, 19, 20, 21}, 22, 28, 29, 30)
		for c := range 6 {
			switch c {
			case 0:
				store(18)
			case 5:
				store(21)
			default:
				combine4(c, 22, 26)
				store(26)
			}
		}
	}
	p("ADDQ R11, DI")
	p("LEAQ (SI)(R12*4), SI")
	p("DECQ DX")
	p("JNZ %s_row", name)
	p("VZEROUPPER")
	p("RET")

	// WinogradOutput4: for each row a of a tile's M (planes 6a .. 6a+5 in
	// Z0..Z5), M A across: with e = m1+m2, f = m1-m2, g = m3+m4, k = m3-m4
	// (Z6..Z9) the phases m0+e+g, f+2k, e+4g, f+8k+m5 (Z10..Z13),
	// interleaved into a row (Z16/Z17 through Z14, Z15); Aᵀ down, the four
	// output rows summed in Z18/Z19 .. Z24/Z25. Tables in Z26, Z27, Z31; 2,
	// 4, 8 in Z28..Z30.
	for _, add := range []bool{false, true} {
		name = "WinogradOutput4" + sfx
		if add {
			name = "WinogradOutputAdd4" + sfx
		}
		// Here the planes are the source: SI walks them, DI the image.
		prologue(name, fmt.Sprintf("dst, src *%s, h, w, stride int", typ), 40)
		p("%s %s(SB), Z26", mov, pair)
		p("%s %s(SB), Z27", mov, rowLo)
		p("%s %s(SB), Z31", mov, rowHi)
		broadcast(2, 28)
		broadcast(4, 29)
		broadcast(8, 30)
		label(name + "_row")
		aT := [4][6]int{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}
		var set [4]bool
		for a := range 6 {
			for c := range 6 {
				p("%s.Z (SI), K3, Z%d", mov, c)
				p("ADDQ R8, SI")
			}
			p("%s Z2, Z1, Z6", op("VADD"))
			p("%s Z2, Z1, Z7", op("VSUB"))
			p("%s Z4, Z3, Z8", op("VADD"))
			p("%s Z4, Z3, Z9", op("VSUB"))
			p("%s Z6, Z0, Z10", op("VADD"))
			p("%s Z8, Z10, Z10", op("VADD"))
			p("VMOVAPD Z7, Z11")
			p("%s Z28, Z9, Z11", fma)
			p("VMOVAPD Z6, Z12")
			p("%s Z29, Z8, Z12", fma)
			p("%s Z5, Z7, Z13", op("VADD"))
			p("%s Z30, Z9, Z13", fma)
			p("VMOVAPD Z10, Z14")
			p("%s Z11, Z26, Z14", perm)
			p("VMOVAPD Z12, Z15")
			p("%s Z13, Z26, Z15", perm)
			p("VMOVAPD Z14, Z16")
			p("%s Z15, Z27, Z16", perm)
			p("VMOVAPD Z14, Z17")
			p("%s Z15, Z31, Z17", perm)
			for r := range 4 {
				c := aT[r][a]
				for h := range 2 {
					x, acc := 16+h, 18+2*r+h
					switch {
					case c == 0:
					case !set[r]: // the first coefficient of every row is 1
						p("VMOVAPD Z%d, Z%d", x, acc)
					case c == 1:
						p("%s Z%d, Z%d, Z%d", op("VADD"), x, acc, acc)
					case c == -1:
						p("%s Z%d, Z%d, Z%d", op("VSUB"), x, acc, acc)
					case c > 0:
						p("%s Z%d, Z%d, Z%d", fma, map[int]int{2: 28, 4: 29, 8: 30}[c], x, acc)
					default:
						p("%s Z%d, Z%d, Z%d", fnma, map[int]int{-2: 28, -8: 30}[c], x, acc)
					}
				}
				if c != 0 {
					set[r] = true
				}
			}
		}
		for r := range 4 {
			row := []string{"(DI)", "(DI)(R12*1)", "(DI)(R12*2)", "(DI)(R10*1)"}[r]
			lo, hi := 18+2*r, 19+2*r
			if add {
				p("%s.Z %s, K1, Z0", mov, row)
				p("%s Z0, Z%d, Z%d", op("VADD"), lo, lo)
				p("%s.Z 64%s, K2, Z1", mov, row)
				p("%s Z1, Z%d, Z%d", op("VADD"), hi, hi)
			}
			p("%s Z%d, K1, %s", mov, lo, row)
			p("%s Z%d, K2, 64%s", mov, hi, row)
		}
		p("ADDQ R11, SI")
		p("LEAQ (DI)(R12*4), DI")
		p("DECQ DX")
		p("JNZ %s_row", name)
		p("VZEROUPPER")
		p("RET")
	}
}
