package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGemm is the reference loop of Gemm.
func naiveGemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				var av, bv float64
				if tA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				if tB {
					bv = b[j*ldb+l]
				} else {
					bv = b[l*ldb+j]
				}
				s += av * bv
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.NormFloat64()
	}
	return s
}

func TestGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	// Small products run whole; the large ones (wide and tall) are split
	// over goroutines, at block bounds that are not multiples of the sizes;
	// the last crosses every block bound of the packed product (k > kc,
	// m > mc, n > nc) with ragged edges.
	for _, size := range [][3]int{{5, 7, 3}, {37, 1001, 30}, {1003, 45, 29}, {101, 4111, 263}} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				testGemm(t, rng, tA, tB, size[0], size[1], size[2])
			}
		}
	}
}

func testGemm(t *testing.T, rng *rand.Rand, tA, tB bool, m, n, k int) {
	t.Helper()
	{
		{
			a, b, c := randSlice(rng, m*k), randSlice(rng, k*n), randSlice(rng, m*n)
			lda, ldb := k, n
			if tA {
				lda = m
			}
			if tB {
				ldb = k
			}
			want := append([]float64(nil), c...)
			naiveGemm(tA, tB, m, n, k, 0.5, a, lda, b, ldb, 2, want, n)
			Gemm(tA, tB, m, n, k, 0.5, a, lda, b, ldb, 2, c, n)
			for i := range c {
				if math.Abs(c[i]-want[i]) > 1e-11 {
					t.Fatalf("Gemm(%v, %v) %dx%dx%d: c[%d] = %v, want %v", tA, tB, m, n, k, i, c[i], want[i])
				}
			}
			// float32 goes through Sgemm.
			a32, b32, c32 := to32(a), to32(b), make([]float32, m*n)
			Gemm(tA, tB, m, n, k, 1, a32, lda, b32, ldb, 0, c32, n)
			want = make([]float64, m*n)
			naiveGemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, want, n)
			for i := range c32 {
				if math.Abs(float64(c32[i])-want[i]) > 1e-4 {
					t.Fatalf("Sgemm(%v, %v): c[%d] = %v, want %v", tA, tB, i, c32[i], want[i])
				}
			}
		}
	}
}

func to32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

// TestIm2colAdjoint checks the definition of Im2col on every geometry kind
// and that Col2im is its adjoint: <col(x), c> = <x, col2im(c)>.
func TestIm2colAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, g := range []ConvGeom{
		NewConvGeom(2, 5, 6, 3, 3, 1, 1, 1, 1),
		NewConvGeom(3, 7, 7, 3, 2, 2, 2, 0, 1),
		NewConvGeom(1, 4, 4, 5, 5, 1, 1, 2, 2),
		NewConvGeom(2, 6, 6, 1, 1, 2, 2, 0, 0),
	} {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			x := randSlice(rng, g.C*g.H*g.W)
			col := make([]float64, g.Rows()*g.Cols())
			Im2col(g, x, col, g.Cols())
			for c := 0; c < g.C; c++ {
				for i := 0; i < g.KH; i++ {
					for j := 0; j < g.KW; j++ {
						for oy := 0; oy < g.OH; oy++ {
							for ox := 0; ox < g.OW; ox++ {
								y, xx := oy*g.SH-g.PH+i, ox*g.SW-g.PW+j
								want := 0.0
								if y >= 0 && y < g.H && xx >= 0 && xx < g.W {
									want = x[(c*g.H+y)*g.W+xx]
								}
								if got := col[((c*g.KH+i)*g.KW+j)*g.Cols()+oy*g.OW+ox]; got != want {
									t.Fatalf("col at c%d i%d j%d oy%d ox%d = %v, want %v", c, i, j, oy, ox, got, want)
								}
							}
						}
					}
				}
			}
			cv := randSlice(rng, len(col))
			dx := make([]float64, len(x))
			Col2im(g, cv, dx, g.Cols())
			var lhs, rhs float64
			for i := range col {
				lhs += col[i] * cv[i]
			}
			for i := range x {
				rhs += x[i] * dx[i]
			}
			if math.Abs(lhs-rhs) > 1e-10*math.Abs(lhs) {
				t.Errorf("<col(x), c> = %v, <x, col2im(c)> = %v", lhs, rhs)
			}
		})
	}
}

var sink []float32

func benchGemm(b *testing.B, m, n, k int) {
	rng := rand.New(rand.NewPCG(1, 1))
	a, bb, c := to32(randSlice(rng, m*k)), to32(randSlice(rng, k*n)), make([]float32, m*n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Gemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
	}
	b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	sink = c
}

// Shapes of VGG-19 convolutions on one 32x32 image: [out, 9*in] x [9*in, HW].
func BenchmarkSgemm64x27x1024(b *testing.B)  { benchGemm(b, 64, 1024, 27) }
func BenchmarkSgemm128x576x256(b *testing.B) { benchGemm(b, 128, 256, 576) }
func BenchmarkSgemm512x4608x16(b *testing.B) { benchGemm(b, 512, 16, 4608) }
func BenchmarkSgemm512x512x512(b *testing.B) { benchGemm(b, 512, 512, 512) }

func BenchmarkIm2col64x32x32(b *testing.B) {
	g := NewConvGeom(64, 32, 32, 3, 3, 1, 1, 1, 1)
	x, col := make([]float32, g.C*g.H*g.W), make([]float32, g.Rows()*g.Cols())
	b.SetBytes(int64(4 * len(col)))
	for i := 0; i < b.N; i++ {
		Im2col(g, x, col, g.Cols())
	}
	sink = col
}

func BenchmarkIm2col32x8x8(b *testing.B) {
	g := NewConvGeom(128, 8, 8, 3, 3, 1, 1, 1, 1)
	x, col := make([]float32, g.C*g.H*g.W), make([]float32, g.Rows()*g.Cols())
	b.SetBytes(int64(4 * len(col)))
	for i := 0; i < b.N; i++ {
		Im2col(g, x, col, g.Cols())
	}
	sink = col
}
