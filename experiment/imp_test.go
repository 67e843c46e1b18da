package experiment

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/train"
)

func impSettings() Settings {
	s := quickSettings() // lenet300, 300 examples in batches of 50: 6 steps an epoch
	s.Prune, s.Sparsity, s.Rounds, s.RewindStep, s.Epochs = "imp", 0.75, 2, 8, 2
	return s
}

func loadState(t *testing.T, path string, s Settings, masks string) nn.Module[float32] {
	t.Helper()
	_, _, in, _ := models.Describe(s.Model)
	m, err := models.New[float32](s.Model, in, models.Options{}, 99)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.LoadNetwork(path, m); err != nil {
		t.Fatal(err)
	}
	if masks != "" {
		if err := LoadMasks(masks, m); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestIMP: rounds at the sparsities of the schedule, each round's masks
// those of magnitude pruning the last round's trained network, nested;
// a run stopped in round 1 and resumed ends as one never stopped; the
// report has a row per round.
func TestIMP(t *testing.T) {
	s := impSettings()
	dir := filepath.Join(t.TempDir(), "imp")
	out, err := Train(context.Background(), s, Runtime{Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	if out.Summary.Epochs != 2 || out.Summary.WeightsTotal-out.Summary.WeightsKept != int(0.75*float64(out.Summary.WeightsTotal)) {
		t.Errorf("summary %+v", out.Summary)
	}
	r0 := loadState(t, filepath.Join(roundDir(dir, 0), train.FinalFile), s, "")
	want, err := prune.IterativeMagnitude(r0, 0.5, prune.Global, 0)
	if err != nil {
		t.Fatal(err)
	}
	r1 := loadState(t, filepath.Join(roundDir(dir, 1), train.FinalFile), s, filepath.Join(roundDir(dir, 1), MaskFile))
	r2 := loadState(t, filepath.Join(roundDir(dir, 2), train.FinalFile), s, filepath.Join(roundDir(dir, 2), MaskFile))
	p1, p2 := nn.Prunable(r1), nn.Prunable(r2)
	for i, p := range p1 {
		for j, m := range p.Mask {
			if (m != 0) != want[p.Name][j] {
				t.Fatalf("round 1: %s[%d] kept %v, magnitude pruning of round 0 keeps %v", p.Name, j, m != 0, want[p.Name][j])
			}
			if p2[i].Mask[j] != 0 && m == 0 {
				t.Fatalf("round 2 revives %s[%d]", p.Name, j)
			}
		}
	}
	// Rounds 1 and 2 train from step 8, in epoch 2: their metrics have
	// that epoch only.
	for k, rows := range []int{2, 1, 1} {
		m, err := readMetrics(filepath.Join(roundDir(dir, k), train.MetricsFile))
		if err != nil || len(m) != rows || m[len(m)-1].Epoch != 2 {
			t.Errorf("round %d: metrics %+v (%v), want %d rows to epoch 2", k, m, err, rows)
		}
	}
	// The rewind point is the dense network at step 8.
	ds := s
	ds.Prune, ds.Sparsity, ds.Rounds, ds.RewindStep = "none", 0, 0, 0
	st, err := Open(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	trL, teL := st.Loaders(2)
	var at8 [][]float32
	tr := &train.Trainer{Model: st.Model, Train: trL, Test: teL, Config: ds.TrainConfig(), OnStep: func(step int) error {
		if step == 8 {
			for _, p := range nn.AllParams(st.Model) {
				at8 = append(at8, slices.Clone(p.Data))
			}
		}
		return nil
	}}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	rw := loadState(t, filepath.Join(dir, RewindFile), s, "")
	for i, p := range nn.AllParams(rw) {
		if !slices.Equal(p.Data, at8[i]) {
			t.Fatalf("rewind point: %s is not the dense network's at step 8", p.Name)
		}
	}
	var rec Record
	if err := readJSON(filepath.Join(roundDir(dir, 2), ConfigFile), &rec); err != nil || rec.Settings.Round != 2 || rec.Settings.Sparsity != 0.75 {
		t.Errorf("round 2's record: %+v, %v", rec.Settings, err)
	}

	// Stopped in round 1, resumed.
	dir2 := filepath.Join(t.TempDir(), "imp")
	ctx, cancel := context.WithCancel(context.Background())
	stop := &stopInRound{dir: roundDir(dir2, 1), after: 2, cancel: cancel}
	if _, err := Train(ctx, s, Runtime{Out: dir2, Progress: stop}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted: %v", err)
	}
	if _, err := Train(context.Background(), s, Runtime{Out: dir2}); err == nil {
		t.Error("a second start without --resume was not refused")
	}
	if _, err := Train(context.Background(), s, Runtime{Out: dir2, Resume: true}); err != nil {
		t.Fatal(err)
	}
	b2 := loadState(t, filepath.Join(roundDir(dir2, 2), train.FinalFile), s, "")
	pa, pb := nn.AllParams(r2), nn.AllParams(b2)
	for i := range pa {
		if !slices.Equal(pa[i].Data, pb[i].Data) {
			t.Fatalf("%s differs between the run stopped and resumed and the one never stopped", pa[i].Name)
		}
	}

	runs, unfinished, err := Load(filepath.Dir(dir))
	if err != nil || unfinished != 0 || len(runs) != 3 {
		t.Fatalf("report: %d runs, %d unfinished, %v", len(runs), unfinished, err)
	}
	var sp []float64
	for _, r := range runs {
		sp = append(sp, r.Sparsity)
	}
	if !slices.Equal(sp, []float64{0, 0.5, 0.75}) {
		t.Errorf("report's sparsities %v", sp)
	}
}

// stopInRound cancels after some steps once the round's folder exists.
type stopInRound struct {
	dir    string
	after  int
	steps  int
	cancel context.CancelFunc
}

func (s *stopInRound) StartEpoch(int, int, int, int) {}
func (s *stopInRound) EndEpoch(train.EpochResult)    {}
func (s *stopInRound) Step(int, float64, float64, float64) {
	if StateOf(s.dir) == New {
		return
	}
	if s.steps++; s.steps == s.after {
		s.cancel()
	}
}

func TestIMPSettings(t *testing.T) {
	for _, c := range []struct {
		flag string
		set  func(*Settings)
	}{
		{"rounds", func(s *Settings) { s.Rounds = 0 }},
		{"rewind", func(s *Settings) { s.RewindStep = -1 }},
		{"rounds", func(s *Settings) { s.Prune = "grasp" }},
	} {
		s := impSettings()
		c.set(&s)
		var se *SettingError
		if err := s.Validate(); !errors.As(err, &se) || se.Flag != c.flag {
			t.Errorf("%+v: %v, want an error naming --%s", s, err, c.flag)
		}
	}
	s := impSettings()
	s.RewindStep = 12 // the run has 12 steps
	if _, err := Train(context.Background(), s, Runtime{Out: filepath.Join(t.TempDir(), "imp")}); err == nil {
		t.Error("a rewinding step past the run's end was not refused")
	}
}

// TestPreEpochs: magnitude pruning after one epoch of training keeps the
// largest weights of the trained network (pre-1), and the run trains the
// network at initialisation with those masks; stopped in the pre-training
// and resumed, it ends as one never stopped.
func TestPreEpochs(t *testing.T) {
	s := quickSettings()
	s.Prune, s.Sparsity, s.PreEpochs, s.Epochs = "magnitude", 0.9, 1, 2
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Train(context.Background(), s, Runtime{Out: dir}); err != nil {
		t.Fatal(err)
	}
	pre := loadState(t, filepath.Join(dir, "pre-1", train.FinalFile), s, "")
	want, err := prune.IterativeMagnitude(pre, 0.9, prune.Global, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := loadState(t, filepath.Join(dir, train.FinalFile), s, filepath.Join(dir, MaskFile))
	for _, p := range nn.Prunable(got) {
		for j, m := range p.Mask {
			if (m != 0) != want[p.Name][j] {
				t.Fatalf("%s[%d] kept %v, magnitude pruning of the trained network keeps %v", p.Name, j, m != 0, want[p.Name][j])
			}
		}
	}
	// At initialisation the masks are others.
	init := loadState(t, filepath.Join(dir, "pre-1", train.FinalFile), s, "")
	fresh, _ := models.New[float32](s.Model, models.Input{Channels: 1, Height: 28, Width: 28, Classes: 10}, models.Options{}, s.Seed)
	nn.CopyState(init, fresh)
	atInit, _ := prune.IterativeMagnitude(init, 0.9, prune.Global, 0)
	if maps := atInit["fc1.weight"]; slices.Equal(maps, want["fc1.weight"]) {
		t.Error("the masks after training are those at initialisation")
	}

	dir2 := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := Train(ctx, s, Runtime{Out: dir2, Progress: &stopAt{3, cancel}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted: %v", err)
	}
	if _, err := Train(context.Background(), s, Runtime{Out: dir2, Resume: true}); err != nil {
		t.Fatal(err)
	}
	again := loadState(t, filepath.Join(dir2, train.FinalFile), s, "")
	pa, pb := nn.AllParams(got), nn.AllParams(again)
	for i := range pa {
		if !slices.Equal(pa[i].Data, pb[i].Data) {
			t.Fatalf("%s differs between the run stopped in its pre-training and resumed and the one never stopped", pa[i].Name)
		}
	}
}
