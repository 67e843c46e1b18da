package eigendamage_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"

	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/prune/eigendamage"
)

// A round of Kron-OBS scored once, applied to a copy at one ratio and to
// the network at another: the copy loses more units.
func ExampleNewRound() {
	build := func() nn.Module[float64] {
		rng := rand.New(rand.NewPCG(1, 1))
		return nn.Named[float64](
			nn.Entry[float64]{Name: "fc1", Module: nn.NewLinear[float64](rng, 8, 16, true)},
			nn.Entry[float64]{Name: "relu", Module: nn.ReLU[float64]{}},
			nn.Entry[float64]{Name: "fc2", Module: nn.NewLinear[float64](rng, 16, 3, true)},
		)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	var batches []eigendamage.Batch[float64]
	for b := 0; b < 4; b++ {
		x := make([]float64, 16*8)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		labels := make([]int32, 16)
		for i := range labels {
			labels[i] = int32(i % 3)
		}
		batches = append(batches, eigendamage.Batch[float64]{X: x, Shape: []int{16, 8}, Labels: labels})
	}
	seq := func(yield func(eigendamage.Batch[float64], error) bool) {
		for _, b := range batches {
			if !yield(b, nil) {
				return
			}
		}
	}
	net, copied := build(), build()
	round, err := eigendamage.NewRound(context.Background(), net, iter.Seq2[eigendamage.Batch[float64], error](seq), eigendamage.KronOBS,
		eigendamage.Config{Limit: eigendamage.OneShotLimit, Fisher: eigendamage.EmpiricalFisher})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range []struct {
		net   nn.Module[float64]
		ratio float64
	}{{copied, 0.6}, {net, 0.3}} {
		res, err := round.Apply(c.net, c.ratio)
		if err != nil {
			fmt.Println(err)
			return
		}
		p := res.Layers[0]
		fmt.Printf("ratio %.1f: %s keeps %d of %d units\n", c.ratio, p.Layer, len(p.KeepOut), p.Out)
	}
	// Output:
	// ratio 0.6: fc1 keeps 7 of 16 units
	// ratio 0.3: fc1 keeps 13 of 16 units
}
