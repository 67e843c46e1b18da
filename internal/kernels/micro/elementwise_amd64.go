//go:build amd64 && !purego

package micro

// The float32 loops of batch normalisation, over n values, n a multiple of
// 32 (the caller does the rest).

// MomentsS sets s[0] = sum x and s[1] = sum x^2, accumulated in float64.
//
//go:noescape
func MomentsS(x *float32, n int, s *[2]float64)

// ScaleShiftS sets y = scale x + shift.
//
//go:noescape
func ScaleShiftS(y, x *float32, n int, scale, shift float32)

// ScaleShiftReLUS sets y = max(scale x + shift, 0), NaN kept.
//
//go:noescape
func ScaleShiftReLUS(y, x *float32, n int, scale, shift float32)

// CenteredSumsS sets s[0] = sum dy and s[1] = sum dy (x - mu).
//
//go:noescape
func CenteredSumsS(dy, x *float32, n int, mu float32, s *[2]float32)

// AffineS sets dx = a dy + b x + d.
//
//go:noescape
func AffineS(dx, dy, x *float32, n int, a, b, d float32)

// AffineAddS adds a dy + b x + d to dx.
//
//go:noescape
func AffineAddS(dx, dy, x *float32, n int, a, b, d float32)

// AddReLUS sets y = max(a + b, 0), NaN kept.
//
//go:noescape
func AddReLUS(y, a, b *float32, n int)

// ReLUMaskS sets dst = src where x > 0, else 0.
//
//go:noescape
func ReLUMaskS(dst, src, x *float32, n int)

// ReLUMaskAddS adds src to dst where x > 0.
//
//go:noescape
func ReLUMaskAddS(dst, src, x *float32, n int)

// The float64 loops of batch normalisation, over n values, n a multiple of
// 16 (the caller does the rest): the float32 loops' rules, for GraSP's
// float64 passes.

// MomentsD sets s[0] = sum x and s[1] = sum x^2.
//
//go:noescape
func MomentsD(x *float64, n int, s *[2]float64)

// ScaleShiftD sets y = scale x + shift.
//
//go:noescape
func ScaleShiftD(y, x *float64, n int, scale, shift float64)

// ScaleShiftReLUD sets y = max(scale x + shift, 0), NaN kept.
//
//go:noescape
func ScaleShiftReLUD(y, x *float64, n int, scale, shift float64)

// CenteredSumsD sets s[0] = sum dy and s[1] = sum dy (x - mu).
//
//go:noescape
func CenteredSumsD(dy, x *float64, n int, mu float64, s *[2]float64)

// AffineD sets dx = a dy + b x + d.
//
//go:noescape
func AffineD(dx, dy, x *float64, n int, a, b, d float64)

// AffineAddD adds a dy + b x + d to dx.
//
//go:noescape
func AffineAddD(dx, dy, x *float64, n int, a, b, d float64)

// AddReLUD sets y = max(a + b, 0), NaN kept.
//
//go:noescape
func AddReLUD(y, a, b *float64, n int)

// ReLUMaskD sets dst = src where x > 0 (its bits as an int64), else 0.
//
//go:noescape
func ReLUMaskD(dst, src, x *float64, n int)

// ReLUMaskAddD adds src to dst where x > 0 (its bits as an int64).
//
//go:noescape
func ReLUMaskAddD(dst, src, x *float64, n int)
