package prune_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
)

// Prune LeNet-300-100 at initialisation with GraSP at 90% sparsity on one
// class-balanced batch: the float32 network to train gets the masks, the
// scores come from its float64 twin.
func ExampleAtInit() {
	in := models.Input{Channels: 1, Height: 28, Width: 28, Classes: 10}
	net, _ := models.New[float32]("lenet300", in, models.Options{}, 1)
	twin, _ := models.New[float64]("lenet300", in, models.Options{}, 1)
	rng := rand.New(rand.NewPCG(1, 1))
	b := prune.Batch{X: make([]float64, 20*28*28), Shape: in.Shape(20), Labels: make([]int32, 20)}
	for i := range b.X {
		b.X[i] = rng.Float64()
	}
	for i := range b.Labels {
		b.Labels[i] = int32(i % 10)
	}
	p, err := prune.AtInit(context.Background(), net, twin, prune.List{b}, []int{1, 28, 28}, prune.DefaultConfig("grasp", 0.9))
	if err != nil {
		panic(err)
	}
	kept, total := nn.Density(net)
	fmt.Printf("kept %d of %d weights\n", kept, total)
	for _, l := range p.Report.Layers {
		fmt.Printf("%s %.3f\n", l.Name, l.Density)
	}
	// Output:
	// kept 26620 of 266200 weights
	// fc1 0.077
	// fc2 0.263
	// fc3 0.581
}
