package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/winnow-ml/winnow/nn"
)

// LeNet300 builds LeNet-300-100: flatten, fc1 (in, 300), ReLU, fc2 (300,
// 100), ReLU, fc3 (100, C).
func LeNet300[T nn.Float](rng *rand.Rand, in Input) (*nn.Sequential[T], error) {
	d := in.Channels * in.Height * in.Width
	return nn.Named[T](
		nn.Entry[T]{Name: "flatten", Module: nn.Flatten[T]{}},
		nn.Entry[T]{Name: "fc1", Module: nn.NewLinear[T](rng, d, 300, true)},
		nn.Entry[T]{Name: "relu1", Module: nn.ReLU[T]{}},
		nn.Entry[T]{Name: "fc2", Module: nn.NewLinear[T](rng, 300, 100, true)},
		nn.Entry[T]{Name: "relu2", Module: nn.ReLU[T]{}},
		nn.Entry[T]{Name: "fc3", Module: nn.NewLinear[T](rng, 100, in.Classes, true)},
	), nil
}

// LeNet5 builds LeNet-5-Caffe: conv1 5x5 (C, 20), ReLU, max-pool 2, conv2
// 5x5 (20, 50), ReLU, max-pool 2, fc3 (800, 500), ReLU, fc4 (500, classes).
func LeNet5[T nn.Float](rng *rand.Rand, in Input) (*nn.Sequential[T], error) {
	h, w := ((in.Height-4)/2-4)/2, ((in.Width-4)/2-4)/2
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("LeNet-5 needs inputs of at least 16x16, got %dx%d", in.Height, in.Width)
	}
	return nn.Named[T](
		nn.Entry[T]{Name: "conv1", Module: nn.NewConv2d[T](rng, in.Channels, 20, 5, 1, 0, true)},
		nn.Entry[T]{Name: "relu1", Module: nn.ReLU[T]{}},
		nn.Entry[T]{Name: "pool1", Module: nn.MaxPool2d[T]{Kernel: 2, Stride: 2}},
		nn.Entry[T]{Name: "conv2", Module: nn.NewConv2d[T](rng, 20, 50, 5, 1, 0, true)},
		nn.Entry[T]{Name: "relu2", Module: nn.ReLU[T]{}},
		nn.Entry[T]{Name: "pool2", Module: nn.MaxPool2d[T]{Kernel: 2, Stride: 2}},
		nn.Entry[T]{Name: "flatten", Module: nn.Flatten[T]{}},
		nn.Entry[T]{Name: "fc3", Module: nn.NewLinear[T](rng, 50*h*w, 500, true)},
		nn.Entry[T]{Name: "relu3", Module: nn.ReLU[T]{}},
		nn.Entry[T]{Name: "fc4", Module: nn.NewLinear[T](rng, 500, in.Classes, true)},
	), nil
}
