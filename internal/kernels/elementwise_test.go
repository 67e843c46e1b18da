package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestElementwise checks the batch-normalisation loops in float32 (vectors
// and the tail) against float64 on lengths around the vector width.
func TestElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	for _, n := range []int{5, 32, 77} {
		x64, dy64, dx64 := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
		x, dy, dx := to32(x64), to32(dy64), to32(dx64)
		for i := range x64 { // compare with the float32 inputs exactly
			x64[i], dy64[i], dx64[i] = float64(x[i]), float64(dy[i]), float64(dx[i])
		}
		s, q := Moments(x)
		ws, wq := Moments(x64)
		if math.Abs(s-ws) > 1e-9 || math.Abs(q-wq) > 1e-9 {
			t.Errorf("n=%d Moments %v %v, want %v %v", n, s, q, ws, wq)
		}
		for _, relu := range []bool{false, true} {
			y, y64 := make([]float32, n), make([]float64, n)
			ScaleShift(y, x, 1.5, -0.25, relu)
			ScaleShift(y64, x64, 1.5, -0.25, relu)
			assertClose32(t, "ScaleShift", y, y64)
		}
		a, b := CenteredSums(dy, x, 0.3)
		wa, wb := CenteredSums(dy64, x64, 0.3)
		assertClose32(t, "CenteredSums", []float32{a, b}, []float64{wa, wb})
		for _, add := range []bool{false, true} {
			g, g64 := append([]float32(nil), dx...), append([]float64(nil), dx64...)
			Affine(g, dy, x, 0.5, -2, 0.125, add)
			Affine(g64, dy64, x64, 0.5, -2, 0.125, add)
			assertClose32(t, "Affine", g, g64)
		}
	}
}

func assertClose32(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > 1e-5*(1+math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}
