package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmGrid checks products on the grid, unpadded, against the same
// products with the column matrix formed by Im2col, for stride-1 windows
// with and without padding, and that Unpad adds when asked.
func TestGemmGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, tc := range []struct {
		g         ConvGeom
		images, m int
	}{
		{NewConvGeom(3, 32, 32, 3, 3, 1, 1, 1, 1), 3, 16},
		{NewConvGeom(20, 16, 16, 3, 3, 1, 1, 1, 1), 5, 37},
		{NewConvGeom(4, 9, 13, 5, 3, 1, 1, 2, 1), 2, 13},
		{NewConvGeom(70, 12, 10, 3, 3, 1, 1, 0, 0), 3, 25},
		{NewConvGeom(9, 7, 7, 1, 1, 1, 1, 0, 0), 4, 30},
		{NewConvGeom(40, 20, 20, 3, 3, 1, 1, 1, 1), 3, 70},
		{NewConvGeom(13, 5, 32, 3, 3, 1, 1, 1, 1), 3, 29},   // rows of two blocks (float64)
		{NewConvGeom(300, 4, 16, 3, 3, 1, 1, 1, 1), 2, 100}, // several blocks of steps and of rows
		{NewConvGeom(7, 6, 8, 3, 3, 1, 1, 1, 1), 3, 20},     // pairs of rows of half a block (float64)
		{NewConvGeom(5, 8, 4, 3, 3, 1, 1, 1, 1), 2, 14},     // four rows of a quarter (float64)
	} {
		g := tc.g
		t.Run(fmt.Sprintf("%+v/%d", g, tc.images), func(t *testing.T) {
			x := Lowered[float64]{G: g, X: randSlice(rng, tc.images*g.C*g.H*g.W), Images: tc.images}
			k, p := g.Rows(), g.Cols()
			col := x.form() // [k, images*p], image-major columns
			for _, transA := range []bool{false, true} {
				a, lda := randSlice(rng, tc.m*k), k
				if transA {
					lda = tc.m
				}
				prod := make([]float64, tc.m*tc.images*p)
				naiveGemm(transA, false, tc.m, tc.images*p, k, 0.5, a, lda, col, tc.images*p, 0, prod, tc.images*p)
				// want [images, m, p] = prod rearranged, plus what dst held.
				dst := randSlice(rng, tc.images*tc.m*p)
				want := append([]float64(nil), dst...)
				for n := 0; n < tc.images; n++ {
					for o := 0; o < tc.m; o++ {
						for i := 0; i < p; i++ {
							want[(n*tc.m+o)*p+i] += prod[o*tc.images*p+n*p+i]
						}
					}
				}
				gr := LoadGrid(g, tc.images, x.X, make([]float64, GridLen(g, tc.images)))
				q := gr.Cols()
				c := randSlice(rng, tc.m*q) // beta 0 must ignore it
				dst2 := append([]float64(nil), dst...)
				GemmGrid(transA, tc.m, 0.5, a, lda, gr, 0, c, q)
				gr.Unpad(c, tc.m, dst, true)
				assertClose(t, "GemmGrid + Unpad", dst, want)
				if !transA && gridImagesFit[float64](g) {
					GemmGridImages(tc.m, 0.5, a, lda, gr, dst2, true)
					assertClose(t, "GemmGridImages", dst2, want)
				}
			}
			// The weight gradient's product dy col^T, dy padded onto the grid.
			dy := randSlice(rng, tc.images*tc.m*p)
			dyCols := make([]float64, tc.m*tc.images*p) // [m, images*p]
			for n := 0; n < tc.images; n++ {
				for o := 0; o < tc.m; o++ {
					copy(dyCols[o*tc.images*p+n*p:][:p], dy[(n*tc.m+o)*p:][:p])
				}
			}
			c := randSlice(rng, tc.m*k)
			c2 := append([]float64(nil), c...)
			want := append([]float64(nil), c...)
			naiveGemm(false, true, tc.m, k, tc.images*p, 0.5, dyCols, tc.images*p, col, tc.images*p, 1, want, k)
			gr := LoadGrid(g, tc.images, x.X, make([]float64, GridLen(g, tc.images)))
			dyGrid := randSlice(rng, tc.m*gr.Cols())
			gr.Pad(dy, tc.m, dyGrid)
			GemmGridT(tc.m, 0.5, dyGrid, gr.Cols(), gr, 1, c, k)
			assertClose(t, "Pad + GemmGridT", c, want)
			// The same product packed from the images.
			GemmGridTImages(tc.m, 0.5, dy, gr, 1, c2, k, make([]float64, GridTBufLen(tc.m, gr)))
			assertClose(t, "GemmGridTImages", c2, want)
		})
	}
}

// TestSparseGemmGrid checks the sparse product on the grid against the
// dense one with the same (mostly zero) weights, rows with no nonzero and
// a ragged last strip included.
func TestSparseGemmGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, g := range []ConvGeom{
		NewConvGeom(5, 9, 11, 3, 3, 1, 1, 1, 1),
		NewConvGeom(16, 4, 4, 3, 3, 1, 1, 1, 1),
		NewConvGeom(3, 7, 7, 5, 5, 1, 1, 2, 2),
	} {
		const m, images = 9, 3
		w := randSlice(rng, m*g.Rows())
		for i := range w {
			if rng.Float64() < 0.8 || i/g.Rows() == 4 { // row 4 all zero
				w[i] = 0
			}
		}
		gr := LoadGrid(g, images, randSlice(rng, images*g.C*g.H*g.W), make([]float64, GridLen(g, images)))
		q := gr.Cols()
		c := randSlice(rng, m*q)
		want := append([]float64(nil), c...)
		for i := range want {
			want[i] *= 0.5
		}
		GemmGrid(false, m, 1, w, g.Rows(), gr, 1, want, q)
		SparseGemmGrid(NewCSR(m, g.Rows(), w, nil), gr, 0.5, c, q)
		assertClose(t, fmt.Sprintf("SparseGemmGrid %+v", g), c, want)
	}
}

