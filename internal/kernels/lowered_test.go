package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmLowered checks products with a column matrix packed from the
// images against the same products with the matrix formed by Im2col, over
// geometries with padding, strides, 1x1 and wide windows, and chunk sizes
// whose pixel runs cross image and row boundaries at ragged block edges.
func TestGemmLowered(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, tc := range []struct {
		g      ConvGeom
		images int
		m      int
	}{
		{NewConvGeom(3, 32, 32, 3, 3, 1, 1, 1, 1), 3, 16},
		{NewConvGeom(40, 8, 8, 3, 3, 1, 1, 1, 1), 5, 37},
		{NewConvGeom(7, 9, 11, 3, 3, 2, 2, 1, 1), 4, 13},
		{NewConvGeom(33, 6, 6, 1, 1, 2, 2, 0, 0), 9, 25},
		{NewConvGeom(2, 12, 10, 5, 5, 1, 1, 0, 0), 3, 50},
		{NewConvGeom(300, 2, 2, 3, 3, 1, 1, 1, 1), 70, 12},
	} {
		g := tc.g
		t.Run(fmt.Sprintf("%+v/%d", g, tc.images), func(t *testing.T) {
			x := Lowered[float64]{G: g, X: randSlice(rng, tc.images*g.C*g.H*g.W), Images: tc.images}
			k, n := g.Rows(), tc.images*g.Cols()
			col := x.form()
			for _, transA := range []bool{false, true} {
				a, lda := randSlice(rng, tc.m*k), k
				if transA {
					lda = tc.m
				}
				c, want := randSlice(rng, tc.m*n), make([]float64, tc.m*n)
				copy(want, c)
				naiveGemm(transA, false, tc.m, n, k, 0.5, a, lda, col, n, 2, want, n)
				GemmLowered(transA, tc.m, 0.5, a, lda, x, 2, c, n)
				assertClose(t, "GemmLowered", c, want)
			}
			// A col^T, the weight gradient's product.
			a := randSlice(rng, tc.m*n)
			c, want := randSlice(rng, tc.m*k), make([]float64, tc.m*k)
			copy(want, c)
			naiveGemm(false, true, tc.m, k, n, 1, a, n, col, n, 1, want, k)
			GemmLoweredT(tc.m, 1, a, n, x, 1, c, k)
			assertClose(t, "GemmLoweredT", c, want)
		})
	}
}

func assertClose(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-10*(1+math.Abs(want[i])) {
			t.Fatalf("%s: c[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}
