package nn

import (
	"math"
	"math/rand/v2"

	"github.com/winnow-ml/winnow/autograd"
)

// Conv2d is a 2-D convolution with an OIHW weight and an optional bias.
//
// A factored convolution (In and Out set, as EigenDamage leaves a layer) is
// three: a 1x1 convolution In [k_in, C, 1, 1] into an input basis, the core
// Weight [k_out, k_in, KH, KW] with the layer's stride and padding, and a 1x1
// convolution Out [O, k_out, 1, 1] back to the layer's width, then the bias.
// Its state names are those of torch.nn.Sequential(in, core, out): name.0,
// name.1, name.2 (which holds the bias).
type Conv2d[T Float] struct {
	Weight, Bias    *Param[T] // Bias is nil without a bias
	Stride, Padding [2]int
	In, Out         *Param[T] // both nil, or both set (factored)

	// Observe, when set, is called in Forward with the core convolution's
	// input and output on the tape: how curvature statistics (K-FAC) see a
	// layer's activations and, after Backward, its output gradients.
	Observe func(x, y *autograd.Var[T])
}

// NewConv2d makes a k x k convolution initialised as the GraSP code does:
// Kaiming normal with fan_out and the ReLU gain, std = sqrt(2/(out*k*k)),
// and a zero bias.
func NewConv2d[T Float](rng *rand.Rand, in, out, k, stride, padding int, bias bool) *Conv2d[T] {
	c := &Conv2d[T]{Weight: newParam[T](Weight, out, in, k, k), Stride: [2]int{stride, stride}, Padding: [2]int{padding, padding}}
	fillNormal(rng, c.Weight.Data, math.Sqrt(2/float64(out*k*k)))
	if bias {
		c.Bias = newParam[T](Bias, out)
	}
	return c
}

// Forward convolves x [N, C, H, W].
func (c *Conv2d[T]) Forward(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	var b *autograd.Var[T]
	if c.Bias != nil {
		b = c.Bias.leaf(t)
	}
	one, zero := [2]int{1, 1}, [2]int{0, 0}
	if c.In != nil {
		x = autograd.Conv2d(t, x, c.In.leaf(t), nil, one, zero)
	}
	core := b
	if c.Out != nil {
		core = nil
	}
	y := autograd.Conv2d(t, x, c.Weight.leaf(t), core, c.Stride, c.Padding)
	if c.Observe != nil {
		c.Observe(x, y)
	}
	if c.Out != nil {
		y = autograd.Conv2d(t, y, c.Out.leaf(t), b, one, zero)
	}
	return y
}

// Factored reports whether the layer is three (In, core, Out).
func (c *Conv2d[T]) Factored() bool { return c.In != nil }

// Params lists weight and bias (factored: in, core, out weights and bias).
func (c *Conv2d[T]) Params(prefix string, dst []*Param[T]) []*Param[T] {
	return factoredParams(prefix, c.In, c.Weight, c.Out, c.Bias, dst)
}

// factoredParams names a layer's parameters as PyTorch would: weight and
// bias, or for a factored layer those of Sequential(in, core, out).
func factoredParams[T Float](prefix string, in, w, out, b *Param[T], dst []*Param[T]) []*Param[T] {
	biasAt := prefix
	if in != nil {
		in.Name = join(prefix, "0.weight")
		w.Name = join(prefix, "1.weight")
		out.Name = join(prefix, "2.weight")
		dst = append(dst, in, w, out)
		biasAt = join(prefix, "2")
	} else {
		w.Name = join(prefix, "weight")
		dst = append(dst, w)
	}
	if b != nil {
		b.Name = join(biasAt, "bias")
		dst = append(dst, b)
	}
	return dst
}

// SetTraining does nothing.
func (c *Conv2d[T]) SetTraining(bool) {}

// Linear is y = x W^T + b with W [out, in]. A factored linear layer (In
// and Out set) is x In^T W^T Out^T + b, with In [k_in, in], W [k_out, k_in]
// and Out [out, k_out], named as Conv2d's factors are.
type Linear[T Float] struct {
	Weight, Bias *Param[T]
	In, Out      *Param[T] // both nil, or both set (factored)

	// Observe, as Conv2d's, sees the core product's input and output.
	Observe func(x, y *autograd.Var[T])
}

// NewLinear makes a linear layer initialised as the GraSP code does:
// W ~ N(0, 0.01^2), b = 0.
func NewLinear[T Float](rng *rand.Rand, in, out int, bias bool) *Linear[T] {
	l := &Linear[T]{Weight: newParam[T](Weight, out, in)}
	fillNormal(rng, l.Weight.Data, 0.01)
	if bias {
		l.Bias = newParam[T](Bias, out)
	}
	return l
}

// Forward applies the layer to x [N, in].
func (l *Linear[T]) Forward(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	var b *autograd.Var[T]
	if l.Bias != nil {
		b = l.Bias.leaf(t)
	}
	if l.In != nil {
		x = autograd.Linear(t, x, l.In.leaf(t), nil)
	}
	core := b
	if l.Out != nil {
		core = nil
	}
	y := autograd.Linear(t, x, l.Weight.leaf(t), core)
	if l.Observe != nil {
		l.Observe(x, y)
	}
	if l.Out != nil {
		y = autograd.Linear(t, y, l.Out.leaf(t), b)
	}
	return y
}

