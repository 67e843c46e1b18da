package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
)

// TestSlim removes every other output unit of every chain. The slimmed
// network must compute what the original computes with the next layers'
// inputs from those units zeroed, and a fresh model reshaped by ShapeLike
// must load its state.
func TestSlim(t *testing.T) {
	cases := []struct {
		model  string
		in     models.Input
		chains int
	}{
		{"lenet5", models.Input{Channels: 1, Height: 28, Width: 28, Classes: 10}, 3},
		{"lenet300", models.Input{Channels: 1, Height: 28, Width: 28, Classes: 10}, 2},
		{"vgg11", models.Input{Channels: 3, Height: 32, Width: 32, Classes: 10}, 8},
		{"resnet20", models.Input{Channels: 3, Height: 32, Width: 32, Classes: 10}, 9},
	}
	for _, c := range cases {
		ref, _ := models.New[float64](c.model, c.in, models.Options{Width: 1}, 5)
		slim, _ := models.New[float64](c.model, c.in, models.Options{Width: 1}, 5)
		// Non-trivial BatchNorm statistics and affine parameters.
		rng := rand.New(rand.NewPCG(3, 3))
		for i, p := range nn.AllParams(ref) {
			if p.Kind == nn.NormWeight || p.Kind == nn.NormBias || p.Kind == nn.Buffer || p.Kind == nn.Bias {
				for j := range p.Data {
					v := rng.Float64()*0.5 + 0.1
					p.Data[j] = v
					nn.AllParams(slim)[i].Data[j] = v
				}
			}
		}
		refChains, slimChains := nn.Chains(ref), nn.Chains(slim)
		if len(refChains) != c.chains {
			var names []string
			for _, ch := range refChains {
				names = append(names, ch.Layer.Name+"->"+ch.Next.Name)
			}
			t.Fatalf("%s: %d chains %v, want %d", c.model, len(refChains), names, c.chains)
		}
		for k, ch := range refChains {
			o := ch.Layer.Core().Shape[0]
			var keep []int
			for u := 0; u < o; u += 2 {
				keep = append(keep, u)
			}
			// Zero the next layer's inputs from the removed (odd) units.
			nw := ch.Next.Core()
			in := nw.Shape[1]
			block, per := in/o, nw.Len()/(nw.Shape[0]*in)
			for r := 0; r < nw.Shape[0]; r++ {
				for u := 1; u < o; u += 2 {
					for s := 0; s < block; s++ {
						col := u*block + s
						clear(nw.Data[(r*in+col)*per : (r*in+col+1)*per])
					}
				}
			}
			slimChains[k].Slim(keep)
		}
		x := make([]float64, 2*c.in.Channels*c.in.Height*c.in.Width)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		want, got := forwardEval(ref, x, c.in.Shape(2)...), forwardEval(slim, x, c.in.Shape(2)...)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-10*(1+math.Abs(want[i])) {
				t.Fatalf("%s: output %d = %v after slimming, want %v", c.model, i, got[i], want[i])
			}
		}
		if a, b := nn.Summarize(slim, c.in.Channels, c.in.Height, c.in.Width).Params, nn.Summarize(ref, c.in.Channels, c.in.Height, c.in.Width).Params; a >= b {
			t.Errorf("%s: %d parameters after slimming, %d before", c.model, a, b)
		}
		state := nn.StateTensors(slim, "F64")
		fresh, _ := models.New[float64](c.model, c.in, models.Options{Width: 1}, 9)
		if err := nn.ShapeLike(fresh, state); err != nil {
			t.Fatal(err)
		}
		if err := nn.SetState(fresh, state); err != nil {
			t.Fatalf("%s: %v", c.model, err)
		}
		again := forwardEval(fresh, x, c.in.Shape(2)...)
		for i := range got {
			if again[i] != got[i] {
				t.Fatalf("%s: reloaded output %d = %v, want %v", c.model, i, again[i], got[i])
			}
		}
	}
}
