package train

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/winnow-ml/winnow/internal/fsutil"
	"github.com/winnow-ml/winnow/nn"
)

// MetricsFile is the per-epoch metrics of a run in its folder.
const MetricsFile = "metrics.csv"

func (t *Trainer) writeMetrics() error {
	path := filepath.Join(t.Out, MetricsFile)
	err := fsutil.WriteAtomic(path, func(f io.Writer) error {
		w := csv.NewWriter(f)
		w.Write([]string{"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "test_top5", "lr", "seconds", "images_per_s", "density"})
		g := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
		for _, r := range t.history {
			w.Write([]string{strconv.Itoa(r.Epoch), g(r.TrainLoss), g(r.TrainAcc), g(r.TestLoss), g(r.TestAcc), g(r.TestTop5), g(r.LR), g(r.Seconds), g(r.ImagesSec), g(r.Density)})
		}
		w.Flush()
		return w.Error()
	})
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// Summary is summary.json: final-epoch accuracy, and the best epoch's
// accuracy labelled as best-epoch selection (it looks at the test set).
type Summary struct {
	Epochs          int     `json:"epochs"`
	FinalTestAcc    float64 `json:"final_test_acc"`
	FinalTestTop5   float64 `json:"final_test_top5,omitempty"`
	FinalTestLoss   float64 `json:"final_test_loss"`
	BestTestAcc     float64 `json:"best_test_acc"`
	BestEpoch       int     `json:"best_epoch"`
	BestNote        string  `json:"best_note"`
	WeightsKept     int     `json:"weights_kept"`
	WeightsTotal    int     `json:"weights_total"`
	Density         float64 `json:"density"`
	FLOPsKept       int64   `json:"flops_kept"`
	FLOPsTotal      int64   `json:"flops_total"`
	SecondsPerEpoch float64 `json:"seconds_per_epoch"`
	TrainImagesPerS float64 `json:"train_images_per_s"`
}

// Summarize computes the run's summary from the history and the model.
func (t *Trainer) Summarize(input []int) Summary {
	var s Summary
	s.Epochs = len(t.history)
	for _, r := range t.history {
		if r.TestAcc > s.BestTestAcc || s.BestEpoch == 0 {
			s.BestTestAcc, s.BestEpoch = r.TestAcc, r.Epoch
		}
		s.SecondsPerEpoch += r.Seconds / float64(len(t.history))
		s.TrainImagesPerS += r.ImagesSec / float64(len(t.history))
	}
	s.BestNote = "best_test_acc selects an epoch by test accuracy (optimistic); report final_test_acc"
	if n := len(t.history); n > 0 {
		last := t.history[n-1]
		s.Epochs = last.Epoch // a run started at a later step has fewer rows
		s.FinalTestAcc, s.FinalTestTop5, s.FinalTestLoss = last.TestAcc, last.TestTop5, last.TestLoss
	}
	s.WeightsKept, s.WeightsTotal = nn.Density(t.Model)
	s.Density = float64(s.WeightsKept) / float64(s.WeightsTotal)
	s.FLOPsKept, s.FLOPsTotal = KeptFLOPs(t.Model, input)
	return s
}

// KeptFLOPs counts forward FLOPs of the conv and linear layers for one
// input, scaling each layer's by its kept fraction of weights.
func KeptFLOPs(m nn.Module[float32], input []int) (kept, total int64) {
	sum := nn.Summarize(m, input...)
	byName := map[string]*nn.Param[float32]{}
	for _, p := range nn.Prunable(m) {
		byName[p.Name] = p
	}
	for _, l := range sum.Layers {
		total += l.FLOPs
		p := byName[l.Name+".weight"]
		if p == nil || p.Len() == 0 {
			kept += l.FLOPs
			continue
		}
		kept += int64(float64(l.FLOPs) * float64(p.Kept()) / float64(p.Len()))
	}
	return kept, total
}

// FinalFile is the trained network in a run's folder.
const FinalFile = "final.safetensors"

func (t *Trainer) finish() error {
	if t.Out == "" {
		return nil
	}
	return nn.SaveState(filepath.Join(t.Out, FinalFile), t.Model, t.Meta)
}

// WriteJSON writes v as indented JSON to path, atomically and durably.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFile(path, append(b, '\n'))
}
