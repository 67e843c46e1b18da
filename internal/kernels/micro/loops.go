package micro

import (
	"math"
	"unsafe"
)

// The Go loops the kernels compute: what every CPU runs when the AVX-512
// assembly does not (no AVX-512, another architecture, the purego tag),
// and what the tests hold the assembly to.

type float interface{ float32 | float64 }

// slice views n values at p.
func slice[T any](p *T, n int) []T {
	if n == 0 {
		return nil
	}
	return unsafe.Slice(p, n)
}

// gemmGo is the loop of the gemm kernels, A from packed steps of 12 values
// (or, with rowsA, from 12 rows in place), B from packed steps of cols
// values (or, with bAt, from where bAt says step l's value j is):
//
//	c[i*ldc+j] (+)= alpha * sum_l a(i, l) b(l, j)   (i < rows, j < cols)
func gemmGo[T float](k int, a *T, rowsA *[12]*T, bAt func(l, j int) T, c *T, ldc, rows, cols int, alpha T, set bool) {
	var av []T
	var ar [12][]T
	if rowsA != nil {
		for i := 0; i < rows; i++ {
			ar[i] = slice(rowsA[i], k)
		}
	} else {
		av = slice(a, 12*k)
	}
	cv := slice(c, (rows-1)*ldc+cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			var s T
			for l := 0; l < k; l++ {
				ai := T(0)
				if rowsA != nil {
					ai = ar[i][l]
				} else {
					ai = av[l*12+i]
				}
				s += ai * bAt(l, j)
			}
			if set {
				cv[i*ldc+j] = alpha * s
			} else {
				cv[i*ldc+j] += alpha * s
			}
		}
	}
}

// packedB reads B from packed steps of cols values.
func packedB[T float](b *T, k, cols int) func(l, j int) T {
	bv := slice(b, k*cols)
	return func(l, j int) T { return bv[l*cols+j] }
}

// rowsB reads step l of B in place: its first cols/2 values at
// b[offs[l]:], the others at b[offs[l]+half:].
func rowsB[T float](b *T, offs *int, k, half, cols int) func(l, j int) T {
	ov := slice(offs, k)
	n := 0
	for _, o := range ov {
		n = max(n, o+max(cols/2, half+cols/2))
	}
	bv := slice(b, n)
	return func(l, j int) T {
		if j < cols/2 {
			return bv[ov[l]+j]
		}
		return bv[ov[l]+half+j-cols/2]
	}
}

// quartersB reads step l of B in place as four quarters of cols/4 values,
// at b[offs[l]+q*stride:].
func quartersB[T float](b *T, offs *int, k, stride, cols int) func(l, j int) T {
	ov := slice(offs, k)
	n := 0
	for _, o := range ov {
		n = max(n, o+3*stride+cols/4)
	}
	bv := slice(b, n)
	q := cols / 4
	return func(l, j int) T { return bv[ov[l]+j/q*stride+j%q] }
}

// sparseRowGo is the sparse-row kernels' loop over width values:
//
//	c[j] += sum_i vals[i] * b[offs[i]+j]   (j < width)
func sparseRowGo[T float](n int, vals *T, offs *int, b, c *T, width int) {
	vv, ov, cv := slice(vals, n), slice(offs, n), slice(c, width)
	for i := range vv {
		bv := slice((*T)(unsafe.Add(unsafe.Pointer(b), ov[i]*int(unsafe.Sizeof(*b)))), width)
		for j := range cv {
			cv[j] += vv[i] * bv[j]
		}
	}
}

// sparseDotGo is the sparse dot kernels' loop: 8 rows of lanes values,
// lanes partial sums a row of B:
//
//	acc[lanes*i+l] += sum_r a[lanes*r+l] * b[offs[i]+lanes*r+l]   (r < 8)
func sparseDotGo[T float](n int, offs *int, a, b, acc *T, lanes int) {
	ov, av, accv := slice(offs, n), slice(a, 8*lanes), slice(acc, n*lanes)
	for i := range ov {
		bv := slice((*T)(unsafe.Add(unsafe.Pointer(b), ov[i]*int(unsafe.Sizeof(*b)))), 8*lanes)
		for l := 0; l < lanes; l++ {
			for r := 0; r < 8; r++ {
				accv[i*lanes+l] += av[r*lanes+l] * bv[r*lanes+l]
			}
		}
	}
}

// The elementwise loops.

