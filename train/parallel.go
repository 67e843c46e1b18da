package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/nn"
)

// bucketBytes is the size at which a bucket of gradients is summed over
// the processes: a few MB, as PyTorch's DDP (25 MB there; smaller here,
// where steps are slower and the overlap matters more than the calls).
const bucketBytes = 4 << 20

// BucketValues is the float32 values of a bucket.
const BucketValues = bucketBytes / 4

// GradientSync runs the backward pass of a data-parallel step: it sums
// the gradients over the processes in buckets of a few MB, each started as
// soon as its leaves' gradients are complete (autograd.Tape.OnLeafGrad),
// on a goroutine of its own while the rules of earlier layers run, as
// PyTorch's DDP does. Every collective call of a step goes through its
// queue (SumFloat64 for the others, synchronised BatchNorm's): the
// processes must make them in the same order, which a second goroutine
// calling MPI on its own would not keep.
type GradientSync struct {
	comm    dist.Comm
	pending []*autograd.Var[float32] // leaves of the bucket being filled
	size    int                      // their values
	jobs    chan func()
	sent    sync.WaitGroup // the step's sums not done
	mu      sync.Mutex
	errs    []error // of the step's sums
	buf     []float32
	undo    func()
}

// NewGradientSync sums the gradients of tape's backward passes over comm;
// with syncBatchNorm, m's BatchNorm layers normalise over the whole batch
// (every process's shard) in training mode, as one process would. Close
// undoes both.
func NewGradientSync(comm dist.Comm, tape *autograd.Tape[float32], m nn.Module[float32], syncBatchNorm bool) *GradientSync {
	r := &GradientSync{comm: dist.Or(comm), jobs: make(chan func(), 64), undo: func() {}}
	go func() {
		for job := range r.jobs {
			job()
		}
	}()
	tape.OnLeafGrad(func(v *autograd.Var[float32]) {
		if len(v.Grad) == 0 {
			return
		}
		if len(v.Grad) >= BucketValues { // a bucket of its own, summed in place
			r.send([]*autograd.Var[float32]{v})
			return
		}
		r.pending = append(r.pending, v)
		if r.size += len(v.Grad); r.size >= BucketValues {
			r.flush()
		}
	})
	if syncBatchNorm {
		r.undo = r.syncBatchNorm(m)
	}
	off := r.undo
	r.undo = func() { off(); tape.OnLeafGrad(nil) }
	return r
}

// Backward runs tape's backward pass from loss, the mean loss of this
// process's share of the batch, seeded with share (its examples over the
// whole batch's), so that the gradients summed are those of the whole
// batch's mean loss; it returns when every bucket is summed.
func (r *GradientSync) Backward(tape *autograd.Tape[float32], loss *autograd.Var[float32], share float64) error {
	tape.BackwardFrom(loss, []float32{float32(share)})
	r.flush()
	r.sent.Wait()
	err := errors.Join(r.errs...)
	r.errs = r.errs[:0]
	return err
}

// SumFloat64 is the communicator's SumFloat64 in the queue's order.
func (r *GradientSync) SumFloat64(x []float64) error {
	done := make(chan error)
	r.jobs <- func() { done <- r.comm.SumFloat64(x) }
	return <-done
}

// Close stops the queue's goroutine and undoes the BatchNorm
// synchronisation.
func (r *GradientSync) Close() {
	r.undo()
	close(r.jobs)
}

// sum sums a bucket's gradients, packed in one buffer, over the processes
// (a bucket of one leaf in place).
func (r *GradientSync) sum(leaves []*autograd.Var[float32]) error {
	if len(leaves) == 1 {
		return r.comm.SumFloat32(leaves[0].Grad)
	}
	n := 0
	for _, v := range leaves {
		n += len(v.Grad)
	}
	if cap(r.buf) < n {
		r.buf = make([]float32, n)
	}
	buf := r.buf[:n]
	at := 0
	for _, v := range leaves {
		at += copy(buf[at:], v.Grad)
	}
	if err := r.comm.SumFloat32(buf); err != nil {
		return err
	}
	at = 0
	for _, v := range leaves {
		at += copy(v.Grad, buf[at:])
	}
	return nil
}

