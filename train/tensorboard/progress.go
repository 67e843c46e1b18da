package tensorboard

import (
	"github.com/winnow-ml/winnow/train"
)

// Progress writes a training run's metrics as scalars at the global step
// (steps done since the run began) and passes every event on to Next (nil
// for none): per step the epoch's running means "train/loss" and
// "train/acc" and "train/images_per_s"; per epoch "epoch/train_loss",
// "epoch/train_acc", "epoch/test_loss", "epoch/test_acc", "epoch/lr" and
// "epoch/density". A run resumed mid-way writes a session start at the
// step it resumes from, so that TensorBoard drops what an interrupted
// process wrote after its checkpoint. Write errors are kept in Err.
type Progress struct {
	W    *Writer
	Next train.Progress

	epoch, batches int
	started        bool
	err            error
}

// Err returns the first error writing the events.
func (p *Progress) Err() error { return p.err }

func (p *Progress) keep(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *Progress) global(step int) int64 { return int64((p.epoch-1)*p.batches + step) }

// StartEpoch implements train.Progress.
func (p *Progress) StartEpoch(epoch, epochs, batches, done int) {
	p.epoch, p.batches = epoch, batches
	if !p.started {
		p.started = true
		if epoch > 1 || done > 0 {
			p.keep(p.W.Start(p.global(done) + 1))
		}
	}
	if p.Next != nil {
		p.Next.StartEpoch(epoch, epochs, batches, done)
	}
}

// Step implements train.Progress.
func (p *Progress) Step(step int, loss, acc, imagesPerSec float64) {
	p.keep(p.W.Scalars(p.global(step), map[string]float64{"train/loss": loss, "train/acc": acc, "train/images_per_s": imagesPerSec}))
	if p.Next != nil {
		p.Next.Step(step, loss, acc, imagesPerSec)
	}
}

// EndEpoch implements train.Progress.
func (p *Progress) EndEpoch(r train.EpochResult) {
	p.keep(p.W.Scalars(p.global(p.batches), map[string]float64{"epoch/train_loss": r.TrainLoss, "epoch/train_acc": r.TrainAcc,
		"epoch/test_loss": r.TestLoss, "epoch/test_acc": r.TestAcc, "epoch/lr": r.LR, "epoch/density": r.Density}))
	p.keep(p.W.Flush())
	if p.Next != nil {
		p.Next.EndEpoch(r)
	}
}
