//go:build !amd64 || purego

package micro

// Available is false: there are no kernels for this architecture (or with
// the purego tag).
const Available = false

// Sgemm12x32 panics: check Available first.
func Sgemm12x32(k int, a, b, c *float32, ldc, rows int, alpha float32) {
	panic("micro: no kernels on this architecture")
}

// Dgemm12x16 panics: check Available first.
func Dgemm12x16(k int, a, b, c *float64, ldc, rows int, alpha float64) {
	panic("micro: no kernels on this architecture")
}

// Sgemm12x32Rows panics: check Available first.
func Sgemm12x32Rows(k int, a, b *float32, offs *int, half int, c *float32, ldc, rows int, alpha float32) {
	panic("micro: no kernels on this architecture")
}

// Dgemm12x16Rows panics: check Available first.
func Dgemm12x16Rows(k int, a, b *float64, offs *int, half int, c *float64, ldc, rows int, alpha float64) {
	panic("micro: no kernels on this architecture")
}

// Sgemm12x32Rows4 panics: check Available first.
func Sgemm12x32Rows4(k int, a, b *float32, offs *int, stride int, c *float32, ldc, rows int, alpha float32) {
	panic("micro: no kernels on this architecture")
}

// Dgemm12x16Rows4 panics: check Available first.
func Dgemm12x16Rows4(k int, a, b *float64, offs *int, stride int, c *float64, ldc, rows int, alpha float64) {
	panic("micro: no kernels on this architecture")
}

// Sgemm12x32ARows panics: check Available first.
func Sgemm12x32ARows(k int, a *[12]*float32, b, c *float32, ldc, rows int, alpha float32) {
	panic("micro: no kernels on this architecture")
}

// Sgemm12x32Set panics: check Available first.
func Sgemm12x32Set(k int, a, b, c *float32, ldc, rows int, alpha float32) {
	panic("micro: no kernels on this architecture")
}

// Dgemm12x16Set panics: check Available first.
func Dgemm12x16Set(k int, a, b, c *float64, ldc, rows int, alpha float64) {
	panic("micro: no kernels on this architecture")
}

// Sgemm12x32ARowsSet panics: check Available first.
func Sgemm12x32ARowsSet(k int, a *[12]*float32, b, c *float32, ldc, rows int, alpha float32) {
	panic("micro: no kernels on this architecture")
}

// Dgemm12x16ARowsSet panics: check Available first.
func Dgemm12x16ARowsSet(k int, a *[12]*float64, b, c *float64, ldc, rows int, alpha float64) {
	panic("micro: no kernels on this architecture")
}

// Dgemm12x16ARows panics: check Available first.
func Dgemm12x16ARows(k int, a *[12]*float64, b, c *float64, ldc, rows int, alpha float64) {
	panic("micro: no kernels on this architecture")
}

// SparseSRow panics: check Available first.
func SparseSRow(n int, vals *float32, offs *int, b, c *float32) {
	panic("micro: no kernels on this architecture")
}

// SparseDRow panics: check Available first.
func SparseDRow(n int, vals *float64, offs *int, b, c *float64) {
	panic("micro: no kernels on this architecture")
}

// SparseSDot panics: check Available first.
func SparseSDot(n int, offs *int, a, b, acc *float32) {
	panic("micro: no kernels on this architecture")
}

// SparseDDot panics: check Available first.
func SparseDDot(n int, offs *int, a, b, acc *float64) {
	panic("micro: no kernels on this architecture")
}

// The elementwise loops panic: check Available first.

func MomentsS(x *float32, n int, s *[2]float64)                  { panic("micro: no kernels") }
func ScaleShiftS(y, x *float32, n int, scale, shift float32)     { panic("micro: no kernels") }
func ScaleShiftReLUS(y, x *float32, n int, scale, shift float32) { panic("micro: no kernels") }
func CenteredSumsS(dy, x *float32, n int, mu float32, s *[2]float32) {
	panic("micro: no kernels")
}
func AffineS(dx, dy, x *float32, n int, a, b, d float32)             { panic("micro: no kernels") }
func AffineAddS(dx, dy, x *float32, n int, a, b, d float32)          { panic("micro: no kernels") }
func AddReLUS(y, a, b *float32, n int)                               { panic("micro: no kernels") }
func ReLUMaskS(dst, src, x *float32, n int)                          { panic("micro: no kernels") }
func ReLUMaskAddS(dst, src, x *float32, n int)                       { panic("micro: no kernels") }
func MomentsD(x *float64, n int, s *[2]float64)                      { panic("micro: no kernels") }
func ScaleShiftD(y, x *float64, n int, scale, shift float64)         { panic("micro: no kernels") }
func ScaleShiftReLUD(y, x *float64, n int, scale, shift float64)     { panic("micro: no kernels") }
func CenteredSumsD(dy, x *float64, n int, mu float64, s *[2]float64) { panic("micro: no kernels") }
func AffineD(dx, dy, x *float64, n int, a, b, d float64)             { panic("micro: no kernels") }
func AffineAddD(dx, dy, x *float64, n int, a, b, d float64)          { panic("micro: no kernels") }
func AddReLUD(y, a, b *float64, n int)                               { panic("micro: no kernels") }
func ReLUMaskD(dst, src, x *float64, n int)                          { panic("micro: no kernels") }
func ReLUMaskAddD(dst, src, x *float64, n int)                       { panic("micro: no kernels") }

