package main

import (
	"bytes"
	"fmt"
)

// winograd4Wide writes F(4x4, 3x3)'s tile transforms (as winograd4) for
// rows of up to four vectors (64 float32 or 32 float64 values), w/4 tiles
// of a row of tiles in a vector, one row of tiles at a time. A row's four
// phases are drawn from its four vectors in two rounds of permutations
// (pairs of phases from each half of the row, then the halves joined), and
// the transforms down the rows run on the phases:
//
//	WinogradInput4W:          V = Bᵀ d B, rows of tiles jumping as
//	                          WinogradInput's do
//	WinogradOutput4W:         Y = Aᵀ M A into dst (add: +=)
//	WinogradOutputAdjoint4W:  dM = A dY Aᵀ
//
// The constants 2, 4, 5 and 8 are broadcast from memory; the tables and
// constants are winograd4's.
func winograd4Wide(b *bytes.Buffer, e elem) {
	m := newEmitter(b, e)
	p, label, op, mov, align, lanes := m.p, m.label, m.op, m.mov, m.align, m.lanes
	sfx, typ := e.sfx, e.typ
	permI := "VPERMI2" + e.p
	bcst := func(o string) string { return op(o) + ".BCST" }
	table := func(name string, f func(j int) int) string { return m.table("wino4", name, f) }
	half := lanes / 2
	// Round one: from two vectors of a row (2*lanes columns), phases k
	// and k+1 of their lanes/2 tiles side by side.
	l1 := [2]string{}
	for q := range l1 {
		l1[q] = table(fmt.Sprintf("WideL1%d", q), func(l int) int {
			if l < half {
				return 4*l + 2*q
			}
			return 4*(l-half) + 2*q + 1
		})
	}
	// Round two: a phase's lanes from the first half row's and the second's.
	l2Lo := table("WideL2Lo", func(j int) int {
		if j < half {
			return j
		}
		return lanes + j - half
	})
	l2Hi := table("WideL2Hi", func(j int) int {
		if j < half {
			return half + j
		}
		return lanes + j
	})
	// Interleaving phases back into a row: pairs of phases (lanes of the
	// first and second half of the tiles), then as winograd4's rows.
	pairLo := "wino4Pair" + sfx + "<>"
	pairHi := table("WidePairHi", func(l int) int { return half + l/2 + (l%2)*lanes })
	rowLo, rowHi := "wino4RowLo"+sfx+"<>", "wino4RowHi"+sfx+"<>"
	c := func(v int) string { return fmt.Sprintf("wino4C%d%s<>(SB)", v, sfx) }

	// prologue: K1..K4 the lanes of a row's four vectors, K5 a row of
	// tiles' (tw = w/4), K6 its lanes but the first, K7 but the last; R8
	// the planes' stride in bytes, R11 a row of tiles' bytes less 36
	// strides, R12 a row's bytes, R10 three rows', DX rows of tiles.
	//
	// With segs (the output transforms), segs rows of tiles go at once,
	// their rows side by side as one row of 4 vectors (w of 2 vectors and
	// segs 2, or of one and segs 4; 1: as without): vector v of row r of
	// the step is at row r's address plus 0, BX, R14 or R15; AX is the
	// step's rows, in bytes, and DX counts steps.
	prologue := func(name, sig string, frame int, segs bool) {
		m.header(name, sig, frame)
		if segs {
			p("MOVQ segs+40(FP), AX")
			p("IMULQ AX, BX")
		}
		m.rowMasks(4)
		p("MOVQ BX, CX")
		p("SHRQ $2, CX")
		p("MOVQ $1, R13")
		p("SHLQ CX, R13")
		p("DECQ R13")
		p("KMOVW R13, K5")
		p("MOVQ R13, R9")
		p("ANDQ $-2, R9")
		p("KMOVW R9, K6")
		p("SHRQ $1, R13")
		p("KMOVW R13, K7")
		p("MOVQ CX, R11")
		p("SHLQ $%d, R11", shift(e.size))
		p("SHLQ $%d, R8", shift(e.size))
		p("IMUL3Q $36, R8, R13")
		p("SUBQ R13, R11")
		p("MOVQ w+24(FP), R12")
		p("SHLQ $%d, R12", shift(e.size))
		p("LEAQ (R12)(R12*2), R10")
		p("SHRQ $2, DX")
		if !segs {
			return
		}
		// DX /= segs; R13 = four rows; the vectors' offsets by segs.
		p("BSFQ AX, CX")
		p("SHRQ CX, DX")
		p("LEAQ 0(R12*4), R13")
		p("MOVQ $64, BX")
		p("MOVQ $128, R14")
		p("MOVQ $192, R15")
		p("CMPQ AX, $2")
		p("JLT %s_offsets", name)
		p("MOVQ R13, R14")
		p("LEAQ 64(R13), R15")
		p("JEQ %s_offsets", name)
		p("MOVQ R13, BX")
		p("LEAQ (R13)(R13*1), R14")
		p("LEAQ (R13)(R13*2), R15")
		label(name + "_offsets")
		p("IMULQ R13, AX")
	}
	// split loads the row whose vectors are at addrs ("": zero) and writes
	// its phases to Z<dst>..Z<dst+3>, through Z<tmp>..Z<tmp+7>.
	split := func(addrs [4]string, dst, tmp int) {
		for v := range 4 {
			if addrs[v] == "" { // outside the plane
				p("VPXORD Z%d, Z%d, Z%d", tmp+v, tmp+v, tmp+v)
				continue
			}
			p("%s.Z %s, K%d, Z%d", mov, addrs[v], v+1, tmp+v)
		}
		for q := range 2 { // round one: phases 2q, 2q+1 of each half row
			for hh := range 2 {
				z := tmp + 4 + 2*q + hh
				p("%s %s(SB), Z%d", mov, l1[q], z)
				p("%s Z%d, Z%d, Z%d", permI, tmp+2*hh+1, tmp+2*hh, z)
			}
		}
		for k := range 4 { // round two: the halves joined
			q := k / 2
			tab := l2Lo
			if k%2 == 1 {
				tab = l2Hi
			}
			p("%s %s(SB), Z%d", mov, tab, dst+k)
			p("%s Z%d, Z%d, Z%d", permI, tmp+4+2*q+1, tmp+4+2*q, dst+k)
		}
	}
	// combine6 writes to Z<dst> combination a of Bᵀ's (as winograd4's)
	// of the six registers x, tmp scratch.
	combine6 := func(a int, x [6]int, dst, tmp int) {
		switch a {
		case 0, 5:
			o := a / 5
			p("VMOVAPD Z%d, Z%d", x[4+o], dst)
			p("%s %s, Z%d, Z%d", bcst("VFMADD231"), c(4), x[o], dst)
			p("%s %s, Z%d, Z%d", bcst("VFNMADD231"), c(5), x[2+o], dst)
		case 1:
			p("%s Z%d, Z%d, Z%d", op("VADD"), x[2], x[1], tmp)
			p("%s Z%d, Z%d, Z%d", op("VADD"), x[4], x[3], dst)
			p("%s %s, Z%d, Z%d", bcst("VFNMADD231"), c(4), tmp, dst)
		case 2:
			p("%s Z%d, Z%d, Z%d", op("VSUB"), x[2], x[1], tmp)
			p("%s Z%d, Z%d, Z%d", op("VSUB"), x[3], x[4], dst)
			p("%s %s, Z%d, Z%d", bcst("VFMADD231"), c(4), tmp, dst)
		case 3, 4:
			p("%s Z%d, Z%d, Z%d", op("VSUB"), x[1], x[3], tmp)
			p("%s Z%d, Z%d, Z%d", op("VADD"), tmp, tmp, tmp)
			p("%s Z%d, Z%d, Z%d", op("VSUB"), x[2], x[4], dst)
			if a == 3 {
				p("%s Z%d, Z%d, Z%d", op("VADD"), tmp, dst, dst)
			} else {
				p("%s Z%d, Z%d, Z%d", op("VSUB"), tmp, dst, dst)
			}
		}
	}
	store := func(z int) {
		p("%s Z%d, K5, (DI)", mov, z)
		p("ADDQ R8, DI")
	}

	// transformRows writes the 36 planes of a row of tiles from the phases
	// of its window's rows in Z0..Z23 (row r phase k in Z<4r+k>): Bᵀ d's
	// row a in Z24..Z27 (by phase); a plane in Z29, Z28 scratch; K6 and
	// K7 the lanes of tiles with a left and a right neighbour.
	transformRows := func() {
		for a := range 6 {
			for k := range 4 {
				combine6(a, [6]int{k, 4 + k, 8 + k, 12 + k, 16 + k, 20 + k}, 24+k, 28)
			}
			// Across: columns c0 = phase 3 shifted up, c1..c4 = phases
			// 0..3, c5 = phase 0 shifted down; c0 and c5 built in the
			// output.
			for cc := range 6 {
				switch cc {
				case 0: // 4 c0 - 5 c2 + c4
					p("%s.Z $%d, Z27, Z27, K6, Z29", align, lanes-1)
					p("%s %s, Z27, Z29", bcst("VFMADD132"), c(4))
					p("%s %s, Z25, Z29", bcst("VFNMADD231"), c(5))
				case 5: // 4 c1 - 5 c3 + c5
					p("%s.Z $1, Z24, Z24, K7, Z29", align)
					p("%s %s, Z24, Z29", bcst("VFMADD231"), c(4))
					p("%s %s, Z26, Z29", bcst("VFNMADD231"), c(5))
				default:
					combine6(cc, [6]int{-1, 24, 25, 26, 27, -1}, 29, 28)
				}
				store(29)
			}
		}
	}

	// WinogradInput4W: the phases of rows 4i-1 .. 4i+4 in Z0..Z23 (row r
	// phase k in Z<4r+k>); Bᵀ d's row a in Z24..Z27 (by phase); a
	// transformed plane in Z29, Z28 scratch. Splitting a row uses Z24..Z31.
	name := "WinogradInput4W" + sfx
	prologue(name, fmt.Sprintf("dst, src *%s, h, w, stride, first, run, jump int", typ), 64, false)
	p("MOVQ first+40(FP), CX")
	p("MOVQ run+48(FP), BX")
	p("MOVQ jump+56(FP), R13")
	p("SHLQ $%d, R13", shift(e.size))
	for z := range 4 {
		p("VPXORD Z%d, Z%d, Z%d", z, z, z)
	}
	at := func(row string) [4]string {
		return [4]string{row, "64" + row, "128" + row, "192" + row}
	}
	split(at("(SI)"), 4, 24)
	p("ADDQ R12, SI")
	label(name + "_row")
	split(at("(SI)"), 8, 24)
	split(at("(SI)(R12*1)"), 12, 24)
	split(at("(SI)(R12*2)"), 16, 24)
	for z := 20; z < 24; z++ {
		p("VPXORD Z%d, Z%d, Z%d", z, z, z)
	}
	p("CMPQ DX, $1")
	p("JEQ %s_last", name)
	split(at("(SI)(R10*1)"), 20, 24)
	label(name + "_last")
	transformRows()
	p("ADDQ R11, DI")
	p("DECQ CX")
	p("JNZ %s_same", name)
	p("MOVQ BX, CX")
	p("ADDQ R13, DI")
	label(name + "_same")
	for z := range 8 {
		p("VMOVAPD Z%d, Z%d", 16+z, z)
	}
	p("LEAQ (SI)(R12*4), SI")
	p("DECQ DX")
	p("JNZ %s_row", name)
	p("VZEROUPPER")
	p("RET")

	// WinogradOutputAdjoint4W: the phases of dy's rows 4i .. 4i+3 in
	// Z0..Z15; A dy's row a by phase in Z16..Z19 (Z20 scratch); across,
	// the sums e, f, g, h (as winograd4's) in Z21..Z24, a plane in Z25.
	name = "WinogradOutputAdjoint4W" + sfx
	prologue(name, fmt.Sprintf("dst, src *%s, h, w, stride, segs int", typ), 48, true)
	// segAt is the vectors of the step's row at base register r.
	segAt := func(r string) [4]string {
		return [4]string{"(" + r + ")", "(" + r + ")(BX*1)", "(" + r + ")(R14*1)", "(" + r + ")(R15*1)"}
	}
	label(name + "_row")
	split(segAt("SI"), 0, 16)
	p("LEAQ (SI)(R12*1), R9")
	split(segAt("R9"), 4, 16)
	p("LEAQ (SI)(R12*2), R9")
	split(segAt("R9"), 8, 16)
	p("LEAQ (SI)(R10*1), R9")
	split(segAt("R9"), 12, 16)
	// sums writes e = x0+x2, f = x1+x3, g = x0+4x2, h = 2x1+8x3 to s..s+3.
	sums := func(x [4]int, s int) {
		p("%s Z%d, Z%d, Z%d", op("VADD"), x[2], x[0], s)
		p("%s Z%d, Z%d, Z%d", op("VADD"), x[3], x[1], s+1)
		p("VMOVAPD Z%d, Z%d", x[0], s+2)
		p("%s %s, Z%d, Z%d", bcst("VFMADD231"), c(4), x[2], s+2)
		p("%s %s, Z%d, Z%d", bcst("VMUL"), c(2), x[1], s+3)
		p("%s %s, Z%d, Z%d", bcst("VFMADD231"), c(8), x[3], s+3)
	}
	// combine writes to dst combination a (1..4) of A's from the sums.
	combine := func(a, s, dst int) {
		o := s + (a/3)*2
		if a%2 == 1 {
			p("%s Z%d, Z%d, Z%d", op("VADD"), o+1, o, dst)
		} else {
			p("%s Z%d, Z%d, Z%d", op("VSUB"), o+1, o, dst)
		}
	}
	for a := range 6 {
		var s [4]int
		for k := range 4 {
			switch a {
			case 0:
				s[k] = k
			case 5:
				s[k] = 12 + k
			default:
				sums([4]int{k, 4 + k, 8 + k, 12 + k}, 21)
				combine(a, 21, 16+k)
				s[k] = 16 + k
			}
		}
		sums(s, 21)
		for cc := range 6 {
			switch cc {
			case 0:
				store(s[0])
			case 5:
				store(s[3])
			default:
				combine(cc, 21, 25)
				store(25)
			}
		}
	}
	p("ADDQ R11, DI")
	p("ADDQ AX, SI")
	p("DECQ DX")
	p("JNZ %s_row", name)
	p("VZEROUPPER")
	p("RET")

	// WinogradOutput4W: the four output rows by phase summed in Z0..Z15
	// (row r phase k in Z<4r+k>); a row of M in Z16..Z21, its sums in
	// Z22..Z25, M A's phases in Z26..Z29. Then each output row
	// interleaved through Z16..Z19 into Z20..Z23.
	aT := [4][6]int{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}
	for _, add := range []bool{false, true} {
		name = "WinogradOutput4W" + sfx
		if add {
			name = "WinogradOutputAdd4W" + sfx
		}
		prologue(name, fmt.Sprintf("dst, src *%s, h, w, stride, segs int", typ), 48, true)
		label(name + "_row")
		var set [4]bool
		for a := range 6 {
			for cc := range 6 {
				p("%s.Z (SI), K5, Z%d", mov, 16+cc)
				p("ADDQ R8, SI")
			}
			p("%s Z18, Z17, Z22", op("VADD"))
			p("%s Z18, Z17, Z23", op("VSUB"))
			p("%s Z20, Z19, Z24", op("VADD"))
			p("%s Z20, Z19, Z25", op("VSUB"))
			p("%s Z22, Z16, Z26", op("VADD"))
			p("%s Z24, Z26, Z26", op("VADD"))
			p("VMOVAPD Z23, Z27")
			p("%s %s, Z25, Z27", bcst("VFMADD231"), c(2))
			p("VMOVAPD Z22, Z28")
			p("%s %s, Z24, Z28", bcst("VFMADD231"), c(4))
			p("%s Z21, Z23, Z29", op("VADD"))
			p("%s %s, Z25, Z29", bcst("VFMADD231"), c(8))
			for r := range 4 {
				cf := aT[r][a]
				for k := range 4 {
					x, acc := 26+k, 4*r+k
					switch {
					case cf == 0:
					case !set[r]:
						p("VMOVAPD Z%d, Z%d", x, acc)
					case cf == 1:
						p("%s Z%d, Z%d, Z%d", op("VADD"), x, acc, acc)
					case cf == -1:
						p("%s Z%d, Z%d, Z%d", op("VSUB"), x, acc, acc)
					case cf > 0:
						p("%s %s, Z%d, Z%d", bcst("VFMADD231"), c(cf), x, acc)
					default:
						p("%s %s, Z%d, Z%d", bcst("VFNMADD231"), c(-cf), x, acc)
					}
				}
				if cf != 0 {
					set[r] = true
				}
			}
		}
		for r := range 4 {
			// Pairs of phases (0, 1) and (2, 3), first and second half of
			// the tiles, then the row's four vectors.
			for q := range 2 {
				for hh, tab := range []string{pairLo, pairHi} {
					z := 16 + 2*q + hh
					p("%s %s(SB), Z%d", mov, tab, z)
					p("%s Z%d, Z%d, Z%d", permI, 4*r+2*q+1, 4*r+2*q, z)
				}
			}
			for v := range 4 {
				hh := v / 2
				tab := rowLo
				if v%2 == 1 {
					tab = rowHi
				}
				p("%s %s(SB), Z%d", mov, tab, 20+v)
				p("%s Z%d, Z%d, Z%d", permI, 18+hh, 16+hh, 20+v)
			}
			base := "DI"
			if r > 0 {
				p("LEAQ %s, R9", []string{"", "(DI)(R12*1)", "(DI)(R12*2)", "(DI)(R10*1)"}[r])
				base = "R9"
			}
			for v, addr := range segAt(base) {
				if add {
					p("%s.Z %s, K%d, Z24", mov, addr, v+1)
					p("%s Z24, Z%d, Z%d", op("VADD"), 20+v, 20+v)
				}
				p("%s Z%d, K%d, %s", mov, 20+v, v+1, addr)
			}
		}
		p("ADDQ R11, SI")
		p("ADDQ AX, DI")
		p("DECQ DX")
		p("JNZ %s_row", name)
		p("VZEROUPPER")
		p("RET")
	}
	// WinogradInput16S: a whole 16x16 float32 plane, its 4x4 tiles in one
	// vector (the four rows of tiles side by side, as the planes hold
	// them): window row r of the vector's four rows of tiles is the plane's
	// rows 4v-1+r for v = 0..3, one vector each (row -1 and row 16 zero).
	if e.size == 4 {
		name := "WinogradInput16S"
		fmt.Fprintf(b, "\n// func %s(dst, src *float32, stride int)\nTEXT ·%s(SB), NOSPLIT, $0-24\n", name, name)
		p("MOVQ dst+0(FP), DI")
		p("MOVQ src+8(FP), SI")
		p("MOVQ stride+16(FP), R8")
		p("SHLQ $2, R8")
		for k, bits := range []int{0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xeeee, 0x7777} {
			p("MOVQ $0x%x, R13", bits)
			p("KMOVW R13, K%d", k+1)
		}
		for r := range 6 {
			var addrs [4]string
			for v := range addrs {
				if row := 4*v - 1 + r; row >= 0 && row < 16 {
					addrs[v] = fmt.Sprintf("%d(SI)", 64*row)
				}
			}
			split(addrs, 4*r, 24)
		}
		transformRows()
		p("VZEROUPPER")
		p("RET")
	}
}
