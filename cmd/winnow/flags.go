package main

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/experiment"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
)

// addDataFlags binds the settings that choose a model and its data.
func addDataFlags(f *pflag.FlagSet, s *experiment.Settings) {
	d := experiment.DefaultSettings()
	f.StringVar(&s.Model, "model", d.Model, "model: "+strings.Join(models.Names(), ", "))
	f.IntVar(&s.Width, "width", d.Width, "channel multiplier of the CIFAR ResNets (0: GraSP's 2)")
	f.StringVar(&s.Dataset, "dataset", d.Dataset, "dataset: "+strings.Join(data.Names(), ", "))
	f.StringVar(&s.DataDir, "data-dir", d.DataDir, "folder with the dataset's files (default: the built-in MNIST)")
	f.IntVar(&s.ImageSize, "image-size", d.ImageSize, "folder datasets: resize images to this size (0: their own size)")
	f.IntVar(&s.Crop, "crop", d.Crop, "tiny-imagenet: random crop (training) and centre crop (evaluation) to this size, e.g. 56 (0: the 64x64 images)")
	f.Float64SliceVar(&s.Mean, "mean", d.Mean, "per-channel mean for normalisation (default: the dataset's, or computed from a folder's training images)")
	f.Float64SliceVar(&s.Std, "std", d.Std, "per-channel standard deviation for normalisation (with --mean)")
	f.IntVar(&s.LimitTrain, "limit-train", d.LimitTrain, "use N training examples spread evenly over the set (0: all)")
	f.IntVar(&s.LimitTest, "limit-test", d.LimitTest, "use N test examples spread evenly over the set (0: all)")
	f.Uint64Var(&s.Seed, "seed", d.Seed, "seed of the initialisation, the scoring sample, the data order and augmentation")
}

// addPruneFlags binds the settings of pruning at initialisation; perRun
// false (sweep) leaves --prune and --sparsity to the sweep's lists.
func addPruneFlags(f *pflag.FlagSet, s *experiment.Settings, perRun bool) {
	d := experiment.DefaultSettings()
	if perRun {
		f.StringVar(&s.Prune, "prune", d.Prune, "pruning method: none, "+strings.Join(prune.Methods, ", "))
		f.Float64Var(&s.Sparsity, "sparsity", d.Sparsity, "fraction of conv and linear weights removed, 0 <= P < 1")
	}
	f.StringVar(&s.Scope, "scope", d.Scope, "threshold scope: global or local (per layer)")
	f.Float64Var(&s.MinLayerDensity, "min-layer-density", d.MinLayerDensity, "keep at least this fraction of every layer (prevents collapse)")
	f.IntVar(&s.SamplesPerClass, "samples-per-class", d.SamplesPerClass, "GraSP/SNIP scoring sample: examples of each class per iteration")
	f.IntVar(&s.ScoringIters, "scoring-iters", d.ScoringIters, "GraSP/SNIP scoring iterations (batches of samples-per-class x classes)")
	f.Float64Var(&s.Temperature, "temperature", d.Temperature, "GraSP temperature T dividing the logits")
	f.BoolVar(&s.GraSPReinit, "grasp-reinit-linear", d.GraSPReinit, "GraSP scores with linear layers re-drawn from Xavier normal, as the official code")
	f.BoolVar(&s.GraSPHalves, "grasp-split-halves", d.GraSPHalves, "GraSP scores each batch as two halves, as the official code")
	f.IntVar(&s.SynFlowRounds, "synflow-rounds", d.SynFlowRounds, "SynFlow pruning rounds")
	f.IntVar(&s.ScoringBatch, "scoring-batch", 0, "GraSP and SNIP score --scoring-iters shuffled batches of this many training examples, read again at each pass, as the official ImageNet code (250) (0: the class-balanced sample)")
	f.IntVar(&s.GraSPChunk, "grasp-chunk", 0, "GraSP scores each batch in chunks of this many examples, as the official ImageNet code (20) (0: --grasp-split-halves)")
	f.BoolVar(&s.GraSPReinitLast, "grasp-reinit-last", false, "GraSP re-draws only the last linear layer for scoring, as the official ImageNet code")
	f.IntVar(&s.Rounds, "rounds", 0, "--prune imp: rounds of pruning, each removing the same fraction of the weights left, to --sparsity after the last")
	f.IntVar(&s.RewindStep, "rewind", 0, "--prune imp: rewind the kept weights to their values at this step of the dense run (0: initialisation) and train each round from there")
	f.IntVar(&s.PreEpochs, "pre-epochs", 0, "prune after this many epochs of training (each shot's), then rewind to initialisation, as Synaptic-Flow's pre-epochs (0: at initialisation)")
	f.IntVar(&s.Shots, "shots", 0, "prune in this many shots, each re-scoring the network the last left, to densities (1-sparsity)^(s/shots) (0, 1: one shot; synflow: shots x rounds rounds)")
	f.BoolVar(&s.AllowCollapse, "allow-collapse", false, "train masks that leave no path from the input to the output (layer collapse) with a warning instead of refusing them")
}

