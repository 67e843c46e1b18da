package nn_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/safetensors"
)

func resnet20(t *testing.T) nn.Module[float64] {
	t.Helper()
	m, err := models.New[float64]("resnet20", models.Input{Channels: 3, Height: 8, Width: 8, Classes: 10}, models.Options{Width: 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Running statistics other than 0 and 1, so that BatchNorm matters.
	rng := rand.New(rand.NewPCG(5, 5))
	nn.EachBatchNorm(m, func(bn *nn.BatchNorm2d[float64]) {
		for i := range bn.RunningMean.Data {
			bn.RunningMean.Data[i] = 0.1 * rng.NormFloat64()
			bn.RunningVar.Data[i] = 0.5 + rng.Float64()
			bn.Weight.Data[i] = 0.5 + rng.Float64()
			bn.Bias.Data[i] = 0.1 * rng.NormFloat64()
		}
	})
	return m
}

func output(m nn.Module[float64], x []float64) []float64 {
	m.SetTraining(false)
	tp := autograd.NewTape[float64](autograd.NoGrad())
	return append([]float64(nil), m.Forward(tp, tp.Input(x, 2, 3, 8, 8)).Value...)
}

// TestUnionRule slims the residual writers of a ResNet-20 by the official
// union rule and checks that the network computes what the unpruned one
// computes with the removed units silenced (their weights, BatchNorm scale
// and shift zero): a block's output keeps the union of what its branch and
// shortcut keep, readers keep those inputs. The slimmed network is saved,
// loaded into a fresh ResNet-20 and computes the same; its joins are as
// wide as the unions.
func TestUnionRule(t *testing.T) {
	m := resnet20(t)
	silenced := resnet20(t)
	writers := nn.ResidualWriters(m)
	// conv1, 9 conv2s, 2 shortcuts.
	if len(writers) != 12 || writers[0].Layer.Name != "conv1" || writers[2].Layer.Name != "layer1.1.conv2" || writers[4].Layer.Name != "layer2.0.conv2" || writers[5].Layer.Name != "layer2.0.shortcut.0" {
		names := []string{}
		for _, w := range writers {
			names = append(names, w.Layer.Name)
		}
		t.Fatalf("writers %v", names)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	keep := map[string][]int{}
	for i, w := range writers {
		o := w.Layer.Core().Shape[0]
		var k []int
		for u := 0; u < o; u++ {
			if rng.IntN(3) > 0 {
				k = append(k, u)
			}
		}
		if len(k) == 0 {
			k = []int{0}
		}
		keep[w.Layer.Name] = k
		// Silence the removed units in the twin.
		sw := nn.ResidualWriters(silenced)[i]
		per := sw.Layer.Core().Len() / o
		for u := 0; u < o; u++ {
			if slices.Contains(k, u) {
				continue
			}
			clear(sw.Layer.Core().Data[u*per : (u+1)*per])
			sw.BN.Weight.Data[u], sw.BN.Bias.Data[u] = 0, 0
		}
	}
	x := make([]float64, 2*3*8*8)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	want := output(silenced, x)
	if err := nn.SlimResidual(m, keep); err != nil {
		t.Fatal(err)
	}
	got := output(m, x)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-10*(1+math.Abs(want[i])) {
			t.Fatalf("logit %d: %v slimmed, %v silenced", i, got[i], want[i])
		}
	}
	// The stage-1 stream: conv1's units and every layer1 conv2's.
	union := slices.Clone(keep["conv1"])
	for b := 0; b < 3; b++ {
		union = append(union, keep["layer1."+string(rune('0'+b))+".conv2"]...)
	}
	union = slices.Compact(slices.Sorted(slices.Values(union)))
	for _, l := range nn.Layers(m) {
		if l.Name == "layer2.0.conv1" || l.Name == "layer2.0.shortcut.0" {
			if got := l.Core().Shape[1]; got != len(union) {
				t.Errorf("%s reads %d channels, the union of stage 1 has %d", l.Name, got, len(union))
			}
		}
	}
	// Saved and loaded into a fresh network.
	var buf bytes.Buffer
	if err := nn.WriteState(&buf, m, nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "state")
	if err != nil {
		t.Fatal(err)
	}
	fresh := resnet20(t)
	if err := nn.ShapeLike(fresh, f.Tensors); err != nil {
		t.Fatal(err)
	}
	if err := nn.SetState(fresh, f.Tensors); err != nil {
		t.Fatal(err)
	}
	loaded := output(fresh, x)
	for i := range want {
		if math.Abs(loaded[i]-got[i]) > 1e-6*(1+math.Abs(got[i])) { // saved as float32
			t.Fatalf("logit %d: %v loaded, %v slimmed", i, loaded[i], got[i])
		}
	}
	// A join that leaves an output channel to no summand is refused.
	for i, tn := range f.Tensors {
		if tn.Name == "layer1.2.join.branch" {
			v := make([]int64, tn.Shape[0])
			for j := range v {
				v[j] = int64(2 * j) // leaves odd channels out where the shortcut does too
			}
			f.Tensors[i] = safetensors.FromInt64s(tn.Name, tn.Shape, v)
		}
		if tn.Name == "layer1.2.join.shortcut" {
			v := make([]int64, tn.Shape[0])
			for j := range v {
				v[j] = int64(2 * j)
			}
			f.Tensors[i] = safetensors.FromInt64s(tn.Name, tn.Shape, v)
		}
	}
	bad := resnet20(t)
	if err := nn.ShapeLike(bad, f.Tensors); err != nil {
		t.Fatal(err)
	}
	if err := nn.SetState(bad, f.Tensors); err == nil {
		t.Error("a join that covers no summand's channel 1 was accepted")
	}
}
