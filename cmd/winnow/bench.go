package main

import (
	"context"
	"io"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/experiment"
)

func newBenchCommand() *cobra.Command {
	o := experiment.BenchSettings{Model: "vgg19", BatchSize: 64, Steps: 5, Warmup: 2, Threads: runtime.GOMAXPROCS(0), Method: "random"}
	cmd := &cobra.Command{
		Annotations: map[string]string{dataParallel: "yes"},
		Use:         "bench",
		Short:       "Measure training throughput and GraSP scoring time on random data; prints one JSON line",
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
training's); peak_rss_mb (training's; with --sparsity it includes the
pruning), threads, blas (the BLAS of small products) and kernels (avx512:
large products on winnow's micro-kernels; blas: all through the BLAS, on
CPUs without AVX-512).

Under mpirun (the mpi build), the processes time data-parallel steps:
each takes its share of every batch of --batch-size, gradients are summed
as winnow train sums them (BatchNorm synchronised), images per second are
the whole batch's; allreduce_s is the seconds to sum one whole gradient,
allreduce_mb_s one process's gradient megabytes a second.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd.Context(), cmd.OutOrStdout(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", o.Model, "model")
	f.IntVar(&o.BatchSize, "batch-size", o.BatchSize, "batch size")
	f.IntVar(&o.Steps, "steps", o.Steps, "timed steps")
	f.IntVar(&o.Warmup, "warmup", o.Warmup, "untimed steps first")
	f.BoolVar(&o.GraSP, "grasp", false, "also time GraSP scoring")
	f.IntVar(&o.Threads, "threads", o.Threads, "threads")
	f.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the timed work to `file` (go tool pprof)")
	f.Float64Var(&o.Sparsity, "sparsity", 0, "prune this fraction of the conv and linear weights first (with --prune)")
	f.StringVar(&o.BN, "bn", "sync", "under mpirun: BatchNorm over the whole batch (sync) or each process's share (local), as train's --bn")
	f.StringVar(&o.Method, "prune", o.Method, "pruning method for --sparsity (data-free: random, magnitude, synflow)")
	return cmd
}

func runBench(ctx context.Context, w io.Writer, o experiment.BenchSettings) error {
	o.Comm = world(ctx)
	r, err := experiment.Bench(ctx, o)
	if err != nil || o.Comm.Rank() != 0 {
		return err
	}
	return r.Write(w)
}