// TestSparseGemmGridT checks the pruned weight gradient on the grid: the
// pattern's entries equal the dense product's, the others stay untouched.
func TestSparseGemmGridT(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, g := range []ConvGeom{
		NewConvGeom(5, 9, 11, 3, 3, 1, 1, 1, 1),
		NewConvGeom(16, 4, 4, 3, 3, 1, 1, 1, 1),
		NewConvGeom(3, 20, 20, 5, 5, 1, 1, 2, 2),
	} {
		const m, images = 11, 3
		keep := make([]float64, m*g.Rows())
		for i := range keep {
			if rng.Float64() < 0.2 && i/g.Rows() != 4 {
				keep[i] = 1
			}
		}
		gr := LoadGrid(g, images, randSlice(rng, images*g.C*g.H*g.W), make([]float64, GridLen(g, images)))
		q := gr.Cols()
		dy := randSlice(rng, images*m*g.Cols())
		dyg := make([]float64, m*q)
		gr.Pad(dy, m, dyg)
		dense := randSlice(rng, m*g.Rows())
		sparse := append([]float64(nil), dense...)
		before := append([]float64(nil), dense...)
		GemmGridT(m, 1, dyg, q, gr, 1, dense, g.Rows())
		SparseGemmGridT(NewCSR(m, g.Rows(), keep, keep), dyg, q, gr, sparse, g.Rows())
		for i := range keep {
			if keep[i] == 0 {
				if sparse[i] != before[i] {
					t.Fatalf("%+v: pruned entry %d changed", g, i)
				}
				dense[i] = before[i]
			}
		}
		assertClose(t, fmt.Sprintf("SparseGemmGridT %+v", g), sparse, dense)
	}
}

// TestGemmGridImages32 checks GemmGridImages in float32 against GemmGrid
// and Unpad: rows of one block (32 wide), pairs of rows of half a block (16
// wide) and four rows of a quarter (8 wide).
func TestGemmGridImages32(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, g := range []ConvGeom{
		NewConvGeom(5, 4, 32, 3, 3, 1, 1, 1, 1),
		NewConvGeom(70, 16, 16, 3, 3, 1, 1, 1, 1),
		NewConvGeom(40, 8, 8, 3, 3, 1, 1, 1, 1), // four rows of 8, a quarter each
	} {
		const images, m = 3, 20
		if !gridImagesFit[float32](g) {
			t.Fatalf("%+v: gridImagesFit false", g)
		}
		x := to32(randSlice(rng, images*g.C*g.H*g.W))
		a := to32(randSlice(rng, m*g.Rows()))
		gr := LoadGrid(g, images, x, make([]float32, GridLen(g, images)))
		c := make([]float32, m*gr.Cols())
		GemmGrid(false, m, 0.5, a, g.Rows(), gr, 0, c, gr.Cols())
		start := to32(randSlice(rng, images*m*g.OH*g.OW))
		want, got := append([]float32(nil), start...), append([]float32(nil), start...)
		gr.Unpad(c, m, want, true)
		GemmGridImages(m, 0.5, a, g.Rows(), gr, got, true)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%+v: [%d] = %v, want %v", g, i, got[i], want[i])
			}
		}
	}
}

// TestSparseWorth checks the sparse products' rule against the break-even
// densities it is fitted to (BenchmarkSparseConv): sparse at 10% on 32x32
// and 8x8 maps, dense at 10% on 4x4 but sparse at 2%, never on 2x2; and
// at half the density against Winograd's products.
func TestSparseWorth(t *testing.T) {
	weights := func(n int, density float64) []float32 {
		w := make([]float32, n)
		for i := 0; i < int(density*float64(n)); i++ {
			w[i*n/int(density*float64(n))] = 1
		}
		return w
	}
	// Between the two rules: sparse against the direct products, dense
	// against Winograd's (32x32: 0.22 and, by F(4x4, 3x3), 0.063).
	if g := NewConvGeom(32, 32, 32, 3, 3, 1, 1, 1, 1); !sparsePays(g, weights(32*g.Rows(), 0.15), false) || sparsePays(g, weights(32*g.Rows(), 0.15), true) {
		t.Errorf("32x32 at density 0.15: want sparse against the direct products only")
	}
	for _, tc := range []struct {
		c, hw   int
		density float64
		want    bool
	}{
		{32, 32, 0.1, true}, {32, 32, 0.4, false},
		{128, 8, 0.1, true}, {128, 8, 0.2, false},
		{512, 4, 0.1, false}, {512, 4, 0.02, true},
		{512, 2, 0.01, false},
	} {
		g := NewConvGeom(tc.c, tc.hw, tc.hw, 3, 3, 1, 1, 1, 1)
		if got := sparsePays(g, weights(tc.c*g.Rows(), tc.density), false); got != tc.want {
			t.Errorf("%dx%d, %d channels, density %v: SparseWorth %v, want %v", tc.hw, tc.hw, tc.c, tc.density, got, tc.want)
		}
		// Against Winograd's products: half the density by F(2x2, 3x3), a
		// 3.5th by F(4x4, 3x3).
		div := 2.0
		if winogradTile[float32](g) == 4 {
			div = 3.5
		}
		w := weights(tc.c*g.Rows(), tc.density/div)
		if got := sparsePays(g, w, true); got != tc.want {
			t.Errorf("%dx%d, %d channels, density %v against Winograd: SparseWorth %v, want %v", tc.hw, tc.hw, tc.c, tc.density/div, got, tc.want)
		}
	}
}
