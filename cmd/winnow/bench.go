package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/internal/kernels"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/train"
)

type benchOptions struct {
	model    string
	batch    int
	steps    int
	warmup   int
	grasp    bool
	threads  int
	profile  string
	sparsity float64
	method   string
}

func newBenchCommand() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure training throughput and GraSP scoring time on random data; prints one JSON line",
		Long: `Measure, on random CIFAR-sized (or MNIST-sized for the LeNets) inputs:
train_img_s, images per second of forward + backward + SGD step after warm-up;
infer_img_s, images per second of inference (evaluation mode, no gradients);
with --sparsity, both for the network pruned by --prune (default random)
at that sparsity, where products skip the zero weights wherever that pays;
with --grasp, grasp_score_s, seconds to compute the GraSP scores of a fresh
model (float64, exact Hg) on 100 images, 10 per class, as
../shared/bench/torch_ref_bench.py does (masks not included; first, in the
fresh process, as winnow prune runs it), and grasp_peak_rss_mb, the
scoring's own peak memory (on Linux; the peak is reset after it for
training's);
peak_rss_mb (training's; with --sparsity it includes the pruning), threads, blas (the
BLAS of small products) and kernels (avx512: large products on winnow's
micro-kernels; blas: all through the BLAS, on CPUs without AVX-512).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd.Context(), cmd.OutOrStdout(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "vgg19", "model")
	f.IntVar(&o.batch, "batch-size", 64, "batch size")
	f.IntVar(&o.steps, "steps", 5, "timed steps")
	f.IntVar(&o.warmup, "warmup", 2, "untimed steps first")
	f.BoolVar(&o.grasp, "grasp", false, "also time GraSP scoring")
	f.IntVar(&o.threads, "threads", runtime.GOMAXPROCS(0), "threads")
	f.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the timed work to `file` (go tool pprof)")
	f.Float64Var(&o.sparsity, "sparsity", 0, "prune this fraction of the conv and linear weights first (with --prune)")
	f.StringVar(&o.method, "prune", "random", "pruning method for --sparsity (data-free: random, magnitude, synflow)")
	return cmd
}

func runBench(ctx context.Context, w io.Writer, o benchOptions) error {
	_, _, in, err := models.Describe(o.model)
	if err != nil {
		return usageError{err}
	}
	if o.batch < 1 || o.steps < 1 || o.warmup < 0 || o.threads < 1 {
		return usageError{fmt.Errorf("--batch-size, --steps and --threads must be positive")}
	}
	if o.sparsity < 0 || o.sparsity >= 1 {
		return usageError{fmt.Errorf("--sparsity %v: want a fraction in [0, 1)", o.sparsity)}
	}
	if in.Classes > 10 { // ImageNet models: bench at CIFAR-10 size as the reference does for its models
		in = models.Input{Channels: 3, Height: 32, Width: 32, Classes: 10}
	}
	runtime.GOMAXPROCS(o.threads)
	kernels.SetThreads(o.threads)
	out := map[string]any{}
	if o.grasp {
		// First, in a fresh process as a user's prune command runs it, with
		// its own peak (Linux: the high-water mark reset first); then the
		// memory released and the mark reset again for training's.
		reset := resetPeakRSS()
		if err := benchGraSP(ctx, o.model, in, out); err != nil {
			return err
		}
		if reset {
			out["grasp_peak_rss_mb"] = round(peakRSSMB())
		}
		debug.FreeOSMemory()
		resetPeakRSS()
	}
	m, err := models.New[float32](o.model, in, models.Options{}, 0)
	if err != nil {
		return err
	}
	if o.sparsity > 0 {
		if err := pruneForBench(ctx, m, o, in); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(0, 0))
	x := make([]float32, o.batch*in.Channels*in.Height*in.Width)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := make([]int32, o.batch)
	for i := range labels {
		labels[i] = int32(rng.IntN(in.Classes))
	}
	opt := train.NewSGD(nn.Trainable(m), 0.01, 0.9, 5e-4, false)
	tape := autograd.NewTape[float32]()
	step := func() {
		tape.Reset()
		nn.ZeroGrad(m)
		loss := autograd.SoftmaxCrossEntropy(tape, m.Forward(tape, tape.Input(x, in.Shape(o.batch)...)), labels, 1)
		tape.Backward(loss)
		opt.Step()
	}
	for i := 0; i < o.warmup; i++ {
		step()
	}
	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	for i := 0; i < o.steps; i++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		step()
	}
	products := "blas" // the micro-kernels, or every product through the BLAS
	if kernels.DirectLowering() {
		products = "avx512"
	}
	out["model"], out["batch"], out["threads"], out["blas"], out["kernels"] = o.model, o.batch, o.threads, kernels.BLAS(), products
	out["train_img_s"] = round(float64(o.batch*o.steps) / time.Since(start).Seconds())
	if o.sparsity > 0 {
		out["sparsity"], out["prune"] = o.sparsity, o.method
	}
	// Inference: evaluation mode on a tape without gradients, the
	// training tape released first (peak_rss_mb is training's).
	tape = nil
	runtime.GC()
	infer := autograd.NewTape[float32](autograd.NoGrad())
	m.SetTraining(false)
	forward := func() {
		infer.Reset()
		m.Forward(infer, infer.Input(x, in.Shape(o.batch)...))
	}
	for i := 0; i < o.warmup; i++ {
		forward()
	}
	start = time.Now()
	for i := 0; i < o.steps; i++ {
		forward()
	}
	out["infer_img_s"] = round(float64(o.batch*o.steps) / time.Since(start).Seconds())
	out["peak_rss_mb"] = round(peakRSSMB())
	return json.NewEncoder(w).Encode(out)
}

// benchGraSP times GraSP's scores (float64, exact Hg) of a fresh model on
// 100 random images, 10 per class, as the reference does: one batch with
// the weights as they are, no masks.
func benchGraSP(ctx context.Context, model string, in models.Input, out map[string]any) error {
	twin, err := models.New[float64](model, in, models.Options{}, 0)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 0))
	xs := make([]float64, 100*in.Channels*in.Height*in.Width)
	for i := range xs {
		xs[i] = rng.NormFloat64()
	}
	ls := make([]int32, 100)
	for i := range ls {
		ls[i] = int32(i % 10)
	}
	o := prune.DefaultConfig("grasp", 0.9).GraSP
	o.SplitHalves, o.ReinitLinear = false, false
	start := time.Now()
	if _, err := prune.GraSP(ctx, twin, []prune.Batch{{X: xs, Shape: in.Shape(100), Labels: ls}}, o); err != nil {
		return err
	}
	out["grasp_score_s"] = round(time.Since(start).Seconds())
	return nil
}

func round(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// pruneForBench masks m by a data-free method at o.sparsity: the method
// scores a float64 twin with m's weights.
func pruneForBench(ctx context.Context, m nn.Module[float32], o benchOptions, in models.Input) error {
	c := prune.DefaultConfig(o.method, o.sparsity)
	if c.NeedsData() {
		return usageError{fmt.Errorf("--prune %s needs data; bench takes a data-free method (random, magnitude, synflow)", o.method)}
	}
	twin, err := models.New[float64](o.model, in, models.Options{}, 0)
	if err != nil {
		return err
	}
	r, err := prune.Prune(ctx, twin, nil, []int{in.Channels, in.Height, in.Width}, c)
	if err != nil {
		return err
	}
	if err := prune.ApplyMasks(m, r.Masks); err != nil {
		return err
	}
	for _, p := range nn.AllParams(m) {
		p.ApplyMask()
	}
	return nil
}
