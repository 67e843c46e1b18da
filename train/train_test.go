package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
)

func TestSGDMatchesPyTorch(t *testing.T) {
	// torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.1) with grad 0.5,
	// two steps from 1.0, gives these values (PyTorch 1.13).
	for _, c := range []struct {
		nesterov bool
		want     []float32
	}{{false, []float32{0.94, 0.8266}}, {true, []float32{0.886, 0.725566}}} {
		p := &nn.Param[float32]{Kind: nn.Weight, Shape: []int{1}, Data: []float32{1}, Grad: []float32{0.5}}
		o := NewSGD([]*nn.Param[float32]{p}, 0.1, 0.9, 0.1, c.nesterov)
		for i, w := range c.want {
			o.Step()
			if math.Abs(float64(p.Data[0]-w)) > 1e-6 {
				t.Errorf("nesterov %v, step %d: %v, want %v", c.nesterov, i+1, p.Data[0], w)
			}
		}
	}
}

func TestSGDKeepsMaskedWeightsZero(t *testing.T) {
	p := &nn.Param[float32]{Kind: nn.Weight, Shape: []int{4}, Data: []float32{1, 0, 1, 0}, Grad: make([]float32, 4), Mask: []float32{1, 0, 1, 0}}
	o := NewSGD([]*nn.Param[float32]{p}, 0.1, 0.9, 5e-4, false)
	for s := 0; s < 10; s++ {
		for i := range p.Grad {
			p.Grad[i] = 0.3 // a gradient on pruned weights too
		}
		o.Step()
		if p.Data[1] != 0 || p.Data[3] != 0 || o.MomentumBuffer(p)[1] != 0 {
			t.Fatalf("step %d: pruned weights %v, momentum %v", s, p.Data, o.MomentumBuffer(p))
		}
	}
	if p.Data[0] == 1 {
		t.Error("kept weight did not move")
	}
}

func TestSchedules(t *testing.T) {
	s, _ := ParseSchedule("step")
	for _, c := range []struct {
		epoch int
		want  float64
	}{{0, 0.1}, {79, 0.1}, {80, 0.01}, {119, 0.01}, {120, 0.001}, {159, 0.001}} {
		if got := s.LR(0.1, c.epoch, 160); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("step at epoch %d of 160: %v, want %v", c.epoch, got, c.want)
		}
	}
	if s.LR(0.1, 0, 1) != 0.1 || math.Abs(s.LR(0.1, 1, 2)-0.001) > 1e-12 {
		t.Error("short runs: the first epoch must keep the base rate")
	}
	m, _ := ParseSchedule("epochs:2,4")
	if m.LR(1, 1, 10) != 1 || math.Abs(m.LR(1, 2, 10)-0.1) > 1e-12 || math.Abs(m.LR(1, 5, 10)-0.01) > 1e-12 {
		t.Error("epochs schedule")
	}
	c, _ := ParseSchedule("cosine")
	if c.LR(1, 0, 10) != 1 || math.Abs(c.LR(1, 5, 10)-0.5) > 1e-12 {
		t.Error("cosine schedule")
	}
	for _, bad := range []string{"step:1.5", "epochs:x", "warm"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q): no error", bad)
		}
	}
}

func mnist(t testing.TB, split data.Split, n int) data.Dataset {
	ds, err := data.Open("mnist", "", split)
	if err != nil {
		t.Fatal(err)
	}
	return data.Limit(ds, n)
}

func loaders(t testing.TB, train, test data.Dataset, batch int) (*data.Loader, *data.Loader) {
	tf, _ := data.Pipeline("mnist", false)
	return &data.Loader{Dataset: train, Transform: tf, BatchSize: batch, Shuffle: true, Seed: 1},
		&data.Loader{Dataset: test, Transform: tf, BatchSize: 500}
}

