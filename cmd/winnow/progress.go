package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/winnow-ml/winnow/train"
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// bar shows a progress bar per epoch on a terminal, and a line per epoch.
type bar struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func newBar(w io.Writer) *bar { return &bar{w: w} }

func (p *bar) StartEpoch(epoch, epochs, batches, done int) {
	p.bar = progressbar.NewOptions(batches, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch, epochs)),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
	if done > 0 {
		p.bar.Set(done)
	}
}

func (p *bar) Step(step int, loss, acc, imgs float64) {
	p.bar.Describe(fmt.Sprintf("loss %.4f acc %.4f %.0f img/s", loss, acc, imgs))
	p.bar.Set(step)
}

func (p *bar) EndEpoch(r train.EpochResult) {
	p.bar.Finish()
	train.WriteEpochLine(p.w, r)
}
