package micro

import (
	"math"
	"math/rand/v2"
	"testing"
)

// forEachImpl runs a test of the kernels with their Go loops and, where it
// runs, with their assembly: both must compute the sums.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	old := useAVX512
	defer func() { useAVX512 = old }()
	for _, asm := range []bool{false, true} {
		if asm && !hasAVX512 {
			continue
		}
		name := "go"
		if asm {
			name = "avx512"
		}
		t.Run(name, func(t *testing.T) {
			useAVX512 = asm
			f(t)
		})
	}
}

// want returns c + alpha * sum_l a(i, l) b(l, j) for the first rows rows of a
// 12 x cols block.
func want(k, cols, rows int, a func(i, l int) float64, b func(l, j int) float64, c []float64, ldc int, alpha float64) []float64 {
	out := append([]float64(nil), c...)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			var s float64
			for l := 0; l < k; l++ {
				s += a(i, l) * b(l, j)
			}
			out[i*ldc+j] += alpha * s
		}
	}
	return out
}

func check(t *testing.T, name string, got []float64, want []float64, tol float64) {
	t.Helper()
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Fatalf("%s: c[%d] = %v, want %v", name, i, got[i], want[i])
		}
	}
}

// TestKernels checks every kernel against the sum it computes, with a row
// stride wider than the block (the columns past it must stay untouched),
// for k = 0 (C unchanged) and k > 0, on whole blocks and on the first rows
// only (the rest must stay untouched): 1 to 12 rows, across the kernels'
// 4-, 8- and 12-row loops.
func TestKernels(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		rnd := func(n int) []float64 {
			s := make([]float64, n)
			for i := range s {
				s[i] = rng.NormFloat64()
			}
			return s
		}
		for _, k := range []int{0, 1, 7, 300} {
			for i := 0; i < 24; i++ {
				cols, nrows := 16*(1+i%2), 1+i/2
				ldc, alpha := cols+5, 0.75
				ap, bp, c := rnd(12*k), rnd(k*cols), rnd(12*ldc)
				// B rows in place at scattered offsets.
				store, offs := rnd(k*cols+3*k+cols), make([]int, k)
				for l := range offs {
					offs[l] = (l * 7) % (2*k + 1)
				}
				// A rows in place.
				rows := make([][]float64, 12)
				for i := range rows {
					rows[i] = rnd(k)
				}
				packedA := func(i, l int) float64 { return ap[l*12+i] }
				packedB := func(l, j int) float64 { return bp[l*cols+j] }
				// The second half of each row half values on: in the row, or
				// (every other case) 3 further, as rows of a grid.
				half := cols / 2
				if i%4 >= 2 {
					half += 3
				}
				inPlaceB := func(l, j int) float64 {
					if j >= cols/2 {
						return store[offs[l]+half+j-cols/2]
					}
					return store[offs[l]+j]
				}
				// Four quarters, stride values apart.
				stride := cols/4 + 1 + i%3
				quarters := rnd(k*cols + 3*k + 4*stride)
				inQuarters := func(l, j int) float64 { return quarters[offs[l]+j/(cols/4)*stride+j%(cols/4)] }
				inPlaceA := func(i, l int) float64 { return rows[i][l] }
				w1 := want(k, cols, nrows, packedA, packedB, c, ldc, alpha)
				w2 := want(k, cols, nrows, packedA, inPlaceB, c, ldc, alpha)
				w3 := want(k, cols, nrows, inPlaceA, packedB, c, ldc, alpha)
				w4 := want(k, cols, nrows, packedA, inQuarters, c, ldc, alpha)
				// The Set kernels: the block's rows replaced, the rest untouched.
				cleared := append([]float64(nil), c...)
				for i := range nrows {
					clear(cleared[i*ldc : i*ldc+cols])
				}
				w1Set := want(k, cols, nrows, packedA, packedB, cleared, ldc, alpha)
				w3Set := want(k, cols, nrows, inPlaceA, packedB, cleared, ldc, alpha)
				if cols == 16 {
					c64 := append([]float64(nil), c...)
					Dgemm12x16(k, ptr(ap), ptr(bp), &c64[0], ldc, nrows, alpha)
					check(t, "Dgemm12x16", c64, w1, 1e-12)
					copy(c64, c)
					Dgemm12x16Rows(k, ptr(ap), &store[0], ptrInt(offs), half, &c64[0], ldc, nrows, alpha)
					check(t, "Dgemm12x16Rows", c64, w2, 1e-12)
					copy(c64, c)
					Dgemm12x16Rows4(k, ptr(ap), &quarters[0], ptrInt(offs), stride, &c64[0], ldc, nrows, alpha)
					check(t, "Dgemm12x16Rows4", c64, w4, 1e-12)
					copy(c64, c)
					var rp [12]*float64
					for i := range rp {
						rp[i] = ptr(rows[i])
					}
					Dgemm12x16ARows(k, &rp, ptr(bp), &c64[0], ldc, nrows, alpha)
					check(t, "Dgemm12x16ARows", c64, w3, 1e-12)
					copy(c64, c)
					Dgemm12x16Set(k, ptr(ap), ptr(bp), &c64[0], ldc, nrows, alpha)
					check(t, "Dgemm12x16Set", c64, w1Set, 1e-12)
					copy(c64, c)
					Dgemm12x16ARowsSet(k, &rp, ptr(bp), &c64[0], ldc, nrows, alpha)
					check(t, "Dgemm12x16ARowsSet", c64, w3Set, 1e-12)
					continue
				}
				c32 := to32(c)
				Sgemm12x32(k, ptr(to32(ap)), ptr(to32(bp)), &c32[0], ldc, nrows, float32(alpha))
				check(t, "Sgemm12x32", to64(c32), w1, 1e-4)
				c32 = to32(c)
				s32 := to32(store)
				Sgemm12x32Rows(k, ptr(to32(ap)), &s32[0], ptrInt(offs), half, &c32[0], ldc, nrows, float32(alpha))
				check(t, "Sgemm12x32Rows", to64(c32), w2, 1e-4)
				c32 = to32(c)
				q32 := to32(quarters)
				Sgemm12x32Rows4(k, ptr(to32(ap)), &q32[0], ptrInt(offs), stride, &c32[0], ldc, nrows, float32(alpha))
				check(t, "Sgemm12x32Rows4", to64(c32), w4, 1e-4)
				c32 = to32(c)
				var rp [12]*float32
				for i := range rp {
					rp[i] = ptr(to32(rows[i]))
				}
				Sgemm12x32ARows(k, &rp, ptr(to32(bp)), &c32[0], ldc, nrows, float32(alpha))
				check(t, "Sgemm12x32ARows", to64(c32), w3, 1e-4)
				c32 = to32(c)
				Sgemm12x32Set(k, ptr(to32(ap)), ptr(to32(bp)), &c32[0], ldc, nrows, float32(alpha))
				check(t, "Sgemm12x32Set", to64(c32), w1Set, 1e-4)
				c32 = to32(c)
				Sgemm12x32ARowsSet(k, &rp, ptr(to32(bp)), &c32[0], ldc, nrows, float32(alpha))
				check(t, "Sgemm12x32ARowsSet", to64(c32), w3Set, 1e-4)
			}
		}
	})
}