func newModel(t testing.TB, name string, seed uint64) nn.Module[float32] {
	_, _, in, _ := models.Describe(name)
	m, err := models.New[float32](name, in, models.Options{}, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// stopAfter cancels the run after a number of steps: a kill mid-epoch.
type stopAfter struct {
	steps  int
	cancel context.CancelFunc
}

func (s *stopAfter) StartEpoch(int, int, int, int) {}
func (s *stopAfter) EndEpoch(EpochResult)          {}
func (s *stopAfter) Step(int, float64, float64, float64) {
	if s.steps--; s.steps == 0 {
		s.cancel()
	}
}

// TestResumeIsExact: a run killed in its second epoch and resumed from the
// checkpoint ends with the same weights, bit for bit, as a run never stopped.
func TestResumeIsExact(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"sgd", Config{Epochs: 3, LR: 0.05, Momentum: 0.9, WeightDecay: 5e-4, Schedule: StepAtFractions{[]float64{0.5}, 0.1}}},
		// The interruption falls within the warm-up's second epoch.
		{"adamw-warmup-smoothing", Config{Epochs: 3, Optimizer: "adamw", LR: 1e-3, WeightDecay: 0.01, LabelSmoothing: 0.1,
			Schedule: Warmup{Epochs: 1.5, Then: Cosine{}}}},
	} {
		t.Run(c.name, func(t *testing.T) { testResumeIsExact(t, c.cfg) })
	}
}

func testResumeIsExact(t *testing.T, cfg Config) {
	trainSet, testSet := mnist(t, data.Train, 1200), mnist(t, data.Test, 500)
	mask := func(m nn.Module[float32]) {
		rng := rand.New(rand.NewPCG(3, 3))
		for _, p := range nn.Prunable(m) {
			p.Mask = make([]float32, p.Len())
			for i := range p.Mask {
				if rng.Float64() < 0.5 {
					p.Mask[i] = 1
				}
			}
		}
	}

	whole := newModel(t, "lenet300", 1)
	mask(whole)
	trL, teL := loaders(t, trainSet, testSet, 100)
	a := &Trainer{Model: whole, Train: trL, Test: teL, Config: cfg, Out: t.TempDir()}
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	first := newModel(t, "lenet300", 1)
	mask(first)
	ctx, cancel := context.WithCancel(context.Background())
	trL, teL = loaders(t, trainSet, testSet, 100)
	b := &Trainer{Model: first, Train: trL, Test: teL, Config: cfg, Out: dir, Progress: &stopAfter{steps: 12 + 5, cancel: cancel}}
	if err := b.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v", err)
	}
	second := newModel(t, "lenet300", 99) // other weights: all must come from the checkpoint
	trL, teL = loaders(t, trainSet, testSet, 100)
	c := &Trainer{Model: second, Train: trL, Test: teL, Config: cfg, Out: dir}
	if err := c.Resume(filepath.Join(dir, "checkpoint.safetensors")); err != nil {
		t.Fatal(err)
	}
	if e, s := c.Position(); len(c.History()) != 1 || e != 1 || s != 5 {
		t.Fatalf("resumed after %d epochs and %d steps, want 1 and 5: the interruption's checkpoint", e, s)
	}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	pa, pc := nn.AllParams(whole), nn.AllParams(second)
	for i := range pa {
		for j := range pa[i].Data {
			if pa[i].Data[j] != pc[i].Data[j] {
				t.Fatalf("%s[%d]: %v uninterrupted, %v resumed", pa[i].Name, j, pa[i].Data[j], pc[i].Data[j])
			}
		}
	}
	if a.History()[2].TestAcc != c.History()[2].TestAcc {
		t.Error("final accuracies differ")
	}
	for _, f := range []string{"checkpoint.safetensors", "metrics.csv", "final.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// nanData is MNIST with one poisoned example.
type nanData struct{ data.Dataset }

func (d nanData) Get(i int, ex *data.Example) error {
	if err := d.Dataset.Get(i, ex); err != nil {
		return err
	}
	if i == 150 {
		ex.Image[0] = float32(math.NaN())
	}
	return nil
}

func TestNaNLossStops(t *testing.T) {
	trainSet, testSet := mnist(t, data.Train, 200), mnist(t, data.Test, 100)
	m := newModel(t, "lenet300", 1)
	dir := t.TempDir()
	trL, teL := loaders(t, trainSet, testSet, 100)
	trL.Shuffle = false
	cfg := Config{Epochs: 2, LR: 0.05, Schedule: Constant{}}
	if err := (&Trainer{Model: m, Train: trL, Test: teL, Config: cfg, Out: dir}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "checkpoint.safetensors"))
	cfg.Epochs = 3
	trL.Dataset = nanData{trainSet}
	tr := &Trainer{Model: m, Train: trL, Test: teL, Config: cfg, Out: dir}
	tr.Resume(filepath.Join(dir, "checkpoint.safetensors"))
	err := tr.Run(context.Background())
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Epoch != 3 || nf.Step != 1 {
		t.Fatalf("err = %v, want a NonFiniteError at epoch 3, step 1", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "checkpoint.safetensors"))
	if string(before) != string(after) {
		t.Error("the last good checkpoint changed")
	}
}

