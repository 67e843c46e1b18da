package micro

// The exported kernels: each runs its AVX-512 assembly where the CPU has
// AVX-512 (Available), else its Go loop, given in its doc comment and
// written in loops.go. Available chooses speed, never correctness: both
// compute the same sums, the assembly in another order (and with fused
// multiply-adds).

// Sgemm12x32 adds alpha * A B, over k steps, to the first rows rows of the
// 12 x 32 block of C at c.
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < 32; j++ {
//			var s float32
//			for l := 0; l < k; l++ {
//				s += a[l*12+i] * b[l*32+j]
//			}
//			c[i*ldc+j] += alpha * s
//		}
//	}
func Sgemm12x32(k int, a, b, c *float32, ldc, rows int, alpha float32) {
	if useAVX512 {
		sgemm12x32AVX512(k, a, b, c, ldc, rows, alpha)
		return
	}
	gemmGo(k, a, nil, packedB(b, k, 32), c, ldc, rows, 32, alpha, false)
}

// Dgemm12x16 adds alpha * A B, over k steps, to the first rows rows of the
// 12 x 16 block of C at c.
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < 16; j++ {
//			var s float64
//			for l := 0; l < k; l++ {
//				s += a[l*12+i] * b[l*16+j]
//			}
//			c[i*ldc+j] += alpha * s
//		}
//	}
func Dgemm12x16(k int, a, b, c *float64, ldc, rows int, alpha float64) {
	if useAVX512 {
		dgemm12x16AVX512(k, a, b, c, ldc, rows, alpha)
		return
	}
	gemmGo(k, a, nil, packedB(b, k, 16), c, ldc, rows, 16, alpha, false)
}

// Sgemm12x32Rows is Sgemm12x32 with B read in place: step l reads the 32
// values at b[offs[l]:], the first 16 there and the last 16 at
// b[offs[l]+half:] (half = 16: 32 values in a row).
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < 32; j++ {
//			var s float32
//			for l := 0; l < k; l++ {
//				s += a[l*12+i] * b[offs[l]+j] // j >= 16: b[offs[l]+half+j-16]
//			}
//			c[i*ldc+j] += alpha * s
//		}
//	}
func Sgemm12x32Rows(k int, a, b *float32, offs *int, half int, c *float32, ldc, rows int, alpha float32) {
	if useAVX512 {
		sgemm12x32RowsAVX512(k, a, b, offs, half, c, ldc, rows, alpha)
		return
	}
	gemmGo(k, a, nil, rowsB(b, offs, k, half, 32), c, ldc, rows, 32, alpha, false)
}

// Dgemm12x16Rows is Dgemm12x16 with B read in place: step l reads the 16
// values at b[offs[l]:], the first 8 there and the last 8 at
// b[offs[l]+half:].
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < 16; j++ {
//			var s float64
//			for l := 0; l < k; l++ {
//				s += a[l*12+i] * b[offs[l]+j] // j >= 8: b[offs[l]+half+j-8]
//			}
//			c[i*ldc+j] += alpha * s
//		}
//	}
func Dgemm12x16Rows(k int, a, b *float64, offs *int, half int, c *float64, ldc, rows int, alpha float64) {
	if useAVX512 {
		dgemm12x16RowsAVX512(k, a, b, offs, half, c, ldc, rows, alpha)
		return
	}
	gemmGo(k, a, nil, rowsB(b, offs, k, half, 16), c, ldc, rows, 16, alpha, false)
}

// Sgemm12x32Rows4 is Sgemm12x32 with B read in place as four quarters:
// step l reads 8 values at each of b[offs[l]+q*stride:], q = 0..3 (four
// image rows of a grid).
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < 32; j++ {
//			var s float32
//			for l := 0; l < k; l++ {
//				s += a[l*12+i] * b[offs[l]+j/8*stride+j%8]
//			}
//			c[i*ldc+j] += alpha * s
//		}
//	}
func Sgemm12x32Rows4(k int, a, b *float32, offs *int, stride int, c *float32, ldc, rows int, alpha float32) {
	if useAVX512 {
		sgemm12x32Rows4AVX512(k, a, b, offs, stride, c, ldc, rows, alpha)
		return
	}
	gemmGo(k, a, nil, quartersB(b, offs, k, stride, 32), c, ldc, rows, 32, alpha, false)
}

// Dgemm12x16Rows4 is Sgemm12x32Rows4 for float64: 4 values per quarter.
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < 16; j++ {
//			var s float64
//			for l := 0; l < k; l++ {
//				s += a[l*12+i] * b[offs[l]+j/4*stride+j%4]
//			}
//			c[i*ldc+j] += alpha * s
//		}
//	}
func Dgemm12x16Rows4(k int, a, b *float64, offs *int, stride int, c *float64, ldc, rows int, alpha float64) {
	if useAVX512 {
		dgemm12x16Rows4AVX512(k, a, b, offs, stride, c, ldc, rows, alpha)
		return
	}
	gemmGo(k, a, nil, quartersB(b, offs, k, stride, 16), c, ldc, rows, 16, alpha, false)
}

// Sgemm12x32ARows is Sgemm12x32 with A read in place: step l broadcasts
// a[i][l] from the 12 rows a[i], each of k values.
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < 32; j++ {
//			var s float32
//			for l := 0; l < k; l++ {
//				s += a[i][l] * b[l*32+j]
//			}
//			c[i*ldc+j] += alpha * s
//		}
//	}
func Sgemm12x32ARows(k int, a *[12]*float32, b, c *float32, ldc, rows int, alpha float32) {
	if useAVX512 {
		sgemm12x32ARowsAVX512(k, a, b, c, ldc, rows, alpha)
		return
	}
	gemmGo(k, nil, a, packedB(b, k, 32), c, ldc, rows, 32, alpha, false)
}

// Dgemm12x16ARows is Dgemm12x16 with A read in place from 12 rows.
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < 16; j++ {
//			var s float64
//			for l := 0; l < k; l++ {
//				s += a[i][l] * b[l*16+j]
//			}
//			c[i*ldc+j] += alpha * s
//		}
//	}
func Dgemm12x16ARows(k int, a *[12]*float64, b, c *float64, ldc, rows int, alpha float64) {
	if useAVX512 {
		dgemm12x16ARowsAVX512(k, a, b, c, ldc, rows, alpha)
		return
	}
	gemmGo(k, nil, a, packedB(b, k, 16), c, ldc, rows, 16, alpha, false)
}

// Sgemm12x32Set sets the first rows rows of the 12 x 32 block of C at c to
// alpha * A B (Sgemm12x32 adds it): C need not be cleared first.
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < 32; j++ {
//			var s float32
//			for l := 0; l < k; l++ {
//				s += a[l*12+i] * b[l*32+j]
//			}
//			c[i*ldc+j] = alpha * s
//		}
//	}
func Sgemm12x32Set(k int, a, b, c *float32, ldc, rows int, alpha float32) {
	if useAVX512 {
		sgemm12x32SetAVX512(k, a, b, c, ldc, rows, alpha)
		return
	}
	gemmGo(k, a, nil, packedB(b, k, 32), c, ldc, rows, 32, alpha, true)
}

// Dgemm12x16Set is Sgemm12x32Set for float64.
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < 16; j++ {
//			var s float64
//			for l := 0; l < k; l++ {
//				s += a[l*12+i] * b[l*16+j]
//			}
//			c[i*ldc+j] = alpha * s
//		}
//	}
func Dgemm12x16Set(k int, a, b, c *float64, ldc, rows int, alpha float64) {
	if useAVX512 {
		dgemm12x16SetAVX512(k, a, b, c, ldc, rows, alpha)
		return
	}
	gemmGo(k, a, nil, packedB(b, k, 16), c, ldc, rows, 16, alpha, true)
}

// Sgemm12x32ARowsSet is Sgemm12x32ARows setting C (Sgemm12x32Set).
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < 32; j++ {
//			var s float32
//			for l := 0; l < k; l++ {
//				s += a[i][l] * b[l*32+j]
//			}
//			c[i*ldc+j] = alpha * s
//		}
//	}
func Sgemm12x32ARowsSet(k int, a *[12]*float32, b, c *float32, ldc, rows int, alpha float32) {
	if useAVX512 {
		sgemm12x32ARowsSetAVX512(k, a, b, c, ldc, rows, alpha)
		return
	}
	gemmGo(k, nil, a, packedB(b, k, 32), c, ldc, rows, 32, alpha, true)
}

// Dgemm12x16ARowsSet is Dgemm12x16ARows setting C (Sgemm12x32Set).
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < 16; j++ {
//			var s float64
//			for l := 0; l < k; l++ {
//				s += a[i][l] * b[l*16+j]
//			}
//			c[i*ldc+j] = alpha * s
//		}
//	}
func Dgemm12x16ARowsSet(k int, a *[12]*float64, b, c *float64, ldc, rows int, alpha float64) {
	if useAVX512 {
		dgemm12x16ARowsSetAVX512(k, a, b, c, ldc, rows, alpha)
		return
	}
	gemmGo(k, nil, a, packedB(b, k, 16), c, ldc, rows, 16, alpha, true)
}

// SparseSRow adds to the 128 values at c the n rows of B at b[offs[i]:],
// each scaled by vals[i]: c[j] += sum_i vals[i] * b[offs[i]+j].
//
//	for i := 0; i < n; i++ {
//		for j := 0; j < 128; j++ {
//			c[j] += vals[i] * b[offs[i]+j]
//		}
//	}
func SparseSRow(n int, vals *float32, offs *int, b, c *float32) {
	if useAVX512 {
		sparseSRowAVX512(n, vals, offs, b, c)
		return
	}
	sparseRowGo(n, vals, offs, b, c, 128)
}

// SparseDRow is SparseSRow for float64, 64 values.
//
//	for i := 0; i < n; i++ {
//		for j := 0; j < 64; j++ {
//			c[j] += vals[i] * b[offs[i]+j]
//		}
//	}
func SparseDRow(n int, vals *float64, offs *int, b, c *float64) {
	if useAVX512 {
		sparseDRowAVX512(n, vals, offs, b, c)
		return
	}
	sparseRowGo(n, vals, offs, b, c, 64)
}

// SparseSDot adds to the 16 partial sums at acc[16*i:] the products of the
// 128 values at a with the 128 at b[offs[i]:], for i < n:
// acc[16*i+l] += sum_r a[16*r+l] * b[offs[i]+16*r+l].
//
//	for i := 0; i < n; i++ {
//		for l := 0; l < 16; l++ {
//			for r := 0; r < 8; r++ {
//				acc[16*i+l] += a[16*r+l] * b[offs[i]+16*r+l]
//			}
//		}
//	}
func SparseSDot(n int, offs *int, a, b, acc *float32) {
	if useAVX512 {
		sparseSDotAVX512(n, offs, a, b, acc)
		return
	}
	sparseDotGo(n, offs, a, b, acc, 16)
}

// SparseDDot is SparseSDot for float64: 64 values, 8 partial sums each.
//
//	for i := 0; i < n; i++ {
//		for l := 0; l < 8; l++ {
//			for r := 0; r < 8; r++ {
//				acc[8*i+l] += a[8*r+l] * b[offs[i]+8*r+l]
//			}
//		}
//	}
func SparseDDot(n int, offs *int, a, b, acc *float64) {
	if useAVX512 {
		sparseDDotAVX512(n, offs, a, b, acc)
		return
	}
	sparseDotGo(n, offs, a, b, acc, 8)
}

// MomentsS sets s[0] = sum x and s[1] = sum x^2, accumulated in float64.
//
//	for _, v := range x[:n] {
//		s[0] += float64(v)
//		s[1] += float64(v) * float64(v)
//	}
func MomentsS(x *float32, n int, s *[2]float64) {
	if useAVX512 {
		momentsSAVX512(x, n, s)
		return
	}
	momentsGo(x, n, s)
}

// ScaleShiftS sets y = scale x + shift.
//
//	for i := 0; i < n; i++ {
//		y[i] = scale*x[i] + shift
//	}
func ScaleShiftS(y, x *float32, n int, scale, shift float32) {
	if useAVX512 {
		scaleShiftSAVX512(y, x, n, scale, shift)
		return
	}
	scaleShiftGo(y, x, n, scale, shift, false)
}

// ScaleShiftReLUS sets y = max(scale x + shift, 0), NaN kept.
//
//	for i := 0; i < n; i++ {
//		y[i] = scale*x[i] + shift
//		if y[i] < 0 {
//			y[i] = 0
//		}
//	}
func ScaleShiftReLUS(y, x *float32, n int, scale, shift float32) {
	if useAVX512 {
		scaleShiftReLUSAVX512(y, x, n, scale, shift)
		return
	}
	scaleShiftGo(y, x, n, scale, shift, true)
}

// CenteredSumsS sets s[0] = sum dy and s[1] = sum dy (x - mu).
//
//	for i := 0; i < n; i++ {
//		s[0] += dy[i]
//		s[1] += dy[i] * (x[i] - mu)
//	}
func CenteredSumsS(dy, x *float32, n int, mu float32, s *[2]float32) {
	if useAVX512 {
		centeredSumsSAVX512(dy, x, n, mu, s)
		return
	}
	centeredSumsGo(dy, x, n, mu, s)
}

// AffineS sets dx = a dy + b x + d.
//
//	for i := 0; i < n; i++ {
//		dx[i] = a*dy[i] + b*x[i] + d
//	}
func AffineS(dx, dy, x *float32, n int, a, b, d float32) {
	if useAVX512 {
		affineSAVX512(dx, dy, x, n, a, b, d)
		return
	}
	affineGo(dx, dy, x, n, a, b, d, false)
}

// AffineAddS adds a dy + b x + d to dx.
//
//	for i := 0; i < n; i++ {
//		dx[i] += a*dy[i] + b*x[i] + d
//	}
func AffineAddS(dx, dy, x *float32, n int, a, b, d float32) {
	if useAVX512 {
		affineAddSAVX512(dx, dy, x, n, a, b, d)
		return
	}
	affineGo(dx, dy, x, n, a, b, d, true)
}

// AddReLUS sets y = max(a + b, 0), NaN kept.
//
//	for i := 0; i < n; i++ {
//		y[i] = a[i] + b[i]
//		if y[i] < 0 {
//			y[i] = 0
//		}
//	}
func AddReLUS(y, a, b *float32, n int) {
	if useAVX512 {
		addReLUSAVX512(y, a, b, n)
		return
	}
	addReLUGo(y, a, b, n)
}

// ReLUMaskS sets dst = src where x > 0, else 0.
//
//	for i := 0; i < n; i++ {
//		dst[i] = 0
//		if int32(math.Float32bits(x[i])) > 0 {
//			dst[i] = src[i]
//		}
//	}
func ReLUMaskS(dst, src, x *float32, n int) {
	if useAVX512 {
		reLUMaskSAVX512(dst, src, x, n)
		return
	}
	reluMaskGo(dst, src, x, n, false)
}

// ReLUMaskAddS adds src to dst where x > 0.
//
//	for i := 0; i < n; i++ {
//		if int32(math.Float32bits(x[i])) > 0 {
//			dst[i] += src[i]
//		}
//	}
func ReLUMaskAddS(dst, src, x *float32, n int) {
	if useAVX512 {
		reLUMaskAddSAVX512(dst, src, x, n)
		return
	}
	reluMaskGo(dst, src, x, n, true)
}

// MomentsD sets s[0] = sum x and s[1] = sum x^2.
//
//	for _, v := range x[:n] {
//		s[0] += float64(v)
//		s[1] += float64(v) * float64(v)
//	}
func MomentsD(x *float64, n int, s *[2]float64) {
	if useAVX512 {
		momentsDAVX512(x, n, s)
		return
	}
	momentsGo(x, n, s)
}

// ScaleShiftD sets y = scale x + shift.
//
//	for i := 0; i < n; i++ {
//		y[i] = scale*x[i] + shift
//	}
func ScaleShiftD(y, x *float64, n int, scale, shift float64) {
	if useAVX512 {
		scaleShiftDAVX512(y, x, n, scale, shift)
		return
	}
	scaleShiftGo(y, x, n, scale, shift, false)
}

// ScaleShiftReLUD sets y = max(scale x + shift, 0), NaN kept.
//
//	for i := 0; i < n; i++ {
//		y[i] = scale*x[i] + shift
//		if y[i] < 0 {
//			y[i] = 0
//		}
//	}
func ScaleShiftReLUD(y, x *float64, n int, scale, shift float64) {
	if useAVX512 {
		scaleShiftReLUDAVX512(y, x, n, scale, shift)
		return
	}
	scaleShiftGo(y, x, n, scale, shift, true)
}

// CenteredSumsD sets s[0] = sum dy and s[1] = sum dy (x - mu).
//
//	for i := 0; i < n; i++ {
//		s[0] += dy[i]
//		s[1] += dy[i] * (x[i] - mu)
//	}
func CenteredSumsD(dy, x *float64, n int, mu float64, s *[2]float64) {
	if useAVX512 {
		centeredSumsDAVX512(dy, x, n, mu, s)
		return
	}
	centeredSumsGo(dy, x, n, mu, s)
}

// AffineD sets dx = a dy + b x + d.
//
//	for i := 0; i < n; i++ {
//		dx[i] = a*dy[i] + b*x[i] + d
//	}
func AffineD(dx, dy, x *float64, n int, a, b, d float64) {
	if useAVX512 {
		affineDAVX512(dx, dy, x, n, a, b, d)
		return
	}
	affineGo(dx, dy, x, n, a, b, d, false)
}

// AffineAddD adds a dy + b x + d to dx.
//
//	for i := 0; i < n; i++ {
//		dx[i] += a*dy[i] + b*x[i] + d
//	}
func AffineAddD(dx, dy, x *float64, n int, a, b, d float64) {
	if useAVX512 {
		affineAddDAVX512(dx, dy, x, n, a, b, d)
		return
	}
	affineGo(dx, dy, x, n, a, b, d, true)
}

// AddReLUD sets y = max(a + b, 0), NaN kept.
//
//	for i := 0; i < n; i++ {
//		y[i] = a[i] + b[i]
//		if y[i] < 0 {
//			y[i] = 0
//		}
//	}
func AddReLUD(y, a, b *float64, n int) {
	if useAVX512 {
		addReLUDAVX512(y, a, b, n)
		return
	}
	addReLUGo(y, a, b, n)
}

// ReLUMaskD sets dst = src where x > 0 (its bits as an int64), else 0.
//
//	for i := 0; i < n; i++ {
//		dst[i] = 0
//		if int64(math.Float64bits(x[i])) > 0 {
//			dst[i] = src[i]
//		}
//	}
func ReLUMaskD(dst, src, x *float64, n int) {
	if useAVX512 {
		reLUMaskDAVX512(dst, src, x, n)
		return
	}
	reluMaskGo(dst, src, x, n, false)
}

// ReLUMaskAddD adds src to dst where x > 0 (its bits as an int64).
//
//	for i := 0; i < n; i++ {
//		if int64(math.Float64bits(x[i])) > 0 {
//			dst[i] += src[i]
//		}
//	}
func ReLUMaskAddD(dst, src, x *float64, n int) {
	if useAVX512 {
		reLUMaskAddDAVX512(dst, src, x, n)
		return
	}
	reluMaskGo(dst, src, x, n, true)
}

// WinogradInputS writes V = Bᵀ d B of the 4x4 window (padding 1) of every
// 2x2 tile of the plane src to the 16 planes at dst. After the first first
// rows of tiles, and then every run rows, the rows of tiles go on jump
// values further (the panels of a packed product); first 0: never.
//
//	for each 2x2 tile (i, j), d its 4x4 window src[2i-1.., 2j-1..] (zero outside):
//		for x, y < 4: dst[winoAt(2, w, stride, first, run, jump, 4*x+y, i, j)] = sum_r,c Bᵀ[x][r] d[r][c] Bᵀ[y][c]
func WinogradInputS(dst, src *float32, h, w, stride, first, run, jump int) {
	if useAVX512 {
		winogradInputSAVX512(dst, src, h, w, stride, first, run, jump)
		return
	}
	winogradInputGo(dst, src, 2, h, w, stride, first, run, jump)
}

// WinogradOutputS sets the plane dst to Y = Aᵀ M A of the 16 planes at src.
//
//	for each 2x2 tile (i, j), r, c < 2:
//		dst[(2i+r)*w+2j+c] = sum_x,y<4 Aᵀ[r][x] src[winoAt(2, w, stride, 0, 0, 0, 4*x+y, i, j)] Aᵀ[c][y]
func WinogradOutputS(dst, src *float32, h, w, stride int) {
	if useAVX512 {
		winogradOutputSAVX512(dst, src, h, w, stride)
		return
	}
	winogradOutputGo(dst, src, 2, h, w, stride, false)
}

// WinogradOutputAddS adds Y = Aᵀ M A of the 16 planes at src to dst.
//
//	for each 2x2 tile (i, j), r, c < 2:
//		dst[(2i+r)*w+2j+c] += sum_x,y<4 Aᵀ[r][x] src[winoAt(2, w, stride, 0, 0, 0, 4*x+y, i, j)] Aᵀ[c][y]
func WinogradOutputAddS(dst, src *float32, h, w, stride int) {
	if useAVX512 {
		winogradOutputAddSAVX512(dst, src, h, w, stride)
		return
	}
	winogradOutputGo(dst, src, 2, h, w, stride, true)
}

// WinogradOutputAdjointS writes dM = A dY Aᵀ of every 2x2 tile of the
// plane src to the 16 planes at dst.
//
//	for each 2x2 tile (i, j) of the plane dY = src:
//		for x, y < 4: dst[winoAt(2, w, stride, 0, 0, 0, 4*x+y, i, j)] = sum_r,c<2 Aᵀ[r][x] dY[2i+r][2j+c] Aᵀ[c][y]
func WinogradOutputAdjointS(dst, src *float32, h, w, stride int) {
	if useAVX512 {
		winogradOutputAdjointSAVX512(dst, src, h, w, stride)
		return
	}
	winogradAdjointGo(dst, src, 2, h, w, stride)
}

// WinogradInputD is WinogradInputS in float64.
//
//	for each 2x2 tile (i, j), d its 4x4 window src[2i-1.., 2j-1..] (zero outside):
//		for x, y < 4: dst[winoAt(2, w, stride, first, run, jump, 4*x+y, i, j)] = sum_r,c Bᵀ[x][r] d[r][c] Bᵀ[y][c]
func WinogradInputD(dst, src *float64, h, w, stride, first, run, jump int) {
	if useAVX512 {
		winogradInputDAVX512(dst, src, h, w, stride, first, run, jump)
		return
	}
	winogradInputGo(dst, src, 2, h, w, stride, first, run, jump)
}

// WinogradOutputD is WinogradOutputS in float64.
//
//	for each 2x2 tile (i, j), r, c < 2:
//		dst[(2i+r)*w+2j+c] = sum_x,y<4 Aᵀ[r][x] src[winoAt(2, w, stride, 0, 0, 0, 4*x+y, i, j)] Aᵀ[c][y]
func WinogradOutputD(dst, src *float64, h, w, stride int) {
	if useAVX512 {
		winogradOutputDAVX512(dst, src, h, w, stride)
		return
	}
	winogradOutputGo(dst, src, 2, h, w, stride, false)
}

// WinogradOutputAddD is WinogradOutputAddS in float64.
//
//	for each 2x2 tile (i, j), r, c < 2:
//		dst[(2i+r)*w+2j+c] += sum_x,y<4 Aᵀ[r][x] src[winoAt(2, w, stride, 0, 0, 0, 4*x+y, i, j)] Aᵀ[c][y]
func WinogradOutputAddD(dst, src *float64, h, w, stride int) {
	if useAVX512 {
		winogradOutputAddDAVX512(dst, src, h, w, stride)
		return
	}
	winogradOutputGo(dst, src, 2, h, w, stride, true)
}

// WinogradOutputAdjointD is WinogradOutputAdjointS in float64.
//
//	for each 2x2 tile (i, j) of the plane dY = src:
//		for x, y < 4: dst[winoAt(2, w, stride, 0, 0, 0, 4*x+y, i, j)] = sum_r,c<2 Aᵀ[r][x] dY[2i+r][2j+c] Aᵀ[c][y]
func WinogradOutputAdjointD(dst, src *float64, h, w, stride int) {
	if useAVX512 {
		winogradOutputAdjointDAVX512(dst, src, h, w, stride)
		return
	}
	winogradAdjointGo(dst, src, 2, h, w, stride)
}

// WinogradInput4S writes V = Bᵀ d B of the 6x6 window (padding 1) of every
// 4x4 tile of the plane src to the 36 planes at dst, rows of tiles jumping
// as WinogradInputS's do.
//
//	for each 4x4 tile (i, j), d its 6x6 window src[4i-1.., 4j-1..] (zero outside):
//		for x, y < 6: dst[winoAt(4, w, stride, first, run, jump, 6*x+y, i, j)] = sum_r,c Bᵀ[x][r] d[r][c] Bᵀ[y][c]
func WinogradInput4S(dst, src *float32, h, w, stride, first, run, jump int) {
	if useAVX512 {
		winogradInput4SAVX512(dst, src, h, w, stride, first, run, jump)
		return
	}
	winogradInputGo(dst, src, 4, h, w, stride, first, run, jump)
}

// WinogradOutput4S sets the plane dst to Y = Aᵀ M A of the 36 planes at src.
//
//	for each 4x4 tile (i, j), r, c < 4:
//		dst[(4i+r)*w+4j+c] = sum_x,y<6 Aᵀ[r][x] src[winoAt(4, w, stride, 0, 0, 0, 6*x+y, i, j)] Aᵀ[c][y]
func WinogradOutput4S(dst, src *float32, h, w, stride int) {
	if useAVX512 {
		winogradOutput4SAVX512(dst, src, h, w, stride)
		return
	}
	winogradOutputGo(dst, src, 4, h, w, stride, false)
}

// WinogradOutputAdd4S adds Y = Aᵀ M A of the 36 planes at src to dst.
//
//	for each 4x4 tile (i, j), r, c < 4:
//		dst[(4i+r)*w+4j+c] += sum_x,y<6 Aᵀ[r][x] src[winoAt(4, w, stride, 0, 0, 0, 6*x+y, i, j)] Aᵀ[c][y]
func WinogradOutputAdd4S(dst, src *float32, h, w, stride int) {
	if useAVX512 {
		winogradOutputAdd4SAVX512(dst, src, h, w, stride)
		return
	}
	winogradOutputGo(dst, src, 4, h, w, stride, true)
}

// WinogradOutputAdjoint4S writes dM = A dY Aᵀ of every 4x4 tile of the
// plane src to the 36 planes at dst.
//
//	for each 4x4 tile (i, j) of the plane dY = src:
//		for x, y < 6: dst[winoAt(4, w, stride, 0, 0, 0, 6*x+y, i, j)] = sum_r,c<4 Aᵀ[r][x] dY[4i+r][4j+c] Aᵀ[c][y]
func WinogradOutputAdjoint4S(dst, src *float32, h, w, stride int) {
	if useAVX512 {
		winogradOutputAdjoint4SAVX512(dst, src, h, w, stride)
		return
	}
	winogradAdjointGo(dst, src, 4, h, w, stride)
}

// WinogradInput4D is WinogradInput4S in float64.
//
//	for each 4x4 tile (i, j), d its 6x6 window src[4i-1.., 4j-1..] (zero outside):
//		for x, y < 6: dst[winoAt(4, w, stride, first, run, jump, 6*x+y, i, j)] = sum_r,c Bᵀ[x][r] d[r][c] Bᵀ[y][c]
func WinogradInput4D(dst, src *float64, h, w, stride, first, run, jump int) {
	if useAVX512 {
		winogradInput4DAVX512(dst, src, h, w, stride, first, run, jump)
		return
	}
	winogradInputGo(dst, src, 4, h, w, stride, first, run, jump)
}

// WinogradOutput4D is WinogradOutput4S in float64.
//
//	for each 4x4 tile (i, j), r, c < 4:
//		dst[(4i+r)*w+4j+c] = sum_x,y<6 Aᵀ[r][x] src[winoAt(4, w, stride, 0, 0, 0, 6*x+y, i, j)] Aᵀ[c][y]
func WinogradOutput4D(dst, src *float64, h, w, stride int) {
	if useAVX512 {
		winogradOutput4DAVX512(dst, src, h, w, stride)
		return
	}
	winogradOutputGo(dst, src, 4, h, w, stride, false)
}

// WinogradOutputAdd4D is WinogradOutputAdd4S in float64.
//
//	for each 4x4 tile (i, j), r, c < 4:
//		dst[(4i+r)*w+4j+c] += sum_x,y<6 Aᵀ[r][x] src[winoAt(4, w, stride, 0, 0, 0, 6*x+y, i, j)] Aᵀ[c][y]
func WinogradOutputAdd4D(dst, src *float64, h, w, stride int) {
	if useAVX512 {
		winogradOutputAdd4DAVX512(dst, src, h, w, stride)
		return
	}
	winogradOutputGo(dst, src, 4, h, w, stride, true)
}

// WinogradOutputAdjoint4D is WinogradOutputAdjoint4S in float64.
//
//	for each 4x4 tile (i, j) of the plane dY = src:
//		for x, y < 6: dst[winoAt(4, w, stride, 0, 0, 0, 6*x+y, i, j)] = sum_r,c<4 Aᵀ[r][x] dY[4i+r][4j+c] Aᵀ[c][y]
func WinogradOutputAdjoint4D(dst, src *float64, h, w, stride int) {
	if useAVX512 {
		winogradOutputAdjoint4DAVX512(dst, src, h, w, stride)
		return
	}
	winogradAdjointGo(dst, src, 4, h, w, stride)
}

// WinogradInput4WS is WinogradInput4S for rows of up to 64 values.
//
//	for each 4x4 tile (i, j), d its 6x6 window src[4i-1.., 4j-1..] (zero outside):
//		for x, y < 6: dst[winoAt(4, w, stride, first, run, jump, 6*x+y, i, j)] = sum_r,c Bᵀ[x][r] d[r][c] Bᵀ[y][c]
func WinogradInput4WS(dst, src *float32, h, w, stride, first, run, jump int) {
	if useAVX512 {
		winogradInput4WSAVX512(dst, src, h, w, stride, first, run, jump)
		return
	}
	winogradInputGo(dst, src, 4, h, w, stride, first, run, jump)
}

// WinogradOutput4WS is WinogradOutput4S for rows of up to 64 values.
//
//	for each 4x4 tile (i, j), r, c < 4:
//		dst[(4i+r)*w+4j+c] = sum_x,y<6 Aᵀ[r][x] src[winoAt(4, w, stride, 0, 0, 0, 6*x+y, i, j)] Aᵀ[c][y]
func WinogradOutput4WS(dst, src *float32, h, w, stride, segs int) {
	if useAVX512 {
		winogradOutput4WSAVX512(dst, src, h, w, stride, segs)
		return
	}
	winogradOutputGo(dst, src, 4, h, w, stride, false)
}

// WinogradOutputAdd4WS is WinogradOutputAdd4S for rows of up to 64 values.
//
//	for each 4x4 tile (i, j), r, c < 4:
//		dst[(4i+r)*w+4j+c] += sum_x,y<6 Aᵀ[r][x] src[winoAt(4, w, stride, 0, 0, 0, 6*x+y, i, j)] Aᵀ[c][y]
func WinogradOutputAdd4WS(dst, src *float32, h, w, stride, segs int) {
	if useAVX512 {
		winogradOutputAdd4WSAVX512(dst, src, h, w, stride, segs)
		return
	}
	winogradOutputGo(dst, src, 4, h, w, stride, true)
}

// WinogradOutputAdjoint4WS is WinogradOutputAdjoint4S for rows of up to 64
// values.
//
//	for each 4x4 tile (i, j) of the plane dY = src:
//		for x, y < 6: dst[winoAt(4, w, stride, 0, 0, 0, 6*x+y, i, j)] = sum_r,c<4 Aᵀ[r][x] dY[4i+r][4j+c] Aᵀ[c][y]
func WinogradOutputAdjoint4WS(dst, src *float32, h, w, stride, segs int) {
	if useAVX512 {
		winogradOutputAdjoint4WSAVX512(dst, src, h, w, stride, segs)
		return
	}
	winogradAdjointGo(dst, src, 4, h, w, stride)
}

// WinogradInput4WD is WinogradInput4WS in float64 (rows of up to 32).
//
//	for each 4x4 tile (i, j), d its 6x6 window src[4i-1.., 4j-1..] (zero outside):
//		for x, y < 6: dst[winoAt(4, w, stride, first, run, jump, 6*x+y, i, j)] = sum_r,c Bᵀ[x][r] d[r][c] Bᵀ[y][c]
func WinogradInput4WD(dst, src *float64, h, w, stride, first, run, jump int) {
	if useAVX512 {
		winogradInput4WDAVX512(dst, src, h, w, stride, first, run, jump)
		return
	}
	winogradInputGo(dst, src, 4, h, w, stride, first, run, jump)
}

// WinogradOutput4WD is WinogradOutput4WS in float64.
//
//	for each 4x4 tile (i, j), r, c < 4:
//		dst[(4i+r)*w+4j+c] = sum_x,y<6 Aᵀ[r][x] src[winoAt(4, w, stride, 0, 0, 0, 6*x+y, i, j)] Aᵀ[c][y]
func WinogradOutput4WD(dst, src *float64, h, w, stride, segs int) {
	if useAVX512 {
		winogradOutput4WDAVX512(dst, src, h, w, stride, segs)
		return
	}
	winogradOutputGo(dst, src, 4, h, w, stride, false)
}

// WinogradOutputAdd4WD is WinogradOutputAdd4WS in float64.
//
//	for each 4x4 tile (i, j), r, c < 4:
//		dst[(4i+r)*w+4j+c] += sum_x,y<6 Aᵀ[r][x] src[winoAt(4, w, stride, 0, 0, 0, 6*x+y, i, j)] Aᵀ[c][y]
func WinogradOutputAdd4WD(dst, src *float64, h, w, stride, segs int) {
	if useAVX512 {
		winogradOutputAdd4WDAVX512(dst, src, h, w, stride, segs)
		return
	}
	winogradOutputGo(dst, src, 4, h, w, stride, true)
}

// WinogradOutputAdjoint4WD is WinogradOutputAdjoint4WS in float64.
//
//	for each 4x4 tile (i, j) of the plane dY = src:
//		for x, y < 6: dst[winoAt(4, w, stride, 0, 0, 0, 6*x+y, i, j)] = sum_r,c<4 Aᵀ[r][x] dY[4i+r][4j+c] Aᵀ[c][y]
func WinogradOutputAdjoint4WD(dst, src *float64, h, w, stride, segs int) {
	if useAVX512 {
		winogradOutputAdjoint4WDAVX512(dst, src, h, w, stride, segs)
		return
	}
	winogradAdjointGo(dst, src, 4, h, w, stride)
}

// WinogradInput16S is WinogradInput4S for a whole 16x16 plane, its 16
// tiles (four rows of four) in one vector: the 36 planes at dst, stride
// values apart, get 16 values each.
//
//	for each 4x4 tile (i, j), d its 6x6 window src[4i-1.., 4j-1..] (zero outside):
//		for x, y < 6: dst[winoAt(4, w, stride, first, run, jump, 6*x+y, i, j)] = sum_r,c Bᵀ[x][r] d[r][c] Bᵀ[y][c]
func WinogradInput16S(dst, src *float32, stride int) {
	if useAVX512 {
		winogradInput16SAVX512(dst, src, stride)
		return
	}
	winogradInputGo(dst, src, 4, 16, 16, stride, 0, 0, 0)
}

// TransposeS transposes n blocks of 16 x 16 values: block b takes the 16
// rows of src (ldsrc apart) at columns 16b .. 16b+15 to rows 16b .. 16b+15
// of dst (lddst apart), dst[(16b+l)*lddst + j] = src[j*ldsrc + 16b + l]
// (packing a transposed operand into panels).
//
//	for b := 0; b < n; b++ {
//		for l := 0; l < 16; l++ {
//			for j := 0; j < 16; j++ {
//				dst[(16*b+l)*lddst+j] = src[j*ldsrc+16*b+l]
//			}
//		}
//	}
func TransposeS(dst, src *float32, lddst, ldsrc, n int) {
	if useAVX512 {
		transposeSAVX512(dst, src, lddst, ldsrc, n)
		return
	}
	transposeGo(dst, src, lddst, ldsrc, n, 16)
}

// TransposeD is TransposeS in float64, blocks of 8 x 8.
//
//	for b := 0; b < n; b++ {
//		for l := 0; l < 8; l++ {
//			for j := 0; j < 8; j++ {
//				dst[(8*b+l)*lddst+j] = src[j*ldsrc+8*b+l]
//			}
//		}
//	}
func TransposeD(dst, src *float64, lddst, ldsrc, n int) {
	if useAVX512 {
		transposeDAVX512(dst, src, lddst, ldsrc, n)
		return
	}
	transposeGo(dst, src, lddst, ldsrc, n, 8)
}
