package ggraph_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/winnow-ml/winnow/nn/ggraph"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
)

// Prune LeNet-5 at initialisation by magnitude, export it to Gorgonia, and
// run the graph: its logits are winnow's, from the masked weights.
func ExampleExport() {
	in := models.Input{Channels: 1, Height: 28, Width: 28, Classes: 10}
	net, _ := models.New[float32]("lenet5", in, models.Options{}, 1)
	twin, _ := models.New[float64]("lenet5", in, models.Options{}, 1)
	if _, err := prune.AtInit(context.Background(), net, twin, nil, []int{1, 28, 28}, prune.DefaultConfig("magnitude", 0.9)); err != nil {
		panic(err)
	}
	g, err := ggraph.Export(net, in.Shape(2))
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 2*28*28)
	for i := range x {
		x[i] = rng.Float32()
	}
	logits, err := g.Run(x)
	if err != nil {
		panic(err)
	}
	mask := g.Masks["fc3.weight"].Data().([]float32)
	kept := 0
	for _, v := range mask {
		kept += int(v)
	}
	fmt.Println(len(logits), "logits;", kept, "of", len(mask), "fc3 weights kept;", len(g.Params), "tensors")
	// Output:
	// 20 logits; 26181 of 400000 fc3 weights kept; 8 tensors
}