// TestLeNet5OneEpoch: dense LeNet-5 reaches 97% test accuracy on MNIST after
// one epoch (SGD lr 0.05, momentum 0.9, batch 64).
func TestLeNet5OneEpoch(t *testing.T) {
	if os.Getenv("WINNOW_LONG_TESTS") == "" {
		t.Skip("trains a full epoch (15 s): CI's longer step runs it with WINNOW_LONG_TESTS=1")
	}
	m := newModel(t, "lenet5", 1)
	trL, teL := loaders(t, mnist(t, data.Train, 0), mnist(t, data.Test, 0), 64)
	tr := &Trainer{Model: m, Train: trL, Test: teL, Config: Config{Epochs: 1, LR: 0.05, Momentum: 0.9, WeightDecay: 5e-4, Schedule: Constant{}}}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := tr.History()[0]
	t.Logf("epoch 1: train %.4f, test %.4f, %.0f images/s", r.TrainAcc, r.TestAcc, r.ImagesSec)
	if r.TestAcc < 0.97 {
		t.Errorf("test accuracy %.4f after one epoch, want >= 0.97", r.TestAcc)
	}
}

// copyAt copies the checkpoint aside when a step is reached: the state a
// kill -9 right after that step would leave.
type copyAt struct {
	epoch, step int
	cur         int
	from, to    string
}

func (c *copyAt) StartEpoch(epoch, _, _, _ int) { c.cur = epoch }
func (c *copyAt) EndEpoch(EpochResult)          {}
func (c *copyAt) Step(step int, _, _, _ float64) {
	if c.cur == c.epoch && step == c.step {
		b, _ := os.ReadFile(c.from)
		os.WriteFile(c.to, b, 0o644)
	}
}

// TestCheckpointEveryResumesExactly: checkpoints within an epoch (every 4
// steps) resume, after a kill, to the same weights bit for bit; the
// interrupted run stood at the last of them.
func TestCheckpointEveryResumesExactly(t *testing.T) {
	trainSet, testSet := mnist(t, data.Train, 1500), mnist(t, data.Test, 200)
	cfg := Config{Epochs: 2, LR: 0.05, Momentum: 0.9, WeightDecay: 5e-4, Schedule: Constant{}}
	dir := t.TempDir()
	saved := filepath.Join(t.TempDir(), "killed.safetensors")
	whole := newModel(t, "lenet300", 1)
	trL, teL := loaders(t, trainSet, testSet, 100)
	a := &Trainer{Model: whole, Train: trL, Test: teL, Config: cfg, Out: dir, CheckpointEvery: 4,
		Progress: &copyAt{epoch: 2, step: 10, from: filepath.Join(dir, CheckpointFile), to: saved}}
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := &Trainer{Model: newModel(t, "lenet300", 7), Train: trL, Test: teL, Config: cfg, Out: t.TempDir()}
	if err := b.Resume(saved); err != nil {
		t.Fatal(err)
	}
	if e, s := b.Position(); e != 1 || s != 8 {
		t.Fatalf("killed after step 10 of epoch 2: resumed at %d epochs + %d steps, want 1 + 8 (the checkpoint every 4 steps)", e, s)
	}
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	pa, pb := nn.AllParams(whole), nn.AllParams(b.Model)
	for i := range pa {
		for j := range pa[i].Data {
			if pa[i].Data[j] != pb[i].Data[j] {
				t.Fatalf("%s[%d]: %v uninterrupted, %v resumed", pa[i].Name, j, pa[i].Data[j], pb[i].Data[j])
			}
		}
	}
	ha, hb := a.History(), b.History()
	if ha[1].TrainLoss != hb[1].TrainLoss || ha[1].TestAcc != hb[1].TestAcc {
		t.Errorf("epoch 2 metrics differ: %+v vs %+v", ha[1], hb[1])
	}
}

