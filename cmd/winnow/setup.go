package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/internal/kernels"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
)

// netOptions choose a model, its data and its pruning: shared by train,
// prune and sweep.
type netOptions struct {
	Model           string    `json:"model"`
	Width           int       `json:"width,omitempty"`
	Dataset         string    `json:"dataset"`
	DataDir         string    `json:"data_dir,omitempty"`
	Prune           string    `json:"prune"`
	Sparsity        float64   `json:"sparsity"`
	Scope           string    `json:"scope"`
	MinLayerDensity float64   `json:"min_layer_density"`
	SamplesPerClass int       `json:"samples_per_class"`
	ScoringIters    int       `json:"scoring_iters"`
	Temperature     float64   `json:"temperature"`
	GraSPReinit     bool      `json:"grasp_reinit_linear"`
	GraSPHalves     bool      `json:"grasp_split_halves"`
	SynFlowRounds   int       `json:"synflow_rounds"`
	Seed            uint64    `json:"seed"`
	Threads         int       `json:"threads"`
	Workers         int       `json:"workers"`
	LimitTrain      int       `json:"limit_train,omitempty"`
	LimitTest       int       `json:"limit_test,omitempty"`
	ImageSize       int       `json:"image_size,omitempty"`
	Mean            []float64 `json:"mean,omitempty"`
	Std             []float64 `json:"std,omitempty"`
}

// addFlags defines the flags; sweep (perRun false) sets --prune,
// --sparsity and --seed itself for each run.
func (o *netOptions) addFlags(f *pflag.FlagSet, method string, sparsity float64, perRun bool) {
	f.StringVar(&o.Model, "model", "lenet5", "model: "+strings.Join(models.Names(), ", "))
	f.IntVar(&o.Width, "width", 0, "channel multiplier of the CIFAR ResNets (0: GraSP's 2)")
	f.StringVar(&o.Dataset, "dataset", "mnist", "dataset: "+strings.Join(data.Names(), ", "))
	f.StringVar(&o.DataDir, "data-dir", "", "folder with the dataset's files (default: the built-in MNIST)")
	if perRun {
		f.StringVar(&o.Prune, "prune", method, "pruning method: none, "+strings.Join(prune.Methods, ", "))
		f.Float64Var(&o.Sparsity, "sparsity", sparsity, "fraction of conv and linear weights removed, 0 <= P < 1")
		f.Uint64Var(&o.Seed, "seed", 1, "seed of the initialisation, the scoring sample, the data order and augmentation")
	}
	f.StringVar(&o.Scope, "scope", "global", "threshold scope: global or local (per layer)")
	f.Float64Var(&o.MinLayerDensity, "min-layer-density", 0, "keep at least this fraction of every layer (prevents collapse)")
	f.IntVar(&o.SamplesPerClass, "samples-per-class", 10, "GraSP/SNIP scoring sample: examples of each class per iteration")
	f.IntVar(&o.ScoringIters, "scoring-iters", 1, "GraSP/SNIP scoring iterations (batches of samples-per-class x classes)")
	f.Float64Var(&o.Temperature, "temperature", 200, "GraSP temperature T dividing the logits")
	f.BoolVar(&o.GraSPReinit, "grasp-reinit-linear", true, "GraSP scores with linear layers re-drawn from Xavier normal, as the official code")
	f.BoolVar(&o.GraSPHalves, "grasp-split-halves", true, "GraSP scores each batch as two halves, as the official code")
	f.IntVar(&o.SynFlowRounds, "synflow-rounds", 100, "SynFlow pruning rounds")
	f.IntVar(&o.Threads, "threads", runtime.GOMAXPROCS(0), "threads for computation")
	f.IntVar(&o.Workers, "workers", 2, "data loading goroutines")
	f.IntVar(&o.LimitTrain, "limit-train", 0, "use N training examples spread evenly over the set (0: all)")
	f.IntVar(&o.LimitTest, "limit-test", 0, "use N test examples spread evenly over the set (0: all)")
	f.IntVar(&o.ImageSize, "image-size", 0, "folder datasets: resize images to this size (0: their own size)")
	f.Float64SliceVar(&o.Mean, "mean", nil, "per-channel mean for normalisation (default: the dataset's, or computed from a folder's training images)")
	f.Float64SliceVar(&o.Std, "std", nil, "per-channel standard deviation for normalisation (with --mean)")
}