func momentsGo[T float](x *T, n int, s *[2]float64) {
	var s0, s1 float64
	for _, v := range slice(x, n) {
		f := float64(v)
		s0, s1 = s0+f, s1+f*f
	}
	s[0], s[1] = s0, s1
}

func scaleShiftGo[T float](y, x *T, n int, scale, shift T, relu bool) {
	yv, xv := slice(y, n), slice(x, n)
	for i, v := range xv {
		r := scale*v + shift
		if relu && r < 0 { // NaN kept
			r = 0
		}
		yv[i] = r
	}
}

func centeredSumsGo[T float](dy, x *T, n int, mu T, s *[2]T) {
	var s0, s1 T
	xv := slice(x, n)
	for i, g := range slice(dy, n) {
		s0 += g
		s1 += g * (xv[i] - mu)
	}
	s[0], s[1] = s0, s1
}

func affineGo[T float](dx, dy, x *T, n int, a, b, d T, add bool) {
	dxv, dyv, xv := slice(dx, n), slice(dy, n), slice(x, n)
	for i := range dxv {
		v := a*dyv[i] + b*xv[i] + d
		if add {
			v += dxv[i]
		}
		dxv[i] = v
	}
}

func addReLUGo[T float](y, a, b *T, n int) {
	yv, av, bv := slice(y, n), slice(a, n), slice(b, n)
	for i := range yv {
		r := av[i] + bv[i]
		if r < 0 { // NaN kept
			r = 0
		}
		yv[i] = r
	}
}

// positive reads x > 0 off x's bits as a signed integer, as the assembly
// does: a NaN with its sign bit clear counts as positive, -0 does not.
func positive[T float](x T) bool {
	switch v := any(x).(type) {
	case float32:
		return int32(math.Float32bits(v)) > 0
	case float64:
		return int64(math.Float64bits(v)) > 0
	}
	return false
}

func reluMaskGo[T float](dst, src, x *T, n int, add bool) {
	dv, sv, xv := slice(dst, n), slice(src, n), slice(x, n)
	for i, v := range xv {
		switch {
		case positive(v) && add:
			dv[i] += sv[i]
		case positive(v):
			dv[i] = sv[i]
		case !add:
			dv[i] = 0
		}
	}
}

// transposeGo is the transposes' loop, n blocks of e x e values:
//
//	dst[(e*b+l)*lddst + j] = src[j*ldsrc + e*b + l]   (j, l < e)
func transposeGo[T float](dst, src *T, lddst, ldsrc, n, e int) {
	if n == 0 {
		return
	}
	dv := slice(dst, (e*n-1)*lddst+e)
	sv := slice(src, (e-1)*ldsrc+e*n)
	for b := 0; b < n; b++ {
		for l := 0; l < e; l++ {
			for j := 0; j < e; j++ {
				dv[(e*b+l)*lddst+j] = sv[j*ldsrc+e*b+l]
			}
		}
	}
}

// Winograd's transform matrices (Lavin and Gray): Bᵀ takes an a x a window
// (a = m+2) to the transformed domain, Aᵀ a product back to an m x m tile.
var (
	bT2 = [4][4]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	aT2 = [2][4]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}
	bT4 = [6][6]float64{
		{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1},
	}
	aT4 = [4][6]float64{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}
)

// winoTile is a tile size's transforms: m outputs a side, a = m+2 inputs.
type winoTile struct {
	m  int
	bT [][]float64 // a x a
	aT [][]float64 // m x a
}

func tileOf(m int) winoTile {
	t := winoTile{m: m}
	if m == 2 {
		for i := range bT2 {
			t.bT = append(t.bT, bT2[i][:])
		}
		for i := range aT2 {
			t.aT = append(t.aT, aT2[i][:])
		}
		return t
	}
	for i := range bT4 {
		t.bT = append(t.bT, bT4[i][:])
	}
	for i := range aT4 {
		t.aT = append(t.aT, aT4[i][:])
	}
	return t
}

// winoAt is where the transforms keep value xi of tile (i, j): plane xi,
// stride values apart, tile row i at i*(w/m) in it; with first > 0 the rows
// of tiles jump on by jump values after the first first rows and then
// every run rows (the panels of a packed product).
func winoAt(m, w, stride, first, run, jump, xi, i, j int) int {
	at := xi*stride + i*(w/m) + j
	if first > 0 && i >= first {
		at += jump * (1 + (i-first)/run)
	}
	return at
}

// winoExtent is the number of values from dst the transforms reach.
func winoExtent(m, h, w, stride, first, run, jump int) int {
	a := m + 2
	return winoAt(m, w, stride, first, run, jump, a*a-1, h/m-1, w/m-1) + 1
}

