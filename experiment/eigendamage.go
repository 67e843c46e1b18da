package experiment

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/internal/fsutil"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune/eigendamage"
	"github.com/winnow-ml/winnow/safetensors"
	"github.com/winnow-ml/winnow/train"
)

// StructuredSettings define a structured-pruning run of a trained network
// (winnow eigendamage): its data (Data: Model, Width, Dataset, DataDir,
// ImageSize, Limit*, Seed are read), the method, the rounds and their
// fine-tuning.
type StructuredSettings struct {
	Data           Settings `json:"data"`
	Method         string   `json:"method"`
	Checkpoint     string   `json:"checkpoint"`
	Ratio          float64  `json:"ratio"`
	Rounds         int      `json:"rounds"`
	Limit          float64  `json:"limit"`
	Fisher         string   `json:"fisher"`
	FisherExamples int      `json:"fisher_examples,omitempty"` // 0: the whole training set
	Damping        float64  `json:"damping,omitempty"`         // C-OBS, Kron-OBS; 0 as the official code
	KeepResidual   bool     `json:"keep_residual,omitempty"`   // filter methods: residual writers kept whole
	// FLOPsTarget, when not 0, is the fraction of the network's FLOPs (the
	// official convention) to keep: the ratio is the least that keeps no
	// more, searched on copies of the network with the round's scores.
	FLOPsTarget    float64 `json:"flops_target,omitempty"`
	FinetuneEpochs int     `json:"finetune_epochs"`
	BatchSize      int     `json:"batch_size"`
	LR             float64 `json:"lr"`
	WeightDecay    float64 `json:"weight_decay"`
}

// Validate checks the settings, filling in the default per-layer cap
// (0.95 one-shot, 0.5 a round).
func (s *StructuredSettings) Validate() error {
	d := &s.Data
	d.Prune, d.Sparsity = "none", 0
	if err := d.Validate(); err != nil {
		return err
	}
	if s.Checkpoint == "" {
		return bad("checkpoint", nil, "required: the trained network to prune")
	}
	if !slices.Contains(eigendamage.Methods, s.Method) {
		return bad("method", s.Method, "want one of %s", strings.Join(eigendamage.Methods, ", "))
	}
	if !finite(s.Ratio) || !(s.Ratio > 0 && s.Ratio < 1) {
		return bad("ratio", s.Ratio, "want 0 < ratio < 1")
	}
	if s.Rounds < 0 {
		return bad("iterative", s.Rounds, "must not be negative")
	}
	if s.FinetuneEpochs < 0 {
		return bad("finetune-epochs", s.FinetuneEpochs, "must not be negative")
	}
	if s.BatchSize < 1 {
		return bad("batch-size", s.BatchSize, "must be at least 1")
	}
	if s.Limit == 0 {
		s.Limit = eigendamage.OneShotLimit
		if s.Rounds > 0 {
			s.Limit = eigendamage.RoundLimit
		}
	}
	if !finite(s.Limit) || !(s.Limit > 0 && s.Limit < 1) {
		return bad("limit", s.Limit, "want 0 < limit < 1")
	}
	if _, err := eigendamage.ParseFisher(s.Fisher); err != nil {
		return bad("fisher", s.Fisher, "%v", err)
	}
	if s.FisherExamples < 0 {
		return bad("fisher-examples", s.FisherExamples, "must not be negative (0: the whole training set)")
	}
	if !finite(s.Damping) || s.Damping < 0 {
		return bad("damping", s.Damping, "must be finite and not negative")
	}
	if s.Damping > 0 && s.Method != eigendamage.COBS && s.Method != eigendamage.KronOBS {
		return bad("damping", s.Damping, "only c-obs and kron-obs invert a factor")
	}
	if !finite(s.FLOPsTarget) || s.FLOPsTarget < 0 || s.FLOPsTarget >= 1 {
		return bad("flops-target", s.FLOPsTarget, "want 0 < target < 1 (0: prune at --ratio)")
	}
	if s.FLOPsTarget > 0 && s.Rounds > 1 {
		return bad("flops-target", s.FLOPsTarget, "one round only: with --iterative, prune at --ratio")
	}
	if s.KeepResidual && s.Method == "eigendamage" {
		return bad("keep-residual", s.KeepResidual, "only the filter methods remove units of residual additions")
	}
	if !finite(s.LR) || !(s.LR > 0) {
		return bad("lr", s.LR, "must be positive and finite")
	}
	if !finite(s.WeightDecay) || s.WeightDecay < 0 {
		return bad("weight-decay", s.WeightDecay, "must be finite and not negative")
	}
	return nil
}