// addTrainFlags binds the optimisation settings and the starting point.
func addTrainFlags(f *pflag.FlagSet, s *experiment.Settings) {
	d := experiment.DefaultSettings()
	f.StringVar(&s.Preset, "preset", "", "a paper's settings: "+strings.Join(experiment.PresetNames(), ", "))
	f.IntVar(&s.Epochs, "epochs", d.Epochs, "epochs")
	f.IntVar(&s.BatchSize, "batch-size", d.BatchSize, "batch size")
	f.IntVar(&s.EvalBatchSize, "eval-batch-size", d.EvalBatchSize, "batch size of evaluation passes (0: --batch-size)")
	f.StringVar(&s.Optimizer, "optimizer", d.Optimizer, "optimizer, as torch.optim: sgd, adam (weight decay added to the gradient), adamw (decoupled weight decay)")
	f.Float64Var(&s.LR, "lr", d.LR, "learning rate")
	f.Float64Var(&s.Momentum, "momentum", d.Momentum, "SGD momentum")
	f.Float64Var(&s.WeightDecay, "weight-decay", d.WeightDecay, "weight decay")
	f.BoolVar(&s.Nesterov, "nesterov", d.Nesterov, "Nesterov momentum (SGD)")
	f.Float64SliceVar(&s.AdamBetas, "adam-betas", d.AdamBetas, "Adam's beta1,beta2")
	f.Float64Var(&s.AdamEps, "adam-eps", d.AdamEps, "Adam's epsilon")
	f.StringVar(&s.Schedule, "schedule", d.Schedule, "learning-rate schedule: step (x0.1 at 50% and 75%), step:F1,F2, epochs:E1,E2, cosine, constant; +warmup:E after any adds a linear warm-up over E epochs, step by step (cosine+warmup:5 anneals over the steps after it)")
	f.Float64Var(&s.LabelSmoothing, "label-smoothing", d.LabelSmoothing, "train on the cross-entropy with label smoothing ε, as torch.nn.CrossEntropyLoss(label_smoothing)")
	f.StringVar(&s.Init, "init", "", "start from a saved network (a train checkpoint or final.safetensors, eigendamage's pruned.safetensors, structure and masks included) instead of a fresh one")
	f.StringVar(&s.Mask, "mask", "", "train with the masks of this file (winnow's mask.safetensors, or torch.nn.utils.prune's <layer>.weight_mask tensors); with --prune none")
}

// runtimeOptions are the flags of how a run runs, not what it computes.
type runtimeOptions struct {
	out             string
	resume, force   bool
	threads         int
	workers         int
	quiet           bool
	logEvery        int
	logInterval     time.Duration
	checkpointEvery string
	tensorboard     bool
	bn              string
}

