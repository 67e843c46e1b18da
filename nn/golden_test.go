package nn_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/safetensors"
)

// TestAgainstPyTorch recomputes the loss, gradient g and Hessian-gradient
// product H g that PyTorch 1.13's double backprop gave for the same small
// networks, weights and batch (testdata/torch_*.safetensors, written by
// reference/torch_hvp.py), at T = 1 and GraSP's T = 200. It also checks that
// PyTorch's state_dict loads by name into winnow's modules.
func TestAgainstPyTorch(t *testing.T) {
	for _, tc := range []struct {
		file  string
		build func(*rand.Rand) nn.Module[float64]
	}{{"torch_small_vgg", smallVGG}, {"torch_small_resnet", smallResNet}} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := safetensors.ReadFile("testdata/" + tc.file + ".safetensors")
			if err != nil {
				t.Fatal(err)
			}
			m := tc.build(rand.New(rand.NewPCG(1, 1)))
			var state []safetensors.Tensor
			for _, x := range f.Tensors {
				if name, ok := strings.CutPrefix(x.Name, "param/"); ok {
					x.Name = name
					state = append(state, x)
				}
			}
			if err := nn.SetState(m, state); err != nil {
				t.Fatalf("PyTorch state does not load: %v", err)
			}
			get := func(name string) safetensors.Tensor {
				x, ok := f.Get(name)
				if !ok {
					t.Fatalf("%s lacks %s", tc.file, name)
				}
				return x
			}
			in := get("input")
			x := make([]float64, in.Numel())
			safetensors.ToFloats(in, x)
			lt := get("label")
			l64, _ := lt.Int64s()
			labels := make([]int32, len(l64))
			for i, v := range l64 {
				labels[i] = int32(v)
			}
			for _, temp := range []float64{1, 200} {
				params := nn.Trainable(m)
				run := func(opts ...autograd.Option) float64 {
					tp := autograd.NewTape[float64](append(opts, autograd.KeepRunningStats())...)
					for _, p := range params {
						p.ZeroGrad()
					}
					loss := autograd.SoftmaxCrossEntropy(tp, m.Forward(tp, tp.Input(x, in.Shape...)), labels, temp)
					tp.Backward(loss)
					return loss.Value[0]
				}
				for _, p := range params {
					p.Tangent = nil
				}
				loss := run()
				want := make([]float64, 1)
				safetensors.ToFloats(get(fmt.Sprintf("T%g/loss", temp)), want)
				if d := loss - want[0]; d > 1e-12 || d < -1e-12 {
					t.Errorf("T=%g: loss %v, PyTorch %v", temp, loss, want[0])
				}
				var g, wantG []float64
				for _, p := range params {
					p.Tangent = append([]float64(nil), p.Grad...)
					g = append(g, p.Grad...)
					w := make([]float64, p.Len())
					safetensors.ToFloats(get(fmt.Sprintf("T%g/grad/%s", temp, p.Name)), w)
					wantG = append(wantG, w...)
				}
				if r := relErr(g, wantG); r > 1e-9 {
					t.Errorf("T=%g: gradient relative error %.3g against PyTorch", temp, r)
				}
				run(autograd.HVP())
				var hg, wantHg []float64
				for _, p := range params {
					hg = append(hg, p.HV...)
					w := make([]float64, p.Len())
					safetensors.ToFloats(get(fmt.Sprintf("T%g/hg/%s", temp, p.Name)), w)
					wantHg = append(wantHg, w...)
				}
				if r := relErr(hg, wantHg); r > 1e-9 {
					t.Errorf("T=%g: H g relative error %.3g against PyTorch's double backprop", temp, r)
				} else {
					t.Logf("T=%g: H g relative error %.2g against PyTorch", temp, r)
				}
			}
		})
	}
}