// Stage is a structurally pruned network's size, speed and accuracy at
// one stage.
type Stage struct {
	Params         int          `json:"params"`
	Weights        int          `json:"conv_linear_weights"`
	FLOPs          int64        `json:"flops"`          // every op, for one input
	OfficialFLOPs  int64        `json:"flops_official"` // the official compute_flops convention
	InferMsPerImg  float64      `json:"inference_ms_per_image"`
	Inference      train.Timing `json:"inference"`
	TestAcc        float64      `json:"test_acc"`
	TestLoss       float64      `json:"test_loss"`
	TestExamples   int          `json:"test_examples"`
	AfterBNReestim bool         `json:"after_bn_reestimation,omitempty"`
}

// Measure evaluates m on the loader's data and times its inference (batches
// of 100, at least five timed passes within two seconds).
func Measure(ctx context.Context, m nn.Module[float32], chw []int, test *data.Loader) (Stage, error) {
	sum := nn.Summarize(m, chw...)
	ev, err := train.Evaluate(ctx, m, test)
	if err != nil {
		return Stage{}, err
	}
	tm, err := train.TimeInference(ctx, m, chw, 100, 30, 2*time.Second)
	if err != nil {
		return Stage{}, err
	}
	return Stage{Params: sum.Params, Weights: sum.PrunableWeights, FLOPs: sum.FLOPs, OfficialFLOPs: sum.OfficialFLOPs, InferMsPerImg: tm.MedianMs, Inference: tm,
		TestAcc: ev.Top1, TestLoss: ev.Loss, TestExamples: ev.Examples}, nil
}

// StructuredSummary is summary.json of a structured-pruning run.
type StructuredSummary struct {
	Method         string  `json:"method"`
	Model          string  `json:"model"`
	Dataset        string  `json:"dataset"`
	Ratio          float64 `json:"ratio"` // with a FLOPs target, the ratio found
	FLOPsTarget    float64 `json:"flops_target,omitempty"`
	Rounds         int     `json:"rounds"`
	Fisher         string  `json:"fisher"`
	FinetuneEpochs int     `json:"finetune_epochs"`
	Before         Stage   `json:"before"`
	Pruned         Stage   `json:"pruned"`
	Final          Stage   `json:"final"`
	WeightsKept    float64 `json:"weights_kept"`
	FLOPsKept      float64 `json:"flops_kept"`
	// FLOPsKeptOfficial is FLOPsKept in the official code's convention
	// (nn.Summary.OfficialFLOPs), as the paper's tables report it.
	FLOPsKeptOfficial float64 `json:"flops_kept_official"`
	FinalTestAcc      float64 `json:"final_test_acc"`
	// InferenceSpeedup is the median over interleaved pairs of passes of
	// the network before pruning and the final one of their time ratio
	// (Speedup holds the pairs' spread), 0 when the pairs do not tell
	// which is faster (SpeedupNote says so).
	InferenceSpeedup float64       `json:"inference_speedup"`
	Speedup          train.Speedup `json:"inference_speedup_pairs"`
	SpeedupNote      string        `json:"inference_speedup_note,omitempty"`
}

