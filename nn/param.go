package nn

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/internal/mem"
)

// Float is the set of element types networks compute in.
type Float = autograd.Float

// Kind says what a parameter is for.
type Kind int

const (
	// Weight is a convolution or linear weight: the only kind pruned.
	Weight Kind = iota
	// Bias is a convolution or linear bias.
	Bias
	// NormWeight and NormBias are BatchNorm's gamma and beta.
	NormWeight
	NormBias
	// Buffer is state that is saved but not trained (running statistics).
	Buffer
	// Counter is a saved integer scalar (num_batches_tracked), held in Data[0]
	// and stored as int64.
	Counter
	// Index holds channel positions (a pruned block's Join), stored as
	// int64.
	Index
)

func (k Kind) String() string {
	switch k {
	case Weight:
		return "weight"
	case Bias:
		return "bias"
	case NormWeight:
		return "norm-weight"
	case NormBias:
		return "norm-bias"
	case Buffer:
		return "buffer"
	case Counter:
		return "counter"
	case Index:
		return "index"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Param is a named array of a network: a trainable parameter or a buffer.
type Param[T Float] struct {
	Name  string // PyTorch state_dict name
	Kind  Kind
	Shape []int
	Data  []T
	Grad  []T // accumulated gradient; nil for buffers
	// Tangent is this parameter's part of the direction v of a
	// Hessian-vector product (nil: zero); HV accumulates its part of H v.
	Tangent []T
	HV      []T
	// Mask, when not nil, marks kept weights 1 and pruned weights 0.
	Mask []T
}

func newParam[T Float](kind Kind, shape ...int) *Param[T] {
	n := 1
	for _, s := range shape {
		n *= s
	}
	p := &Param[T]{Kind: kind, Shape: shape, Data: mem.Zeroed[T](n)}
	if kind == Counter {
		p.Shape, p.Data = []int{}, make([]T, 1)
		return p
	}
	if kind < Buffer {
		p.Grad = mem.Zeroed[T](n)
	}
	return p
}

// Len is the number of elements.
func (p *Param[T]) Len() int { return len(p.Data) }

// Prunable reports whether p is a convolution or linear weight.
func (p *Param[T]) Prunable() bool { return p.Kind == Weight }

// Trainable reports whether an optimiser updates p.
func (p *Param[T]) Trainable() bool { return p.Kind < Buffer }

// Tensor returns the value as a gorgonia.org/tensor Dense sharing p's buffer.
func (p *Param[T]) Tensor() *tensor.Dense {
	return tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.Data))
}

// GradTensor returns the gradient as a Dense sharing p's buffer.
func (p *Param[T]) GradTensor() *tensor.Dense {
	return tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.Grad))
}

// ZeroGrad clears the gradient and the Hessian-vector accumulator.
func (p *Param[T]) ZeroGrad() {
	clear(p.Grad)
	clear(p.HV)
}

// Kept is the number of unmasked elements (all of them without a mask).
func (p *Param[T]) Kept() int {
	if p.Mask == nil {
		return len(p.Data)
	}
	k := 0
	for _, m := range p.Mask {
		if m != 0 {
			k++
		}
	}
	return k
}

// ApplyMask zeroes the masked weights (and their gradients).
func (p *Param[T]) ApplyMask() {
	if p.Mask == nil {
		return
	}
	for i, m := range p.Mask {
		if m == 0 {
			p.Data[i] = 0
			if p.Grad != nil {
				p.Grad[i] = 0
			}
		}
	}
}

// leaf puts p on the tape, its mask as the support of its gradient. On an
// HVP tape it makes sure HV exists.
func (p *Param[T]) leaf(t *autograd.Tape[T]) *autograd.Var[T] {
	if t.HVPMode() && p.Grad != nil && p.HV == nil {
		p.HV = mem.Zeroed[T](len(p.Data))
	}
	v := t.Leaf(p.Name, p.Data, p.Grad, p.Tangent, p.HV, p.Shape...)
	v.Support = p.Mask // masked weights need no gradient
	return v
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
