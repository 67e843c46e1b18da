package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Products of one chunk of a ResNet-32 first-stage convolution (32 -> 32
// channels, 3x3, 32x32, 14 images): forward by packing, forward on the
// grid, and the weight gradient's product.
func convBenchSetup(b *testing.B) (ConvGeom, int, []float32, []float32, []float32) {
	const o = 32
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

// benchSparseConv times a convolution's forward product on a batch of 64
// with weights of the given density: the sparse product on the grid, or
// with density 1 the dense product (on the grid where it pays, else by
// packing), counting the dense FLOPs for both.
func benchSparseConv(b *testing.B, c, hw, o int, density float64) {
	g := NewConvGeom(c, hw, hw, 3, 3, 1, 1, 1, 1)
	const images = 64
	rng := rand.New(rand.NewPCG(1, 1))
	x := to32(randSlice(rng, images*c*hw*hw))
	w := to32(randSlice(rng, o*g.Rows()))
	for i := range w {
		if rng.Float64() >= density {
			w[i] = 0
		}
	}
	data := make([]float32, GridLen(g, images))
	out := make([]float32, o*images*(hw+2)*(hw+2))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		switch {
		case density < 1:
			gr := LoadGrid(g, images, x, data)
			SparseGemmGrid(NewCSR(o, g.Rows(), w, nil), gr, 0, out, gr.Cols())
		case GridWorth(g):
			gr := LoadGrid(g, images, x, data)
			GemmGrid(false, o, 1, w, g.Rows(), gr, 0, out, gr.Cols())
		default:
			GemmLowered(false, o, 1, w, g.Rows(), Lowered[float32]{G: g, X: x, Images: images}, 0, out, images*g.Cols())
		}
	}
	b.ReportMetric(float64(2*o*g.Rows()*g.Cols()*images)*float64(b.N)/b.Elapsed().Seconds()/1e9, "dense-GFLOP/s")
}

func BenchmarkSparseConv(b *testing.B) {
	for _, s := range [][3]int{{32, 32, 32}, {128, 8, 128}, {256, 8, 256}, {512, 4, 512}, {512, 2, 512}} {
		for _, d := range []float64{1, 0.2, 0.1, 0.05, 0.02, 0.01} {
			b.Run(fmt.Sprintf("c%d-%dx%d/density%.2f", s[0], s[1], s[1], d), func(b *testing.B) { benchSparseConv(b, s[0], s[1], s[2], d) })
		}
	}
}

func BenchmarkGemmGridOnly(b *testing.B) {
	g, images, x, w, c := convBenchSetup(b)
	gr := LoadGrid(g, images, x, make([]float32, GridLen(g, images)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		GemmGrid(false, 32, 1, w, g.Rows(), gr, 0, c, gr.Cols())
	}
	b.ReportMetric(float64(2*32*g.Rows()*gr.Cols())*float64(b.N)/b.Elapsed().Seconds()/1e9, "grid-GFLOP/s")
}

func BenchmarkGemmGridTOnly(b *testing.B) {
	g, images, x, w, c := convBenchSetup(b)
	gr := LoadGrid(g, images, x, make([]float32, GridLen(g, images)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		GemmGridT(32, 1, c, gr.Cols(), gr, 1, w, g.Rows())
	}
	b.ReportMetric(float64(2*32*g.Rows()*gr.Cols())*float64(b.N)/b.Elapsed().Seconds()/1e9, "grid-GFLOP/s")
}
