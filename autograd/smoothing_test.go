package autograd

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// PyTorch's CrossEntropyLoss(label_smoothing) on the same logits: loss and
// gradient (testdata/label_smoothing_torch.py).
func TestLabelSmoothingMatchesPyTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/label_smoothing_torch.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Logits []float64
		Labels []int32
		Cases  []struct {
			Smoothing, Temperature, Loss float64
			Grad                         []float64
		}
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for _, c := range ref.Cases {
		tp := NewTape[float64]()
		z := tp.Leaf("logits", append([]float64(nil), ref.Logits...), make([]float64, len(ref.Logits)), nil, nil, 4, 5)
		loss := SmoothedSoftmaxCrossEntropy(tp, z, ref.Labels, c.Temperature, c.Smoothing)
		tp.Backward(loss)
		if math.Abs(loss.Value[0]-c.Loss) > 1e-12 {
			t.Errorf("smoothing %v, T %v: loss %v, PyTorch %v", c.Smoothing, c.Temperature, loss.Value[0], c.Loss)
		}
		for i, g := range c.Grad {
			if math.Abs(z.Grad[i]-g) > 1e-12 {
				t.Errorf("smoothing %v, T %v: dlogits[%d] %v, PyTorch %v", c.Smoothing, c.Temperature, i, z.Grad[i], g)
				break
			}
		}
	}
}

// ε = 0 is the plain cross-entropy, bit for bit, so that runs without
// smoothing are unchanged.
func TestNoSmoothingIsPlainCrossEntropy(t *testing.T) {
	logits := []float32{0.3, -1.2, 2.5, 0.7, 0.1, -0.4}
	grads := [2][]float32{}
	var losses [2]float32
	for k := range 2 {
		tp := NewTape[float32]()
		z := tp.Leaf("logits", append([]float32(nil), logits...), make([]float32, 6), nil, nil, 2, 3)
		var l *Var[float32]
		if k == 0 {
			l = SoftmaxCrossEntropy(tp, z, []int32{2, 0}, 1)
		} else {
			l = SmoothedSoftmaxCrossEntropy(tp, z, []int32{2, 0}, 1, 0)
		}
		tp.Backward(l)
		losses[k], grads[k] = l.Value[0], z.Grad
	}
	if losses[0] != losses[1] {
		t.Errorf("loss %v, smoothed with 0: %v", losses[0], losses[1])
	}
	for i := range grads[0] {
		if grads[0][i] != grads[1][i] {
			t.Errorf("dlogits[%d] %v, smoothed with 0: %v", i, grads[0][i], grads[1][i])
		}
	}
}

// The loss's tangent (its derivative along the logits' tangent) against
// central differences, with and without smoothing.
func TestCrossEntropyTangent(t *testing.T) {
	logits := []float64{0.3, -1.2, 2.5, 0.7, 0.1, -0.4}
	dir := []float64{0.5, 1, -0.3, 0.2, -2, 0.7}
	loss := func(z []float64, eps float64) float64 {
		tp := NewTape[float64]()
		return SmoothedSoftmaxCrossEntropy(tp, tp.Input(z, 2, 3), []int32{2, 0}, 2, eps).Value[0]
	}
	for _, eps := range []float64{0, 0.2} {
		tp := NewTape[float64](HVP())
		z := tp.Leaf("z", logits, make([]float64, 6), dir, make([]float64, 6), 2, 3)
		got := SmoothedSoftmaxCrossEntropy(tp, z, []int32{2, 0}, 2, eps).Tangent[0]
		const h = 1e-5
		zp, zm := make([]float64, 6), make([]float64, 6)
		for i := range logits {
			zp[i], zm[i] = logits[i]+h*dir[i], logits[i]-h*dir[i]
		}
		if want := (loss(zp, eps) - loss(zm, eps)) / (2 * h); math.Abs(got-want) > 1e-8 {
			t.Errorf("smoothing %v: tangent %v, central differences %v", eps, got, want)
		}
	}
}
