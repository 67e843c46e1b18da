package kernels

import (
	"math/rand/v2"
	"testing"
)

// Products of one chunk of a ResNet-32 first-stage convolution (32 -> 32
// channels, 3x3, 32x32, 14 images): forward by packing, forward on the
// grid, and the weight gradient's product.
func convBenchSetup(b *testing.B) (ConvGeom, int, []float32, []float32, []float32) {
	return convBenchSetupO(b, 32)
}

func convBenchSetupO(b *testing.B, o int) (ConvGeom, int, []float32, []float32, []float32) {
	g := NewConvGeom(32, 32, 32, 3, 3, 1, 1, 1, 1)
	images := 14
	rng := rand.New(rand.NewPCG(1, 1))
	x := to32(randSlice(rng, images*g.C*g.H*g.W))
	w := to32(randSlice(rng, o*g.Rows()))
	c := make([]float32, o*images*(g.H+2)*(g.W+2))
	b.ReportAllocs()
	return g, images, x, w, c
}

func reportConvFLOPs(b *testing.B, g ConvGeom, images, o int) {
	b.ReportMetric(float64(2*o*g.Rows()*g.Cols()*images)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConvForwardPacked(b *testing.B) {
	g, images, x, w, c := convBenchSetup(b)
	for i := 0; i < b.N; i++ {
		GemmLowered(false, 32, 1, w, g.Rows(), Lowered[float32]{G: g, X: x, Images: images}, 0, c, images*g.Cols())
	}
	reportConvFLOPs(b, g, images, 32)
}

func BenchmarkConvForwardGrid(b *testing.B) {
	g, images, x, w, c := convBenchSetup(b)
	data := make([]float32, GridLen(g, images))
	for i := 0; i < b.N; i++ {
		gr := LoadGrid(g, images, x, data)
		GemmGrid(false, 32, 1, w, g.Rows(), gr, 0, c, gr.Cols())
	}
	reportConvFLOPs(b, g, images, 32)
}

func BenchmarkConvWeightGrad(b *testing.B) {
	g, images, x, w, c := convBenchSetup(b)
	for i := 0; i < b.N; i++ {
		GemmLoweredT(32, 1, c, images*g.Cols(), Lowered[float32]{G: g, X: x, Images: images}, 1, w, g.Rows())
	}
	reportConvFLOPs(b, g, images, 32)
}

func BenchmarkConvWeightGradGrid(b *testing.B) {
	g, images, x, w, c := convBenchSetup(b)
	data, dy := make([]float32, GridLen(g, images)), make([]float32, 32*images*g.Cols())
	for i := 0; i < b.N; i++ {
		gr := LoadGrid(g, images, x, data)
		gr.Pad(dy, 32, c)
		GemmGridT(32, 1, c, gr.Cols(), gr, 1, w, g.Rows())
	}
	reportConvFLOPs(b, g, images, 32)
}

func benchGridO(b *testing.B, o int) {
	g, images, x, w, c := convBenchSetupO(b, o)
	data := make([]float32, GridLen(g, images))
	for i := 0; i < b.N; i++ {
		gr := LoadGrid(g, images, x, data)
		GemmGrid(false, o, 1, w, g.Rows(), gr, 0, c, gr.Cols())
	}
	reportConvFLOPs(b, g, images, o)
}

func BenchmarkConvForwardGrid36(b *testing.B) { benchGridO(b, 36) }
func BenchmarkConvForwardGrid48(b *testing.B) { benchGridO(b, 48) }
