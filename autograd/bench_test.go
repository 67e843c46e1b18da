package autograd

import (
	"math/rand/v2"
	"testing"
)

// benchConv times a forward and backward pass of one convolution on a batch
// of 64, as in a training step (dx and dW).
func benchConv(b *testing.B, c, hw, o, stride int) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randLeaf(rng, "x", 1, 64, c, hw, hw)
	w := randLeaf(rng, "w", 0.1, o, c, 3, 3)
	gx, gw := make([]float32, len(x.value)), make([]float32, len(w.value))
	x32, w32 := to32(x.value), to32(w.value)
	t := NewTape[float32]()
	var seed []float32
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t.Reset()
		xv := t.Leaf("x", x32, gx, nil, nil, x.shape...)
		wv := t.Leaf("w", w32, gw, nil, nil, w.shape...)
		y := Conv2d(t, xv, wv, nil, [2]int{stride, stride}, [2]int{1, 1})
		if seed == nil {
			seed = make([]float32, len(y.Value))
			for j := range seed {
				seed[j] = float32(rng.NormFloat64())
			}
		}
		t.BackwardFrom(y, seed)
	}
	oh := (hw-1)/stride + 1
	b.ReportMetric(float64(3*2*64*o*c*9*oh*oh)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func to32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

func BenchmarkConv32x32C32(b *testing.B)      { benchConv(b, 32, 32, 32, 1) }
func BenchmarkConv16x16C64(b *testing.B)      { benchConv(b, 64, 16, 64, 1) }
func BenchmarkConv8x8C128(b *testing.B)       { benchConv(b, 128, 8, 128, 1) }
func BenchmarkConv8x8C256(b *testing.B)       { benchConv(b, 256, 8, 256, 1) }
func BenchmarkConv4x4C512(b *testing.B)       { benchConv(b, 512, 4, 512, 1) }
func BenchmarkConv16x16C128(b *testing.B)     { benchConv(b, 128, 16, 128, 1) }
func BenchmarkConv32x32C64(b *testing.B)      { benchConv(b, 64, 32, 64, 1) }
func BenchmarkConv16x16C64to128(b *testing.B) { benchConv(b, 64, 16, 128, 1) }
func BenchmarkConv8x8C128to256(b *testing.B)  { benchConv(b, 128, 8, 256, 1) }
func BenchmarkConvStride2C32(b *testing.B)    { benchConv(b, 32, 32, 64, 2) }

// benchConv64 times a forward and backward pass of one 3x3 "same"
// convolution of 100 float64 images, as GraSP scores (dx and dW).
func benchConv64(b *testing.B, c, hw, o int) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randLeaf(rng, "x", 1, 100, c, hw, hw)
	w := randLeaf(rng, "w", 0.1, o, c, 3, 3)
	gx, gw := make([]float64, len(x.value)), make([]float64, len(w.value))
	t := NewTape[float64]()
	var seed []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t.Reset()
		xv := t.Leaf("x", x.value, gx, nil, nil, x.shape...)
		wv := t.Leaf("w", w.value, gw, nil, nil, w.shape...)
		y := Conv2d(t, xv, wv, nil, [2]int{1, 1}, [2]int{1, 1})
		if seed == nil {
			seed = make([]float64, len(y.Value))
			for j := range seed {
				seed[j] = rng.NormFloat64()
			}
		}
		t.BackwardFrom(y, seed)
	}
	b.ReportMetric(float64(3*2*100*o*c*9*hw*hw)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConv64x8x8C128to128(b *testing.B)  { benchConv64(b, 128, 8, 128) }
func BenchmarkConv64x8x8C128to256(b *testing.B)  { benchConv64(b, 128, 8, 256) }
func BenchmarkConv64x8x8C256(b *testing.B)       { benchConv64(b, 256, 8, 256) }
func BenchmarkConv64x4x4C256to512(b *testing.B)  { benchConv64(b, 256, 4, 512) }
func BenchmarkConv64x4x4C512(b *testing.B)       { benchConv64(b, 512, 4, 512) }
func BenchmarkConv64x2x2C512(b *testing.B)       { benchConv64(b, 512, 2, 512) }
func BenchmarkConv64x16x16C64(b *testing.B)      { benchConv64(b, 64, 16, 64) }
func BenchmarkConv64x32x32C64(b *testing.B)      { benchConv64(b, 64, 32, 64) }
func BenchmarkConv64x16x16C128(b *testing.B)     { benchConv64(b, 128, 16, 128) }
func BenchmarkConv64x16x16C64to128(b *testing.B) { benchConv64(b, 64, 16, 128) }
func BenchmarkConv2x2C512(b *testing.B)          { benchConv(b, 512, 2, 512, 1) }
