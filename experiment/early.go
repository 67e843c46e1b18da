package experiment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/train"
)

// pruneEarly prunes after training, as Synaptic-Flow's multishot
// experiment does with its pre-epochs: for each of the max(1, Shots)
// levels it trains the network at initialisation, with the masks of the
// levels before, for PreEpochs epochs (the first epochs of the run's own
// schedule, in Out/pre-<level>), prunes that trained network by the method
// to density (1-p)^(level/levels), and rewinds the weights to
// initialisation. The run then trains the initial network with the last
// level's masks. A level's training resumes from its checkpoint, and a
// finished one is not trained again.
func pruneEarly(ctx context.Context, st *Setup, rt *Runtime, comm dist.Comm) (*prune.Report, error) {
	s := st.Settings
	if dist.Or(comm).Size() > 1 {
		return nil, bad("pre-epochs", s.PreEpochs, "pruning after training runs in one process")
	}
	levels := max(1, s.Shots)
	cfg := s.TrainConfig()
	cfg.Epochs, cfg.Schedule = s.PreEpochs, prefix(cfg.Schedule, s.Epochs)
	var batches prune.Batches // the same sample scores every level
	if s.PruneConfig().NeedsData() {
		var err error
		if batches, err = scoringSample(ctx, st); err != nil {
			return nil, err
		}
	}
	var masks map[string][]bool
	for l := 1; l <= levels; l++ {
		m, err := models.New[float32](s.Model, st.Input, models.Options{Width: s.Width}, s.Seed)
		if err != nil {
			return nil, err
		}
		if masks != nil {
			if err := prune.ApplyMasks(m, masks); err != nil {
				return nil, err
			}
		}
		dir := filepath.Join(rt.Out, fmt.Sprintf("pre-%d", l))
		final := filepath.Join(dir, train.FinalFile)
		if _, err := os.Stat(final); err == nil {
			if _, err := train.LoadNetwork(final, m); err != nil {
				return nil, fmt.Errorf("--pre-epochs: level %d: %w", l, err)
			}
		} else {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			trainL, testL := st.Loaders(rt.Workers)
			t := &train.Trainer{Model: m, Train: trainL, Test: testL, Config: cfg, Out: dir, Progress: rt.progress(),
				CheckpointEvery: rt.CheckpointEvery, CheckpointInterval: rt.CheckpointInterval}
			if ckpt := filepath.Join(dir, train.CheckpointFile); fileExists(ckpt) {
				if err := t.Resume(ckpt); err != nil {
					return nil, fmt.Errorf("--pre-epochs: level %d: %w", l, err)
				}
			}
			rt.logf("level %d of %d: training %d epochs before pruning, in %s", l, levels, s.PreEpochs, dir)
			if err := t.Run(ctx); err != nil {
				return nil, fmt.Errorf("--pre-epochs: level %d: %w", l, err)
			}
		}
		twin, err := st.Twin()
		if err != nil {
			return nil, err
		}
		nn.CopyState(twin, m)
		if masks != nil {
			if err := prune.ApplyMasks(twin, masks); err != nil {
				return nil, err
			}
		}
		c := s.PruneConfig()
		c.Shots, c.Sparsity = 1, prune.StepSparsity(s.Sparsity, l, levels)
		r, err := prune.Prune(ctx, twin, batches, st.InputCHW(), c)
		if err != nil {
			return nil, err
		}
		masks = r.Masks
	}
	if err := prune.ApplyMasks(st.Model, masks); err != nil {
		return nil, err
	}
	rep := prune.NewReport(st.Model, st.InputCHW(), s.Prune, s.Sparsity)
	return &rep, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// prefix is the schedule of the first epochs of a run of total epochs.
func prefix(s train.Schedule, total int) train.Schedule {
	if ss, ok := s.(train.StepSchedule); ok {
		return prefixSteps{ss, total}
	}
	return prefixEpochs{s, total}
}

type prefixEpochs struct {
	train.Schedule
	total int
}

func (p prefixEpochs) LR(base float64, epoch, _ int) float64 {
	return p.Schedule.LR(base, epoch, p.total)
}

type prefixSteps struct {
	train.StepSchedule
	total int
}

func (p prefixSteps) LR(base float64, epoch, _ int) float64 {
	return p.StepSchedule.LR(base, epoch, p.total)
}

func (p prefixSteps) LRAt(base float64, epoch, step, stepsPerEpoch, _ int) float64 {
	return p.StepSchedule.LRAt(base, epoch, step, stepsPerEpoch, p.total)
}
