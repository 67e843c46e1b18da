package autograd

import (
	"fmt"

	"gorgonia.org/tensor"
)

// Float is the set of element types autograd computes in.
type Float interface{ float32 | float64 }

// Var is a value on a tape: an n-dimensional array with, when gradients
// flow, its adjoint, and on an HVP tape the forward tangent and the tangent
// of the adjoint.
type Var[T Float] struct {
	Shape   []int
	Value   []T
	Grad    []T // adjoint dL/dx; nil when no gradient flows here
	Tangent []T // forward tangent x'; nil means zero
	RGrad   []T // R{dx}, the tangent of the adjoint; nil unless HVP
	Name    string

	// Support, when not nil, marks with nonzeros the entries whose
	// gradients are wanted; the others belong to pruned weights, held at
	// zero, whose gradients (and R{dx}) ops may leave as they are, so that
	// products run over the remaining weights only.
	Support []T

	inputs   []*Var[T] // the op's operands (nil for leaves and inputs)
	remat    *remat    // how a recomputable output gets its values back (Recompute tapes)
	zeroGrad bool      // Grad and RGrad are pending zeros, not yet given buffers
	ownGrad  bool      // the tape gives (and takes back) Grad and RGrad
	leaf     bool      // put on the tape by Leaf
	pending  int       // a leaf's uses whose backward rules have not run yet
}

// Len is the number of elements.
func (v *Var[T]) Len() int { return len(v.Value) }

// needsGrad reports whether a gradient flows into v.
func (v *Var[T]) needsGrad() bool { return v.Grad != nil }

// Dense returns the value as a gorgonia.org/tensor Dense sharing v's buffer.
func (v *Var[T]) Dense() *tensor.Dense {
	return tensor.New(tensor.WithShape(v.Shape...), tensor.WithBacking(v.Value))
}

func (v *Var[T]) String() string {
	return fmt.Sprintf("Var%v", v.Shape)
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
