package main

import (
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/prune/eigendamage"
	"github.com/winnow-ml/winnow/safetensors"
	"github.com/winnow-ml/winnow/train"
)

type eigenOptions struct {
	netOptions
	Method         string  `json:"method"`
	Checkpoint     string  `json:"checkpoint"`
	Ratio          float64 `json:"ratio"`
	Rounds         int     `json:"rounds"`
	Limit          float64 `json:"limit"`
	Fisher         string  `json:"fisher"`
	FinetuneEpochs int     `json:"finetune_epochs"`
	BatchSize      int     `json:"batch_size"`
	LR             float64 `json:"lr"`
	WeightDecay    float64 `json:"weight_decay"`
	Out            string  `json:"out"`
	Force          bool    `json:"-"`
	Quiet          bool    `json:"-"`
}

func newEigenDamageCommand() *cobra.Command {
	var o eigenOptions
	cmd := &cobra.Command{
		Use:   "eigendamage",
		Short: "Prune a trained network structurally (EigenDamage, or C-OBD / Kron-OBD / Kron-OBS filters) and fine-tune it",
		Long: `Load a trained network (--checkpoint: a train run's checkpoint.safetensors or
final.safetensors), collect K-FAC statistics over the training set (model in
evaluation mode, labels drawn from its softmax: --fisher true), remove the
fraction --ratio of all eigenbasis directions under one global threshold
(at most --limit of any layer's inputs or outputs), rebuild each pruned layer
as input rotation, core and output rotation where that has fewer weights, and
fine-tune with SGD (momentum 0.9, x0.1 at 50% and 75% of the epochs), then
re-estimate BatchNorm statistics. --method c-obd, kron-obd or kron-obs prune
whole output units (filters, features) instead, scored with the exact diagonal
Fisher or the K-FAC factors (OBS also corrects the kept units), and rebuild
the layers slimmer; units that join residual additions are kept. --iterative R prunes in R rounds, each
removing the fraction --ratio of what is left (official: 7 rounds of 0.5),
each followed by fine-tuning.

Files in --out: config.json, layers.txt (kept directions per layer and round),
round-N/ (fine-tuning metrics and checkpoint), pruned.safetensors (the pruned
network; winnow eval loads it) and summary.json (weights, FLOPs, inference
time per image and test accuracy: before pruning, after pruning, and final:
the last fine-tuning epoch's model after BN re-estimation).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEigenDamage(cmd.Context(), cmd.OutOrStdout(), &o)
		},
	}
	f := cmd.Flags()
	addModelDataFlags(f, &o.netOptions)
	f.StringVar(&o.Method, "method", "eigendamage", "eigendamage, or a filter-pruning baseline that rebuilds slimmer layers: c-obd, kron-obd, kron-obs (--ratio: fraction of units)")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "trained network: checkpoint.safetensors or final.safetensors of a train run (required)")
	f.Float64Var(&o.Ratio, "ratio", 0.5, "fraction of all eigenbasis directions removed (per round with --iterative)")
	f.IntVar(&o.Rounds, "iterative", 0, "prune in this many rounds (0: one-shot)")
	f.Float64Var(&o.Limit, "limit", 0, "most a layer may lose of its input or output directions (0: 0.95 one-shot, 0.5 per round)")
	f.StringVar(&o.Fisher, "fisher", "true", "labels of the curvature pass: true (sampled from the model) or empirical (the data's)")
	f.IntVar(&o.FinetuneEpochs, "finetune-epochs", 10, "fine-tuning epochs after each round (0: none)")
	f.IntVar(&o.BatchSize, "batch-size", 128, "batch size of statistics and fine-tuning")
	f.Float64Var(&o.LR, "lr", 1e-3, "fine-tuning learning rate")
	f.Float64Var(&o.WeightDecay, "weight-decay", 1e-4, "fine-tuning weight decay")
	f.StringVar(&o.Out, "out", "", "output folder (default runs/eigendamage-<model>-<dataset>-<ratio>)")
	f.BoolVar(&o.Force, "force", false, "overwrite an earlier result in --out")
	f.BoolVar(&o.Quiet, "quiet", false, "print only the summary")
	return cmd
}

// addModelDataFlags defines the flags that choose a model and its data.
func addModelDataFlags(f *pflag.FlagSet, o *netOptions) {
	f.StringVar(&o.Model, "model", "lenet5", "model the checkpoint holds")
	f.IntVar(&o.Width, "width", 0, "channel multiplier of the CIFAR ResNets (0: GraSP's 2)")
	f.StringVar(&o.Dataset, "dataset", "mnist", "dataset: "+strings.Join(data.Names(), ", "))
	f.StringVar(&o.DataDir, "data-dir", "", "folder with the dataset's files (default: the built-in MNIST)")
	f.IntVar(&o.ImageSize, "image-size", 0, "folder datasets: resize images to this size (0: their own size)")
	f.IntVar(&o.LimitTrain, "limit-train", 0, "use N training examples spread evenly over the set (0: all)")
	f.IntVar(&o.LimitTest, "limit-test", 0, "use N test examples spread evenly over the set (0: all)")
	f.IntVar(&o.Threads, "threads", 2, "threads for computation")
	f.IntVar(&o.Workers, "workers", 2, "data loading goroutines")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the Fisher's sampled labels and of the fine-tuning order")
}

func (o *eigenOptions) validate() error {
	o.Prune, o.SamplesPerClass, o.ScoringIters = "none", 1, 1
	if err := o.netOptions.validate(); err != nil {
		return err
	}
	if o.Checkpoint == "" {
		return usageError{fmt.Errorf("--checkpoint is required: the trained network to prune")}
	}
	if !slices.Contains(eigendamage.Methods, o.Method) {
		return usageError{fmt.Errorf("--method %q: want one of %s", o.Method, strings.Join(eigendamage.Methods, ", "))}
	}
	if !(o.Ratio > 0 && o.Ratio < 1) {
		return usageError{fmt.Errorf("--ratio %v: want 0 < ratio < 1", o.Ratio)}
	}
	if o.Rounds < 0 || o.FinetuneEpochs < 0 || o.BatchSize < 1 {
		return usageError{fmt.Errorf("--iterative and --finetune-epochs must not be negative, --batch-size at least 1")}
	}
	if o.Limit == 0 {
		o.Limit = eigendamage.OneShotLimit
		if o.Rounds > 0 {
			o.Limit = eigendamage.RoundLimit
		}
	}
	if !(o.Limit > 0 && o.Limit < 1) {
		return usageError{fmt.Errorf("--limit %v: want 0 < limit < 1", o.Limit)}
	}
	if _, err := eigendamage.ParseFisher(o.Fisher); err != nil {
		return usageError{err}
	}
	if !(o.LR > 0) || o.WeightDecay < 0 {
		return usageError{fmt.Errorf("--lr must be positive and --weight-decay not negative")}
	}
	return nil
}

// networkState reads the network in a file: a plain state (final.safetensors,
// pruned.safetensors) or the model/ tensors of a train checkpoint.
func networkState(path string) ([]safetensors.Tensor, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var state []safetensors.Tensor
	checkpoint := false
	for _, t := range f.Tensors {
		if name, ok := strings.CutPrefix(t.Name, "model/"); ok {
			t.Name = name
			if !checkpoint {
				state, checkpoint = nil, true
			}
			state = append(state, t)
		} else if !checkpoint && !strings.Contains(t.Name, "/") {
			state = append(state, t)
		}
	}
	return state, nil
}

// loadNetwork reads a trained network into m (see networkState), factored
// and slimmed layers rebuilt first; masks are not loaded.
func loadNetwork(path string, m nn.Module[float32]) error {
	state, err := networkState(path)
	if err != nil {
		return err
	}
	if err := nn.ShapeLike(m, state); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := nn.SetState(m, state); err != nil {
		return fmt.Errorf("%s: %w (is --model the network the file holds?)", path, err)
	}
	return nil
}

// reshapeLikeCheckpoint gives m the structure of the network in a train
// checkpoint, for Trainer.Resume to load it.
func reshapeLikeCheckpoint(path string, m nn.Module[float32]) error {
	state, err := networkState(path)
	if err != nil {
		return err
	}
	if err := nn.ShapeLike(m, state); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// edStats are a network's size, speed and accuracy at one stage.
type edStats struct {
	Params         int     `json:"params"`
	Weights        int     `json:"conv_linear_weights"`
	FLOPs          int64   `json:"flops"`
	InferMsPerImg  float64 `json:"inference_ms_per_image"`
	TestAcc        float64 `json:"test_acc"`
	TestLoss       float64 `json:"test_loss"`
	TestExamples   int     `json:"test_examples"`
	AfterBNReestim bool    `json:"after_bn_reestimation,omitempty"`
}

func measure(ctx context.Context, m nn.Module[float32], s *setup, test *data.Loader) (edStats, error) {
	sum := nn.Summarize(m, s.inputCHW()...)
	ev, err := train.Evaluate(ctx, m, test)
	if err != nil {
		return edStats{}, err
	}
	return edStats{Params: sum.Params, Weights: sum.PrunableWeights, FLOPs: sum.FLOPs,
		InferMsPerImg: inferenceTime(m, s), TestAcc: ev.Top1, TestLoss: ev.Loss, TestExamples: ev.Examples}, nil
}

// inferenceTime is the median over 5 timed passes (after one warm-up) of an
// evaluation-mode forward pass of 100 inputs, per input, in milliseconds.
func inferenceTime(m nn.Module[float32], s *setup) float64 {
	const n = 100
	x := make([]float32, n*s.input.Channels*s.input.Height*s.input.Width)
	for i := range x {
		x[i] = float32(i%17) / 17
	}
	m.SetTraining(false)
	defer m.SetTraining(true)
	tape := autograd.NewTape[float32](autograd.NoGrad())
	var times []float64
	for i := 0; i < 6; i++ {
		tape.Reset()
		start := time.Now()
		m.Forward(tape, tape.Input(x, s.input.Shape(n)...))
		if i > 0 {
			times = append(times, time.Since(start).Seconds()*1000/n)
		}
	}
	slices.Sort(times)
	return times[len(times)/2]
}

func curvatureBatches(ctx context.Context, l *data.Loader) iter.Seq2[eigendamage.Batch[float32], error] {
	return func(yield func(eigendamage.Batch[float32], error) bool) {
		for b, err := range l.Batches(ctx, 0) {
			if err != nil {
				yield(eigendamage.Batch[float32]{}, err)
				return
			}
			if !yield(eigendamage.Batch[float32]{X: b.X, Shape: b.Shape(), Labels: b.Labels}, nil) {
				return
			}
		}
	}
}

func runEigenDamage(ctx context.Context, w io.Writer, o *eigenOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	if o.Out == "" {
		o.Out = filepath.Join("runs", fmt.Sprintf("%s-%s-%s-%g", o.Method, o.Model, o.Dataset, o.Ratio))
	}
	result := filepath.Join(o.Out, "summary.json")
	if _, err := os.Stat(result); err == nil && !o.Force {
		return usageError{fmt.Errorf("%s holds a result already: --force to start over", o.Out)}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	s, err := newSetup(&o.netOptions)
	if err != nil {
		return err
	}
	if err := loadNetwork(o.Checkpoint, s.model); err != nil {
		return fmt.Errorf("loading --checkpoint: %w", err)
	}
	fisher, _ := eigendamage.ParseFisher(o.Fisher)
	trainTF, testTF := data.PipelineFor(s.info, true), data.PipelineFor(s.info, false)
	test := &data.Loader{Dataset: s.test, Transform: testTF, BatchSize: 500, Workers: o.Workers}
	statsLoader := &data.Loader{Dataset: s.train, Transform: trainTF, BatchSize: o.BatchSize, Shuffle: true, Seed: o.Seed, Workers: o.Workers}
	if err := train.WriteJSON(filepath.Join(o.Out, "config.json"), map[string]any{"settings": o, "versions": versions(), "input": s.input}); err != nil {
		return err
	}

	before, err := measure(ctx, s.model, s, test)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "before pruning: %d weights, %.4g MFLOPs, test accuracy %.4f\n", before.Weights, float64(before.FLOPs)/1e6, before.TestAcc)
	rounds := max(1, o.Rounds)
	table, err := os.Create(filepath.Join(o.Out, "layers.txt"))
	if err != nil {
		return err
	}
	defer table.Close()
	var pruned edStats
	for r := 1; r <= rounds; r++ {
		start := time.Now()
		cfg := eigendamage.Config{Ratio: o.Ratio, Limit: o.Limit, Fisher: fisher, Seed: o.Seed + uint64(r)}
		var res *eigendamage.Result
		if o.Method == "eigendamage" {
			res, err = eigendamage.Prune(ctx, s.model, curvatureBatches(ctx, statsLoader), cfg)
		} else {
			res, err = eigendamage.PruneFilters(ctx, s.model, curvatureBatches(ctx, statsLoader), o.Method, cfg)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(table, "round %d of %d: %s, ratio %g, limit %g, %s Fisher\n", r, rounds, o.Method, o.Ratio, o.Limit, o.Fisher)
		res.WriteTable(table)
		fmt.Fprintln(table)
		if !o.Quiet {
			fmt.Fprintf(w, "round %d: statistics, eigenbases and rewrite in %.1f s\n", r, time.Since(start).Seconds())
			res.WriteTable(w)
		}
		if pruned, err = measure(ctx, s.model, s, test); err != nil {
			return err
		}
		fmt.Fprintf(w, "round %d pruned: %d weights, %.4g MFLOPs, test accuracy %.4f before fine-tuning\n", r, pruned.Weights, float64(pruned.FLOPs)/1e6, pruned.TestAcc)
		if o.FinetuneEpochs == 0 {
			continue
		}
		t := &train.Trainer{
			Model:  s.model,
			Train:  &data.Loader{Dataset: s.train, Transform: trainTF, BatchSize: o.BatchSize, Shuffle: true, Seed: o.Seed + uint64(r), Workers: o.Workers},
			Test:   test,
			Config: train.Config{Epochs: o.FinetuneEpochs, LR: o.LR, Momentum: 0.9, WeightDecay: o.WeightDecay, Schedule: train.StepAtFractions{Fractions: []float64{0.5, 0.75}, Gamma: 0.1}},
			Out:    filepath.Join(o.Out, fmt.Sprintf("round-%d", r)),
			Meta:   map[string]string{"model": o.Model, "dataset": o.Dataset, "eigendamage_round": strconv.Itoa(r)},
		}
		if err := os.MkdirAll(t.Out, 0o755); err != nil {
			return err
		}
		if !o.Quiet {
			t.Progress = newProgress(w)
		}
		if err := t.Run(ctx); err != nil {
			return err
		}
	}
	if err := train.ReestimateBN(ctx, s.model, &data.Loader{Dataset: s.train, Transform: trainTF, BatchSize: o.BatchSize, Shuffle: true, Seed: o.Seed, Workers: o.Workers}); err != nil {
		return err
	}
	final, err := measure(ctx, s.model, s, test)
	if err != nil {
		return err
	}
	final.AfterBNReestim = true
	meta := map[string]string{"model": o.Model, "dataset": o.Dataset, "method": o.Method, "ratio": strconv.FormatFloat(o.Ratio, 'g', -1, 64), "rounds": strconv.Itoa(rounds)}
	if err := nn.SaveState(filepath.Join(o.Out, "pruned.safetensors"), s.model, meta); err != nil {
		return err
	}
	summary := map[string]any{
		"method": o.Method, "model": o.Model, "dataset": o.Dataset, "ratio": o.Ratio, "rounds": rounds, "fisher": o.Fisher,
		"finetune_epochs": o.FinetuneEpochs, "before": before, "pruned": pruned, "final": final,
		"weights_kept":      float64(final.Weights) / float64(before.Weights),
		"flops_kept":        float64(final.FLOPs) / float64(before.FLOPs),
		"final_test_acc":    final.TestAcc,
		"inference_speedup": before.InferMsPerImg / final.InferMsPerImg,
	}
	if err := train.WriteJSON(result, summary); err != nil {
		return err
	}
	fmt.Fprintf(w, "final (last fine-tuning epoch, BN re-estimated): test accuracy %.4f (before pruning %.4f); weights %d -> %d (%.1f%% kept), FLOPs %.4g -> %.4g M (%.1f%% kept), inference %.3f -> %.3f ms per image; %s\n",
		final.TestAcc, before.TestAcc, before.Weights, final.Weights, 100*float64(final.Weights)/float64(before.Weights),
		float64(before.FLOPs)/1e6, float64(final.FLOPs)/1e6, 100*float64(final.FLOPs)/float64(before.FLOPs),
		before.InferMsPerImg, final.InferMsPerImg, o.Out)
	return nil
}
