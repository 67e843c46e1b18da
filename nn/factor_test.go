package nn_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/safetensors"
)

func forwardEval(m nn.Module[float64], x []float64, shape ...int) []float64 {
	m.SetTraining(false)
	tp := autograd.NewTape[float64](autograd.NoGrad())
	return append([]float64(nil), m.Forward(tp, tp.Input(x, shape...)).Value...)
}

func identity(n int) []float64 {
	q := make([]float64, n*n)
	for i := 0; i < n; i++ {
		q[i*n+i] = 1
	}
	return q
}

// TestFactorIdentity factors every layer of a ResNet (shortcuts included)
// and of LeNet-5 (biases) with identity rotations: the network computes the
// same function, names follow torch.nn.Sequential, and ShapeLike rebuilds
// the structure from the saved state.
func TestFactorIdentity(t *testing.T) {
	for _, name := range []string{"resnet20", "lenet5"} {
		_, _, in, err := models.Describe(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := models.New[float64](name, in, models.Options{Width: 1}, 3)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		x := make([]float64, 2*in.Channels*in.Height*in.Width)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		shape := in.Shape(2)
		want := forwardEval(m, x, shape...)
		layers := nn.Layers(m)
		for _, l := range layers {
			i, o := l.Dims()
			l.Factor(identity(i), i, append([]float64(nil), l.Core().Data...), identity(o), o)
		}
		got := forwardEval(m, x, shape...)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
				t.Fatalf("%s: output %d = %v after factoring, want %v", name, i, got[i], want[i])
			}
		}
		names := map[string]bool{}
		for _, p := range nn.AllParams(m) {
			names[p.Name] = true
		}
		first := layers[0].Name
		for _, n := range []string{first + ".0.weight", first + ".1.weight", first + ".2.weight"} {
			if !names[n] {
				t.Errorf("%s: no parameter %s after factoring", name, n)
			}
		}
		if layers[0].Conv.Bias != nil && !names[first+".2.bias"] {
			t.Errorf("%s: the bias of %s is not named %s.2.bias", name, first, first)
		}

		// A fresh model takes the factored state after ShapeLike.
		state := nn.StateTensors(m, safetensors.F64)
		fresh, _ := models.New[float64](name, in, models.Options{Width: 1}, 4)
		if err := nn.SetState(fresh, state); err == nil {
			t.Fatalf("%s: an unfactored model accepted a factored state", name)
		}
		if err := nn.ShapeLike(fresh, state); err != nil {
			t.Fatal(err)
		}
		if err := nn.SetState(fresh, state); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		again := forwardEval(fresh, x, shape...)
		for i := range want {
			if again[i] != got[i] {
				t.Fatalf("%s: reloaded output %d = %v, want %v", name, i, again[i], got[i])
			}
		}
	}
}

// TestShapeLikeRejectsMismatch: factors that do not fit the layer are an
// error naming the layer.
func TestShapeLikeRejectsMismatch(t *testing.T) {
	_, _, in, _ := models.Describe("lenet300")
	m, _ := models.New[float64]("lenet300", in, models.Options{}, 1)
	bad := []safetensors.Tensor{
		{Name: "fc2.0.weight", Shape: []int{10, 300}},
		{Name: "fc2.1.weight", Shape: []int{5, 10}},
		{Name: "fc2.2.weight", Shape: []int{99, 5}},
	}
	err := nn.ShapeLike(m, bad)
	if err == nil || !strings.Contains(err.Error(), "fc2") {
		t.Fatalf("ShapeLike = %v, want an error naming fc2", err)
	}
}
