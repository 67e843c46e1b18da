package prune

import (
	"fmt"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/nn"
)

// Batch is a scoring batch: NCHW inputs (after the training transforms) and
// labels.
type Batch struct {
	X      []float64
	Shape  []int
	Labels []int32
}

// halves splits each batch into its first and second half, as the official
// GraSP code scores.
func halves(batches []Batch) []Batch {
	var out []Batch
	for _, b := range batches {
		n := b.Shape[0]
		if n < 2 {
			out = append(out, b)
			continue
		}
		per := len(b.X) / n
		h := n / 2
		for _, r := range [][2]int{{0, h}, {h, n}} {
			shape := append([]int{r[1] - r[0]}, b.Shape[1:]...)
			out = append(out, Batch{X: b.X[r[0]*per : r[1]*per], Shape: shape, Labels: b.Labels[r[0]:r[1]]})
		}
	}
	return out
}

// weights returns the prunable (conv and linear) weights of net.
func weights(net nn.Module[float64]) []*nn.Param[float64] { return nn.Prunable(net) }

// gradient accumulates into each weight's Grad the gradient of the mean
// cross-entropy of logits/T on every batch: g = sum_b dL_b/dθ, on tape
// (whatever options it had). Running statistics are left alone.
func gradient(tape *autograd.Tape[float64], net nn.Module[float64], batches []Batch, temperature float64) error {
	nn.ZeroGrad(net)
	return run(tape, net, batches, temperature, autograd.KeepRunningStats(), autograd.Recompute())
}

// hessianVector accumulates into each weight's HV the product H_b v summed
// over the batches, where v is each weight's Tangent (zero on the other
// parameters) and H_b the Hessian of batch b's loss, on tape (whatever
// options it had). The weights' Grad is neither recomputed nor cleared, so
// a Tangent may share its buffer.
func hessianVector(tape *autograd.Tape[float64], net nn.Module[float64], batches []Batch, temperature float64) error {
	for _, p := range nn.AllParams(net) {
		clear(p.HV)
		if p.Tangent == nil {
			clear(p.Grad)
		}
	}
	return run(tape, net, batches, temperature, autograd.KeepRunningStats(), autograd.HVP(), autograd.RGradOnly(), autograd.Recompute())
}

// run runs the loss of every batch forward and backward on tape with the
// options, accumulating into the parameters' buffers.
func run(tape *autograd.Tape[float64], net nn.Module[float64], batches []Batch, temperature float64, opts ...autograd.Option) error {
	for i, b := range batches {
		tape.Reset(opts...)
		loss := autograd.SoftmaxCrossEntropy(tape, net.Forward(tape, tape.Input(b.X, b.Shape...)), b.Labels, temperature)
		if err := finite(loss.Value[0], i); err != nil {
			return err
		}
		tape.Backward(loss)
	}
	return nil
}

func finite(v float64, batch int) error {
	if v != v || v > 1e308 || v < -1e308 {
		return fmt.Errorf("prune: the loss of scoring batch %d is %v", batch, v)
	}
	return nil
}

// snapshot saves the values of params and returns a function restoring them.
func snapshot(params []*nn.Param[float64]) func() {
	saved := make([][]float64, len(params))
	for i, p := range params {
		saved[i] = append([]float64(nil), p.Data...)
	}
	return func() {
		for i, p := range params {
			copy(p.Data, saved[i])
			p.Tangent = nil
		}
	}
}

// share returns this process's share of the batches of a data-parallel
// run, every size-th from its rank (all of them for one process).
func share(batches []Batch, comm dist.Comm) []Batch {
	comm = dist.Or(comm)
	if comm.Size() == 1 {
		return batches
	}
	var mine []Batch
	for i := comm.Rank(); i < len(batches); i += comm.Size() {
		mine = append(mine, batches[i])
	}
	return mine
}

// sumOver sums a buffer of each parameter over the processes of a
// data-parallel run, packed in one call. A process given no batches (more
// processes than batches) has no buffers yet and adds zeros.
func sumOver(comm dist.Comm, params []*nn.Param[float64], buf func(p *nn.Param[float64]) *[]float64) error {
	comm = dist.Or(comm)
	if comm.Size() == 1 {
		return nil
	}
	n := 0
	for _, p := range params {
		if b := buf(p); len(*b) == 0 {
			*b = make([]float64, p.Len())
		}
		n += p.Len()
	}
	all := make([]float64, 0, n)
	for _, p := range params {
		all = append(all, *buf(p)...)
	}
	if err := comm.SumFloat64(all); err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	for _, p := range params {
		all = all[copy(*buf(p), all):]
	}
	return nil
}