// ptr is &s[0], or a pointer to a dummy value for an empty s (k = 0: the
// kernels read nothing).
func ptr[T float32 | float64](s []T) *T {
	if len(s) == 0 {
		return new(T)
	}
	return &s[0]
}

func ptrInt(s []int) *int {
	if len(s) == 0 {
		return new(int)
	}
	return &s[0]
}

func to32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

func to64(s []float32) []float64 {
	o := make([]float64, len(s))
	for i, v := range s {
		o[i] = float64(v)
	}
	return o
}

// TestSparseRow checks the sparse-row kernels against their sum, for no
// rows (c unchanged) and for rows at scattered, overlapping offsets.
func TestSparseRow(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, n := range []int{0, 1, 9} {
			vals, b, c := make([]float64, n), make([]float64, 500), make([]float64, 128)
			offs := make([]int, n)
			for i := range vals {
				vals[i], offs[i] = rng.NormFloat64(), rng.IntN(300)
			}
			for i := range b {
				b[i] = rng.NormFloat64()
			}
			for i := range c {
				c[i] = rng.NormFloat64()
			}
			for _, width := range []int{64, 128} {
				want := append([]float64(nil), c[:width]...)
				for i := range vals {
					for j := range want {
						want[j] += vals[i] * b[offs[i]+j]
					}
				}
				if width == 64 {
					got := append([]float64(nil), c[:64]...)
					SparseDRow(n, ptr(vals), ptrInt(offs), &b[0], &got[0])
					check(t, "SparseDRow", got, want, 1e-12)
					continue
				}
				got := to32(c)
				SparseSRow(n, ptr(to32(vals)), ptrInt(offs), &to32(b)[0], &got[0])
				check(t, "SparseSRow", to64(got), want, 1e-4)
			}
		}
	})
}

