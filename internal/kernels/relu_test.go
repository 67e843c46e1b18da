package kernels

import (
	"math"
	"testing"
)

// TestReLUMaskEdges checks the branch-free ReLU masks (on vectors and in the
// tail) at the values where bit tricks go wrong: both zeros, the least
// positive and negative values, the infinities.
func TestReLUMaskEdges(t *testing.T) {
	edges := []float64{0, math.Copysign(0, -1), 5e-324, -5e-324, 1e-40, -1e-40, 1, -1, math.Inf(1), math.Inf(-1)}
	var xs []float64
	for len(xs) < 75 { // two vectors of 32 and a tail
		xs = append(xs, edges...)
	}
	want := func(v float64) float64 {
		if v > 0 {
			return 2
		}
		return 0
	}
	src64 := make([]float64, len(xs))
	for i := range src64 {
		src64[i] = 2
	}
	d64 := make([]float64, len(xs))
	ReLUMask(d64, src64, xs, false)
	ReLUMask(d64, src64, xs, true)
	for i, v := range xs {
		if d64[i] != 2*want(v) {
			t.Errorf("float64 x = %v: %v, want %v", v, d64[i], 2*want(v))
		}
	}
	x32, src32, d32 := make([]float32, len(xs)), make([]float32, len(xs)), make([]float32, len(xs))
	for i, v := range xs {
		x32[i], src32[i] = float32(v), 2
	}
	ReLUMask(d32, src32, x32, false)
	ReLUMask(d32, src32, x32, true)
	for i, v := range x32 {
		if float64(d32[i]) != 2*want(float64(v)) {
			t.Errorf("float32 x[%d] = %v: %v, want %v", i, v, d32[i], 2*want(float64(v)))
		}
	}
	// AddReLU: max(a + b, 0), NaN kept.
	a := append([]float32(nil), x32...)
	a[3] = float32(math.NaN())
	y := make([]float32, len(a))
	AddReLU(y, a, src32)
	for i := range y {
		w := max(float64(a[i])+2, 0)
		if got := float64(y[i]); got != w && !(math.IsNaN(got) && math.IsNaN(w)) && math.Abs(got-w) > 1e-6 {
			t.Errorf("AddReLU[%d] = %v, want %v", i, got, w)
		}
	}
}
