package nn_test

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/safetensors"
)

// TestBatchNormRunningStats checks PyTorch's update rule (momentum 0.1,
// unbiased running variance), the counter, and that switching modes keeps
// the statistics.
func TestBatchNormRunningStats(t *testing.T) {
	bn := nn.NewBatchNorm2d[float64](1)
	x := []float64{1, 2, 3, 6} // N=2, C=1, H=1, W=2: mean 3, biased var 3.5, unbiased 14/3
	tp := autograd.NewTape[float64](autograd.NoGrad())
	y := bn.Forward(tp, tp.Input(x, 2, 1, 1, 2))
	if got, want := bn.RunningMean.Data[0], 0.3; math.Abs(got-want) > 1e-12 {
		t.Errorf("running_mean = %v, want %v", got, want)
	}
	if got, want := bn.RunningVar.Data[0], 0.9+0.1*14.0/3; math.Abs(got-want) > 1e-12 {
		t.Errorf("running_var = %v, want %v", got, want)
	}
	if bn.NumBatchesTracked.Data[0] != 1 {
		t.Errorf("num_batches_tracked = %v, want 1", bn.NumBatchesTracked.Data[0])
	}
	if want := (1 - 3) / math.Sqrt(3.5+1e-5); math.Abs(y.Value[0]-want) > 1e-12 {
		t.Errorf("train output %v, want %v", y.Value[0], want)
	}
	bn.SetTraining(false)
	tp.Reset()
	y = bn.Forward(tp, tp.Input(x, 2, 1, 1, 2))
	if want := (1 - 0.3) / math.Sqrt(0.9+0.1*14.0/3+1e-5); math.Abs(y.Value[0]-want) > 1e-12 {
		t.Errorf("eval output %v, want %v", y.Value[0], want)
	}
	bn.SetTraining(true)
	mean := bn.RunningMean.Data[0]
	if math.Abs(mean-0.3) > 1e-12 || bn.NumBatchesTracked.Data[0] != 1 {
		t.Error("switching modes changed the running statistics")
	}
	// A tape that keeps running statistics leaves them alone.
	kt := autograd.NewTape[float64](autograd.KeepRunningStats())
	bn.Forward(kt, kt.Input(x, 2, 1, 1, 2))
	if bn.RunningMean.Data[0] != mean || bn.NumBatchesTracked.Data[0] != 1 {
		t.Error("KeepRunningStats tape moved the running statistics")
	}
}

func TestStateRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := smallResNet(rng)
	perturbBN(a, rng)
	// Run a training forward so the buffers hold non-default values.
	tp := autograd.NewTape[float64](autograd.NoGrad())
	x := make([]float64, 2*3*8*8)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	a.Forward(tp, tp.Input(x, 2, 3, 8, 8))
	path := filepath.Join(t.TempDir(), "state.safetensors")
	if err := nn.SaveState(path, a, map[string]string{"model": "small"}); err != nil {
		t.Fatal(err)
	}
	b := smallResNet(rand.New(rand.NewPCG(9, 9)))
	meta, err := nn.LoadState(path, b)
	if err != nil {
		t.Fatal(err)
	}
	if meta["model"] != "small" {
		t.Errorf("metadata %v", meta)
	}
	pa, pb := nn.AllParams(a), nn.AllParams(b)
	for i := range pa {
		for j := range pa[i].Data {
			// Saved as float32: equal after rounding to float32.
			if float64(float32(pa[i].Data[j])) != pb[i].Data[j] {
				t.Fatalf("%s[%d]: %v, loaded %v", pa[i].Name, j, pa[i].Data[j], pb[i].Data[j])
			}
		}
	}
	if pb[5].Name != "1.num_batches_tracked" || pb[5].Data[0] != 1 {
		t.Errorf("counter %s = %v", pb[5].Name, pb[5].Data[0])
	}

	// A model of another shape is refused with the tensor's name.
	other := smallVGG(rng)
	if _, err := nn.LoadState(path, other); err == nil || !strings.Contains(err.Error(), "tensor") {
		t.Errorf("loading into another architecture: err = %v", err)
	}
}

func TestStateNames(t *testing.T) {
	m := smallResNet(rand.New(rand.NewPCG(1, 1)))
	var names []string
	for _, p := range nn.AllParams(m) {
		names = append(names, p.Name)
	}
	got := strings.Join(names, " ")
	for _, want := range []string{
		"0.weight", "1.weight 1.bias 1.running_mean 1.running_var 1.num_batches_tracked",
		"3.conv1.weight 3.bn1.weight", "3.shortcut.0.weight 3.shortcut.1.weight", "6.weight 6.bias",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("state names lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "4.shortcut") {
		t.Error("identity block has a shortcut")
	}
}

func TestMask(t *testing.T) {
	p := nn.NewLinear[float32](rand.New(rand.NewPCG(1, 1)), 3, 2, false).Weight
	p.Mask = []float32{1, 0, 1, 0, 0, 1}
	for i := range p.Grad {
		p.Grad[i] = 1
	}
	p.ApplyMask()
	for i, m := range p.Mask {
		if m == 0 && (p.Data[i] != 0 || p.Grad[i] != 0) {
			t.Errorf("masked element %d: weight %v grad %v", i, p.Data[i], p.Grad[i])
		}
		if m == 1 && (p.Data[i] == 0 || p.Grad[i] != 1) {
			t.Errorf("kept element %d changed: weight %v grad %v", i, p.Data[i], p.Grad[i])
		}
	}
	if p.Kept() != 3 {
		t.Errorf("Kept = %d, want 3", p.Kept())
	}
}

func TestCopyStateFloat32To64(t *testing.T) {
	a := nn.NewConv2d[float32](rand.New(rand.NewPCG(5, 5)), 2, 3, 3, 1, 1, true)
	b := nn.NewConv2d[float64](rand.New(rand.NewPCG(6, 6)), 2, 3, 3, 1, 1, true)
	a.Params("c", nil)
	b.Params("c", nil)
	nn.CopyState[float64, float32](b, a)
	for i, v := range a.Weight.Data {
		if float64(v) != b.Weight.Data[i] {
			t.Fatalf("weight %d: %v vs %v", i, v, b.Weight.Data[i])
		}
	}
}

func TestLoadStateRejectsNonFinite(t *testing.T) {
	m := nn.Named(nn.Entry[float32]{Name: "fc", Module: nn.NewLinear[float32](rand.New(rand.NewPCG(1, 1)), 2, 2, true)})
	tensors := nn.StateTensors[float32](m, safetensors.F32)
	path := filepath.Join(t.TempDir(), "nan.safetensors")
	bad := safetensors.FromFloats("fc.weight", safetensors.F32, []int{2, 2}, []float32{1, float32(math.NaN()), 0, 0})
	tensors[0] = bad
	if err := safetensors.WriteFile(path, tensors, nil); err != nil {
		t.Fatal(err)
	}
	_, err := nn.LoadState[float32](path, m)
	if err == nil || !strings.Contains(err.Error(), "fc.weight") || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want one naming fc.weight and the file", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