// winogradInputGo is the input transforms' loop: for every m x m tile (i, j)
// of the h x w plane src, its (m+2) x (m+2) window d (padding 1),
//
//	v[winoAt(a*x+y, i, j)] = sum_r,c Bᵀ[x][r] d[r][c] Bᵀ[y][c]
func winogradInputGo[T float](dst, src *T, m, h, w, stride, first, run, jump int) {
	t := tileOf(m)
	a := m + 2
	sv, dv := slice(src, h*w), slice(dst, winoExtent(m, h, w, stride, first, run, jump))
	d := make([]T, a*a)
	tmp := make([]T, a*a)
	for i := 0; i < h/m; i++ {
		for j := 0; j < w/m; j++ {
			for r := 0; r < a; r++ {
				for c := 0; c < a; c++ {
					y, x := m*i-1+r, m*j-1+c
					d[r*a+c] = 0
					if y >= 0 && y < h && x >= 0 && x < w {
						d[r*a+c] = sv[y*w+x]
					}
				}
			}
			for x := 0; x < a; x++ { // tmp = Bᵀ d
				for c := 0; c < a; c++ {
					var s T
					for r := 0; r < a; r++ {
						s += T(t.bT[x][r]) * d[r*a+c]
					}
					tmp[x*a+c] = s
				}
			}
			for x := 0; x < a; x++ { // v = tmp B
				for y := 0; y < a; y++ {
					var s T
					for c := 0; c < a; c++ {
						s += tmp[x*a+c] * T(t.bT[y][c])
					}
					dv[winoAt(m, w, stride, first, run, jump, a*x+y, i, j)] = s
				}
			}
		}
	}
}

// winogradOutputGo is the output transforms' loop: for every tile (i, j),
//
//	y[m*i+r][m*j+c] (+)= sum_x,y Aᵀ[r][x] M[winoAt(a*x+y, i, j)] Aᵀ[c][y]
func winogradOutputGo[T float](dst, src *T, m, h, w, stride int, add bool) {
	t := tileOf(m)
	a := m + 2
	yv, mv := slice(dst, h*w), slice(src, winoExtent(m, h, w, stride, 0, 0, 0))
	tmp := make([]T, m*a)
	for i := 0; i < h/m; i++ {
		for j := 0; j < w/m; j++ {
			for r := 0; r < m; r++ { // tmp = Aᵀ M
				for y := 0; y < a; y++ {
					var s T
					for x := 0; x < a; x++ {
						s += T(t.aT[r][x]) * mv[winoAt(m, w, stride, 0, 0, 0, a*x+y, i, j)]
					}
					tmp[r*a+y] = s
				}
			}
			for r := 0; r < m; r++ { // y = tmp A
				for c := 0; c < m; c++ {
					var s T
					for y := 0; y < a; y++ {
						s += tmp[r*a+y] * T(t.aT[c][y])
					}
					at := (m*i+r)*w + m*j + c
					if add {
						yv[at] += s
					} else {
						yv[at] = s
					}
				}
			}
		}
	}
}

// winogradAdjointGo is the adjoint of the output transform: for every tile
// (i, j) of the plane dY,
//
//	dM[winoAt(a*x+y, i, j)] = sum_r,c Aᵀ[r][x] dY[m*i+r][m*j+c] Aᵀ[c][y]
func winogradAdjointGo[T float](dst, src *T, m, h, w, stride int) {
	t := tileOf(m)
	a := m + 2
	dyv, dv := slice(src, h*w), slice(dst, winoExtent(m, h, w, stride, 0, 0, 0))
	tmp := make([]T, a*m)
	for i := 0; i < h/m; i++ {
		for j := 0; j < w/m; j++ {
			for x := 0; x < a; x++ { // tmp = A dY
				for c := 0; c < m; c++ {
					var s T
					for r := 0; r < m; r++ {
						s += T(t.aT[r][x]) * dyv[(m*i+r)*w+m*j+c]
					}
					tmp[x*m+c] = s
				}
			}
			for x := 0; x < a; x++ { // dM = tmp Aᵀ
				for y := 0; y < a; y++ {
					var s T
					for c := 0; c < m; c++ {
						s += tmp[x*m+c] * T(t.aT[c][y])
					}
					dv[winoAt(m, w, stride, 0, 0, 0, a*x+y, i, j)] = s
				}
			}
		}
	}
}
