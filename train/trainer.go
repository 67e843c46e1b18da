package train

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/safetensors"
)

// Config holds the optimisation settings of a run.
type Config struct {
	Epochs      int
	LR          float64
	Momentum    float64
	WeightDecay float64
	Nesterov    bool
	Schedule    Schedule
}

// EpochResult is one row of metrics.csv.
type EpochResult struct {
	Epoch     int     `json:"epoch"` // 1-based
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	TestLoss  float64 `json:"test_loss"`
	TestAcc   float64 `json:"test_acc"`
	TestTop5  float64 `json:"test_top5,omitempty"` // with 100 classes or more
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"`
	ImagesSec float64 `json:"images_per_s"`
	Density   float64 `json:"density"` // kept fraction of prunable weights
}

// Progress receives the trainer's events.
type Progress interface {
	StartEpoch(epoch, epochs, batches int)
	Step(batch int, loss, acc, imagesPerSec float64)
	EndEpoch(r EpochResult)
}

// NonFiniteError reports a NaN or infinite loss.
type NonFiniteError struct {
	Epoch, Step int // 1-based epoch, 0-based step within it
	Loss        float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("train: loss is %v at epoch %d, step %d: the run stopped; the last checkpoint is the last good state", e.Loss, e.Epoch, e.Step)
}

// Trainer runs the epoch loop. Files in Out (when not empty):
// checkpoint.safetensors (after every epoch, atomically), metrics.csv,
// final.safetensors and summary.json.
type Trainer struct {
	Model    nn.Module[float32]
	Train    *data.Loader
	Test     *data.Loader // not shuffled; nil for no evaluation
	Config   Config
	Out      string
	Progress Progress
	Meta     map[string]string // extra metadata for checkpoints

	opt     *SGD
	history []EpochResult
}

func (t *Trainer) optimizer() *SGD {
	if t.opt == nil {
		t.opt = NewSGD(nn.Trainable(t.Model), float32(t.Config.LR), float32(t.Config.Momentum), float32(t.Config.WeightDecay), t.Config.Nesterov)
	}
	return t.opt
}

// History returns the results of the epochs done so far.
func (t *Trainer) History() []EpochResult { return t.history }

