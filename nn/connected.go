package nn

import (
	"fmt"
	"strings"

	"github.com/winnow-ml/winnow/autograd"
)

// DisconnectedError reports masks under which no path runs from the
// network's input to its output through kept weights (layer collapse, as
// Synaptic-Flow defines it): the network's output no longer depends on its
// input.
type DisconnectedError struct {
	// Empty are the prunable layers that keep no weight at all.
	Empty []string
	// First and Last bound where the paths break, in the network's order:
	// of the least number of layers from the input whose weights, all kept
	// (the others as masked), let a path through, the deepest; and of the
	// least number from the output, the shallowest. The same layer when one
	// layer alone cuts the paths.
	First, Last string
}

func (e *DisconnectedError) Error() string {
	msg := "the masks disconnect the network: no path from the input to the output runs through kept weights"
	switch {
	case len(e.Empty) > 0:
		msg += "; " + strings.Join(e.Empty, ", ") + " keep no weight"
	case e.First == e.Last:
		msg += "; the paths break at " + e.First
	default:
		msg += fmt.Sprintf("; the paths break in the layers from %s to %s", e.First, e.Last)
	}
	return msg
}

// CheckConnected returns a *DisconnectedError when m's masks leave no path
// from the input (of shape input: C, H, W) to the output through kept
// weights. It runs m in evaluation mode on an all-ones input with every
// kept weight of an output unit set to 1/(the unit's kept weights), biases
// and BatchNorm's shifts and running means 0, its scales and running
// variances 1: every activation is then non-negative and positive exactly
// where a path of kept weights reaches it from the input (an average of
// its connected inputs, so that depth neither overflows nor, short of
// extreme sparsity over many layers, underflows). m's values are restored
// and it is left in training mode.
func CheckConnected[T Float](m Module[T], input []int) error {
	all := AllParams(m)
	saved := make([][]T, len(all))
	for i, p := range all {
		saved[i] = append([]T(nil), p.Data...)
	}
	defer func() {
		for i, p := range all {
			copy(p.Data, saved[i])
		}
	}()
	m.SetTraining(false)
	defer m.SetTraining(true)

	layers := Prunable(m)
	// flows reports whether the output depends on the input with the
	// layers of full kept whole.
	flows := func(full func(i int) bool) bool {
		k := 0
		for _, p := range all {
			switch p.Kind {
			case Weight:
				whole := k < len(layers) && layers[k] == p && full(k)
				if k < len(layers) && layers[k] == p {
					k++
				}
				setFlowWeights(p, whole)
			case Bias, NormBias:
				clear(p.Data)
			case NormWeight:
				fill(p.Data, 1)
			case Buffer:
				if strings.HasSuffix(p.Name, "running_var") {
					fill(p.Data, 1)
				} else {
					clear(p.Data)
				}
			}
		}
		n := 1
		for _, d := range input {
			n *= d
		}
		ones := make([]T, n)
		fill(ones, 1)
		tape := autograd.NewTape[T](autograd.NoGrad())
		out := m.Forward(tape, tape.Input(ones, append([]int{1}, input...)...))
		for _, v := range out.Value {
			if v > 0 {
				return true
			}
		}
		return false
	}
	if flows(func(int) bool { return false }) {
		return nil
	}
	e := &DisconnectedError{}
	for _, p := range layers {
		if p.Kept() == 0 {
			e.Empty = append(e.Empty, p.Name)
		}
	}
	// Keeping more weights only adds paths: the least prefix (suffix) of
	// layers whose filling restores a path, by bisection.
	least := func(ok func(k int) bool) int {
		lo, hi := 1, len(layers)
		for lo < hi {
			mid := (lo + hi) / 2
			if ok(mid) {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return lo
	}
	n := len(layers)
	if n == 0 {
		return e
	}
	a := least(func(k int) bool { return flows(func(i int) bool { return i < k }) }) - 1
	b := n - least(func(k int) bool { return flows(func(i int) bool { return i >= n-k }) })
	e.First, e.Last = layers[min(a, b)].Name, layers[max(a, b)].Name
	return e
}

// setFlowWeights sets the kept weights of each output unit (the first
// dimension) of p to 1/(their count), all of them when whole.
func setFlowWeights[T Float](p *Param[T], whole bool) {
	rows := p.Shape[0]
	per := p.Len() / rows
	for r := 0; r < rows; r++ {
		row := p.Data[r*per : (r+1)*per]
		kept := per
		if p.Mask != nil && !whole {
			kept = 0
			for _, v := range p.Mask[r*per : (r+1)*per] {
				if v != 0 {
					kept++
				}
			}
		}
		for j := range row {
			if kept > 0 && (whole || p.Mask == nil || p.Mask[r*per+j] != 0) {
				row[j] = T(1) / T(kept)
			} else {
				row[j] = 0
			}
		}
	}
}

func fill[T Float](x []T, v T) {
	for i := range x {
		x[i] = v
	}
}