// TestSparseDot checks the sparse dot-product kernels' partial sums.
func TestSparseDot(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, n := range []int{0, 1, 7} {
			for _, width := range []int{64, 128} {
				lanes := width / 8
				offs, a, b, acc := make([]int, n), make([]float64, width), make([]float64, 600), make([]float64, n*lanes)
				for i := range offs {
					offs[i] = rng.IntN(400)
				}
				for _, s := range [][]float64{a, b, acc} {
					for i := range s {
						s[i] = rng.NormFloat64()
					}
				}
				want := append([]float64(nil), acc...)
				for i := range offs {
					for r := 0; r < 8; r++ {
						for l := 0; l < lanes; l++ {
							want[i*lanes+l] += a[r*lanes+l] * b[offs[i]+r*lanes+l]
						}
					}
				}
				if width == 64 {
					SparseDDot(n, ptrInt(offs), &a[0], &b[0], ptr(acc))
					check(t, "SparseDDot", acc, want, 1e-12)
					continue
				}
				acc32 := to32(acc)
				SparseSDot(n, ptrInt(offs), &to32(a)[0], &to32(b)[0], ptr(acc32))
				check(t, "SparseSDot", to64(acc32), want, 1e-4)
			}
		}
	})
}

// TestElementwise checks batch normalisation's float32 loops against plain
// loops, NaN through the ReLU included.
func TestElementwise(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		const n = 96
		x, dy, dx := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], dy[i], dx[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		x[7] = float32(math.NaN())
		var m [2]float64
		MomentsS(&x[8], 64, &m)
		var s1, s2 float64
		for _, v := range x[8:72] {
			s1, s2 = s1+float64(v), s2+float64(v)*float64(v)
		}
		check(t, "MomentsS", m[:], []float64{s1, s2}, 1e-12)

		y := make([]float32, n)
		ScaleShiftReLUS(&y[0], &x[0], n, 1.5, -0.25)
		for i, v := range x {
			want := max(1.5*float64(v)-0.25, 0)
			if got := float64(y[i]); math.IsNaN(want) != math.IsNaN(got) || (!math.IsNaN(want) && math.Abs(got-want) > 1e-6) {
				t.Fatalf("ScaleShiftReLUS[%d] = %v, want %v", i, got, want)
			}
		}
		ScaleShiftS(&y[0], &x[32], 64, 1.5, -0.25)
		for i, v := range x[32:] {
			if got, want := float64(y[i]), 1.5*float64(v)-0.25; math.Abs(got-want) > 1e-6 {
				t.Fatalf("ScaleShiftS[%d] = %v, want %v", i, got, want)
			}
		}

		var cs [2]float32
		CenteredSumsS(&dy[32], &x[32], 64, 0.3, &cs)
		var c1, c2 float64
		for i, g := range dy[32:] {
			c1, c2 = c1+float64(g), c2+float64(g)*(float64(x[32+i])-0.3)
		}
		check(t, "CenteredSumsS", []float64{float64(cs[0]), float64(cs[1])}, []float64{c1, c2}, 1e-5)

		want := make([]float64, n)
		for i := range want {
			want[i] = float64(dx[i]) + 0.5*float64(dy[i]) - 2*float64(x[i]) + 0.125
		}
		got := append([]float32(nil), dx...)
		AffineAddS(&got[32], &dy[32], &x[32], 64, 0.5, -2, 0.125)
		check(t, "AffineAddS", to64(got[32:]), want[32:], 1e-5)
		AffineS(&got[32], &dy[32], &x[32], 64, 0.5, -2, 0.125)
		for i := range want {
			want[i] -= float64(dx[i])
		}
		check(t, "AffineS", to64(got[32:]), want[32:], 1e-5)
	})
}