// Run trains from the epoch after the last one done (0 for a new run) to
// Config.Epochs.
func (t *Trainer) Run(ctx context.Context) error {
	if t.Config.Epochs < 1 || t.Config.Schedule == nil {
		return fmt.Errorf("train: %d epochs, schedule %v", t.Config.Epochs, t.Config.Schedule)
	}
	opt := t.optimizer()
	for _, p := range nn.AllParams(t.Model) {
		p.ApplyMask()
	}
	tape := autograd.NewTape[float32]()
	params := nn.AllParams(t.Model)
	for epoch := len(t.history); epoch < t.Config.Epochs; epoch++ {
		lr := t.Config.Schedule.LR(t.Config.LR, epoch, t.Config.Epochs)
		opt.LR = float32(lr)
		start := time.Now()
		t.Model.SetTraining(true)
		nb := t.Train.NumBatches()
		if t.Progress != nil {
			t.Progress.StartEpoch(epoch+1, t.Config.Epochs, nb)
		}
		var lossSum, correct float64
		seen, step := 0, 0
		for b, err := range t.Train.Batches(ctx, epoch) {
			if err != nil {
				return err
			}
			tape.Reset()
			for _, p := range params {
				p.ZeroGrad()
			}
			logits := t.Model.Forward(tape, tape.Input(b.X, b.Shape()...))
			loss := autograd.SoftmaxCrossEntropy(tape, logits, b.Labels, 1)
			l := float64(loss.Value[0])
			if math.IsNaN(l) || math.IsInf(l, 0) {
				return &NonFiniteError{Epoch: epoch + 1, Step: step, Loss: l}
			}
			tape.Backward(loss)
			opt.Step()
			lossSum += l * float64(b.N)
			correct += float64(countCorrect(logits.Value, b.Labels, 1))
			seen += b.N
			step++
			if t.Progress != nil {
				t.Progress.Step(step, lossSum/float64(seen), correct/float64(seen), float64(seen)/time.Since(start).Seconds())
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := nn.CheckMasks(t.Model); err != nil {
			return fmt.Errorf("train: epoch %d: %w", epoch+1, err)
		}
		trainSecs := time.Since(start).Seconds()
		r := EpochResult{Epoch: epoch + 1, TrainLoss: lossSum / float64(seen), TrainAcc: correct / float64(seen), LR: lr,
			ImagesSec: float64(seen) / trainSecs}
		kept, total := nn.Density(t.Model)
		r.Density = float64(kept) / float64(total)
		if t.Test != nil {
			ev, err := Evaluate(ctx, t.Model, t.Test)
			if err != nil {
				return err
			}
			r.TestLoss, r.TestAcc, r.TestTop5 = ev.Loss, ev.Top1, ev.Top5
		}
		r.Seconds = time.Since(start).Seconds()
		t.history = append(t.history, r)
		if err := t.save(); err != nil {
			return err
		}
		if t.Progress != nil {
			t.Progress.EndEpoch(r)
		}
	}
	return t.finish()
}

// Eval is the result of an evaluation pass.
type Eval struct {
	Loss, Top1, Top5 float64 // Top5 is 0 with fewer than 100 classes
	Examples         int
}

// Evaluate runs m in evaluation mode (running statistics) over the loader's
// batches and returns the mean loss and accuracies. m is left in training
// mode.
func Evaluate(ctx context.Context, m nn.Module[float32], l *data.Loader) (Eval, error) {
	m.SetTraining(false)
	defer m.SetTraining(true)
	tape := autograd.NewTape[float32](autograd.NoGrad())
	var ev Eval
	var lossSum, top1, top5 float64
	classes := l.Dataset.Classes()
	for b, err := range l.Batches(ctx, 0) {
		if err != nil {
			return Eval{}, err
		}
		tape.Reset()
		logits := m.Forward(tape, tape.Input(b.X, b.Shape()...))
		lossSum += float64(autograd.SoftmaxCrossEntropy(tape, logits, b.Labels, 1).Value[0]) * float64(b.N)
		top1 += float64(countCorrect(logits.Value, b.Labels, 1))
		if classes >= 100 {
			top5 += float64(countCorrect(logits.Value, b.Labels, 5))
		}
		ev.Examples += b.N
	}
	if ev.Examples == 0 {
		return Eval{}, fmt.Errorf("train: evaluation set is empty")
	}
	n := float64(ev.Examples)
	ev.Loss, ev.Top1 = lossSum/n, top1/n
	if classes >= 100 {
		ev.Top5 = top5 / n
	}
	return ev, nil
}

// countCorrect counts rows whose label is among the k largest logits
// (ties count against the label: a logit equal to the label's ranks above).
func countCorrect(logits []float32, labels []int32, k int) int {
	c := len(logits) / len(labels)
	n := 0
	for i, y := range labels {
		row := logits[i*c : (i+1)*c]
		v, above := row[y], 0
		for j, x := range row {
			if x > v || (x == v && j < int(y)) {
				above++
			}
		}
		if above < k {
			n++
		}
	}
	return n
}

// Checkpoint tensors: the model's state under "model/", momentum buffers
// under "momentum/", masks under "mask/"; metadata "epoch" (epochs done)
// and "history" (the metrics so far, JSON).
func (t *Trainer) save() error {
	if t.Out == "" {
		return nil
	}
	var tensors []safetensors.Tensor
	for _, x := range nn.StateTensors(t.Model, safetensors.F32) {
		x.Name = "model/" + x.Name
		tensors = append(tensors, x)
	}
	for _, p := range nn.Trainable(t.Model) {
		if b := t.opt.MomentumBuffer(p); b != nil {
			tensors = append(tensors, safetensors.FromFloats("momentum/"+p.Name, safetensors.F32, p.Shape, b))
		}
	}
	for _, x := range nn.MaskTensors(t.Model) {
		x.Name = "mask/" + x.Name
		tensors = append(tensors, x)
	}
	hist, _ := json.Marshal(t.history)
	meta := map[string]string{"epoch": strconv.Itoa(len(t.history)), "history": string(hist)}
	for k, v := range t.Meta {
		meta[k] = v
	}
	if err := safetensors.WriteFile(filepath.Join(t.Out, "checkpoint.safetensors"), tensors, meta); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	return t.writeMetrics()
}

// Resume loads a checkpoint written by an earlier run: weights, BN
// statistics, masks, momentum, and the epochs done.
func (t *Trainer) Resume(path string) error {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	var state, masks []safetensors.Tensor
	momentum := map[string]safetensors.Tensor{}
	for _, x := range f.Tensors {
		switch {
		case len(x.Name) > 6 && x.Name[:6] == "model/":
			x.Name = x.Name[6:]
			state = append(state, x)
		case len(x.Name) > 5 && x.Name[:5] == "mask/":
			x.Name = x.Name[5:]
			masks = append(masks, x)
		case len(x.Name) > 9 && x.Name[:9] == "momentum/":
			momentum[x.Name[9:]] = x
		default:
			return fmt.Errorf("train: resume: %s: unexpected tensor %q", path, x.Name)
		}
	}
	if err := nn.SetState(t.Model, state); err != nil {
		return fmt.Errorf("train: resume from %s: %w", path, err)
	}
	if err := nn.SetMasks(t.Model, masks); err != nil {
		return fmt.Errorf("train: resume from %s: %w", path, err)
	}
	opt := t.optimizer()
	for _, p := range nn.Trainable(t.Model) {
		x, ok := momentum[p.Name]
		if !ok {
			continue
		}
		b := make([]float32, p.Len())
		if err := safetensors.ToFloats(x, b); err != nil {
			return fmt.Errorf("train: resume from %s: %w", path, err)
		}
		opt.SetMomentumBuffer(p, b)
	}
	var hist []EpochResult
	if err := json.Unmarshal([]byte(f.Metadata["history"]), &hist); err != nil {
		return fmt.Errorf("train: resume: %s: bad history metadata: %v", path, err)
	}
	if e, err := strconv.Atoi(f.Metadata["epoch"]); err != nil || e != len(hist) {
		return fmt.Errorf("train: resume: %s: epoch %q does not match %d epochs of history", path, f.Metadata["epoch"], len(hist))
	}
	t.history = hist
	return nil
}

func (t *Trainer) writeMetrics() error {
	path := filepath.Join(t.Out, "metrics.csv")
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "test_top5", "lr", "seconds", "images_per_s", "density"})
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for _, r := range t.history {
		w.Write([]string{strconv.Itoa(r.Epoch), g(r.TrainLoss), g(r.TrainAcc), g(r.TestLoss), g(r.TestAcc), g(r.TestTop5), g(r.LR), g(r.Seconds), g(r.ImagesSec), g(r.Density)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("train: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("train: writing %s: %w", path, err)
	}
	return os.Rename(tmp, path)
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

func (t *Trainer) finish() error {
	if t.Out == "" {
		return nil
	}
	if err := nn.SaveState(filepath.Join(t.Out, "final.safetensors"), t.Model, t.Meta); err != nil {
		return err
	}
	return nil
}

// WriteJSON writes v as indented JSON to path atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReestimateBN recomputes m's BatchNorm running statistics with one pass of
// the loader's batches in training mode and no gradients (PyTorch's update
// rule, momentum 0.1), as after pruning changed the features they describe.
func ReestimateBN(ctx context.Context, m nn.Module[float32], l *data.Loader) error {
	m.SetTraining(true)
	tape := autograd.NewTape[float32](autograd.NoGrad())
	for b, err := range l.Batches(ctx, 0) {
		if err != nil {
			return err
		}
		tape.Reset()
		m.Forward(tape, tape.Input(b.X, b.Shape()...))
	}
	return nil
}
