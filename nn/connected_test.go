package nn_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
)

func net(t *testing.T, name string, in models.Input) nn.Module[float32] {
	t.Helper()
	m, err := models.New[float32](name, in, models.Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func param(t *testing.T, m nn.Module[float32], name string) *nn.Param[float32] {
	t.Helper()
	for _, p := range nn.AllParams(m) {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no parameter %s", name)
	return nil
}

// maskWhere masks p, keeping entry (row, col) of its [rows, per] view where
// keep says so.
func maskWhere(p *nn.Param[float32], keep func(row, col int) bool) {
	per := p.Len() / p.Shape[0]
	p.Mask = make([]float32, p.Len())
	for i := range p.Mask {
		if keep(i/per, i%per) {
			p.Mask[i] = 1
		}
	}
	p.ApplyMask()
}

var mnistIn = models.Input{Channels: 1, Height: 28, Width: 28, Classes: 10}

func TestCheckConnected(t *testing.T) {
	m := net(t, "lenet300", mnistIn)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, name := range []string{"fc1.weight", "fc2.weight", "fc3.weight"} {
		maskWhere(param(t, m, name), func(int, int) bool { return rng.Float64() < 0.1 })
	}
	before := append([]float32(nil), param(t, m, "fc2.weight").Data...)
	if err := nn.CheckConnected(m, []int{1, 28, 28}); err != nil {
		t.Fatalf("90%% random sparsity: %v", err)
	}
	for i, v := range param(t, m, "fc2.weight").Data {
		if v != before[i] {
			t.Fatalf("fc2.weight[%d] changed: %v, was %v", i, v, before[i])
		}
	}

	// No layer is empty, yet fc1 feeds only units 0-9 and fc2 reads only
	// units 10-19: the paths break between them.
	m = net(t, "lenet300", mnistIn)
	maskWhere(param(t, m, "fc1.weight"), func(row, _ int) bool { return row < 10 })
	maskWhere(param(t, m, "fc2.weight"), func(_, col int) bool { return col >= 10 && col < 20 })
	for _, p := range nn.AllParams(m) {
		if p.Kind == nn.Bias { // a trained network's biases: no path of their own
			for i := range p.Data {
				p.Data[i] = 0.5
			}
		}
	}
	var de *nn.DisconnectedError
	if err := nn.CheckConnected(m, []int{1, 28, 28}); !errors.As(err, &de) || len(de.Empty) != 0 || de.First != "fc1.weight" || de.Last != "fc2.weight" {
		t.Fatalf("fc1 and fc2 disjoint: %v (%+v)", err, de)
	}
	// One more unit of fc2 reading unit 3 joins them.
	p := param(t, m, "fc2.weight")
	p.Mask[50*300+3], p.Data[50*300+3] = 1, 0.1
	if err := nn.CheckConnected(m, []int{1, 28, 28}); err != nil {
		t.Fatalf("one path through fc2's unit 50: %v", err)
	}

	// A whole layer pruned is named.
	m = net(t, "lenet5", mnistIn)
	maskWhere(param(t, m, "conv2.weight"), func(int, int) bool { return false })
	if err := nn.CheckConnected(m, []int{1, 28, 28}); !errors.As(err, &de) || len(de.Empty) != 1 || de.Empty[0] != "conv2.weight" || de.First != "conv2.weight" || de.Last != "conv2.weight" {
		t.Fatalf("conv2 empty: %v (%+v)", err, de)
	}
	// Convolutions: conv1 keeps filters 0-9, conv2 reads channels 10-19 only.
	m = net(t, "lenet5", mnistIn)
	maskWhere(param(t, m, "conv1.weight"), func(row, _ int) bool { return row < 10 })
	maskWhere(param(t, m, "conv2.weight"), func(_, col int) bool { return col/25 >= 10 })
	if err := nn.CheckConnected(m, []int{1, 28, 28}); !errors.As(err, &de) || de.First != "conv1.weight" || de.Last != "conv2.weight" {
		t.Fatalf("conv1 and conv2 disjoint: %v (%+v)", err, de)
	}
}

// A residual block's branch may be cut: its identity shortcut still
// carries the paths. Cutting a stride-2 block's projection shortcut and its
// branch together disconnects.
func TestCheckConnectedResidual(t *testing.T) {
	in := models.Input{Channels: 3, Height: 32, Width: 32, Classes: 10}
	m := net(t, "resnet20", in)
	maskWhere(param(t, m, "layer1.0.conv1.weight"), func(int, int) bool { return false })
	if err := nn.CheckConnected(m, []int{3, 32, 32}); err != nil {
		t.Fatalf("a branch cut, its shortcut whole: %v", err)
	}
	var names []string
	for _, p := range nn.Prunable(m) {
		names = append(names, p.Name)
	}
	var shortcut string
	for _, n := range names {
		if len(n) > 9 && n[:9] == "layer2.0." && n != "layer2.0.conv1.weight" && n != "layer2.0.conv2.weight" {
			shortcut = n
		}
	}
	if shortcut == "" {
		t.Skipf("resnet20's layer2.0 has no projection shortcut among %v", names)
	}
	maskWhere(param(t, m, shortcut), func(int, int) bool { return false })
	maskWhere(param(t, m, "layer2.0.conv2.weight"), func(int, int) bool { return false })
	var de *nn.DisconnectedError
	if err := nn.CheckConnected(m, []int{3, 32, 32}); !errors.As(err, &de) || len(de.Empty) != 3 {
		t.Fatalf("layer2.0 cut whole: %v (%+v)", err, de)
	}
}
