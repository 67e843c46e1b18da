package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/winnow-ml/winnow/nn"
)

// CIFARResNet builds the CIFAR ResNet of depth 6n+2 with channel widths
// 16w, 32w, 64w: conv1 3x3, bn1, ReLU, three stages (layer1..3) of n basic
// blocks (stride 2 at the start of stages 2 and 3), global average pool and
// fc Linear(64w, C).
func CIFARResNet[T nn.Float](rng *rand.Rand, depth, width int, in Input) (*nn.Sequential[T], error) {
	if depth < 8 || (depth-2)%6 != 0 {
		return nil, fmt.Errorf("CIFAR ResNet depth must be 6n+2, got %d", depth)
	}
	if width < 1 {
		return nil, fmt.Errorf("width must be at least 1, got %d", width)
	}
	n := (depth - 2) / 6
	w := []int{16 * width, 32 * width, 64 * width}
	entries := []nn.Entry[T]{
		{Name: "conv1", Module: nn.NewConv2d[T](rng, in.Channels, w[0], 3, 1, 1, false)},
		{Name: "bn1", Module: nn.NewBatchNorm2d[T](w[0])},
		{Name: "relu", Module: nn.ReLU[T]{}},
	}
	c := w[0]
	for s, out := range w {
		var blocks []nn.Module[T]
		for j := 0; j < n; j++ {
			stride := 1
			if j == 0 && s > 0 {
				stride = 2
			}
			blocks = append(blocks, nn.NewBasicBlock[T](rng, c, out, stride))
			c = out
		}
		entries = append(entries, nn.Entry[T]{Name: fmt.Sprintf("layer%d", s+1), Module: nn.NewSequential(blocks...)})
	}
	entries = append(entries,
		nn.Entry[T]{Name: "avgpool", Module: nn.GlobalAvgPool[T]{}},
		nn.Entry[T]{Name: "fc", Module: nn.NewLinear[T](rng, c, in.Classes, true)})
	return nn.Named(entries...), nil
}

// ImageNetResNet builds torchvision's ResNet-18, -34 or -50: conv1 7x7
// stride 2, bn1, ReLU, max-pool 3x3 stride 2, four stages (layer1..4),
// global average pool, fc.
func ImageNetResNet[T nn.Float](rng *rand.Rand, depth int, in Input) (*nn.Sequential[T], error) {
	stages := map[int][]int{18: {2, 2, 2, 2}, 34: {3, 4, 6, 3}, 50: {3, 4, 6, 3}}[depth]
	if stages == nil {
		return nil, fmt.Errorf("no ImageNet ResNet of depth %d", depth)
	}
	entries := []nn.Entry[T]{
		{Name: "conv1", Module: nn.NewConv2d[T](rng, in.Channels, 64, 7, 2, 3, false)},
		{Name: "bn1", Module: nn.NewBatchNorm2d[T](64)},
		{Name: "relu", Module: nn.ReLU[T]{}},
		{Name: "maxpool", Module: nn.MaxPool2d[T]{Kernel: 3, Stride: 2, Padding: 1}},
	}
	c := 64
	for s, nb := range stages {
		planes := 64 << s
		var blocks []nn.Module[T]
		for j := 0; j < nb; j++ {
			stride := 1
			if j == 0 && s > 0 {
				stride = 2
			}
			if depth == 50 {
				blocks = append(blocks, nn.NewBottleneck[T](rng, c, planes, stride))
				c = 4 * planes
			} else {
				blocks = append(blocks, nn.NewBasicBlock[T](rng, c, planes, stride))
				c = planes
			}
		}
		entries = append(entries, nn.Entry[T]{Name: fmt.Sprintf("layer%d", s+1), Module: nn.NewSequential(blocks...)})
	}
	entries = append(entries,
		nn.Entry[T]{Name: "avgpool", Module: nn.GlobalAvgPool[T]{}},
		nn.Entry[T]{Name: "fc", Module: nn.NewLinear[T](rng, c, in.Classes, true)})
	return nn.Named(entries...), nil
}