// Factored reports whether the layer is three (In, core, Out).
func (l *Linear[T]) Factored() bool { return l.In != nil }

// Params lists weight and bias (factored: in, core, out weights and bias).
func (l *Linear[T]) Params(prefix string, dst []*Param[T]) []*Param[T] {
	return factoredParams(prefix, l.In, l.Weight, l.Out, l.Bias, dst)
}

// SetTraining does nothing.
func (l *Linear[T]) SetTraining(bool) {}

// BatchNorm2d normalises each channel, as torch.nn.BatchNorm2d with
// momentum 0.1 and eps 1e-5: batch statistics in training mode (updating
// the running ones), running statistics in evaluation mode.
type BatchNorm2d[T Float] struct {
	Weight, Bias            *Param[T] // gamma (initialised 1), beta (0)
	RunningMean, RunningVar *Param[T] // buffers (0 and 1)
	NumBatchesTracked       *Param[T] // a Counter: updates in training mode
	Momentum, Eps           T
	// Reduce, when set, sums batch statistics over the processes of a
	// data-parallel run (synchronised BatchNorm: autograd.BatchNormStats).
	Reduce   func(x []float64)
	training bool
}

// NewBatchNorm2d makes a batch normalisation layer over c channels, in
// training mode.
func NewBatchNorm2d[T Float](c int) *BatchNorm2d[T] {
	b := &BatchNorm2d[T]{
		Weight: newParam[T](NormWeight, c), Bias: newParam[T](NormBias, c),
		RunningMean: newParam[T](Buffer, c), RunningVar: newParam[T](Buffer, c),
		NumBatchesTracked: newParam[T](Counter),
		Momentum:          0.1, Eps: 1e-5, training: true,
	}
	for i := range b.Weight.Data {
		b.Weight.Data[i] = 1
		b.RunningVar.Data[i] = 1
	}
	return b
}

// Forward normalises x [N, C, H, W] or [N, C].
func (b *BatchNorm2d[T]) Forward(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return autograd.BatchNorm(t, x, b.Weight.leaf(t), b.Bias.leaf(t), b.stats(), b.training, b.Eps)
}

func (b *BatchNorm2d[T]) stats() *autograd.BatchNormStats[T] {
	return &autograd.BatchNormStats[T]{Mean: b.RunningMean.Data, Var: b.RunningVar.Data, Tracked: b.NumBatchesTracked.Data, Momentum: b.Momentum, Reduce: b.Reduce}
}

// ForwardReLU is ReLU(Forward(x)) as one op (autograd.BatchNormReLU).
func (b *BatchNorm2d[T]) ForwardReLU(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return autograd.BatchNormReLU(t, x, b.Weight.leaf(t), b.Bias.leaf(t), b.stats(), b.training, b.Eps)
}

// Params lists weight, bias, running_mean, running_var and
// num_batches_tracked.
func (b *BatchNorm2d[T]) Params(prefix string, dst []*Param[T]) []*Param[T] {
	b.Weight.Name = join(prefix, "weight")
	b.Bias.Name = join(prefix, "bias")
	b.RunningMean.Name = join(prefix, "running_mean")
	b.RunningVar.Name = join(prefix, "running_var")
	b.NumBatchesTracked.Name = join(prefix, "num_batches_tracked")
	return append(dst, b.Weight, b.Bias, b.RunningMean, b.RunningVar, b.NumBatchesTracked)
}

// SetTraining chooses batch (true) or running (false) statistics.
func (b *BatchNorm2d[T]) SetTraining(training bool) { b.training = training }

// Training reports the mode.
func (b *BatchNorm2d[T]) Training() bool { return b.training }

// ReLU is max(x, 0).
type ReLU[T Float] struct{ stateless[T] }

// Forward applies ReLU.
func (ReLU[T]) Forward(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return autograd.ReLU(t, x)
}

// MaxPool2d takes window maxima.
type MaxPool2d[T Float] struct {
	stateless[T]
	Kernel, Stride, Padding int
}

// Forward pools x.
func (m MaxPool2d[T]) Forward(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return autograd.MaxPool2d(t, x, m.Kernel, m.Stride, m.Padding)
}

// AvgPool2d takes window means.
type AvgPool2d[T Float] struct {
	stateless[T]
	Kernel, Stride int
}

// Forward pools x.
func (m AvgPool2d[T]) Forward(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return autograd.AvgPool2d(t, x, m.Kernel, m.Stride)
}

// GlobalAvgPool averages each channel to one value: [N, C, H, W] to [N, C].
type GlobalAvgPool[T Float] struct{ stateless[T] }

// Forward pools x.
func (GlobalAvgPool[T]) Forward(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return autograd.GlobalAvgPool(t, x)
}

// Flatten reshapes [N, ...] to [N, rest].
type Flatten[T Float] struct{ stateless[T] }

// Forward flattens x.
func (Flatten[T]) Forward(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return autograd.Flatten(t, x)
}

func fillNormal[T Float](rng *rand.Rand, dst []T, std float64) {
	for i := range dst {
		dst[i] = T(rng.NormFloat64() * std)
	}
}
