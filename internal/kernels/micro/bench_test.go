package micro

import (
	"math/rand/v2"
	"testing"
)

// The micro-kernels alone, on one core with operands in L1: the machine's
// peak for the products above them.

func BenchmarkSgemm12x32(b *testing.B) {
	if !Available {
		b.Skip("no AVX-512")
	}
	const k = 256
	a, bb, c := make([]float32, 12*k), make([]float32, 32*k), make([]float32, 12*32)
	for i := 0; i < b.N; i++ {
		Sgemm12x32(k, &a[0], &bb[0], &c[0], 32, 12, 1)
	}
	b.ReportMetric(float64(2*12*32*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm12x32Rows reads B's rows at scattered, misaligned offsets.
func BenchmarkSgemm12x32Rows(b *testing.B) {
	if !Available {
		b.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	const k = 256
	a, bb, c := make([]float32, 12*k), make([]float32, 1<<14), make([]float32, 12*32)
	offs := make([]int, k)
	for i := range offs {
		offs[i] = rng.IntN(len(bb) - 256)
	}
	for i := 0; i < b.N; i++ {
		Sgemm12x32Rows(k, &a[0], &bb[0], &offs[0], 16, &c[0], 32, 12, 1)
	}
	b.ReportMetric(float64(2*12*32*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkDgemm12x16(b *testing.B) {
	if !Available {
		b.Skip("no AVX-512")
	}
	const k = 256
	a, bb, c := make([]float64, 12*k), make([]float64, 16*k), make([]float64, 12*16)
	for i := 0; i < b.N; i++ {
		Dgemm12x16(k, &a[0], &bb[0], &c[0], 16, 12, 1)
	}
	b.ReportMetric(float64(2*12*16*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm12x32ARows reads A's 12 rows in place, rows far apart (a
// row-major matrix of 4608 columns, as the weights of a 512-channel 3x3
// convolution).
func BenchmarkSgemm12x32ARows(b *testing.B) {
	if !Available {
		b.Skip("no AVX-512")
	}
	const k, lda = 256, 4608
	a, bb, c := make([]float32, 12*lda), make([]float32, 32*k), make([]float32, 12*32)
	var rows [12]*float32
	for i := range rows {
		rows[i] = &a[i*lda]
	}
	for i := 0; i < b.N; i++ {
		Sgemm12x32ARows(k, &rows, &bb[0], &c[0], 32, 12, 1)
	}
	b.ReportMetric(float64(2*12*32*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