func (o *netOptions) validate() error {
	if _, _, _, err := models.Describe(o.Model); err != nil {
		return usageError{err}
	}
	if _, err := data.Lookup(o.Dataset); err != nil {
		return usageError{err}
	}
	if o.Prune != "none" {
		if err := o.pruneConfig().Validate(); err != nil {
			return usageError{err}
		}
	} else if o.Sparsity != 0 && !(o.Sparsity >= 0 && o.Sparsity < 1) {
		return usageError{fmt.Errorf("sparsity %v outside [0, 1)", o.Sparsity)}
	}
	if o.SamplesPerClass < 1 || o.ScoringIters < 1 {
		return usageError{fmt.Errorf("--samples-per-class and --scoring-iters must be at least 1")}
	}
	if o.Threads < 1 || o.Workers < 1 {
		return usageError{fmt.Errorf("--threads and --workers must be at least 1")}
	}
	if len(o.Mean) != len(o.Std) {
		return usageError{fmt.Errorf("--mean has %d values, --std %d", len(o.Mean), len(o.Std))}
	}
	for _, v := range o.Std {
		if !(v > 0) {
			return usageError{fmt.Errorf("--std values must be positive, got %v", o.Std)}
		}
	}
	if o.ImageSize < 0 {
		return usageError{fmt.Errorf("--image-size must not be negative")}
	}
	if o.LimitTrain < 0 || o.LimitTest < 0 {
		return usageError{fmt.Errorf("--limit-train and --limit-test must not be negative")}
	}
	return nil
}

func (o *netOptions) pruneConfig() prune.Config {
	c := prune.DefaultConfig(o.Prune, o.Sparsity)
	c.Scope = prune.Scope(o.Scope)
	c.MinLayerDensity = o.MinLayerDensity
	c.Seed = o.Seed
	c.GraSP.Temperature = o.Temperature
	c.GraSP.ReinitLinear = o.GraSPReinit
	c.GraSP.SplitHalves = o.GraSPHalves
	c.SynFlow.Rounds = o.SynFlowRounds
	return c
}

// setup is what a run needs: data, the model and its input.
type setup struct {
	train, test data.Dataset
	info        data.Info
	input       models.Input
	model       nn.Module[float32]
}

func newSetup(o *netOptions) (*setup, error) {
	runtime.GOMAXPROCS(o.Threads)
	kernels.SetThreads(o.Threads)
	train, err := data.Open(o.Dataset, o.DataDir, data.Train)
	if err != nil {
		return nil, err
	}
	info, err := data.Describe(o.Dataset, train, o.ImageSize)
	if err != nil {
		return nil, err
	}
	if len(o.Mean) > 0 {
		if len(o.Mean) != info.Channels {
			return nil, usageError{fmt.Errorf("--mean has %d values for %d channels", len(o.Mean), info.Channels)}
		}
		info.Mean, info.Std = nil, nil
		for i := range o.Mean {
			info.Mean = append(info.Mean, float32(o.Mean[i]))
			info.Std = append(info.Std, float32(o.Std[i]))
		}
	}
	test, err := data.Open(o.Dataset, o.DataDir, data.Test)
	if err != nil {
		return nil, err
	}
	s := &setup{train: data.Limit(train, o.LimitTrain), test: data.Limit(test, o.LimitTest), info: info,
		input: models.Input{Channels: info.Channels, Height: info.Height, Width: info.Width, Classes: train.Classes()}}
	s.model, err = models.New[float32](o.Model, s.input, models.Options{Width: o.Width}, o.Seed)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *setup) inputCHW() []int { return []int{s.input.Channels, s.input.Height, s.input.Width} }