func (o *runtimeOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.out, "out", "", "output folder (default runs/<model>-<dataset>-<prune>-<sparsity>-s<seed>)")
	f.BoolVar(&o.resume, "resume", false, "continue the run in --out from its checkpoint (the run's settings; --epochs may grow if the schedule allows)")
	f.BoolVar(&o.force, "force", false, "start the run in --out over, deleting its files")
	o.addComputeFlags(f)
	f.BoolVar(&o.quiet, "quiet", false, "print only the summary")
	f.IntVar(&o.logEvery, "log-every", 0, "without a terminal: a progress line every N steps (0: by --log-interval)")
	f.DurationVar(&o.logInterval, "log-interval", time.Minute, "without a terminal: a progress line at least this often within an epoch (0: none)")
	f.StringVar(&o.checkpointEvery, "checkpoint-every", "", "also checkpoint within epochs: every N steps, or a duration such as 10m")
	f.BoolVar(&o.tensorboard, "tensorboard", false, "also write TensorBoard event files to <out>/tensorboard: scalars per step and epoch, the settings as hparams")
	f.StringVar(&o.bn, "bn", "sync", "under mpirun: sync (BatchNorm over the whole batch, as one process) or local (each process's shard, as PyTorch's DDP)")
}

func (o *runtimeOptions) addComputeFlags(f *pflag.FlagSet) {
	f.IntVar(&o.threads, "threads", runtime.GOMAXPROCS(0), "threads for computation")
	f.IntVar(&o.workers, "workers", 2, "data loading goroutines")
}

// runtime turns the flags into an experiment.Runtime.
func (o *runtimeOptions) runtime(cmd *cobra.Command) (experiment.Runtime, error) {
	comm := world(cmd.Context())
	rt := experiment.Runtime{Out: o.out, Resume: o.resume, Force: o.force, Threads: o.threads, Workers: o.workers,
		LogEvery: o.logEvery, LogInterval: o.logInterval, Command: commandLine(), Comm: comm, BN: o.bn, TensorBoard: o.tensorboard}
	if o.threads < 1 || o.workers < 1 {
		return rt, usageError{errors.New("--threads and --workers must be at least 1")}
	}
	if o.resume && o.force {
		return rt, usageError{errors.New("--resume continues a run, --force starts it over: give one")}
	}
	if o.logEvery < 0 || o.logInterval < 0 {
		return rt, usageError{errors.New("--log-every and --log-interval must not be negative")}
	}
	var err error
	if rt.CheckpointEvery, rt.CheckpointInterval, err = parseCheckpointEvery(o.checkpointEvery); err != nil {
		return rt, err
	}
	if !o.quiet && comm.Rank() == 0 {
		w := cmd.OutOrStdout()
		rt.Log = w
		// mpirun hands its processes a pseudo-terminal whatever its own
		// output is: progress lines, not a bar, under it.
		if isTerminal(w) && comm.Size() == 1 {
			rt.Progress = newBar(w)
		}
	}
	return rt, nil
}

// applyPreset applies --preset to the settings, flags given explicitly
// winning; --prune none without an explicit --sparsity trains dense.
func applyPreset(cmd *cobra.Command, s *experiment.Settings) error {
	if s.Preset != "" {
		p, err := experiment.LookupPreset(s.Preset)
		if err != nil {
			return usageError{err}
		}
		if err := p.Apply(s, s.Preset, func(flag string) bool { return cmd.Flags().Changed(flag) }); err != nil {
			return err
		}
	}
	if f := cmd.Flags().Lookup("sparsity"); f != nil && f.Value.Type() == "float64" && !f.Changed && s.Prune == "none" {
		s.Sparsity = 0
	}
	return nil
}

// parseCheckpointEvery reads --checkpoint-every: a number of steps or a
// duration ("": neither).
func parseCheckpointEvery(c string) (steps int, interval time.Duration, err error) {
	if c == "" {
		return 0, 0, nil
	}
	if n, err := strconv.Atoi(c); err == nil && n > 0 {
		return n, 0, nil
	}
	if d, err := time.ParseDuration(c); err == nil && d > 0 {
		return 0, d, nil
	}
	return 0, 0, usageError{fmt.Errorf("--checkpoint-every %q: want a number of steps or a duration such as 10m", c)}
}
