package nn

import (
	"math"
	"math/rand/v2"

	"winnow/autograd"
)

// Conv2d is a 2-D convolution with an OIHW weight and an optional bias.
type Conv2d[T Float] struct {
	Weight, Bias    *Param[T] // Bias is nil without a bias
	Stride, Padding [2]int
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
	return autograd.Conv2d(t, x, c.Weight.leaf(t), b, c.Stride, c.Padding)
}

// Params lists weight and bias.
func (c *Conv2d[T]) Params(prefix string, dst []*Param[T]) []*Param[T] {
	c.Weight.Name = join(prefix, "weight")
	dst = append(dst, c.Weight)
	if c.Bias != nil {
		c.Bias.Name = join(prefix, "bias")
		dst = append(dst, c.Bias)
	}
	return dst
}

// SetTraining does nothing.
func (c *Conv2d[T]) SetTraining(bool) {}

// Linear is y = x W^T + b with W [out, in].
type Linear[T Float] struct {
	Weight, Bias *Param[T]
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
	return autograd.Linear(t, x, l.Weight.leaf(t), b)
}

// Params lists weight and bias.
func (l *Linear[T]) Params(prefix string, dst []*Param[T]) []*Param[T] {
	l.Weight.Name = join(prefix, "weight")
	dst = append(dst, l.Weight)
	if l.Bias != nil {
		l.Bias.Name = join(prefix, "bias")
		dst = append(dst, l.Bias)
	}
	return dst
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
	training                bool
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
	stats := &autograd.BatchNormStats[T]{Mean: b.RunningMean.Data, Var: b.RunningVar.Data, Tracked: b.NumBatchesTracked.Data, Momentum: b.Momentum}
	return autograd.BatchNorm(t, x, b.Weight.leaf(t), b.Bias.leaf(t), stats, b.training, b.Eps)
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
