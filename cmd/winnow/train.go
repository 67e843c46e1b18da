package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/train"
)

type trainOptions struct {
	netOptions
	Preset      string  `json:"preset,omitempty"`
	Epochs      int     `json:"epochs"`
	BatchSize   int     `json:"batch_size"`
	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	Nesterov    bool    `json:"nesterov"`
	Schedule    string  `json:"schedule"`
	Out         string  `json:"out"`
	Init        string  `json:"init,omitempty"`
	Resume      bool    `json:"-"`
	Force       bool    `json:"-"`
	Quiet       bool    `json:"-"`
}

// preset is a paper's configuration; flags given explicitly override it.
type preset struct {
	doc    string
	values map[string]string
}

func grasp(model, dataset string, epochs int, wd string, spc, iters int) preset {
	return preset{fmt.Sprintf("GraSP paper: %s on %s, %d epochs, batch 128, lr 0.1 (x0.1 at 50%% and 75%%), momentum 0.9, weight decay %s, scoring %d per class x %d", model, dataset, epochs, wd, spc, iters),
		map[string]string{"model": model, "dataset": dataset, "epochs": strconv.Itoa(epochs), "batch-size": "128", "lr": "0.1",
			"momentum": "0.9", "weight-decay": wd, "schedule": "step", "prune": "grasp",
			"samples-per-class": strconv.Itoa(spc), "scoring-iters": strconv.Itoa(iters)}}
}

// presets are the GraSP paper's runs: <dataset>-<model> leaves the sparsity
// to --sparsity; <dataset>-<model>-<percent> sets it too.
var presets = func() map[string]preset {
	base := map[string]preset{
		"cifar10-vgg19":          grasp("vgg19", "cifar10", 160, "5e-4", 10, 1),
		"cifar10-resnet32":       grasp("resnet32", "cifar10", 160, "1e-4", 10, 1),
		"cifar100-vgg19":         grasp("vgg19", "cifar100", 160, "5e-4", 10, 1),
		"cifar100-resnet32":      grasp("resnet32", "cifar100", 160, "1e-4", 5, 2),
		"tiny-imagenet-vgg19":    grasp("vgg19", "tiny-imagenet", 300, "5e-4", 1, 10),
		"tiny-imagenet-resnet32": grasp("resnet32", "tiny-imagenet", 300, "1e-4", 1, 10),
		"imagenet-resnet50": {"GraSP paper: resnet50 on ImageNet, scoring 1 per class x 150 (official config); training as PyTorch's ImageNet recipe: 90 epochs, batch 256, lr 0.1 (x0.1 at 30 and 60), momentum 0.9, weight decay 1e-4",
			map[string]string{"model": "resnet50", "dataset": "imagenet", "epochs": "90", "batch-size": "256", "lr": "0.1",
				"momentum": "0.9", "weight-decay": "1e-4", "schedule": "epochs:30,60", "prune": "grasp",
				"samples-per-class": "1", "scoring-iters": "150"}},
	}
	out := map[string]preset{}
	for name, p := range base {
		out[name] = p
		levels := []int{90, 95, 98}
		if name == "imagenet-resnet50" {
			levels = []int{60, 80, 90}
		}
		for _, l := range levels {
			v := map[string]string{"sparsity": strconv.FormatFloat(float64(l)/100, 'g', -1, 64)}
			for k, x := range p.values {
				v[k] = x
			}
			out[fmt.Sprintf("%s-%d", name, l)] = preset{fmt.Sprintf("%s, at %d%% sparsity", p.doc, l), v}
		}
	}
	return out
}()

// basePresets lists the presets without a sparsity suffix, with their docs.
func basePresets() []string {
	var out []string
	for _, n := range presetNames() {
		if n[len(n)-3] != '-' {
			out = append(out, n+": "+presets[n].doc)
		}
	}
	return out
}

