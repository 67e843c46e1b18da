package autograd

import (
	"math"
	"testing"
)

// TestReLUMaskedEdges: the branch-free mask passes values exactly where
// x > 0: not at +0 or -0, and at the smallest subnormals.
func TestReLUMaskedEdges(t *testing.T) {
	x := []float64{-1, math.Copysign(0, -1), 0, 5e-324, 2, -5e-324, math.Inf(1), math.Inf(-1)}
	want := []float64{0, 0, 0, 5, 5, 0, 5, 0}
	src := []float64{5, 5, 5, 5, 5, 5, 5, 5}
	got := make([]float64, len(x))
	reluMasked(got, src, x, false)
	x32, src32, got32 := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	for i := range x {
		x32[i], src32[i], got32[i] = float32(x[i]), 5, 1
	}
	x32[3], x32[5] = math.Float32frombits(1), -math.Float32frombits(1)
	reluMasked(got32, src32, x32, true)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("float64: x = %v: got %v, want %v", x[i], got[i], want[i])
		}
		if float64(got32[i]) != 1+want[i] {
			t.Errorf("float32 add: x = %v: got %v, want %v", x32[i], got32[i], 1+want[i])
		}
	}
	if math.Signbit(got[1]) {
		t.Errorf("relu(-0) = -0, want +0")
	}
}
