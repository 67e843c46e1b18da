package ggraph

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
)

// network builds a model, moves its BatchNorm statistics off their
// initial values with a few training-mode passes, and prunes it at random.
func network(t *testing.T, name string, in models.Input, opts models.Options, x []float32, sparsity float64) nn.Module[float32] {
	m, err := models.New[float32](name, in, opts, 3)
	if err != nil {
		t.Fatal(err)
	}
	twin, _ := models.New[float64](name, in, opts, 3)
	if _, err := prune.AtInit(context.Background(), m, twin, nil, []int{in.Channels, in.Height, in.Width}, prune.DefaultConfig("random", sparsity)); err != nil {
		t.Fatal(err)
	}
	n := len(x) / (in.Channels * in.Height * in.Width)
	for range 3 {
		tape := autograd.NewTape[float32](autograd.NoGrad())
		m.Forward(tape, tape.Input(x, in.Shape(n)...))
	}
	return m
}

// TestGraphMatchesWinnow: the exported graph of a pruned LeNet-5, VGG-11
// and ResNet-20 with BatchNorm computes winnow's logits (evaluation mode)
// to 1e-5, from the masked weights.
func TestGraphMatchesWinnow(t *testing.T) {
	for _, c := range []struct {
		model string
		in    models.Input
		opts  models.Options
		n     int
	}{
		{"lenet5", models.Input{Channels: 1, Height: 28, Width: 28, Classes: 10}, models.Options{}, 4},
		{"vgg11", models.Input{Channels: 3, Height: 32, Width: 32, Classes: 10}, models.Options{}, 2},
		{"resnet20", models.Input{Channels: 3, Height: 32, Width: 32, Classes: 10}, models.Options{Width: 1}, 2},
		{"resnet20/union", models.Input{Channels: 3, Height: 32, Width: 32, Classes: 10}, models.Options{Width: 1}, 2},
	} {
		t.Run(c.model, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			x := make([]float32, c.n*c.in.Channels*c.in.Height*c.in.Width)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			m := network(t, strings.TrimSuffix(c.model, "/union"), c.in, c.opts, x, 0.8)
			if strings.HasSuffix(c.model, "/union") {
				// Writers keep every other unit: the blocks join by the union rule.
				keep := map[string][]int{}
				for i, w := range nn.ResidualWriters(m) {
					for u := i % 2; u < w.Layer.Core().Shape[0]; u += 2 {
						keep[w.Layer.Name] = append(keep[w.Layer.Name], u)
					}
				}
				if err := nn.SlimResidual(m, keep); err != nil {
					t.Fatal(err)
				}
			}
			m.SetTraining(false)
			tape := autograd.NewTape[float32](autograd.NoGrad())
			want := m.Forward(tape, tape.Input(x, c.in.Shape(c.n)...)).Value
			g, err := Export(m, c.in.Shape(c.n))
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			var num, den float64
			for i := range want {
				num += math.Pow(float64(got[i]-want[i]), 2)
				den += math.Pow(float64(want[i]), 2)
			}
			if r := math.Sqrt(num / den); !(r < 1e-5) {
				t.Errorf("logits differ from winnow's by %.3g relative", r)
			}
			params, masked := 0, 0
			for _, p := range nn.AllParams(m) {
				if p.Kind != nn.Index { // joins become constants
					params++
				}
				if p.Mask != nil { // slimmed weights lose theirs
					masked++
				}
			}
			if len(g.Masks) != masked || len(g.Params) != params {
				t.Errorf("%d masks, %d params exported; the network has %d masked weights, %d params", len(g.Masks), len(g.Params), masked, params)
			}
		})
	}
}