// failingTest fails the evaluation after the first call.
type failingTest struct {
	data.Dataset
	calls *int
}

func (d failingTest) Get(i int, ex *data.Example) error {
	if i == 0 {
		*d.calls++
	}
	if *d.calls > 1 {
		return errors.New("test image unreadable")
	}
	return d.Dataset.Get(i, ex)
}

// TestEvaluationFailureKeepsTheEpoch: an evaluation that fails after an
// epoch's training loses nothing: the checkpoint holds the trained epoch,
// and a resume evaluates it without training it again.
func TestEvaluationFailureKeepsTheEpoch(t *testing.T) {
	trainSet, testSet := mnist(t, data.Train, 300), mnist(t, data.Test, 100)
	calls := 0
	trL, teL := loaders(t, trainSet, failingTest{testSet, &calls}, 100)
	dir := t.TempDir()
	cfg := Config{Epochs: 2, LR: 0.05, Schedule: Constant{}}
	tr := &Trainer{Model: newModel(t, "lenet300", 1), Train: trL, Test: teL, Config: cfg, Out: dir}
	err := tr.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "evaluation after epoch 2") || !strings.Contains(err.Error(), "epoch 2, after step 3") {
		t.Fatalf("err = %v", err)
	}
	_, teL = loaders(t, trainSet, testSet, 100)
	again := &Trainer{Model: newModel(t, "lenet300", 5), Train: trL, Test: teL, Config: cfg, Out: dir}
	if err := again.Resume(filepath.Join(dir, CheckpointFile)); err != nil {
		t.Fatal(err)
	}
	if e, s := again.Position(); e != 1 || s != 3 {
		t.Fatalf("resumed at %d epochs + %d steps, want 1 + 3 (epoch 2 trained, not evaluated)", e, s)
	}
	if err := again.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := again.History(); len(h) != 2 || h[1].TestAcc == 0 {
		t.Errorf("history %+v", h)
	}
}

func TestNaNMessageNamesTheCheckpoint(t *testing.T) {
	trainSet, testSet := mnist(t, data.Train, 200), mnist(t, data.Test, 100)
	trL, teL := loaders(t, nanData{trainSet}, testSet, 100)
	trL.Shuffle = false
	tr := &Trainer{Model: newModel(t, "lenet300", 1), Train: trL, Test: teL, Config: Config{Epochs: 1, LR: 0.05, Schedule: Constant{}}, Out: t.TempDir()}
	err := tr.Run(context.Background())
	var nf *NonFiniteError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "no checkpoint was written yet") {
		t.Errorf("a NaN before the first checkpoint: %v", err)
	}
}

func TestLineProgress(t *testing.T) {
	var b strings.Builder
	p := &LineProgress{W: &b, Every: 2}
	p.StartEpoch(1, 3, 5, 0)
	for s := 1; s <= 5; s++ {
		p.Step(s, 0.5, 0.25, 100)
	}
	p.EndEpoch(EpochResult{Epoch: 1})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "epoch 1/3 step 2/5: train loss 0.5000") || !strings.HasPrefix(lines[2], "epoch 1: ") {
		t.Errorf("lines:\n%s", b.String())
	}
}

