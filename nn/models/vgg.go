package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/winnow-ml/winnow/nn"
)

// vggConfigs are the GraSP code's plans: channel counts, 0 for a max-pool.
var vggConfigs = map[int][]int{
	11: {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512},
	13: {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512},
	16: {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512},
	19: {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512},
}

// VGG builds the CIFAR VGG of the given depth: feature (conv-BN-ReLU per
// entry, max-pools between stages), an average pool over what is left of
// the map (AvgPool(2) on 32x32 inputs as the GraSP code, AvgPool(4) on
// 64x64, none on MNIST's 28x28, left 1x1), and classifier Linear(512, C).
func VGG[T nn.Float](rng *rand.Rand, depth int, in Input) (*nn.Sequential[T], error) {
	cfg, ok := vggConfigs[depth]
	if !ok {
		return nil, fmt.Errorf("no VGG of depth %d", depth)
	}
	var layers []nn.Module[T]
	c, size := in.Channels, in.Height
	for _, v := range cfg {
		if v == 0 {
			layers = append(layers, nn.MaxPool2d[T]{Kernel: 2, Stride: 2})
			size /= 2
			continue
		}
		layers = append(layers, nn.NewConv2d[T](rng, c, v, 3, 1, 1, false), nn.NewBatchNorm2d[T](v), nn.ReLU[T]{})
		c = v
	}
	pool := size
	if size < 1 || in.Height != in.Width {
		return nil, fmt.Errorf("VGG needs square inputs of at least 16x16, got %dx%d", in.Height, in.Width)
	}
	return nn.Named[T](
		nn.Entry[T]{Name: "feature", Module: nn.NewSequential(layers...)},
		nn.Entry[T]{Name: "pool", Module: nn.AvgPool2d[T]{Kernel: pool, Stride: pool}},
		nn.Entry[T]{Name: "flatten", Module: nn.Flatten[T]{}},
		nn.Entry[T]{Name: "classifier", Module: nn.NewLinear[T](rng, c, in.Classes, true)},
	), nil
}
