package train

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/winnow-ml/winnow/nn"
)

// torch.optim.Adam and AdamW on the same weights and gradients, five steps
// (testdata/adam_torch.py).
func TestAdamMatchesPyTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/adam_torch.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		W0    []float32
		Grads [][]float32
		Cases []struct {
			Name, Optimizer string
			LR, Eps         float64
			WeightDecay     float64 `json:"weight_decay"`
			Betas           [2]float64
			Steps           [][]float32
		}
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for _, c := range ref.Cases {
		p := &nn.Param[float32]{Kind: nn.Weight, Shape: []int{len(ref.W0)}, Data: append([]float32(nil), ref.W0...), Grad: make([]float32, len(ref.W0))}
		opt, err := NewOptimizer(Config{Optimizer: c.Optimizer, LR: c.LR, Betas: c.Betas, Eps: c.Eps, WeightDecay: c.WeightDecay}, []*nn.Param[float32]{p})
		if err != nil {
			t.Fatal(err)
		}
		for s, g := range ref.Grads {
			copy(p.Grad, g)
			opt.Step()
			for i, w := range c.Steps[s] {
				if d := math.Abs(float64(p.Data[i] - w)); d > 2e-7*math.Max(1, math.Abs(float64(w))) {
					t.Errorf("%s, step %d: w[%d] = %v, PyTorch %v", c.Name, s+1, i, p.Data[i], w)
				}
			}
		}
		if opt.Steps() != len(ref.Grads) {
			t.Errorf("%s: %d steps counted, %d taken", c.Name, opt.Steps(), len(ref.Grads))
		}
	}
}

func TestAdamKeepsMaskedWeightsZero(t *testing.T) {
	for _, decoupled := range []bool{false, true} {
		p := &nn.Param[float32]{Kind: nn.Weight, Shape: []int{4}, Data: []float32{1, 0.5, 1, 0.5}, Grad: make([]float32, 4), Mask: []float32{1, 0, 1, 0}}
		o := NewAdam([]*nn.Param[float32]{p}, 0.01, 0.9, 0.999, 1e-8, 0.1, decoupled)
		for s := range 10 {
			for i := range p.Grad {
				p.Grad[i] = 0.3 // a gradient on pruned weights too
			}
			o.Step()
			st := o.Buffers(p)
			if p.Data[1] != 0 || p.Data[3] != 0 || st["exp_avg"][1] != 0 || st["exp_avg_sq"][3] != 0 {
				t.Fatalf("decoupled %v, step %d: pruned weights %v, state %v", decoupled, s, p.Data, st)
			}
		}
		if p.Data[0] == 1 {
			t.Error("kept weight did not move")
		}
	}
}

func TestUnknownOptimizer(t *testing.T) {
	if _, err := NewOptimizer(Config{Optimizer: "adagrad", LR: 0.1}, nil); err == nil {
		t.Error("adagrad: no error")
	}
}

func TestWarmup(t *testing.T) {
	// 4 steps an epoch, 10 epochs, 2 epochs of warm-up: W = 8 of S = 40.
	w, err := ParseSchedule("cosine+warmup:2")
	if err != nil {
		t.Fatal(err)
	}
	ws := w.(StepSchedule)
	for _, c := range []struct {
		epoch, step int
		want        float64
	}{
		{0, 0, 1.0 / 8}, {0, 3, 4.0 / 8}, {1, 3, 1}, // the ramp: step k (1-based) at k/8
		{2, 0, 1}, // cosine from the peak over the 32 steps after it
		{6, 0, (1 + math.Cos(math.Pi*16/32)) / 2}, // half-way: 0.5
		{9, 3, (1 + math.Cos(math.Pi*31/32)) / 2}, // the last step
	} {
		if got := ws.LRAt(1, c.epoch, c.step, 4, 10); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("cosine+warmup:2 at epoch %d step %d: %v, want %v", c.epoch, c.step, got, c.want)
		}
	}
	// A step schedule: the ramp multiplies it, then it goes on unchanged.
	s, _ := ParseSchedule("epochs:3+warmup:0.5")
	ss := s.(StepSchedule)
	for _, c := range []struct {
		epoch, step int
		want        float64
	}{{0, 0, 0.05}, {0, 1, 0.1}, {0, 2, 0.1}, {2, 0, 0.1}, {3, 0, 0.01}} {
		if got := ss.LRAt(0.1, c.epoch, c.step, 4, 10); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("epochs:3+warmup:0.5 at epoch %d step %d: %v, want %v", c.epoch, c.step, got, c.want)
		}
	}
	if s.String() != "epochs:3+warmup:0.5" {
		t.Errorf("String() = %q", s.String())
	}
	for _, bad := range []string{"cosine+warmup:0", "cosine+warmup:x", "cosine+warmup:-1", "step+warmup:1+warmup:1", "warm+warmup:1"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q): no error", bad)
		}
	}
}
