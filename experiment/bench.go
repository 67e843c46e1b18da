package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/internal/kernels"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/train"
)

// BenchSettings choose what Bench measures.
type BenchSettings struct {
	Model      string
	BatchSize  int
	Steps      int // timed steps
	Warmup     int // untimed steps first
	GraSP      bool
	Threads    int
	Sparsity   float64 // prune this fraction first (with Method)
	Method     string  // a data-free method for Sparsity
	CPUProfile string  // write a CPU profile of the timed work here
	// Comm, with several processes, times data-parallel steps: each
	// process a share of every batch of BatchSize, gradients summed as
	// train does, and the sum of one whole gradient alone. BN is train's
	// --bn: sync (BatchNorm over the whole batch; "" too) or local.
	Comm dist.Comm
	BN   string
}

// BenchResult is one line of winnow bench: training and inference images
// per second, GraSP scoring seconds, peak memory.
type BenchResult struct {
	Model          string  `json:"model"`
	Batch          int     `json:"batch"`
	Threads        int     `json:"threads"`
	BLAS           string  `json:"blas"`
	Kernels        string  `json:"kernels"`
	TrainImgS      float64 `json:"train_img_s"`
	InferImgS      float64 `json:"infer_img_s"`
	PeakRSSMB      float64 `json:"peak_rss_mb"`
	GraSPScoreS    float64 `json:"grasp_score_s,omitempty"`
	GraSPPeakRSSMB float64 `json:"grasp_peak_rss_mb,omitempty"`
	Sparsity       float64 `json:"sparsity,omitempty"`
	Prune          string  `json:"prune,omitempty"`
	Density        float64 `json:"density"` // kept fraction of the conv and linear weights trained
	Steps          int     `json:"steps"`   // timed steps
	Processes      int     `json:"processes"`
	BN             string  `json:"bn,omitempty"` // with several processes: sync or local
	// AllreduceS is the seconds to sum one whole float32 gradient over the
	// processes in train's buckets, AllreduceMBs its megabytes (of one
	// process's gradient) a second.
	AllreduceS   float64 `json:"allreduce_s,omitempty"`
	AllreduceMBs float64 `json:"allreduce_mb_s,omitempty"`
}

// Bench measures, on random CIFAR-sized (MNIST-sized for the LeNets)
// inputs: images per second of training steps (forward, backward, SGD)
// and of inference; with GraSP, the seconds of GraSP's scores of a fresh
// model (float64, exact Hg) on 100 images, 10 per class, as
// ../shared/bench/torch_ref_bench.py does, first, in the fresh process,
// with its own peak memory; with Sparsity, the network pruned by a
// data-free method first.
func Bench(ctx context.Context, o BenchSettings) (*BenchResult, error) {
	_, _, in, err := models.Describe(o.Model)
	if err != nil {
		return nil, bad("model", o.Model, "%v", err)
	}
	if o.BatchSize < 1 || o.Steps < 1 || o.Warmup < 0 || o.Threads < 1 {
		return nil, bad("steps", o.Steps, "--batch-size, --steps and --threads must be positive, --warmup not negative")
	}
	if !finite(o.Sparsity) || o.Sparsity < 0 || o.Sparsity >= 1 {
		return nil, bad("sparsity", o.Sparsity, "want a fraction in [0, 1)")
	}
	comm := dist.Or(o.Comm)
	if comm.Size() > 1 && o.BatchSize < comm.Size() {
		return nil, bad("batch-size", o.BatchSize, "smaller than the %d processes, each of which takes a share of every batch", comm.Size())
	}
	if o.BN != "" && o.BN != "sync" && o.BN != "local" {
		return nil, bad("bn", o.BN, "want sync or local")
	}
	if comm.Size() > 1 && o.GraSP {
		return nil, bad("grasp", true, "under mpirun: GraSP's scoring shares whole batches, and the benchmark's one batch would go to one process; time it in one process")
	}
	if o.Sparsity > 0 && prune.DefaultConfig(o.Method, o.Sparsity).NeedsData() {
		return nil, bad("prune", o.Method, "needs data; bench takes a data-free method (random, magnitude, synflow)")
	}
	if in.Classes > 10 { // ImageNet models: at CIFAR-10 size, as the reference benchmarks them
		in = models.Input{Channels: 3, Height: 32, Width: 32, Classes: 10}
	}
	runtime.GOMAXPROCS(o.Threads)
	r := &BenchResult{Model: o.Model, Batch: o.BatchSize, Threads: o.Threads, BLAS: kernels.BLAS(), Kernels: "blas", Processes: comm.Size()}
	if comm.Size() > 1 {
		r.BN = "sync"
		if o.BN == "local" {
			r.BN = "local"
		}
	}
	if kernels.DirectLowering() {
		r.Kernels = "avx512"
	}
	if o.GraSP {
		reset := resetPeakRSS()
		if r.GraSPScoreS, err = benchGraSP(ctx, o.Model, in); err != nil {
			return nil, err
		}
		if reset {
			r.GraSPPeakRSSMB = round3(peakRSSMB())
		}
		debug.FreeOSMemory()
		resetPeakRSS()
	}
	m, err := models.New[float32](o.Model, in, models.Options{}, 0)
	if err != nil {
		return nil, err
	}
	if o.Sparsity > 0 {
		if err := pruneForBench(ctx, m, o, in); err != nil {
			return nil, err
		}
		r.Sparsity, r.Prune = o.Sparsity, o.Method
	}
	kept, total := nn.Density(m)
	r.Density, r.Steps = float64(kept)/float64(total), o.Steps
	// This process's share of the batch, its own random images.
	lo, hi := dist.Shard(o.BatchSize, comm.Rank(), comm.Size())
	n := hi - lo
	rng := rand.New(rand.NewPCG(uint64(comm.Rank()), 0))
	x := make([]float32, n*in.Channels*in.Height*in.Width)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(rng.IntN(in.Classes))
	}
	opt := train.NewSGD(nn.Trainable(m), 0.01, 0.9, 5e-4, false)
	tape := autograd.NewTape[float32]()
	var gsync *train.GradientSync
	if comm.Size() > 1 {
		gsync = train.NewGradientSync(comm, tape, m, o.BN != "local")
		defer func() {
			if gsync != nil {
				gsync.Close()
			}
		}()
	}
	var stepErr error
	step := func() {
		tape.Reset()
		nn.ZeroGrad(m)
		loss := autograd.SoftmaxCrossEntropy(tape, m.Forward(tape, tape.Input(x, in.Shape(n)...)), labels, 1)
		if gsync != nil {
			stepErr = errors.Join(stepErr, gsync.Backward(tape, loss, float64(n)/float64(o.BatchSize)))
		} else {
			tape.Backward(loss)
		}
		opt.Step()
	}
	for i := 0; i < o.Warmup; i++ {
		step()
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	// The processes start together and the slowest one's time counts.
	if err := dist.Agree(comm, stepErr); err != nil {
		return nil, err
	}
	start := time.Now()
	for i := 0; i < o.Steps; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		step()
	}
	if err := dist.Agree(comm, stepErr); err != nil {
		return nil, err
	}
	r.TrainImgS = round3(float64(o.BatchSize*o.Steps) / time.Since(start).Seconds())
	// Inference: evaluation mode on a tape without gradients, the
	// training tape released first (PeakRSSMB is training's).
	if gsync != nil {
		gsync.Close()
		gsync = nil
	}
	tape = nil
	runtime.GC()
	infer := autograd.NewTape[float32](autograd.NoGrad())
	m.SetTraining(false)
	forward := func() {
		infer.Reset()
		m.Forward(infer, infer.Input(x, in.Shape(n)...))
	}
	for i := 0; i < o.Warmup; i++ {
		forward()
	}
	if err := dist.Agree(comm, nil); err != nil {
		return nil, err
	}
	start = time.Now()
	for i := 0; i < o.Steps; i++ {
		forward()
	}
	if err := dist.Agree(comm, nil); err != nil {
		return nil, err
	}
	r.InferImgS = round3(float64(o.BatchSize*o.Steps) / time.Since(start).Seconds())
	r.PeakRSSMB = round3(peakRSSMB())
	if comm.Size() > 1 {
		if r.AllreduceS, err = benchAllreduce(comm, m, o.Steps); err != nil {
			return nil, err
		}
		r.AllreduceMBs = round3(4 * float64(trainableValues(m)) / 1e6 / r.AllreduceS)
	}
	return r, nil
}

