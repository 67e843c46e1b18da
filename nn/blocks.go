package nn

import (
	"math/rand/v2"

	"github.com/winnow-ml/winnow/autograd"
)

// BasicBlock is the residual block of ResNet-18/34 and the CIFAR ResNets:
// relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x)), where the shortcut is
// the identity, or a 1x1 convolution and BatchNorm where the shape changes.
// State names: conv1, bn1, conv2, bn2, shortcut.0, shortcut.1, and for a
// block pruned by the union rule join.branch, join.shortcut.
type BasicBlock[T Float] struct {
	Conv1, Conv2 *Conv2d[T]
	BN1, BN2     *BatchNorm2d[T]
	Shortcut     *Sequential[T] // nil for the identity
	Join         *Join[T]       // nil: the summands have the same channels
}

// NewBasicBlock makes a block from in to out channels with the given stride.
func NewBasicBlock[T Float](rng *rand.Rand, in, out, stride int) *BasicBlock[T] {
	b := &BasicBlock[T]{
		Conv1: NewConv2d[T](rng, in, out, 3, stride, 1, false), BN1: NewBatchNorm2d[T](out),
		Conv2: NewConv2d[T](rng, out, out, 3, 1, 1, false), BN2: NewBatchNorm2d[T](out),
	}
	if stride != 1 || in != out {
		b.Shortcut = NewSequential[T](NewConv2d[T](rng, in, out, 1, stride, 0, false), NewBatchNorm2d[T](out))
	}
	return b
}

// Forward runs the block.
func (b *BasicBlock[T]) Forward(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	o := b.BN1.ForwardReLU(t, b.Conv1.Forward(t, x))
	o = b.BN2.Forward(t, b.Conv2.Forward(t, o))
	s := x
	if b.Shortcut != nil {
		s = b.Shortcut.Forward(t, x)
	}
	return joinForward(t, b.Join, o, s)
}

// Params lists the block's state.
func (b *BasicBlock[T]) Params(prefix string, dst []*Param[T]) []*Param[T] {
	dst = b.Conv1.Params(join(prefix, "conv1"), dst)
	dst = b.BN1.Params(join(prefix, "bn1"), dst)
	dst = b.Conv2.Params(join(prefix, "conv2"), dst)
	dst = b.BN2.Params(join(prefix, "bn2"), dst)
	if b.Shortcut != nil {
		dst = b.Shortcut.Params(join(prefix, "shortcut"), dst)
	}
	if b.Join != nil {
		b.Join.Branch.Name, b.Join.Shortcut.Name = join(prefix, "join.branch"), join(prefix, "join.shortcut")
		dst = append(dst, b.Join.Branch, b.Join.Shortcut)
	}
	return dst
}

// SetTraining sets the BatchNorm layers' mode.
func (b *BasicBlock[T]) SetTraining(training bool) {
	b.BN1.SetTraining(training)
	b.BN2.SetTraining(training)
	if b.Shortcut != nil {
		b.Shortcut.SetTraining(training)
	}
}

// Bottleneck is the residual block of ResNet-50 (torchvision's v1.5: the
// stride sits on the 3x3 convolution): 1x1 reduce, 3x3, 1x1 expand by 4.
// State names: conv1..3, bn1..3, downsample.0, downsample.1.
type Bottleneck[T Float] struct {
	Conv1, Conv2, Conv3 *Conv2d[T]
	BN1, BN2, BN3       *BatchNorm2d[T]
	Downsample          *Sequential[T]
}

// NewBottleneck makes a bottleneck block with width planes (output 4*planes).
func NewBottleneck[T Float](rng *rand.Rand, in, planes, stride int) *Bottleneck[T] {
	out := 4 * planes
	b := &Bottleneck[T]{
		Conv1: NewConv2d[T](rng, in, planes, 1, 1, 0, false), BN1: NewBatchNorm2d[T](planes),
		Conv2: NewConv2d[T](rng, planes, planes, 3, stride, 1, false), BN2: NewBatchNorm2d[T](planes),
		Conv3: NewConv2d[T](rng, planes, out, 1, 1, 0, false), BN3: NewBatchNorm2d[T](out),
	}
	if stride != 1 || in != out {
		b.Downsample = NewSequential[T](NewConv2d[T](rng, in, out, 1, stride, 0, false), NewBatchNorm2d[T](out))
	}
	return b
}

// Forward runs the block.
func (b *Bottleneck[T]) Forward(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	o := b.BN1.ForwardReLU(t, b.Conv1.Forward(t, x))
	o = b.BN2.ForwardReLU(t, b.Conv2.Forward(t, o))
	o = b.BN3.Forward(t, b.Conv3.Forward(t, o))
	s := x
	if b.Downsample != nil {
		s = b.Downsample.Forward(t, x)
	}
	return autograd.AddReLU(t, o, s)
}

// Params lists the block's state.
func (b *Bottleneck[T]) Params(prefix string, dst []*Param[T]) []*Param[T] {
	dst = b.Conv1.Params(join(prefix, "conv1"), dst)
	dst = b.BN1.Params(join(prefix, "bn1"), dst)
	dst = b.Conv2.Params(join(prefix, "conv2"), dst)
	dst = b.BN2.Params(join(prefix, "bn2"), dst)
	dst = b.Conv3.Params(join(prefix, "conv3"), dst)
	dst = b.BN3.Params(join(prefix, "bn3"), dst)
	if b.Downsample != nil {
		dst = b.Downsample.Params(join(prefix, "downsample"), dst)
	}
	return dst
}

// SetTraining sets the BatchNorm layers' mode.
func (b *Bottleneck[T]) SetTraining(training bool) {
	for _, bn := range []*BatchNorm2d[T]{b.BN1, b.BN2, b.BN3} {
		bn.SetTraining(training)
	}
	if b.Downsample != nil {
		b.Downsample.SetTraining(training)
	}
}
