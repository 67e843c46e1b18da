package train

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/nn"
)

// Config holds the optimisation settings of a run.
type Config struct {
	Epochs int
	// Optimizer is "sgd" (the default when empty), "adam" or "adamw".
	Optimizer   string
	LR          float64
	Momentum    float64 // sgd
	WeightDecay float64
	Nesterov    bool       // sgd
	Betas       [2]float64 // adam, adamw (zero: 0.9, 0.999, as PyTorch)
	Eps         float64    // adam, adamw (0: 1e-8, as PyTorch)
	Schedule    Schedule
	// LabelSmoothing trains on the cross-entropy against (1-ε) one-hot
	// + ε/C, as torch.nn.CrossEntropyLoss(label_smoothing=ε); evaluation
	// reports the plain cross-entropy.
	LabelSmoothing float64
}

// EpochResult is one row of metrics.csv.
type EpochResult struct {
	Epoch     int     `json:"epoch"` // 1-based
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	TestLoss  float64 `json:"test_loss"`
	TestAcc   float64 `json:"test_acc"`
	TestTop5  float64 `json:"test_top5,omitempty"` // with 100 classes or more
	LR        float64 `json:"lr"`                  // the rate of the epoch's last step
	Seconds   float64 `json:"seconds"`
	ImagesSec float64 `json:"images_per_s"`
	Density   float64 `json:"density"` // kept fraction of prunable weights
}

// Progress receives the trainer's events.
type Progress interface {
	// StartEpoch begins epoch (1-based) of epochs, with batches steps, the
	// first done already (a run resumed mid-epoch).
	StartEpoch(epoch, epochs, batches, done int)
	// Step reports the running means of the epoch after step (1-based).
	Step(step int, loss, acc, imagesPerSec float64)
	EndEpoch(r EpochResult)
}

// NonFiniteError reports a NaN or infinite loss.
type NonFiniteError struct {
	Epoch, Step int // 1-based epoch, 0-based step within it
	Loss        float64
	// Checkpoint describes the last checkpoint kept, or says that there is
	// none.
	Checkpoint string
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("train: loss is %v at epoch %d, step %d: the run stopped; %s", e.Loss, e.Epoch, e.Step, e.Checkpoint)
}

// Trainer runs the epoch loop. Files in Out (when not empty):
// checkpoint.safetensors (written atomically when an epoch's training is
// done, again after its evaluation, every CheckpointEvery steps or
// CheckpointInterval, and at the step boundary where the context is
// cancelled), metrics.csv, final.safetensors.
//
// A run stopped anywhere and resumed from its checkpoint (Resume) computes
// the same weights, bit for bit, as one never stopped: the order and
// augmentation of the data depend only on the loader's seed, the epoch and
// the example.
type Trainer struct {
	Model    nn.Module[float32]
	Train    *data.Loader
	Test     *data.Loader // not shuffled; nil for no evaluation
	Config   Config
	Out      string
	Progress Progress
	Meta     map[string]string // extra metadata for checkpoints

	// CheckpointEvery and CheckpointInterval ask for checkpoints within an
	// epoch, by steps or by time (0: none).
	CheckpointEvery    int
	CheckpointInterval time.Duration

	// Comm, with more than one process, makes the run data-parallel: each
	// process trains on its shard of every batch (Train and Test are
	// sharded loaders, Shard = Comm.Rank()), gradients are summed over the
	// processes in buckets while the backward pass runs, and the
	// processes take the same steps; metrics are the whole batch's. Only
	// the process whose Out is set writes files (rank 0's). See the
	// package doc.
	Comm dist.Comm
	// SyncBatchNorm, with Comm, normalises BatchNorm over the whole batch
	// (every process's shard), as one process would; without it each
	// process normalises its own shard (PyTorch DDP's default).
	SyncBatchNorm bool

	// StartStep begins a fresh run at this step of its schedule: its data
	// order and rates are those of a run that has taken StartStep steps (a
	// network rewound to step k of an earlier run continues from there, as
	// iterative magnitude pruning with rewinding trains). The epochs before
	// it have no metrics; the first has those of its remaining steps.
	StartStep int
	// OnStep, when set, is called after every step with the steps taken
	// since step 0 of the schedule, before any checkpoint at that step
	// boundary; an error stops the run.
	OnStep func(step int) error

	opt     Optimizer
	start   int // the run's first epoch (StartStep's)
	history []EpochResult
	pos     position
	saved   *position // where the last checkpoint written or read stands
}

// position is where a run stands within its epoch.
type position struct {
	Epoch   int     `json:"epoch"` // 0-based epoch under way (= epochs done)
	Step    int     `json:"step"`  // its steps done
	LossSum float64 `json:"loss_sum"`
	Correct float64 `json:"correct"`
	Seen    int     `json:"seen"`
	Seconds float64 `json:"seconds"` // of training so far in the epoch
}

