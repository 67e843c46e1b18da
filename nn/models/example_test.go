package models_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
)

// Build vgg19 for CIFAR-10, take one gradient of the cross-entropy on a
// batch, and one exact Hessian-vector product H g, in float64.
func ExampleNew() {
	in := models.Input{Channels: 3, Height: 32, Width: 32, Classes: 10}
	net, err := models.New[float64]("vgg19", in, models.Options{}, 1)
	if err != nil {
		panic(err)
	}
	fmt.Println("prunable weights:", nn.Summarize(net, 3, 32, 32).PrunableWeights)

	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 2*3*32*32)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	labels := []int32{3, 7}

	// One gradient.
	tape := autograd.NewTape[float64]()
	loss := autograd.SoftmaxCrossEntropy(tape, net.Forward(tape, tape.Input(x, in.Shape(2)...)), labels, 1)
	tape.Backward(loss)
	fmt.Printf("loss: %.3f\n", loss.Value[0])

	// One Hessian-vector product along v = g: each parameter's tangent is
	// its gradient, and after Backward its HV holds its part of H g.
	var gg float64
	for _, p := range nn.Trainable(net) {
		p.Tangent = append([]float64(nil), p.Grad...)
		for _, g := range p.Grad {
			gg += g * g
		}
		p.ZeroGrad()
	}
	hvp := autograd.NewTape[float64](autograd.HVP(), autograd.KeepRunningStats())
	loss = autograd.SoftmaxCrossEntropy(hvp, net.Forward(hvp, hvp.Input(x, in.Shape(2)...)), labels, 1)
	hvp.Backward(loss)
	var gHg float64
	for _, p := range nn.Trainable(net) {
		for i, h := range p.HV {
			gHg += p.Tangent[i] * h
		}
	}
	fmt.Printf("Rayleigh quotient g.Hg / g.g: %.2f\n", gHg/gg)
	// Output:
	// prunable weights: 20024000
	// loss: 2.253
	// Rayleigh quotient g.Hg / g.g: 363.28
}