// TestCompareInference: the pairs are counted, each network's passes are
// its own, and the ratio points the right way for networks whose costs
// differ some 300-fold (a 784-4096-4096-10 MLP against 784-10): a swapped
// ratio fails it whatever the machine's load.
func TestCompareInference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	big := nn.NewSequential[float32](nn.Flatten[float32]{}, nn.NewLinear[float32](rng, 784, 4096, true), nn.ReLU[float32]{},
		nn.NewLinear[float32](rng, 4096, 4096, true), nn.ReLU[float32]{}, nn.NewLinear[float32](rng, 4096, 10, true))
	small := nn.NewSequential[float32](nn.Flatten[float32]{}, nn.NewLinear[float32](rng, 784, 10, true))
	s, err := CompareInference(context.Background(), big, small, []int{1, 28, 28}, 8, 6, 6, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Pairs != 6 || s.Before.Passes != 6 || s.After.Passes != 6 || s.Batch != 8 {
		t.Fatalf("pairs %d, passes %d and %d, batch %d; want 6, 6, 6, 8", s.Pairs, s.Before.Passes, s.After.Passes, s.Batch)
	}
	if !(s.P10 <= s.Ratio && s.Ratio <= s.P90) || !(s.Before.MinMs <= s.Before.MedianMs && s.Before.MedianMs <= s.Before.MaxMs) {
		t.Errorf("quantiles out of order: %+v", s)
	}
	if !(s.Ratio > 2) || !s.Clear() {
		t.Errorf("the 784-10 network is not found faster than the 784-4096-4096-10 one: %+v", s)
	}
}

// TestStartStep: a network taken at step k of a run (OnStep) and trained
// from StartStep k takes the same steps as the run did (no momentum: no
// optimiser state to carry), ending with the same weights bit for bit, and
// so does such a run stopped and resumed. k = 17 of 12 steps an epoch falls
// in the second epoch.
func TestStartStep(t *testing.T) {
	trainSet, testSet := mnist(t, data.Train, 1200), mnist(t, data.Test, 200)
	cfg := Config{Epochs: 3, LR: 0.05, WeightDecay: 5e-4, Schedule: StepAtFractions{[]float64{0.5}, 0.1}}
	const k = 17
	whole := newModel(t, "lenet300", 1)
	var atK []float32
	trL, teL := loaders(t, trainSet, testSet, 100)
	a := &Trainer{Model: whole, Train: trL, Test: teL, Config: cfg, OnStep: func(step int) error {
		if step == k {
			for _, p := range nn.AllParams(whole) {
				atK = append(atK, p.Data...)
			}
		}
		return nil
	}}
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	rewound := func() nn.Module[float32] {
		m := newModel(t, "lenet300", 7)
		off := 0
		for _, p := range nn.AllParams(m) {
			copy(p.Data, atK[off:off+p.Len()])
			off += p.Len()
		}
		return m
	}
	same := func(name string, m nn.Module[float32]) {
		t.Helper()
		pa, pb := nn.AllParams(whole), nn.AllParams(m)
		for i := range pa {
			for j := range pa[i].Data {
				if pa[i].Data[j] != pb[i].Data[j] {
					t.Fatalf("%s: %s[%d] %v, the whole run's %v", name, pa[i].Name, j, pb[i].Data[j], pa[i].Data[j])
				}
			}
		}
	}
	b := rewound()
	trL, teL = loaders(t, trainSet, testSet, 100)
	tb := &Trainer{Model: b, Train: trL, Test: teL, Config: cfg, StartStep: k}
	if err := tb.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	same("from step 17", b)
	if h := tb.History(); len(h) != 2 || h[0].Epoch != 2 || h[1].Epoch != 3 {
		t.Fatalf("history %+v: want epochs 2 and 3", h)
	}

	dir := t.TempDir()
	c := rewound()
	ctx, cancel := context.WithCancel(context.Background())
	trL, teL = loaders(t, trainSet, testSet, 100)
	tc := &Trainer{Model: c, Train: trL, Test: teL, Config: cfg, StartStep: k, Out: dir, Progress: &stopAfter{steps: 12 + 3, cancel: cancel}}
	if err := tc.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted: %v", err)
	}
	d := newModel(t, "lenet300", 9)
	trL, teL = loaders(t, trainSet, testSet, 100)
	td := &Trainer{Model: d, Train: trL, Test: teL, Config: cfg, Out: dir}
	if err := td.Resume(filepath.Join(dir, CheckpointFile)); err != nil {
		t.Fatal(err)
	}
	if err := td.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	same("from step 17, stopped and resumed", d)
	if h := td.History(); len(h) != 2 || h[0].Epoch != 2 {
		t.Fatalf("resumed history %+v", h)
	}
}