func (t *Trainer) optimizer() (Optimizer, error) {
	if t.opt == nil {
		opt, err := NewOptimizer(t.Config, nn.Trainable(t.Model))
		if err != nil {
			return nil, err
		}
		t.opt = opt
	}
	return t.opt, nil
}

// History returns the results of the epochs done so far.
func (t *Trainer) History() []EpochResult { return t.history }

// Position returns the epochs done and the steps done in the next one.
func (t *Trainer) Position() (epochs, steps int) { return t.pos.Epoch, t.pos.Step }

// LastCheckpoint describes the last checkpoint written or resumed from, for
// messages: "the checkpoint after epoch 2, step 40 (DIR/checkpoint.safetensors)"
// or that none was written.
func (t *Trainer) LastCheckpoint() string {
	if t.saved == nil || t.Out == "" {
		return "no checkpoint was written yet"
	}
	return fmt.Sprintf("the last checkpoint (%s) is in %s", t.saved, t.checkpointPath())
}

func (p *position) String() string {
	if p.Step == 0 {
		return fmt.Sprintf("after epoch %d", p.Epoch)
	}
	return fmt.Sprintf("epoch %d, after step %d", p.Epoch+1, p.Step)
}

// Run trains from where the run stands (the start, or the resumed
// checkpoint) to Config.Epochs. When ctx is cancelled it writes a checkpoint
// at the next step boundary and returns ctx's error.
func (t *Trainer) Run(ctx context.Context) error {
	if t.Config.Epochs < 1 || t.Config.Schedule == nil {
		return fmt.Errorf("train: %d epochs, schedule %v", t.Config.Epochs, t.Config.Schedule)
	}
	if t.pos.Epoch > t.Config.Epochs {
		return fmt.Errorf("train: %d epochs done, more than the %d asked for", t.pos.Epoch, t.Config.Epochs)
	}
	if t.Train.Dataset.Len() == 0 {
		return fmt.Errorf("train: the training set is empty")
	}
	if t.Test != nil && t.Test.Dataset.Len() == 0 {
		return fmt.Errorf("train: the evaluation set is empty")
	}
	if !(t.Config.LabelSmoothing >= 0 && t.Config.LabelSmoothing < 1) {
		return fmt.Errorf("train: label smoothing %v outside [0, 1)", t.Config.LabelSmoothing)
	}
	opt, err := t.optimizer()
	if err != nil {
		return err
	}
	nb := t.Train.NumBatches()
	if t.StartStep < 0 || t.StartStep >= t.Config.Epochs*nb {
		return fmt.Errorf("train: start step %d outside the run's %d steps", t.StartStep, t.Config.Epochs*nb)
	}
	if t.saved == nil && t.pos == (position{}) && len(t.history) == 0 {
		t.pos = position{Epoch: t.StartStep / nb, Step: t.StartStep % nb}
		t.start = t.pos.Epoch
	}
	for _, p := range nn.AllParams(t.Model) {
		p.ApplyMask()
	}
	tape := autograd.NewTape[float32]()
	params := nn.AllParams(t.Model)
	comm := dist.Or(t.Comm)
	var gsync *GradientSync
	// A data-parallel run stops where the processes agree (the step's
	// sums): no process's loader stops on its own.
	loadCtx := ctx
	if comm.Size() > 1 {
		loadCtx = context.WithoutCancel(ctx)
		gsync = NewGradientSync(comm, tape, t.Model, t.SyncBatchNorm)
		defer gsync.Close()
	}
	for t.pos.Epoch < t.Config.Epochs {
		epoch := t.pos.Epoch
		lr := t.Config.Schedule.LR(t.Config.LR, epoch, t.Config.Epochs)
		perStep, _ := t.Config.Schedule.(StepSchedule)
		if perStep != nil {
			lr = perStep.LRAt(t.Config.LR, epoch, t.pos.Step, nb, t.Config.Epochs)
		}
		opt.SetLR(lr)
		start := time.Now()
		lastSave := start
		t.Model.SetTraining(true)
		if t.Progress != nil {
			t.Progress.StartEpoch(epoch+1, t.Config.Epochs, nb, t.pos.Step)
		}
		if t.pos.Step < nb {
			for b, err := range t.Train.BatchesFrom(loadCtx, epoch, t.pos.Step) {
				if err != nil {
					if ctx.Err() != nil {
						return t.interrupted(ctx, start)
					}
					return err
				}
				if perStep != nil {
					opt.SetLR(perStep.LRAt(t.Config.LR, epoch, t.pos.Step, nb, t.Config.Epochs))
				}
				tape.Reset()
				for _, p := range params {
					p.ZeroGrad()
				}
				logits := t.Model.Forward(tape, tape.Input(b.X, b.Shape()...))
				loss := autograd.SmoothedSoftmaxCrossEntropy(tape, logits, b.Labels, 1, float32(t.Config.LabelSmoothing))
				l := float64(loss.Value[0])
				// The step's sums over the whole batch (every process's
				// shard): loss, correct, examples, and whether any process
				// was interrupted, so that all stop at the same step.
				stop := 0.0
				if ctx.Err() != nil {
					stop = 1
				}
				step := []float64{l * float64(b.N), float64(countCorrect(logits.Value, b.Labels, 1)), float64(b.N), stop}
				if err := comm.SumFloat64(step); err != nil {
					return err
				}
				if sum := step[0]; math.IsNaN(sum) || math.IsInf(sum, 0) {
					return &NonFiniteError{Epoch: epoch + 1, Step: t.pos.Step, Loss: sum / step[2], Checkpoint: t.LastCheckpoint()}
				}
				if step[3] > 0 {
					return t.interrupted(ctx, start)
				}
				// The gradient of the whole batch's mean loss: this shard's
				// share of it, summed over the processes.
				if comm.Size() > 1 {
					if err := gsync.Backward(tape, loss, float64(b.N)/step[2]); err != nil {
						return err
					}
				} else {
					tape.Backward(loss)
				}
				opt.Step()
				t.pos.LossSum += step[0]
				t.pos.Correct += step[1]
				t.pos.Seen += int(step[2])
				t.pos.Step++
				if t.OnStep != nil {
					if err := t.OnStep(epoch*nb + t.pos.Step); err != nil {
						return err
					}
				}
				secs := t.pos.Seconds + time.Since(start).Seconds()
				if t.Progress != nil {
					t.Progress.Step(t.pos.Step, t.pos.LossSum/float64(t.pos.Seen), t.pos.Correct/float64(t.pos.Seen), float64(t.pos.Seen)/secs)
				}
				due := (t.CheckpointEvery > 0 && t.pos.Step%t.CheckpointEvery == 0) ||
					(t.CheckpointInterval > 0 && time.Since(lastSave) >= t.CheckpointInterval)
				if due && t.pos.Step < nb {
					if err := t.saveAt(start); err != nil {
						return err
					}
					lastSave = time.Now()
				}
			}
			if err := nn.CheckMasks(t.Model); err != nil {
				return fmt.Errorf("train: epoch %d: %w", epoch+1, err)
			}
			t.pos.Seconds += time.Since(start).Seconds()
			start = time.Now()
			// The epoch's training is kept before its evaluation, which
			// may fail (bad test data) or be interrupted.
			if err := t.saveAt(start); err != nil {
				return err
			}
		}
		r := EpochResult{Epoch: epoch + 1, TrainLoss: t.pos.LossSum / float64(t.pos.Seen), TrainAcc: t.pos.Correct / float64(t.pos.Seen), LR: lr,
			ImagesSec: float64(t.pos.Seen) / t.pos.Seconds}
		if perStep != nil { // the rate of the epoch's last step
			r.LR = perStep.LRAt(t.Config.LR, epoch, nb-1, nb, t.Config.Epochs)
		}
		kept, total := nn.Density(t.Model)
		r.Density = float64(kept) / float64(total)
		if comm.Size() > 1 {
			// Processes keep their own running statistics where BatchNorm
			// is not synchronised: rank 0's are the run's, as PyTorch's DDP
			// broadcasts them.
			if err := broadcastBuffers(comm, t.Model); err != nil {
				return err
			}
		}
		if t.Test != nil {
			ev, err := EvaluateOn(loadCtx, t.Model, t.Test, comm)
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("%w (interrupted in the evaluation of epoch %d; %s)", ctx.Err(), epoch+1, t.LastCheckpoint())
				}
				return fmt.Errorf("train: evaluation after epoch %d: %w (%s)", epoch+1, err, t.LastCheckpoint())
			}
			r.TestLoss, r.TestAcc, r.TestTop5 = ev.Loss, ev.Top1, ev.Top5
		}
		r.Seconds = t.pos.Seconds + time.Since(start).Seconds() // training and evaluation
		t.history = append(t.history, r)
		t.pos = position{Epoch: epoch + 1}
		if err := t.save(); err != nil {
			return err
		}
		if t.Progress != nil {
			t.Progress.EndEpoch(r)
		}
	}
	return t.finish()
}

// saveAt checkpoints the epoch under way, its training time counted to now.
func (t *Trainer) saveAt(start time.Time) error {
	p := t.pos
	p.Seconds += time.Since(start).Seconds()
	return t.saveWith(p)
}

// interrupted checkpoints at the step boundary reached and returns ctx's
// error with where the run stands.
func (t *Trainer) interrupted(ctx context.Context, start time.Time) error {
	cause := ctx.Err()
	if cause == nil { // another process of a data-parallel run was
		cause = errOtherInterrupted
	}
	if t.pos.Step > 0 || t.pos.Epoch > 0 {
		if err := t.saveAt(start); err != nil {
			return fmt.Errorf("%w; writing the checkpoint failed: %v", cause, err)
		}
	}
	return fmt.Errorf("%w (%s)", cause, t.LastCheckpoint())
}

// errOtherInterrupted stops the processes of a data-parallel run that were
// not interrupted themselves at the step where one was.
var errOtherInterrupted = fmt.Errorf("another process of the run was interrupted: %w", context.Canceled)