// WinogradInputS panics: check Available first.
func WinogradInputS(dst, src *float32, h, w, stride, first, run, jump int) {
	panic("micro: no kernels")
}

// WinogradOutputS panics: check Available first.
func WinogradOutputS(dst, src *float32, h, w, stride int) { panic("micro: no kernels") }

// WinogradOutputAddS panics: check Available first.
func WinogradOutputAddS(dst, src *float32, h, w, stride int) { panic("micro: no kernels") }

// WinogradOutputAdjointS panics: check Available first.
func WinogradOutputAdjointS(dst, src *float32, h, w, stride int) { panic("micro: no kernels") }

// WinogradInputD panics: check Available first.
func WinogradInputD(dst, src *float64, h, w, stride, first, run, jump int) {
	panic("micro: no kernels")
}

// WinogradOutputD panics: check Available first.
func WinogradOutputD(dst, src *float64, h, w, stride int) { panic("micro: no kernels") }

// WinogradOutputAddD panics: check Available first.
func WinogradOutputAddD(dst, src *float64, h, w, stride int) { panic("micro: no kernels") }

// WinogradOutputAdjointD panics: check Available first.
func WinogradOutputAdjointD(dst, src *float64, h, w, stride int) { panic("micro: no kernels") }

// WinogradInput4S panics: check Available first.
func WinogradInput4S(dst, src *float32, h, w, stride, first, run, jump int) {
	panic("micro: no kernels")
}

// WinogradOutput4S panics: check Available first.
func WinogradOutput4S(dst, src *float32, h, w, stride int) { panic("micro: no kernels") }

// WinogradOutputAdd4S panics: check Available first.
func WinogradOutputAdd4S(dst, src *float32, h, w, stride int) { panic("micro: no kernels") }

// WinogradOutputAdjoint4S panics: check Available first.
func WinogradOutputAdjoint4S(dst, src *float32, h, w, stride int) { panic("micro: no kernels") }

// WinogradInput4D panics: check Available first.
func WinogradInput4D(dst, src *float64, h, w, stride, first, run, jump int) {
	panic("micro: no kernels")
}

// WinogradOutput4D panics: check Available first.
func WinogradOutput4D(dst, src *float64, h, w, stride int) { panic("micro: no kernels") }

// WinogradOutputAdd4D panics: check Available first.
func WinogradOutputAdd4D(dst, src *float64, h, w, stride int) { panic("micro: no kernels") }

// WinogradOutputAdjoint4D panics: check Available first.
func WinogradOutputAdjoint4D(dst, src *float64, h, w, stride int) { panic("micro: no kernels") }

// WinogradInput4WS panics: check Available first.
func WinogradInput4WS(dst, src *float32, h, w, stride, first, run, jump int) {
	panic("micro: no kernels")
}

// WinogradOutput4WS panics: check Available first.
func WinogradOutput4WS(dst, src *float32, h, w, stride, segs int) { panic("micro: no kernels") }

// WinogradOutputAdd4WS panics: check Available first.
func WinogradOutputAdd4WS(dst, src *float32, h, w, stride, segs int) { panic("micro: no kernels") }

// WinogradOutputAdjoint4WS panics: check Available first.
func WinogradOutputAdjoint4WS(dst, src *float32, h, w, stride, segs int) { panic("micro: no kernels") }

// WinogradInput4WD panics: check Available first.
func WinogradInput4WD(dst, src *float64, h, w, stride, first, run, jump int) {
	panic("micro: no kernels")
}

// WinogradOutput4WD panics: check Available first.
func WinogradOutput4WD(dst, src *float64, h, w, stride, segs int) { panic("micro: no kernels") }

// WinogradOutputAdd4WD panics: check Available first.
func WinogradOutputAdd4WD(dst, src *float64, h, w, stride, segs int) { panic("micro: no kernels") }

// WinogradOutputAdjoint4WD panics: check Available first.
func WinogradOutputAdjoint4WD(dst, src *float64, h, w, stride, segs int) { panic("micro: no kernels") }

// WinogradInput16S panics: check Available first.
func WinogradInput16S(dst, src *float32, stride int) { panic("micro: no kernels") }

// TransposeS panics: check Available first.
func TransposeS(dst, src *float32, lddst, ldsrc, n int) { panic("micro: no kernels") }

// TransposeD panics: check Available first.
func TransposeD(dst, src *float64, lddst, ldsrc, n int) { panic("micro: no kernels") }
