package kernels

import (
	"math"

	"github.com/winnow-ml/winnow/internal/kernels/micro"
)

// The loops of batch normalisation over one run of a channel's values. With
// the micro-kernels they run 32 float32 or 16 float64 values per step on
// vectors; otherwise, and for the last values, in Go.

// vectorPart is how many leading values of a run of n values the
// micro-kernels take (a multiple of 32 float32 or 16 float64 values), 0
// without them.
func vectorPart[T Float](n int) int {
	if !micro.Available {
		return 0
	}
	var z T
	if _, ok := any(z).(float32); ok {
		return n &^ 31
	}
	return n &^ 15
}

// is32 reports whether T is float32 (else float64).
func is32[T Float]() bool {
	var z T
	_, ok := any(z).(float32)
	return ok
}

func f32[T Float](s []T, i int) *float32 { return &any(s).([]float32)[i] }
func f64[T Float](s []T, i int) *float64 { return &any(s).([]float64)[i] }

// Moments returns sum x and sum x^2, accumulated in float64.
func Moments[T Float](x []T) (sum, sumsq float64) {
	v := vectorPart[T](len(x))
	if v > 0 {
		var s [2]float64
		if is32[T]() {
			micro.MomentsS(f32(x, 0), v, &s)
		} else {
			micro.MomentsD(f64(x, 0), v, &s)
		}
		sum, sumsq = s[0], s[1]
	}
	for _, e := range x[v:] {
		f := float64(e)
		sum, sumsq = sum+f, sumsq+f*f
	}
	return sum, sumsq
}

// ScaleShift sets y = scale x + shift, or with relu max(scale x + shift, 0)
// (NaN kept).
func ScaleShift[T Float](y, x []T, scale, shift T, relu bool) {
	y = y[:len(x)]
	v := vectorPart[T](len(x))
	switch {
	case v == 0:
	case is32[T]():
		s, h := any(scale).(float32), any(shift).(float32)
		if relu {
			micro.ScaleShiftReLUS(f32(y, 0), f32(x, 0), v, s, h)
		} else {
			micro.ScaleShiftS(f32(y, 0), f32(x, 0), v, s, h)
		}
	default:
		s, h := any(scale).(float64), any(shift).(float64)
		if relu {
			micro.ScaleShiftReLUD(f64(y, 0), f64(x, 0), v, s, h)
		} else {
			micro.ScaleShiftD(f64(y, 0), f64(x, 0), v, s, h)
		}
	}
	for i := v; i < len(x); i++ {
		y[i] = scale*x[i] + shift
		if relu {
			y[i] = max(y[i], 0)
		}
	}
}

// CenteredSums returns sum dy and sum dy (x - mu).
func CenteredSums[T Float](dy, x []T, mu T) (sdy, sdyx T) {
	x = x[:len(dy)]
	v := vectorPart[T](len(dy))
	switch {
	case v == 0:
	case is32[T]():
		var s [2]float32
		micro.CenteredSumsS(f32(dy, 0), f32(x, 0), v, any(mu).(float32), &s)
		sdy, sdyx = T(s[0]), T(s[1])
	default:
		var s [2]float64
		micro.CenteredSumsD(f64(dy, 0), f64(x, 0), v, any(mu).(float64), &s)
		sdy, sdyx = T(s[0]), T(s[1])
	}
	var s0, s1, p0, p1 T // two independent sums each
	i := v
	for ; i+2 <= len(dy); i += 2 {
		s0, s1 = s0+dy[i], s1+dy[i+1]
		p0 += dy[i] * (x[i] - mu)
		p1 += dy[i+1] * (x[i+1] - mu)
	}
	for ; i < len(dy); i++ {
		s0 += dy[i]
		p0 += dy[i] * (x[i] - mu)
	}
	return sdy + s0 + s1, sdyx + p0 + p1
}

