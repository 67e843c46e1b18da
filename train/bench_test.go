package train

import (
	"math/rand/v2"
	"testing"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
)

// benchStep measures a training step (forward, backward, SGD) of a model at
// batch size 64 on random inputs: images per second.
func benchStep(b *testing.B, name string) {
	_, _, in, _ := models.Describe(name)
	m, err := models.New[float32](name, in, models.Options{}, 1)
	if err != nil {
		b.Fatal(err)
	}
	const batch = 64
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, batch*in.Channels*in.Height*in.Width)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(rng.IntN(in.Classes))
	}
	opt := NewSGD(nn.Trainable(m), 0.01, 0.9, 5e-4, false)
	tape := autograd.NewTape[float32]()
	step := func() {
		tape.Reset()
		nn.ZeroGrad(m)
		loss := autograd.SoftmaxCrossEntropy(tape, m.Forward(tape, tape.Input(x, in.Shape(batch)...)), labels, 1)
		tape.Backward(loss)
		opt.Step()
	}
	step()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkStepLeNet5(b *testing.B)   { benchStep(b, "lenet5") }
func BenchmarkStepLeNet300(b *testing.B) { benchStep(b, "lenet300") }
func BenchmarkStepResNet32(b *testing.B) { benchStep(b, "resnet32") }
func BenchmarkStepVGG19(b *testing.B)    { benchStep(b, "vgg19") }

// BenchmarkSGDStep: one step of SGD with momentum and weight decay over
// VGG-19's 20 million weights, half of them masked (memory-bound: 24 bytes
// a weight read or written).
func BenchmarkSGDStep(b *testing.B) {
	n := 20 << 20
	p := &nn.Param[float32]{Name: "w", Shape: []int{n}, Data: make([]float32, n), Grad: make([]float32, n), Mask: make([]float32, n)}
	for i := range p.Data {
		p.Data[i], p.Grad[i] = float32(i%7)*0.01, float32(i%5)*0.001
		if i%2 == 0 {
			p.Mask[i] = 1
		}
	}
	opt := NewSGD([]*nn.Param[float32]{p}, 0.1, 0.9, 5e-4, false)
	opt.Step()
	b.SetBytes(int64(24 * n))
	for b.Loop() {
		opt.Step()
	}
}
