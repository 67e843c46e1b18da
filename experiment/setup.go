package experiment

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/internal/mem"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/safetensors"
	"github.com/winnow-ml/winnow/train"
)

// Setup is what a run needs: its data, the model built for them, and notes
// on anything unusual about the data.
type Setup struct {
	Settings    Settings
	Data        *data.Splits
	Train, Test data.Dataset // the splits after LimitTrain and LimitTest
	Info        data.Info    // with the normalisation the run uses
	Input       models.Input
	Model       nn.Module[float32]
	Notes       []string
}

// Open reads a run's data, checks them (every file present, every header
// readable, the test classes those of training) and builds the model at
// initialisation, checking that it takes the data's inputs. Nothing long
// runs before these checks.
func Open(ctx context.Context, s Settings) (*Setup, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	d, err := data.OpenSplits(s.Dataset, s.DataDir, data.Options{ImageSize: s.ImageSize, Crop: s.Crop})
	if err != nil {
		return nil, err
	}
	st := &Setup{Settings: s, Data: d, Info: d.Info, Notes: d.Notes}
	if len(s.Mean) > 0 {
		if len(s.Mean) != st.Info.Channels {
			return nil, bad("mean", s.Mean, "%d values for the %d channels of %s", len(s.Mean), st.Info.Channels, s.Dataset)
		}
		st.Info.Mean, st.Info.Std, st.Info.StatsFrom = nil, nil, "given (--mean, --std)"
		for i := range s.Mean {
			st.Info.Mean = append(st.Info.Mean, float32(s.Mean[i]))
			st.Info.Std = append(st.Info.Std, float32(s.Std[i]))
		}
	}
	st.Train, st.Test = data.Limit(d.Train, s.LimitTrain), data.Limit(d.Test, s.LimitTest)
	st.Input = models.Input{Channels: st.Info.Channels, Height: st.Info.Height, Width: st.Info.Width, Classes: d.Train.Classes()}
	st.Model, err = models.New[float32](s.Model, st.Input, models.Options{Width: s.Width}, s.Seed)
	if err != nil {
		return nil, fmt.Errorf("%s cannot be built for the %dx%dx%d images of %s (%s): %w", s.Model, st.Input.Channels, st.Input.Height, st.Input.Width, s.Dataset, d.Dir, err)
	}
	if err := nn.CheckInput(st.Model, st.Input.Classes, st.InputCHW()...); err != nil {
		return nil, fmt.Errorf("%s cannot take the %dx%dx%d images of %s (%s): %w", s.Model, st.Input.Channels, st.Input.Height, st.Input.Width, s.Dataset, d.Dir, err)
	}
	for _, ds := range []data.Dataset{st.Train, st.Test} {
		if err := data.Verify(ctx, ds); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// LoadNetwork loads a saved network into the setup's model (see
// train.LoadNetwork), with its masks: those in the file, or, for a run's
// final.safetensors (which loads into PyTorch and holds none), the run's
// mask.safetensors beside it. It checks that the network takes the data's
// inputs.
func (st *Setup) LoadNetwork(path string) (masked bool, err error) {
	if masked, err = train.LoadNetwork(path, st.Model); err != nil {
		return false, err
	}
	if beside := filepath.Join(filepath.Dir(path), MaskFile); !masked && filepath.Base(path) == train.FinalFile {
		if f, err := safetensors.ReadFile(beside); err == nil && len(f.Tensors) > 0 { // a dense run's holds none
			if err := LoadMasks(beside, st.Model); err != nil {
				return false, err
			}
			masked = true
		}
	}
	if err := nn.CheckInput(st.Model, st.Input.Classes, st.InputCHW()...); err != nil {
		return false, fmt.Errorf("%s: the network it holds does not take the %dx%dx%d inputs of %s: %w", path,
			st.Input.Channels, st.Input.Height, st.Input.Width, st.Settings.Dataset, err)
	}
	return masked, nil
}

// InputCHW is the shape of one input.
func (st *Setup) InputCHW() []int { return []int{st.Input.Channels, st.Input.Height, st.Input.Width} }

// Twin builds a float64 network of the model's architecture, for scoring.
func (st *Setup) Twin() (nn.Module[float64], error) {
	return models.New[float64](st.Settings.Model, st.Input, models.Options{Width: st.Settings.Width}, st.Settings.Seed)
}

// Loaders are the training and evaluation loaders of the settings.
func (st *Setup) Loaders(workers int) (trainL, testL *data.Loader) {
	s := st.Settings
	trainL = &data.Loader{Dataset: st.Train, Transform: data.PipelineFor(st.Info, true), BatchSize: s.BatchSize, Shuffle: true, Seed: s.Seed, Workers: workers}
	testL = &data.Loader{Dataset: st.Test, Transform: data.PipelineFor(st.Info, false), BatchSize: s.evalBatch(), Workers: workers}
	return trainL, testL
}

// ScoringBatches draws the class-balanced scoring sample of every
// iteration, samples per class of each class, after the training
// transforms, as float64 batches: GraSP's and SNIP's data.
func ScoringBatches(ctx context.Context, train data.Dataset, info data.Info, perClass, iters int, seed uint64) ([]prune.Batch, error) {
	tf := data.PipelineFor(info, true)
	var out []prune.Batch
	for it := 0; it < iters; it++ {
		idx, err := data.BalancedSample(train, perClass, seed+uint64(it)*7919)
		if err != nil {
			return nil, err
		}
		l := &data.Loader{Dataset: data.Subset{Dataset: train, Indices: idx}, Transform: tf, BatchSize: len(idx), Seed: seed + uint64(it), Workers: 1}
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

// ShuffledBatches is the scoring sample of the official ImageNet GraSP
// code: the first iters batches of size examples of the training set in a
// shuffled order of the seed, after the training transforms. It is read
// from the data at each pass over it, not held.
func ShuffledBatches(ctx context.Context, train data.Dataset, info data.Info, size, iters int, seed uint64) (prune.Batches, error) {
	l := &data.Loader{Dataset: train, Transform: data.PipelineFor(info, true), BatchSize: size, Shuffle: true, Seed: seed ^ 0x5c0e, Workers: 2}
	if n := l.NumBatches(); iters > n {
		return nil, bad("scoring-iters", iters, "more batches of %d than the %d training examples make (%d)", size, train.Len(), n)
	}
	return &loaderBatches{ctx: ctx, l: l, n: iters}, nil
}

type loaderBatches struct {
	ctx context.Context
	l   *data.Loader
	n   int
}

func (b *loaderBatches) Len() int { return b.n }

func (b *loaderBatches) Size(i int) int {
	return min(b.l.BatchSize, b.l.Dataset.Len()-i*b.l.BatchSize)
}

func (b *loaderBatches) Batch(i int) (prune.Batch, error) {
	for x, err := range b.l.BatchesFrom(b.ctx, 0, i) {
		if err != nil {
			return prune.Batch{}, err
		}
		v := make([]float64, len(x.X))
		for j, f := range x.X {
			v[j] = float64(f)
		}
		return prune.Batch{X: v, Shape: x.Shape(), Labels: x.Labels}, nil
	}
	return prune.Batch{}, fmt.Errorf("no batch %d", i)
}

// scoringSample is the settings' scoring sample: shuffled batches of
// --scoring-batch examples (the ImageNet code's), or the class-balanced
// sample (the CIFAR code's).
func scoringSample(ctx context.Context, st *Setup) (prune.Batches, error) {
	s := st.Settings
	if s.ScoringBatch > 0 {
		return ShuffledBatches(ctx, st.Train, st.Info, s.ScoringBatch, s.ScoringIters, s.Seed)
	}
	b, err := ScoringBatches(ctx, st.Train, st.Info, s.SamplesPerClass, s.ScoringIters, s.Seed)
	if err != nil {
		return nil, fmt.Errorf("--samples-per-class %d: %w", s.SamplesPerClass, err)
	}
	return prune.List(b), nil
}

// Prune scores a fresh network of the settings at initialisation (as Train
// does before training) and puts the masks on the setup's model.
//
// With comm, the processes of a data-parallel run share the scoring batches
// (prune.Config.Comm): every one gets the same masks.
func Prune(ctx context.Context, s Settings, comm dist.Comm) (*Setup, *prune.Pruned, error) {
	if s.Prune == "none" {
		return nil, nil, bad("prune", s.Prune, "winnow prune needs a method")
	}
	st, err := Open(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	p, err := pruneAtInit(ctx, st, comm)
	if err != nil {
		return nil, nil, err
	}
	if err := checkCollapse(st, nil); err != nil {
		return nil, nil, err
	}
	return st, p, nil
}

// checkCollapse refuses masks that leave no path from the input to the
// output (nn.CheckConnected), or, with --allow-collapse, adds the finding
// to the setup's notes, logs it to rt's log (rt not nil) and goes on.
func checkCollapse(st *Setup, rt *Runtime) error {
	err := nn.CheckConnected(st.Model, st.InputCHW())
	var de *nn.DisconnectedError
	if !errors.As(err, &de) {
		return err
	}
	what := fmt.Sprintf("--prune %s at --sparsity %g", st.Settings.Prune, st.Settings.Sparsity)
	if st.Settings.Prune == "none" {
		what = "the masks of --mask " + st.Settings.Mask + st.Settings.Init
		if st.Settings.Mask == "" {
			what = "the masks of --init " + st.Settings.Init
		}
	}
	if st.Settings.AllowCollapse {
		note := fmt.Sprintf("warning: %s: %v (--allow-collapse: trained anyway)", what, err)
		st.Notes = append(st.Notes, note)
		if rt != nil {
			rt.logf("%s", note)
		}
		return nil
	}
	return &UsageError{fmt.Errorf("%s: %v: the network cannot learn; prune less, use --min-layer-density, or give --allow-collapse to train it anyway", what, err)}
}

// pruneAtInit prunes the setup's fresh model: the memory of the scoring
// pass checked first, then the scoring sample drawn and scored.
func pruneAtInit(ctx context.Context, st *Setup, comm dist.Comm) (*prune.Pruned, error) {
	s := st.Settings
	c := s.PruneConfig()
	c.Comm = comm
	twin, err := st.Twin()
	if err != nil {
		return nil, err
	}
	var batches prune.Batches
	if c.NeedsData() {
		images := s.SamplesPerClass * st.Input.Classes
		if s.ScoringBatch > 0 {
			images = s.ScoringBatch
		}
		if err := prune.CheckScoringMemory(twin, st.InputCHW(), images, c, mem.Available()); err != nil {
			return nil, err
		}
		if batches, err = scoringSample(ctx, st); err != nil {
			return nil, err
		}
	}
	return prune.AtInit(ctx, st.Model, twin, batches, st.InputCHW(), c)
}