// Affine sets dx = a dy + b x + d (add: adds it to dx).
func Affine[T Float](dx, dy, x []T, a, b, d T, add bool) {
	dy, x = dy[:len(dx)], x[:len(dx)]
	v := vectorPart[T](len(dx))
	switch {
	case v == 0:
	case is32[T]():
		fa, fb, fd := any(a).(float32), any(b).(float32), any(d).(float32)
		if add {
			micro.AffineAddS(f32(dx, 0), f32(dy, 0), f32(x, 0), v, fa, fb, fd)
		} else {
			micro.AffineS(f32(dx, 0), f32(dy, 0), f32(x, 0), v, fa, fb, fd)
		}
	default:
		fa, fb, fd := any(a).(float64), any(b).(float64), any(d).(float64)
		if add {
			micro.AffineAddD(f64(dx, 0), f64(dy, 0), f64(x, 0), v, fa, fb, fd)
		} else {
			micro.AffineD(f64(dx, 0), f64(dy, 0), f64(x, 0), v, fa, fb, fd)
		}
	}
	if add {
		for i := v; i < len(dx); i++ {
			dx[i] += a*dy[i] + b*x[i] + d
		}
		return
	}
	for i := v; i < len(dx); i++ {
		dx[i] = a*dy[i] + b*x[i] + d
	}
}

// AddReLU sets y = max(a + b, 0) (NaN kept).
func AddReLU[T Float](y, a, b []T) {
	a, b = a[:len(y)], b[:len(y)]
	v := vectorPart[T](len(y))
	switch {
	case v == 0:
	case is32[T]():
		micro.AddReLUS(f32(y, 0), f32(a, 0), f32(b, 0), v)
	default:
		micro.AddReLUD(f64(y, 0), f64(a, 0), f64(b, 0), v)
	}
	for i := v; i < len(y); i++ {
		y[i] = max(a[i]+b[i], 0)
	}
}

// ReLUMask sets dst = src where x > 0, else 0 (add: adds src where x > 0),
// without branches: where the signs of x are random a branch is
// mispredicted every other value. x > 0 is read off x's bits as a signed
// integer (so a NaN with its sign bit clear counts as positive; its loss
// is NaN anyway).
func ReLUMask[T Float](dst, src, x []T, add bool) {
	src, x = src[:len(dst)], x[:len(dst)]
	v := vectorPart[T](len(dst))
	switch {
	case v == 0:
	case is32[T]() && add:
		micro.ReLUMaskAddS(f32(dst, 0), f32(src, 0), f32(x, 0), v)
	case is32[T]():
		micro.ReLUMaskS(f32(dst, 0), f32(src, 0), f32(x, 0), v)
	case add:
		micro.ReLUMaskAddD(f64(dst, 0), f64(src, 0), f64(x, 0), v)
	default:
		micro.ReLUMaskD(f64(dst, 0), f64(src, 0), f64(x, 0), v)
	}
	switch d := any(dst[v:]).(type) {
	case []float32:
		reluMask32(d, any(src[v:]).([]float32), any(x[v:]).([]float32), add)
	case []float64:
		reluMask64(d, any(src[v:]).([]float64), any(x[v:]).([]float64), add)
	}
}

// reluMask32 is ReLUMask's loop for float32: the mask is all ones where the
// bits of v, as a signed integer, are positive.
func reluMask32(d, s, xs []float32, add bool) {
	if !add {
		for i, v := range xs {
			b := int64(int32(math.Float32bits(v)))
			d[i] = math.Float32frombits(math.Float32bits(s[i]) & uint32((-b)>>63))
		}
		return
	}
	for i, v := range xs {
		b := int64(int32(math.Float32bits(v)))
		d[i] += math.Float32frombits(math.Float32bits(s[i]) & uint32((-b)>>63))
	}
}

// reluMask64 is reluMask32 for float64: the mask is all ones where -b < 0
// and b >= 0 (so not for -0, whose bits are the least int64).
func reluMask64(d, s, xs []float64, add bool) {
	if !add {
		for i, v := range xs {
			b := int64(math.Float64bits(v))
			d[i] = math.Float64frombits(math.Float64bits(s[i]) & uint64((-b)>>63&^(b>>63)))
		}
		return
	}
	for i, v := range xs {
		b := int64(math.Float64bits(v))
		d[i] += math.Float64frombits(math.Float64bits(s[i]) & uint64((-b)>>63&^(b>>63)))
	}
}