// scoringBatches draws the class-balanced scoring sample of every
// iteration, after the training transforms, as float64.
func (s *setup) scoringBatches(ctx context.Context, o *netOptions) ([]prune.Batch, error) {
	tf := data.PipelineFor(s.info, true)
	var out []prune.Batch
	for it := 0; it < o.ScoringIters; it++ {
		idx, err := data.BalancedSample(s.train, o.SamplesPerClass, o.Seed+uint64(it)*7919)
		if err != nil {
			return nil, err
		}
		l := &data.Loader{Dataset: data.Subset{Dataset: s.train, Indices: idx}, Transform: tf, BatchSize: len(idx), Seed: o.Seed + uint64(it), Workers: 1}
		for b, err := range l.Batches(ctx, 0) {
			if err != nil {
				return nil, err
			}
			x := make([]float64, len(b.X))
			for i, v := range b.X {
				x[i] = float64(v)
			}
			out = append(out, prune.Batch{X: x, Shape: b.Shape(), Labels: b.Labels})
		}
	}
	return out, nil
}

// pruned is the outcome of pruning a fresh model.
type pruned struct {
	result  *prune.Result
	batches []prune.Batch
	twin    nn.Module[float64]
	report  prune.Report
}

// pruneModel scores the fresh float32 model through its float64 twin and
// puts the masks on it.
func (s *setup) pruneModel(ctx context.Context, o *netOptions) (*pruned, error) {
	c := o.pruneConfig()
	twin, err := models.New[float64](o.Model, s.input, models.Options{Width: o.Width}, o.Seed)
	if err != nil {
		return nil, err
	}
	nn.CopyState(twin, s.model)
	p := &pruned{twin: twin}
	if c.NeedsData() {
		if err := s.checkScoringMemory(o, c); err != nil {
			return nil, err
		}
		if p.batches, err = s.scoringBatches(ctx, o); err != nil {
			return nil, err
		}
	}
	if p.result, err = prune.Prune(ctx, twin, p.batches, s.inputCHW(), c); err != nil {
		return nil, err
	}
	if err := prune.ApplyMasks(s.model, p.result.Masks); err != nil {
		return nil, err
	}
	p.report = prune.NewReport(s.model, s.inputCHW(), o.Prune, o.Sparsity)
	return p, nil
}

// versions records what produced a run.
func versions() map[string]string {
	v := map[string]string{"go": runtime.Version(), "blas": kernels.BLAS()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v["winnow"] = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v["revision"] = s.Value
			}
		}
	}
	return v
}

// checkScoringMemory refuses a scoring pass that cannot fit in memory: a
// float64 pass keeps every activation with its adjoint (and, for GraSP,
// their tangents) for the whole scored batch.
func (s *setup) checkScoringMemory(o *netOptions, c prune.Config) error {
	images := int64(o.SamplesPerClass * s.input.Classes)
	copies := int64(2)
	if c.Method == "grasp" {
		copies = 4
		if c.GraSP.SplitHalves {
			images = (images + 1) / 2
		}
	}
	// Three quarters of the copies, for the buffers shared and recomputed
	// (autograd.Recompute), with the float64 network's data, gradient,
	// tangent and Hv and their scratch: measured peaks of winnow prune on
	// CIFAR-10, GraSP on 2 x 50 images, vgg19 1.6 GB (estimated here 2.4),
	// resnet32 1.3 GB (2.7); Tiny-ImageNet, vgg19 on 2 x 100 images at
	// 64x64, 4.5 GB (10.3). (The rule before, three times the copies and no
	// parameters, estimated 4.5, 10.3 and 36 GB, refusing the last here.)
	summary := nn.Summarize(s.model, s.inputCHW()...)
	need := images*summary.Activations*8*copies*3/4 + 8*8*int64(summary.Params)
	avail := availableMemory()
	if avail > 0 && need > avail {
		return fmt.Errorf("%s scoring of %s on batches of %d images needs about %.1f GB, more than the %.1f GB available: "+
			"lower --samples-per-class (and raise --scoring-iters to keep the sample)", c.Method, o.Model, images,
			float64(need)/1e9, float64(avail)/1e9)
	}
	return nil
}

// availableMemory reads MemAvailable from /proc/meminfo (0 if unknown).
func availableMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb int64
		if n, _ := fmt.Sscanf(line, "MemAvailable: %d kB", &kb); n == 1 {
			return kb * 1024
		}
	}
	return 0
}
