package nn

import (
	"fmt"

	"github.com/winnow-ml/winnow/autograd"
)

// Module is a layer or a network.
type Module[T Float] interface {
	// Forward runs the module on x.
	Forward(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T]
	// Params names the module's parameters and buffers with prefix (as
	// PyTorch's state_dict does) and appends them to dst in state_dict order.
	// Listing sets each Param's Name, so names are those given by the last
	// listing: list from the root (AllParams) to get state_dict names.
	Params(prefix string, dst []*Param[T]) []*Param[T]
	// SetTraining switches batch normalisation between batch statistics
	// (true) and running statistics (false). Running statistics are kept.
	SetTraining(training bool)
}

// AllParams returns every parameter and buffer of m, named.
func AllParams[T Float](m Module[T]) []*Param[T] { return m.Params("", nil) }

// Prunable returns the convolution and linear weights of m.
func Prunable[T Float](m Module[T]) []*Param[T] {
	var out []*Param[T]
	for _, p := range AllParams(m) {
		if p.Prunable() {
			out = append(out, p)
		}
	}
	return out
}

// Trainable returns the parameters an optimiser updates.
func Trainable[T Float](m Module[T]) []*Param[T] {
	var out []*Param[T]
	for _, p := range AllParams(m) {
		if p.Trainable() {
			out = append(out, p)
		}
	}
	return out
}

// ZeroGrad clears every gradient of m.
func ZeroGrad[T Float](m Module[T]) {
	for _, p := range AllParams(m) {
		p.ZeroGrad()
	}
}

// stateless is embedded by layers without parameters.
type stateless[T Float] struct{}

func (stateless[T]) Params(_ string, dst []*Param[T]) []*Param[T] { return dst }
func (stateless[T]) SetTraining(bool)                             {}

// Entry is a named child of a Sequential.
type Entry[T Float] struct {
	Name   string
	Module Module[T]
}

// Sequential runs its children in order. Children are named by their index
// (as torch.nn.Sequential) or explicitly (as attributes of a module).
type Sequential[T Float] struct {
	Children []Entry[T]
}

// NewSequential names its children "0", "1", ...
func NewSequential[T Float](mods ...Module[T]) *Sequential[T] {
	s := &Sequential[T]{}
	for i, m := range mods {
		s.Children = append(s.Children, Entry[T]{fmt.Sprint(i), m})
	}
	return s
}

// Named builds a Sequential of explicitly named children.
func Named[T Float](entries ...Entry[T]) *Sequential[T] { return &Sequential[T]{Children: entries} }

// Forward runs the children in order; a BatchNorm2d followed by a ReLU
// runs as one op (BatchNorm2d.ForwardReLU).
func (s *Sequential[T]) Forward(t *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	for i := 0; i < len(s.Children); i++ {
		if bn, ok := s.Children[i].Module.(*BatchNorm2d[T]); ok && i+1 < len(s.Children) {
			if _, relu := s.Children[i+1].Module.(ReLU[T]); relu {
				x = bn.ForwardReLU(t, x)
				i++
				continue
			}
		}
		x = s.Children[i].Module.Forward(t, x)
	}
	return x
}

// Params lists the children's parameters under prefix.child.
func (s *Sequential[T]) Params(prefix string, dst []*Param[T]) []*Param[T] {
	for _, c := range s.Children {
		dst = c.Module.Params(join(prefix, c.Name), dst)
	}
	return dst
}

// SetTraining sets every child's mode.
func (s *Sequential[T]) SetTraining(training bool) {
	for _, c := range s.Children {
		c.Module.SetTraining(training)
	}
}

// EachBatchNorm calls f with every BatchNorm layer of m (in Sequentials
// and residual blocks, as the models build them).
func EachBatchNorm[T Float](m Module[T], f func(*BatchNorm2d[T])) {
	switch l := m.(type) {
	case *BatchNorm2d[T]:
		f(l)
	case *Sequential[T]:
		for _, c := range l.Children {
			EachBatchNorm(c.Module, f)
		}
	case *BasicBlock[T]:
		f(l.BN1)
		f(l.BN2)
		if l.Shortcut != nil {
			EachBatchNorm[T](l.Shortcut, f)
		}
	case *Bottleneck[T]:
		f(l.BN1)
		f(l.BN2)
		f(l.BN3)
		if l.Downsample != nil {
			EachBatchNorm[T](l.Downsample, f)
		}
	}
}