// flush sends the bucket being filled.
func (r *GradientSync) flush() {
	if len(r.pending) > 0 {
		r.send(r.pending)
	}
	r.pending, r.size = nil, 0
}

// send queues the sum of leaves' gradients.
func (r *GradientSync) send(leaves []*autograd.Var[float32]) {
	r.sent.Add(1)
	r.jobs <- func() {
		defer r.sent.Done()
		if err := r.sum(leaves); err != nil {
			r.mu.Lock()
			r.errs = append(r.errs, err)
			r.mu.Unlock()
		}
	}
}

// syncBatchNorm makes m's BatchNorm layers normalise over the whole batch
// of every process, their sums taken in the queue's order; the returned
// function undoes it.
func (r *GradientSync) syncBatchNorm(m nn.Module[float32]) (undo func()) {
	var layers []*nn.BatchNorm2d[float32]
	nn.EachBatchNorm(m, func(b *nn.BatchNorm2d[float32]) {
		layers = append(layers, b)
		b.Reduce = func(x []float64) {
			if err := r.SumFloat64(x); err != nil {
				// Inside the tape's rules there is no error to return;
				// MPI's own failures abort the run before this.
				panic(fmt.Sprintf("train: synchronised BatchNorm %s: %v", b.Weight.Name, err))
			}
		}
	})
	return func() {
		for _, b := range layers {
			b.Reduce = nil
		}
	}
}

// broadcastBuffers gives every process rank 0's buffers (BatchNorm's
// running statistics, its counters).
func broadcastBuffers(comm dist.Comm, m nn.Module[float32]) error {
	for _, p := range nn.AllParams(m) {
		if p.Trainable() {
			continue
		}
		b := make([]byte, 4*len(p.Data))
		for i, v := range p.Data {
			u := math.Float32bits(v)
			b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		}
		if err := comm.Broadcast(b, 0); err != nil {
			return fmt.Errorf("train: broadcasting %s: %w", p.Name, err)
		}
		for i := range p.Data {
			p.Data[i] = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
		}
	}
	return nil
}

// EvaluateOn is Evaluate of a data-parallel run: each process evaluates its
// shard of the loader's data (l.Shard of l.Shards) and the sums are taken
// over the processes, so that every process gets the metrics of the whole
// evaluation set.
func EvaluateOn(ctx context.Context, m nn.Module[float32], l *data.Loader, comm dist.Comm) (Eval, error) {
	comm = dist.Or(comm)
	if comm.Size() == 1 {
		return Evaluate(ctx, m, l)
	}
	var lossSum, top1, top5, n float64
	classes := l.Dataset.Classes()
	err := Predict(ctx, m, l, func(b *data.Batch, logits []float32, loss float64) error {
		if b.N == 0 {
			return nil
		}
		lossSum += loss * float64(b.N)
		top1 += float64(countCorrect(logits, b.Labels, 1))
		if classes >= 100 {
			top5 += float64(countCorrect(logits, b.Labels, 5))
		}
		n += float64(b.N)
		return nil
	})
	failed := 0.0
	if err != nil {
		failed = 1
	}
	sums := []float64{lossSum, top1, top5, n, failed}
	if serr := comm.SumFloat64(sums); serr != nil {
		return Eval{}, serr
	}
	if err != nil {
		return Eval{}, err
	}
	if sums[4] > 0 {
		return Eval{}, fmt.Errorf("train: the evaluation failed on another process")
	}
	if sums[3] == 0 {
		return Eval{}, fmt.Errorf("train: evaluation set is empty")
	}
	ev := Eval{Loss: sums[0] / sums[3], Top1: sums[1] / sums[3], Examples: int(sums[3])}
	if classes >= 100 {
		ev.Top5 = sums[2] / sums[3]
	}
	return ev, nil
}