// EigenDamage prunes the trained network of s.Checkpoint structurally, in
// s.Rounds rounds (one when 0), each followed by s.FinetuneEpochs of
// fine-tuning, then re-estimates BatchNorm statistics. Files in rt.Out:
// config.json, layers.txt (kept directions per layer and round), round-N/
// (fine-tuning metrics and checkpoint), pruned.safetensors and
// summary.json. rt.Log receives the tables and progress.
func EigenDamage(ctx context.Context, s StructuredSettings, rt Runtime) (*StructuredSummary, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	d := s.Data
	if rt.Out == "" {
		rt.Out = filepath.Join("runs", fmt.Sprintf("%s-%s-%s-%g", s.Method, d.Model, d.Dataset, s.Ratio))
	}
	if rt.Workers <= 0 {
		rt.Workers = 2
	}
	if rt.Threads > 0 {
		runtime.GOMAXPROCS(rt.Threads)
	}
	result := filepath.Join(rt.Out, "summary.json")
	if _, err := os.Stat(result); err == nil && !rt.Force {
		return nil, usage("%s holds a result already: --force to start over", rt.Out)
	}
	if err := os.MkdirAll(rt.Out, 0o755); err != nil {
		return nil, err
	}
	lock, err := LockDir(rt.Out)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	fsutil.CleanTemp(rt.Out)
	st, err := Open(ctx, d)
	if err != nil {
		return nil, err
	}
	for _, n := range st.Notes {
		rt.logf("note: %s", n)
	}
	if _, err := st.LoadNetwork(s.Checkpoint); err != nil {
		return nil, fmt.Errorf("--checkpoint: %w (is --model %s the network the file holds?)", err, d.Model)
	}
	fisher, _ := eigendamage.ParseFisher(s.Fisher)
	trainTF, testTF := data.PipelineFor(st.Info, true), data.PipelineFor(st.Info, false)
	test := &data.Loader{Dataset: st.Test, Transform: testTF, BatchSize: s.BatchSize, Workers: rt.Workers}
	statsLoader := &data.Loader{Dataset: st.Train, Transform: trainTF, BatchSize: s.BatchSize, Shuffle: true, Seed: d.Seed, Workers: rt.Workers}
	rec := map[string]any{"settings": s, "runtime": rt.record(), "provenance": NewProvenance(rt.Command), "input": st.Input, "notes": st.Notes}
	if err := train.WriteJSON(filepath.Join(rt.Out, ConfigFile), rec); err != nil {
		return nil, err
	}
	chw := st.InputCHW()
	before, err := Measure(ctx, st.Model, chw, test)
	if err != nil {
		return nil, err
	}
	// The network as loaded, kept to time against the pruned one at the
	// end under the same machine load.
	original, err := models.New[float32](d.Model, st.Input, models.Options{Width: d.Width}, d.Seed)
	if err != nil {
		return nil, err
	}
	var state bytes.Buffer
	if err := nn.WriteState(&state, st.Model, nil); err != nil {
		return nil, err
	}
	if _, err := nn.ReadState(&state, original); err != nil {
		return nil, err
	}
	rt.logf("before pruning: %d weights, %.4g MFLOPs, test accuracy %.4f", before.Weights, float64(before.FLOPs)/1e6, before.TestAcc)
	rounds := max(1, s.Rounds)
	foundRatio := s.Ratio
	var table strings.Builder
	var pruned Stage
	for r := 1; r <= rounds; r++ {
		start := time.Now()
		cfg := eigendamage.Config{Ratio: s.Ratio, Limit: s.Limit, Fisher: fisher, Seed: d.Seed + uint64(r), Damping: s.Damping, KeepResidual: s.KeepResidual}
		round, err := eigendamage.NewRound(ctx, st.Model, curvatureBatches(ctx, statsLoader, s.FisherExamples), s.Method, cfg)
		if err != nil {
			return nil, err
		}
		ratio := s.Ratio
		if s.FLOPsTarget > 0 {
			var k float64
			if ratio, k, err = ratioForFLOPs(round, st, s.FLOPsTarget, before.OfficialFLOPs); err != nil {
				return nil, err
			}
			rt.logf("round %d: ratio %.4f keeps %.1f%% of the FLOPs (official convention; target %.1f%%)", r, ratio, 100*k, 100*s.FLOPsTarget)
			foundRatio = ratio
		}
		res, err := round.Apply(st.Model, ratio)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&table, "round %d of %d: %s, ratio %g, limit %g, %s Fisher\n", r, rounds, s.Method, ratio, s.Limit, s.Fisher)
		res.WriteTable(&table)
		fmt.Fprintln(&table)
		if err := fsutil.WriteFile(filepath.Join(rt.Out, "layers.txt"), []byte(table.String())); err != nil {
			return nil, err
		}
		if rt.Log != nil {
			rt.logf("round %d: statistics, eigenbases and rewrite in %.1f s", r, time.Since(start).Seconds())
			res.WriteTable(rt.Log)
		}
		if pruned, err = Measure(ctx, st.Model, chw, test); err != nil {
			return nil, err
		}
		rt.logf("round %d pruned: %d weights, %.4g MFLOPs, test accuracy %.4f before fine-tuning", r, pruned.Weights, float64(pruned.FLOPs)/1e6, pruned.TestAcc)
		if s.FinetuneEpochs == 0 {
			continue
		}
		t := &train.Trainer{
			Model:  st.Model,
			Train:  &data.Loader{Dataset: st.Train, Transform: trainTF, BatchSize: s.BatchSize, Shuffle: true, Seed: d.Seed + uint64(r), Workers: rt.Workers},
			Test:   test,
			Config: train.Config{Epochs: s.FinetuneEpochs, LR: s.LR, Momentum: 0.9, WeightDecay: s.WeightDecay, Schedule: train.StepAtFractions{Fractions: []float64{0.5, 0.75}, Gamma: 0.1}},
			Out:    filepath.Join(rt.Out, fmt.Sprintf("round-%d", r)),
			Meta:   map[string]string{"model": d.Model, "dataset": d.Dataset, "eigendamage_round": strconv.Itoa(r)},
		}
		if err := os.MkdirAll(t.Out, 0o755); err != nil {
			return nil, err
		}
		t.Progress = rt.progress()
		if err := t.Run(ctx); err != nil {
			return nil, err
		}
	}
	if err := train.ReestimateBN(ctx, st.Model, &data.Loader{Dataset: st.Train, Transform: trainTF, BatchSize: s.BatchSize, Shuffle: true, Seed: d.Seed, Workers: rt.Workers}); err != nil {
		return nil, err
	}
	final, err := Measure(ctx, st.Model, chw, test)
	if err != nil {
		return nil, err
	}
	final.AfterBNReestim = true
	meta := map[string]string{"model": d.Model, "dataset": d.Dataset, "method": s.Method, "ratio": strconv.FormatFloat(s.Ratio, 'g', -1, 64), "rounds": strconv.Itoa(rounds)}
	if err := nn.SaveState(filepath.Join(rt.Out, "pruned.safetensors"), st.Model, meta); err != nil {
		return nil, err
	}
	sum := &StructuredSummary{Method: s.Method, Model: d.Model, Dataset: d.Dataset, Ratio: foundRatio, FLOPsTarget: s.FLOPsTarget, Rounds: rounds, Fisher: s.Fisher,
		FinetuneEpochs: s.FinetuneEpochs, Before: before, Pruned: pruned, Final: final,
		WeightsKept: float64(final.Weights) / float64(before.Weights), FLOPsKept: float64(final.FLOPs) / float64(before.FLOPs),
		FLOPsKeptOfficial: float64(final.OfficialFLOPs) / float64(before.OfficialFLOPs),
		FinalTestAcc:      final.TestAcc}
	if sum.Speedup, err = train.CompareInference(ctx, original, st.Model, chw, 100, 10, 60, 6*time.Second); err != nil {
		return nil, err
	}
	if sp := sum.Speedup; sp.Clear() {
		sum.InferenceSpeedup = sp.Ratio
	} else {
		sum.SpeedupNote = fmt.Sprintf("cannot tell which is faster: over %d interleaved pairs the time ratio ran %.2f-%.2f (10th-90th percentile), median %.2f", sp.Pairs, sp.P10, sp.P90, sp.Ratio)
	}
	if err := train.WriteJSON(result, sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// ratioForFLOPs searches, by bisection on copies of st.Model, the least
// ratio at which round leaves at most target of total FLOPs (the official
// convention).
func ratioForFLOPs(round *eigendamage.Round[float32], st *Setup, target float64, total int64) (ratio, kept float64, err error) {
	var buf bytes.Buffer
	if err := nn.WriteState(&buf, st.Model, nil); err != nil {
		return 0, 0, err
	}
	f, err := safetensors.Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "the network")
	if err != nil {
		return 0, 0, err
	}
	keeps := func(ratio float64) (float64, error) {
		m, err := models.New[float32](st.Settings.Model, st.Input, models.Options{Width: st.Settings.Width}, st.Settings.Seed)
		if err != nil {
			return 0, err
		}
		if err := nn.ShapeLike(m, f.Tensors); err != nil {
			return 0, err
		}
		if err := nn.SetState(m, f.Tensors); err != nil {
			return 0, err
		}
		if _, err := round.Apply(m, ratio); err != nil {
			return 0, err
		}
		return float64(nn.Summarize(m, st.InputCHW()...).OfficialFLOPs) / float64(total), nil
	}
	lo, hi := 0.0, 0.999
	if kept, err = keeps(hi); err != nil {
		return 0, 0, err
	} else if kept > target {
		return 0, 0, fmt.Errorf("--flops-target %g: %s keeps %.1f%% of the FLOPs at ratio %g and cannot reach it (the per-layer --limit)", target, round.Method, 100*kept, hi)
	}
	for hi-lo > 1e-4 {
		mid := (lo + hi) / 2
		k, err := keeps(mid)
		if err != nil {
			return 0, 0, err
		}
		if k <= target {
			hi, kept = mid, k
		} else {
			lo = mid
		}
	}
	return hi, kept, nil
}

// curvatureBatches yields the loader's batches, whole ones, until at least
// examples examples (all when 0).
func curvatureBatches(ctx context.Context, l *data.Loader, examples int) iter.Seq2[eigendamage.Batch[float32], error] {
	return func(yield func(eigendamage.Batch[float32], error) bool) {
		seen := 0
		for b, err := range l.Batches(ctx, 0) {
			if err != nil {
				yield(eigendamage.Batch[float32]{}, err)
				return
			}
			if !yield(eigendamage.Batch[float32]{X: b.X, Shape: b.Shape(), Labels: b.Labels}, nil) {
				return
			}
			if seen += b.N; examples > 0 && seen >= examples {
				return
			}
		}
	}
}
