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

// Batches is a scoring sample, read a batch at a time: a sample too large
// to hold in memory (the ImageNet variant of GraSP scores 37,500 images)
// is read again for each pass. Batch(i) of the same i gives the same batch.
type Batches interface {
	Len() int
	// Size is the number of examples of batch i, known without reading it.
	Size(i int) int
	Batch(i int) (Batch, error)
}

// List is a scoring sample held in memory.
type List []Batch

// Len implements Batches.
func (l List) Len() int { return len(l) }

// Size implements Batches.
func (l List) Size(i int) int { return l[i].Shape[0] }

// Batch implements Batches.
func (l List) Batch(i int) (Batch, error) { return l[i], nil }

// largest is the size of the largest batch of b.
func largest(b Batches) int {
	n := 0
	for i := range b.Len() {
		n = max(n, b.Size(i))
	}
	return n
}

// Chunks yields each batch of src as consecutive chunks of at most n
// examples, as the official GraSP code scores ImageNet (n = 20: BatchNorm
// sees each chunk's statistics). The batch in hand is kept between its
// chunks.
func Chunks(src Batches, n int) Batches {
	c := &chunked{src: src, n: n, last: -1}
	for i := range src.Len() {
		size := src.Size(i)
		for lo := 0; lo < size; lo += n {
			c.index = append(c.index, [3]int{i, lo, min(lo+n, size)})
		}
	}
	return c
}

type chunked struct {
	src   Batches
	n     int
	index [][3]int // batch, first and end example of each chunk
	last  int
	held  Batch
}

func (c *chunked) Len() int       { return len(c.index) }
func (c *chunked) Size(i int) int { return c.index[i][2] - c.index[i][1] }

func (c *chunked) Batch(i int) (Batch, error) {
	at := c.index[i]
	if at[0] != c.last {
		b, err := c.src.Batch(at[0])
		if err != nil {
			return Batch{}, err
		}
		c.held, c.last = b, at[0]
	}
	return slice(c.held, at[1], at[2]), nil
}

// slice is examples lo to hi of b, sharing its buffers.
func slice(b Batch, lo, hi int) Batch {
	per := len(b.X) / b.Shape[0]
	shape := append([]int{hi - lo}, b.Shape[1:]...)
	return Batch{X: b.X[lo*per : hi*per], Shape: shape, Labels: b.Labels[lo:hi]}
}

// halves splits each batch into its first and second half, as the official
// GraSP code scores (a batch of one stays whole).
func halves(src Batches) Batches {
	c := &chunked{src: src, last: -1}
	for i := range src.Len() {
		n := src.Size(i)
		if n < 2 {
			c.index = append(c.index, [3]int{i, 0, n})
			continue
		}
		c.index = append(c.index, [3]int{i, 0, n / 2}, [3]int{i, n / 2, n})
	}
	return c
}

// weights returns the prunable (conv and linear) weights of net.
func weights(net nn.Module[float64]) []*nn.Param[float64] { return nn.Prunable(net) }

// gradient accumulates into each weight's Grad the gradient of the mean
// cross-entropy of logits/T on every batch: g = sum_b dL_b/dθ, on tape
// (whatever options it had). Running statistics are left alone.
func gradient(tape *autograd.Tape[float64], net nn.Module[float64], batches Batches, temperature float64) error {
	nn.ZeroGrad(net)
	return run(tape, net, batches, temperature, autograd.KeepRunningStats(), autograd.Recompute())
}

// hessianVector accumulates into each weight's HV the product H_b v summed
// over the batches, where v is each weight's Tangent (zero on the other
// parameters) and H_b the Hessian of batch b's loss, on tape (whatever
// options it had). The weights' Grad is neither recomputed nor cleared, so
// a Tangent may share its buffer.
func hessianVector(tape *autograd.Tape[float64], net nn.Module[float64], batches Batches, temperature float64) error {
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
func run(tape *autograd.Tape[float64], net nn.Module[float64], batches Batches, temperature float64, opts ...autograd.Option) error {
	for i := range batches.Len() {
		b, err := batches.Batch(i)
		if err != nil {
			return fmt.Errorf("prune: scoring batch %d: %w", i, err)
		}
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
func share(batches Batches, comm dist.Comm) Batches {
	comm = dist.Or(comm)
	if comm.Size() == 1 {
		return batches
	}
	var mine []int
	for i := comm.Rank(); i < batches.Len(); i += comm.Size() {
		mine = append(mine, i)
	}
	return subset{batches, mine}
}

// subset is some batches of a sample.
type subset struct {
	src     Batches
	indices []int
}

func (s subset) Len() int                   { return len(s.indices) }
func (s subset) Size(i int) int             { return s.src.Size(s.indices[i]) }
func (s subset) Batch(i int) (Batch, error) { return s.src.Batch(s.indices[i]) }

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
