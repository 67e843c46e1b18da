package train_test

import (
	"context"
	"fmt"

	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/train"
)

// Train LeNet-300-100 for two epochs on 2,000 MNIST images with the GraSP
// paper's optimisation (SGD, momentum 0.9, lr x0.1 at 50% and 75%), and
// evaluate it after each epoch.
func ExampleTrainer() {
	s, err := data.OpenSplits("mnist", "", data.Options{})
	if err != nil {
		panic(err)
	}
	net, _ := models.New[float32]("lenet300", models.Input{Channels: 1, Height: 28, Width: 28, Classes: 10}, models.Options{}, 1)
	sched, _ := train.ParseSchedule("step")
	t := &train.Trainer{
		Model:  net,
		Train:  &data.Loader{Dataset: data.Limit(s.Train, 2000), Transform: data.PipelineFor(s.Info, true), BatchSize: 32, Shuffle: true, Seed: 1},
		Test:   &data.Loader{Dataset: data.Limit(s.Test, 1000), Transform: data.PipelineFor(s.Info, false), BatchSize: 100},
		Config: train.Config{Epochs: 2, LR: 0.05, Momentum: 0.9, WeightDecay: 5e-4, Schedule: sched},
	}
	if err := t.Run(context.Background()); err != nil {
		panic(err)
	}
	for _, r := range t.History() {
		fmt.Printf("epoch %d: lr %.3g, test accuracy above 60%%: %v\n", r.Epoch, r.LR, r.TestAcc > 0.6)
	}
	// Output:
	// epoch 1: lr 0.05, test accuracy above 60%: true
	// epoch 2: lr 0.0005, test accuracy above 60%: true
}