// trainableValues is the number of m's trainable values (its gradient's).
func trainableValues(m nn.Module[float32]) int {
	n := 0
	for _, p := range nn.Trainable(m) {
		n += p.Len()
	}
	return n
}

// benchAllreduce times the sum over the processes of a gradient the size
// of m's, in train's buckets, the mean of steps sums after one untimed.
func benchAllreduce(comm dist.Comm, m nn.Module[float32], steps int) (float64, error) {
	buf := make([]float32, trainableValues(m))
	sum := func() error {
		for b := buf; len(b) > 0; {
			k := min(len(b), train.BucketValues)
			if err := comm.SumFloat32(b[:k]); err != nil {
				return err
			}
			b = b[k:]
		}
		return nil
	}
	if err := sum(); err != nil {
		return 0, err
	}
	start := time.Now()
	for i := 0; i < steps; i++ {
		if err := sum(); err != nil {
			return 0, err
		}
	}
	s := time.Since(start).Seconds() / float64(steps)
	return float64(int64(s*1e6+0.5)) / 1e6, nil
}

// benchGraSP times GraSP's scores (float64, exact Hg) of a fresh model on
// 100 random images, 10 per class, as the reference does: one batch with
// the weights as they are, no masks.
func benchGraSP(ctx context.Context, model string, in models.Input) (float64, error) {
	twin, err := models.New[float64](model, in, models.Options{}, 0)
	if err != nil {
		return 0, err
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
	if _, err := prune.GraSP(ctx, twin, prune.List{{X: xs, Shape: in.Shape(100), Labels: ls}}, o); err != nil {
		return 0, err
	}
	return round3(time.Since(start).Seconds()), nil
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// pruneForBench masks m by a data-free method: the method scores a
// float64 twin with m's weights.
func pruneForBench(ctx context.Context, m nn.Module[float32], o BenchSettings, in models.Input) error {
	twin, err := models.New[float64](o.Model, in, models.Options{}, 0)
	if err != nil {
		return err
	}
	_, err = prune.AtInit(ctx, m, twin, nil, []int{in.Channels, in.Height, in.Width}, prune.DefaultConfig(o.Method, o.Sparsity))
	return err
}

// WriteBench prints the result as one JSON line.
func (r *BenchResult) Write(w io.Writer) error { return writeJSONLine(w, r) }

func writeJSONLine(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
