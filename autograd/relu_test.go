package autograd

import (
	"math"
	"testing"
)

// TestReLUMaskEdges checks the branch-free ReLU masks at the values where
// bit tricks go wrong: both zeros, the least positive and negative values,
// the infinities.
func TestReLUMaskEdges(t *testing.T) {
	xs := []float64{0, math.Copysign(0, -1), 5e-324, -5e-324, 1e-40, -1e-40, 1, -1, math.Inf(1), math.Inf(-1)}
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
	reluMasked(d64, src64, xs, false)
	for i, v := range xs {
		if d64[i] != want(v) {
			t.Errorf("float64 x = %v: set %v, want %v", v, d64[i], want(v))
		}
	}
	reluMasked(d64, src64, xs, true)
	for i, v := range xs {
		if d64[i] != 2*want(v) {
			t.Errorf("float64 x = %v: added %v, want %v", v, d64[i], 2*want(v))
		}
	}
	x32, src32, d32 := make([]float32, len(xs)), make([]float32, len(xs)), make([]float32, len(xs))
	for i, v := range xs {
		x32[i], src32[i] = float32(v), 2
	}
	reluMasked(d32, src32, x32, false)
	reluMasked(d32, src32, x32, true)
	for i, v := range x32 {
		if float64(d32[i]) != 2*want(float64(v)) {
			t.Errorf("float32 x = %v: %v, want %v", v, d32[i], 2*want(float64(v)))
		}
	}
}
