package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestCSR checks the CSR product against dense loops, with n below one
// strip of the micro-kernels and with whole strips and a tail.
func TestCSR(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{5, 300} {
		rows, cols := 7, 11
		a, b := randSlice(rng, rows*cols), randSlice(rng, cols*n)
		keep := make([]float64, len(a))
		for i := range keep {
			if rng.Float64() < 0.3 && i/cols != 2 { // row 2 empty
				keep[i] = 1
			} else {
				a[i] = 0
			}
		}
		m := NewCSR(rows, cols, a, keep)
		got := randSlice(rng, rows*n) // overwritten
		m.MulDense(b, n, got)
		want := make([]float64, rows*n)
		naiveGemm(false, false, rows, n, cols, 1, a, cols, b, n, 0, want, n)
		assertClose(t, fmt.Sprintf("MulDense n=%d", n), got, want)
	}
}

// benchSparse compares, for one layer shape, the dense product with the CSR
// product at a density: forward of a conv layer lowered by im2col or of a
// linear layer, out x in weights times in x n activations.
func benchSparse(b *testing.B, out, in, n int, density float64) {
	rng := rand.New(rand.NewPCG(1, 1))
	w, x, c := to32(randSlice(rng, out*in)), to32(randSlice(rng, in*n)), make([]float32, out*n)
	keep := make([]float32, len(w))
	for i := range keep {
		if rng.Float64() < density {
			keep[i] = 1
		} else {
			w[i] = 0
		}
	}
	m := NewCSR(out, in, w, keep)
	b.Run("dense", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Gemm(false, false, out, n, in, 1, w, in, x, n, 0, c, n)
		}
		b.ReportMetric(float64(2*out*in*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "dense-GFLOP/s")
	})
	b.Run(fmt.Sprintf("csr-%g", density), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			m.MulDense(x, n, c)
		}
		b.ReportMetric(float64(2*out*in*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "dense-equivalent-GFLOP/s")
	})
}

// VGG-19's last conv layers on a chunk of 64 images at 2x2 (512 x 4608 x 256)
// and LeNet-300-100's first layer on a batch of 128 (300 x 784 x 128).
func BenchmarkSparseConv512D10(b *testing.B)   { benchSparse(b, 512, 4608, 256, 0.10) }
func BenchmarkSparseConv512D05(b *testing.B)   { benchSparse(b, 512, 4608, 256, 0.05) }
func BenchmarkSparseConv512D02(b *testing.B)   { benchSparse(b, 512, 4608, 256, 0.02) }
func BenchmarkSparseConv512D01(b *testing.B)   { benchSparse(b, 512, 4608, 256, 0.01) }
func BenchmarkSparseLinear300D30(b *testing.B) { benchSparse(b, 300, 784, 128, 0.30) }
func BenchmarkSparseLinear300D20(b *testing.B) { benchSparse(b, 300, 784, 128, 0.20) }
func BenchmarkSparseLinear300D10(b *testing.B) { benchSparse(b, 300, 784, 128, 0.10) }
func BenchmarkSparseLinear300D02(b *testing.B) { benchSparse(b, 300, 784, 128, 0.02) }
