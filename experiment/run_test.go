package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/winnow-ml/winnow/train"
)

func quickSettings() Settings {
	s := DefaultSettings()
	s.Model, s.Prune, s.Sparsity, s.Epochs, s.LimitTrain, s.LimitTest, s.BatchSize = "lenet300", "none", 0, 2, 300, 100, 50
	return s
}

// stopAt cancels the run at a step of the first epoch.
type stopAt struct {
	step   int
	cancel context.CancelFunc
}

func (s *stopAt) StartEpoch(int, int, int, int) {}
func (s *stopAt) EndEpoch(train.EpochResult)    {}
func (s *stopAt) Step(step int, _, _, _ float64) {
	if step == s.step {
		s.cancel()
	}
}

// TestInterruptedSaysWhereItStands: a run interrupted within an epoch
// checkpoints at that step boundary, says so and how to continue, and
// resumes from there to the end.
func TestInterruptedSaysWhereItStands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Train(ctx, quickSettings(), Runtime{Out: dir, Progress: &stopAt{3, cancel}})
	var ie *InterruptedError
	if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "epoch 1, after step 3") || !strings.Contains(msg, "--resume --out "+dir) {
		t.Errorf("message %q", msg)
	}
	out, err := Train(context.Background(), quickSettings(), Runtime{Out: dir, Resume: true})
	if err != nil || out.Summary.Epochs != 2 {
		t.Fatalf("resume: %v", err)
	}
}

// TestEvaluationBatch: evaluation runs in batches of the training batch
// size (it once ran in batches of 500 whatever the setting, outside any
// memory check), or of --eval-batch-size.
func TestEvaluationBatch(t *testing.T) {
	s := quickSettings()
	st, err := Open(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if _, test := st.Loaders(1); test.BatchSize != s.BatchSize {
		t.Errorf("evaluation batch %d, training %d", test.BatchSize, s.BatchSize)
	}
	st.Settings.EvalBatchSize = 20
	if _, test := st.Loaders(1); test.BatchSize != 20 {
		t.Errorf("--eval-batch-size 20: %d", test.BatchSize)
	}
	small, big := TrainingMemory(st), int64(0)
	st.Settings.EvalBatchSize = 100000
	big = TrainingMemory(st)
	if big <= small {
		t.Errorf("the memory estimate ignores evaluation: %d then %d", small, big)
	}
}

// TestCollapseRefused: masks with no path from input to output stop the
// run before training, naming the layers; --allow-collapse trains them and
// records the warning.
func TestCollapseRefused(t *testing.T) {
	s := quickSettings()
	s.Prune, s.Sparsity, s.Epochs = "random", 0.9999, 1
	dir := filepath.Join(t.TempDir(), "run")
	_, err := Train(context.Background(), s, Runtime{Out: dir})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "disconnect") || !strings.Contains(err.Error(), "fc") {
		t.Fatalf("collapsed masks: err = %v", err)
	}
	s.AllowCollapse = true
	out, err := Train(context.Background(), s, Runtime{Out: filepath.Join(t.TempDir(), "run")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out.Dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "disconnect") {
		t.Errorf("%s records no warning", ConfigFile)
	}
	s.Sparsity = 0.9 // connected
	s.AllowCollapse = false
	if _, err := Train(context.Background(), s, Runtime{Out: filepath.Join(t.TempDir(), "run")}); err != nil {
		t.Fatalf("90%%: %v", err)
	}
}