func presetNames() []string {
	var n []string
	for k := range presets {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func newTrainCommand() *cobra.Command {
	var o trainOptions
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Prune a fresh network at initialisation and train it (default: lenet5 on MNIST, GraSP at 98%)",
		Long: `Build the model, prune it at initialisation with --prune at --sparsity (the
fraction of conv and linear weights removed; --prune none trains the dense
network), and train it with SGD, keeping pruned weights at exactly zero.

With no flags: lenet5 on the built-in MNIST, GraSP at 98% sparsity, 3 epochs
(a few minutes on 2 cores).

Presets carry a paper's hyperparameters (flags given explicitly win); a
suffix -90, -95, -98 (ImageNet: -60, -80, -90) sets the sparsity too:
  ` + strings.Join(basePresets(), "\n  ") + `

Files in --out: config.json, prune-report.json, mask.safetensors,
checkpoint.safetensors (after every epoch, atomically), metrics.csv,
final.safetensors (loads into the PyTorch model) and summary.json
(final_test_acc is the last epoch's; best_test_acc selects an epoch by test
accuracy and is labelled so). --resume continues from the checkpoint.

Exit status: 0 done, 1 failed (a NaN loss, bad data...), 2 bad usage,
130 interrupted (the last checkpoint is kept).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyPreset(cmd, o.Preset); err != nil {
				return err
			}
			return runTrain(cmd.Context(), cmd.OutOrStdout(), &o)
		},
	}
	f := cmd.Flags()
	o.netOptions.addFlags(f, "grasp", 0.98, true)
	addTrainFlags(f, &o)
	return cmd
}

func addTrainFlags(f *pflag.FlagSet, o *trainOptions) {
	f.StringVar(&o.Preset, "preset", "", "a paper's settings: "+strings.Join(presetNames(), ", "))
	f.IntVar(&o.Epochs, "epochs", 3, "epochs")
	f.IntVar(&o.BatchSize, "batch-size", 128, "batch size")
	f.Float64Var(&o.LR, "lr", 0.1, "learning rate")
	f.Float64Var(&o.Momentum, "momentum", 0.9, "SGD momentum")
	f.Float64Var(&o.WeightDecay, "weight-decay", 5e-4, "weight decay")
	f.BoolVar(&o.Nesterov, "nesterov", false, "Nesterov momentum")
	f.StringVar(&o.Schedule, "schedule", "step", "learning-rate schedule: step (x0.1 at 50% and 75%), step:F1,F2, epochs:E1,E2, cosine, constant")
	f.StringVar(&o.Out, "out", "", "output folder (default runs/<model>-<dataset>-<prune>-<sparsity>-s<seed>)")
	f.BoolVar(&o.Resume, "resume", false, "continue the run in --out from its checkpoint")
	f.StringVar(&o.Init, "init", "", "start from a saved network (a train checkpoint or final.safetensors, or eigendamage's pruned.safetensors, structure included) instead of a fresh one; with --prune none it fine-tunes it")
	f.BoolVar(&o.Force, "force", false, "overwrite a finished or interrupted run in --out")
	f.BoolVar(&o.Quiet, "quiet", false, "print only the summary")
}

func applyPreset(cmd *cobra.Command, name string) error {
	if name == "" {
		return nil
	}
	p, ok := presets[name]
	if !ok {
		return usageError{fmt.Errorf("unknown preset %q (%s)", name, strings.Join(presetNames(), ", "))}
	}
	for k, v := range p.values {
		if !cmd.Flags().Changed(k) {
			if err := cmd.Flags().Set(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *trainOptions) validate() error {
	if err := o.netOptions.validate(); err != nil {
		return err
	}
	if o.Epochs < 1 || o.BatchSize < 1 {
		return usageError{fmt.Errorf("--epochs and --batch-size must be at least 1")}
	}
	if !(o.LR > 0) || o.Momentum < 0 || o.WeightDecay < 0 {
		return usageError{fmt.Errorf("--lr must be positive, --momentum and --weight-decay not negative")}
	}
	if _, err := train.ParseSchedule(o.Schedule); err != nil {
		return usageError{err}
	}
	return nil
}

func runTrain(ctx context.Context, w io.Writer, o *trainOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	if o.Prune == "none" {
		o.Sparsity = 0
	}
	if o.Out == "" {
		o.Out = filepath.Join("runs", fmt.Sprintf("%s-%s-%s-%g-s%d", o.Model, o.Dataset, o.Prune, o.Sparsity, o.Seed))
	}
	ckpt := filepath.Join(o.Out, "checkpoint.safetensors")
	_, statErr := os.Stat(ckpt)
	switch {
	case o.Resume && statErr != nil:
		return usageError{fmt.Errorf("--resume: no checkpoint in %s", o.Out)}
	case !o.Resume && statErr == nil && !o.Force:
		return usageError{fmt.Errorf("%s holds a run already: --resume to continue it, --force to start over", o.Out)}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	s, err := newSetup(&o.netOptions)
	if err != nil {
		return err
	}
	sched, _ := train.ParseSchedule(o.Schedule)
	trainTF, testTF := data.PipelineFor(s.info, true), data.PipelineFor(s.info, false)
	t := &train.Trainer{
		Model:  s.model,
		Train:  &data.Loader{Dataset: s.train, Transform: trainTF, BatchSize: o.BatchSize, Shuffle: true, Seed: o.Seed, Workers: o.Workers},
		Test:   &data.Loader{Dataset: s.test, Transform: testTF, BatchSize: 500, Workers: o.Workers},
		Config: train.Config{Epochs: o.Epochs, LR: o.LR, Momentum: o.Momentum, WeightDecay: o.WeightDecay, Nesterov: o.Nesterov, Schedule: sched},
		Out:    o.Out,
		Meta:   map[string]string{"model": o.Model, "dataset": o.Dataset, "prune": o.Prune, "sparsity": strconv.FormatFloat(o.Sparsity, 'g', -1, 64)},
	}
	if !o.Quiet {
		t.Progress = newProgress(w)
	}
	if o.Resume {
		// A factored or slimmed network (eigendamage, --init) takes its
		// structure from the checkpoint first.
		if err := reshapeLikeCheckpoint(ckpt, s.model); err != nil {
			return err
		}
		if err := t.Resume(ckpt); err != nil {
			return err
		}
		fmt.Fprintf(w, "resuming %s after epoch %d of %d\n", o.Out, len(t.History()), o.Epochs)
	} else {
		if o.Init != "" {
			if err := loadNetwork(o.Init, s.model); err != nil {
				return fmt.Errorf("--init: %w", err)
			}
		}
		if o.Prune != "none" {
			start := time.Now()
			p, err := s.pruneModel(ctx, &o.netOptions)
			if err != nil {
				return err
			}
			if !o.Quiet {
				fmt.Fprintf(w, "%s pruning at sparsity %g took %.1f s\n", o.Prune, o.Sparsity, time.Since(start).Seconds())
				p.report.WriteTable(w)
			}
			if err := train.WriteJSON(filepath.Join(o.Out, "prune-report.json"), p.report); err != nil {
				return err
			}
		}
		if err := nn.SaveMasks(filepath.Join(o.Out, "mask.safetensors"), s.model, t.Meta); err != nil {
			return err
		}
		cfg := map[string]any{"settings": o, "versions": versions(), "input": s.input}
		if err := train.WriteJSON(filepath.Join(o.Out, "config.json"), cfg); err != nil {
			return err
		}
	}
	if err := t.Run(ctx); err != nil {
		var nf *train.NonFiniteError
		if errors.As(err, &nf) {
			return fmt.Errorf("%w (checkpoint: %s)", err, ckpt)
		}
		return err
	}
	sum := t.Summarize(s.inputCHW())
	if err := train.WriteJSON(filepath.Join(o.Out, "summary.json"), sum); err != nil {
		return err
	}
	fmt.Fprintf(w, "final test accuracy %.4f (epoch %d); best-epoch selection %.4f at epoch %d; weights kept %d of %d (%.2f%%), FLOPs kept %.2f%%; %s\n",
		sum.FinalTestAcc, sum.Epochs, sum.BestTestAcc, sum.BestEpoch, sum.WeightsKept, sum.WeightsTotal, 100*sum.Density,
		100*float64(sum.FLOPsKept)/float64(sum.FLOPsTotal), o.Out)
	return nil
}

// progress shows a bar per epoch on a terminal, else one line per epoch.
type progress struct {
	w   io.Writer
	tty bool
	bar *progressbar.ProgressBar
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) StartEpoch(epoch, epochs, batches int) {
	if p.tty {
		p.bar = progressbar.NewOptions(batches, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch, epochs)),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
	}
}

func (p *progress) Step(batch int, loss, acc, imgs float64) {
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("loss %.4f acc %.4f %.0f img/s", loss, acc, imgs))
		p.bar.Set(batch)
	}
}

func (p *progress) EndEpoch(r train.EpochResult) {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
	top5 := ""
	if r.TestTop5 > 0 {
		top5 = fmt.Sprintf(" top5 %.4f", r.TestTop5)
	}
	fmt.Fprintf(p.w, "epoch %d: train loss %.4f acc %.4f | test loss %.4f acc %.4f%s | lr %.4g | %.0f img/s | %.1f s | density %.4f\n",
		r.Epoch, r.TrainLoss, r.TrainAcc, r.TestLoss, r.TestAcc, top5, r.LR, r.ImagesSec, r.Seconds, r.Density)
}
