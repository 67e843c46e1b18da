package train

import (
	"fmt"
	"io"
	"time"
)

// LineProgress prints a line per epoch and, within an epoch, a line every
// Every steps or every Interval (whichever comes first; both 0: none), as a
// log that is read later (a cluster job's) needs.
type LineProgress struct {
	W        io.Writer
	Every    int
	Interval time.Duration

	epoch, epochs, batches int
	last                   time.Time
}

// StartEpoch implements Progress.
func (p *LineProgress) StartEpoch(epoch, epochs, batches, done int) {
	p.epoch, p.epochs, p.batches, p.last = epoch, epochs, batches, time.Now()
	if done > 0 && done < batches {
		fmt.Fprintf(p.W, "epoch %d/%d: from step %d of %d\n", epoch, epochs, done+1, batches)
	}
}

// Step implements Progress.
func (p *LineProgress) Step(step int, loss, acc, imagesPerSec float64) {
	due := (p.Every > 0 && step%p.Every == 0) || (p.Interval > 0 && time.Since(p.last) >= p.Interval)
	if !due || step == p.batches {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.W, "epoch %d/%d step %d/%d: train loss %.4f acc %.4f | %.0f img/s\n", p.epoch, p.epochs, step, p.batches, loss, acc, imagesPerSec)
}

// EndEpoch implements Progress.
func (p *LineProgress) EndEpoch(r EpochResult) { WriteEpochLine(p.W, r) }

// WriteEpochLine prints an epoch's metrics on one line.
func WriteEpochLine(w io.Writer, r EpochResult) {
	top5 := ""
	if r.TestTop5 > 0 {
		top5 = fmt.Sprintf(" top5 %.4f", r.TestTop5)
	}
	fmt.Fprintf(w, "epoch %d: train loss %.4f acc %.4f | test loss %.4f acc %.4f%s | lr %.4g | %.0f img/s | %.1f s | density %.4f\n",
		r.Epoch, r.TrainLoss, r.TrainAcc, r.TestLoss, r.TestAcc, top5, r.LR, r.ImagesSec, r.Seconds, r.Density)
}