// TestElementwise64 checks batch normalisation's float64 loops against
// plain loops: NaN through the ReLUs, the masks' edge values (both zeros,
// the least magnitudes, infinities).
func TestElementwise64(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 9))
		const n = 48
		x, dy, dx := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range x {
			x[i], dy[i], dx[i] = rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		}
		copy(x[16:], []float64{0, math.Copysign(0, -1), 5e-324, -5e-324, math.Inf(1), math.Inf(-1)})
		x[7] = math.NaN()
		var m [2]float64
		MomentsD(&x[24], 16, &m)
		var s1, s2 float64
		for _, v := range x[24:40] {
			s1, s2 = s1+v, s2+v*v
		}
		check(t, "MomentsD", m[:], []float64{s1, s2}, 1e-12)

		y := make([]float64, n)
		for _, relu := range []bool{false, true} {
			if relu {
				ScaleShiftReLUD(&y[0], &x[0], n, 1.5, -0.25)
			} else {
				ScaleShiftD(&y[0], &x[0], n, 1.5, -0.25)
			}
			for i, v := range x {
				want := 1.5*v - 0.25 // NaN stays NaN, with or without the ReLU
				if relu && want <= 0 {
					want = 0
				}
				same := y[i] == want || (math.IsNaN(y[i]) && math.IsNaN(want))
				if !same && !(math.Abs(y[i]-want) <= 1e-15*(1+math.Abs(want))) {
					t.Fatalf("ScaleShift relu=%v [%d] = %v, want %v", relu, i, y[i], want)
				}
			}
		}

		var cs [2]float64
		CenteredSumsD(&dy[32], &x[32], 16, 0.3, &cs)
		var c1, c2 float64
		for i, g := range dy[32:] {
			c1, c2 = c1+g, c2+g*(x[32+i]-0.3)
		}
		check(t, "CenteredSumsD", cs[:], []float64{c1, c2}, 1e-12)

		for _, add := range []bool{false, true} {
			got := append([]float64(nil), dx...)
			want := make([]float64, 16)
			for i := range want {
				want[i] = 0.5*dy[32+i] - 2*x[32+i] + 0.125
				if add {
					want[i] += dx[32+i]
				}
			}
			if add {
				AffineAddD(&got[32], &dy[32], &x[32], 16, 0.5, -2, 0.125)
			} else {
				AffineD(&got[32], &dy[32], &x[32], 16, 0.5, -2, 0.125)
			}
			check(t, "AffineD", got[32:], want, 1e-12)
		}

		AddReLUD(&y[0], &x[0], &dy[0], n)
		for i := range y {
			w := math.Max(x[i]+dy[i], 0)
			if math.IsNaN(x[i]) {
				w = math.NaN()
			}
			if !(y[i] == w || (math.IsNaN(y[i]) && math.IsNaN(w))) {
				t.Fatalf("AddReLUD[%d] = %v, want %v", i, y[i], w)
			}
		}

		for _, add := range []bool{false, true} {
			got := append([]float64(nil), dx...)
			if add {
				ReLUMaskAddD(&got[0], &dy[0], &x[0], n)
			} else {
				ReLUMaskD(&got[0], &dy[0], &x[0], n)
			}
			for i, v := range x {
				// x > 0 on its bits as an int64: positive numbers and +Inf,
				// and a NaN with its sign bit clear.
				var want float64
				if int64(math.Float64bits(v)) > 0 {
					want = dy[i]
				}
				if add {
					want += dx[i]
				}
				if got[i] != want {
					t.Fatalf("ReLUMask add=%v x=%v [%d] = %v, want %v", add, v, i, got[i], want)
				}
			}
		}
	})
}
