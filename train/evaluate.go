package train

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/nn"
)

// Eval is the result of an evaluation pass.
type Eval struct {
	Loss, Top1, Top5 float64 // Top5 is 0 with fewer than 100 classes
	Examples         int
}

// Evaluate runs m in evaluation mode (running statistics) over the loader's
// batches and returns the mean loss and accuracies. m is left in training
// mode.
func Evaluate(ctx context.Context, m nn.Module[float32], l *data.Loader) (Eval, error) {
	var ev Eval
	var lossSum, top1, top5 float64
	classes := l.Dataset.Classes()
	err := Predict(ctx, m, l, func(b *data.Batch, logits []float32, loss float64) error {
		lossSum += loss * float64(b.N)
		top1 += float64(countCorrect(logits, b.Labels, 1))
		if classes >= 100 {
			top5 += float64(countCorrect(logits, b.Labels, 5))
		}
		ev.Examples += b.N
		return nil
	})
	if err != nil {
		return Eval{}, err
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

// Predict runs m in evaluation mode over the loader's batches and hands
// each batch, its logits (N x classes, row-major) and its mean loss to f.
// m is left in training mode.
func Predict(ctx context.Context, m nn.Module[float32], l *data.Loader, f func(b *data.Batch, logits []float32, loss float64) error) error {
	m.SetTraining(false)
	defer m.SetTraining(true)
	tape := autograd.NewTape[float32](autograd.NoGrad())
	for b, err := range l.Batches(ctx, 0) {
		if err != nil {
			return err
		}
		if b.N == 0 { // a process's empty shard of a small last batch
			continue
		}
		tape.Reset()
		logits := m.Forward(tape, tape.Input(b.X, b.Shape()...))
		loss := float64(autograd.SoftmaxCrossEntropy(tape, logits, b.Labels, 1).Value[0])
		if err := f(b, logits.Value, loss); err != nil {
			return err
		}
	}
	return nil
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

// Timing is the time of an evaluation-mode forward pass per input, over
// repeated timed passes.
type Timing struct {
	MedianMs float64 `json:"median_ms"` // per input
	MinMs    float64 `json:"min_ms"`
	MaxMs    float64 `json:"max_ms"`
	Passes   int     `json:"passes"`
	Batch    int     `json:"batch"`
	// Spread is (p90 - p10) / median of the passes: above NoisyTiming the
	// machine was too busy for the median to be trusted.
	Spread float64 `json:"spread"`
}

// NoisyTiming is the spread above which timings are reported as noise.
const NoisyTiming = 0.2

// Noisy reports whether the passes spread too much to tell.
func (t Timing) Noisy() bool { return t.Spread > NoisyTiming }

// TimeInference times evaluation-mode forward passes of batch inputs of
// shape chw (a fixed pattern of values) after one warm-up pass: passes of
// them, or as many as fit in budget, at least 5. m is left in training mode.
func TimeInference(ctx context.Context, m nn.Module[float32], chw []int, batch, passes int, budget time.Duration) (Timing, error) {
	x, shape := patternInput(batch, chw)
	m.SetTraining(false)
	defer m.SetTraining(true)
	tape := autograd.NewTape[float32](autograd.NoGrad())
	var times []float64
	began := time.Now()
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return Timing{}, err
		}
		if i > 5 && (i > passes || time.Since(began) > budget) {
			break
		}
		tape.Reset()
		start := time.Now()
		m.Forward(tape, tape.Input(x, shape...))
		if i > 0 {
			times = append(times, time.Since(start).Seconds()*1000/float64(batch))
		}
	}
	slices.Sort(times)
	q := func(f float64) float64 { return times[int(math.Round(f*float64(len(times)-1)))] }
	t := Timing{MedianMs: q(0.5), MinMs: times[0], MaxMs: times[len(times)-1], Passes: len(times), Batch: batch}
	t.Spread = (q(0.9) - q(0.1)) / t.MedianMs
	return t, nil
}

// Speedup compares the inference time of two networks measured in
// interleaved pairs of passes, so that both see the same machine: Ratio is
// the median over pairs of time(before) / time(after), above 1 when after
// is faster; P10 and P90 bound the middle 80% of the pairs' ratios.
type Speedup struct {
	Ratio  float64 `json:"ratio"`
	P10    float64 `json:"p10"`
	P90    float64 `json:"p90"`
	Pairs  int     `json:"pairs"`
	Batch  int     `json:"batch"`
	Before Timing  `json:"before"`
	After  Timing  `json:"after"`
}

// Clear reports whether the pairs tell which network is faster: the middle
// 80% of their ratios lie on one side of 1.
func (s Speedup) Clear() bool { return s.P10 > 1 || s.P90 < 1 }

// CompareInference times evaluation-mode forward passes of before and
// after on the same batch inputs of shape chw (after a warm-up pass of
// each), alternating which of the two goes first: at least minPairs pairs,
// then more until budget is spent or maxPairs are done. Both are left in
// training mode.
func CompareInference(ctx context.Context, before, after nn.Module[float32], chw []int, batch, minPairs, maxPairs int, budget time.Duration) (Speedup, error) {
	if minPairs < 1 || maxPairs < minPairs {
		panic(fmt.Sprintf("train: CompareInference: %d to %d pairs", minPairs, maxPairs))
	}
	x, shape := patternInput(batch, chw)
	nets := [2]nn.Module[float32]{before, after}
	var tapes [2]*autograd.Tape[float32]
	for i, m := range nets {
		m.SetTraining(false)
		defer m.SetTraining(true)
		tapes[i] = autograd.NewTape[float32](autograd.NoGrad())
	}
	pass := func(i int) float64 {
		tapes[i].Reset()
		start := time.Now()
		nets[i].Forward(tapes[i], tapes[i].Input(x, shape...))
		return time.Since(start).Seconds() * 1000 / float64(batch)
	}
	pass(0)
	pass(1)
	var ratios []float64
	var times [2][]float64
	began := time.Now()
	for p := 0; p < maxPairs && (p < minPairs || time.Since(began) < budget); p++ {
		if err := ctx.Err(); err != nil {
			return Speedup{}, err
		}
		var t [2]float64
		first := p % 2
		t[first] = pass(first)
		t[1-first] = pass(1 - first)
		ratios = append(ratios, t[0]/t[1])
		times[0], times[1] = append(times[0], t[0]), append(times[1], t[1])
	}
	q := func(v []float64, f float64) float64 { return v[int(math.Round(f*float64(len(v)-1)))] }
	slices.Sort(ratios)
	s := Speedup{Ratio: q(ratios, 0.5), P10: q(ratios, 0.1), P90: q(ratios, 0.9), Pairs: len(ratios), Batch: batch}
	for i, ts := range times {
		slices.Sort(ts)
		t := Timing{MedianMs: q(ts, 0.5), MinMs: ts[0], MaxMs: ts[len(ts)-1], Passes: len(ts), Batch: batch}
		t.Spread = (q(ts, 0.9) - q(ts, 0.1)) / t.MedianMs
		if i == 0 {
			s.Before = t
		} else {
			s.After = t
		}
	}
	return s, nil
}

// patternInput is a batch of inputs of shape chw holding a fixed pattern,
// for timing.
func patternInput(batch int, chw []int) ([]float32, []int) {
	n := batch
	for _, d := range chw {
		n *= d
	}
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i%17) / 17
	}
	return x, append([]int{batch}, chw...)
}
