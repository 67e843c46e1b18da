package prune

import (
	"fmt"
	"math"

	"github.com/winnow-ml/winnow/nn"
)

// Scope says whether the threshold is global or per layer.
type Scope string

const (
	Global Scope = "global" // one threshold over all layers
	Local  Scope = "local"  // the same fraction removed from every layer
)

// removeCount is floor(p*n), robust to p's decimal not being exact in
// binary (0.98*430500 is 421889.99999999994 in float64).
func removeCount(p float64, n int) int {
	return int(math.Floor(p*float64(n) + 1e-6))
}

// layerScores are the importances of one weight tensor (higher = kept).
type layerScores struct {
	name string
	imp  []float64
}

// keepMasks removes exactly removeCount(sparsity, N) weights with the lowest
// importance, globally or per layer, ties broken by position (earlier
// layers and lower indices go first). Weights already pruned (pruned[name][i]
// true) are removed first and never revived, more than the count if they
// are more. With minDensity > 0, each layer
// keeps at least ceil(minDensity * n) of its best weights.
func keepMasks(layers []layerScores, sparsity float64, scope Scope, minDensity float64, pruned map[string][]bool) (map[string][]bool, error) {
	for _, l := range layers {
		for i, v := range l.imp {
			if math.IsNaN(v) {
				return nil, fmt.Errorf("prune: the score of %s[%d] is NaN", l.name, i)
			}
		}
	}
	// Work on copies (where they differ): -Inf for pruned weights, +Inf for
	// protected ones.
	work := make([]layerScores, len(layers))
	for li, l := range layers {
		if minDensity <= 0 && (pruned == nil || pruned[l.name] == nil) {
			work[li] = l
			continue
		}
		imp := append([]float64(nil), l.imp...)
		if gone := pruned[l.name]; gone != nil {
			for i := range imp {
				if gone[i] {
					imp[i] = math.Inf(-1)
				}
			}
		}
		if minDensity > 0 {
			protect := int(math.Ceil(minDensity * float64(len(imp))))
			for _, i := range topIndices(imp, protect) {
				if !math.IsInf(imp[i], -1) {
					imp[i] = math.Inf(1)
				}
			}
		}
		work[li] = layerScores{l.name, imp}
	}
	out := map[string][]bool{}
	switch scope {
	case Local:
		for _, l := range work {
			keep, err := removeLowest([]layerScores{l}, max(removeCount(sparsity, len(l.imp)), countGone(pruned[l.name])))
			if err != nil {
				return nil, err
			}
			out[l.name] = keep[0]
		}
	case Global:
		n := 0
		for _, l := range work {
			n += len(l.imp)
		}
		gone := 0
		for _, l := range work {
			gone += countGone(pruned[l.name])
		}
		keep, err := removeLowest(work, max(removeCount(sparsity, n), gone))
		if err != nil {
			return nil, err
		}
		for i, l := range work {
			out[l.name] = keep[i]
		}
	default:
		return nil, fmt.Errorf("prune: unknown scope %q (global, local)", scope)
	}
	return out, nil
}

// countGone counts the weights pruned already: a sparsity below theirs
// removes them, and no more.
func countGone(gone []bool) int {
	n := 0
	for _, g := range gone {
		if g {
			n++
		}
	}
	return n
}

// removeLowest returns keep flags with exactly k of the lowest importances
// removed (ties by position). Protected (+Inf) weights cannot be removed.
func removeLowest(layers []layerScores, k int) ([][]bool, error) {
	n := 0
	for _, l := range layers {
		n += len(l.imp)
	}
	all := make([]float64, 0, n)
	for _, l := range layers {
		all = append(all, l.imp...)
	}
	keep := make([][]bool, len(layers))
	for i, l := range layers {
		keep[i] = make([]bool, len(l.imp))
		for j := range keep[i] {
			keep[i][j] = true
		}
	}
	if k <= 0 {
		return keep, nil
	}
	if k > len(all) {
		k = len(all)
	}
	t := kthSmallest(all, k-1) // the k-th smallest importance
	if math.IsInf(t, 1) {
		return nil, fmt.Errorf("prune: the minimum layer density protects too many weights to remove %d", k)
	}
	// Remove everything below t, then ties at t in position order.
	removed := 0
	for i, l := range layers {
		for j, v := range l.imp {
			if v < t {
				keep[i][j] = false
				removed++
			}
		}
	}
	for i, l := range layers {
		for j, v := range l.imp {
			if removed == k {
				return keep, nil
			}
			if v == t {
				keep[i][j] = false
				removed++
			}
		}
	}
	return keep, nil
}

// kthSmallest returns the k-th smallest value (0-based) of vals, which it
// reorders (quickselect, expected linear time).
func kthSmallest(vals []float64, k int) float64 {
	lo, hi := 0, len(vals)-1
	for lo < hi {
		// median of three as pivot
		mid := lo + (hi-lo)/2
		a, b, c := vals[lo], vals[mid], vals[hi]
		pivot := max(min(a, b), min(max(a, b), c))
		i, j := lo, hi
		for i <= j {
			for vals[i] < pivot {
				i++
			}
			for vals[j] > pivot {
				j--
			}
			if i <= j {
				vals[i], vals[j] = vals[j], vals[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return vals[k]
		}
	}
	return vals[k]
}

// topIndices returns the indices of the n highest values (ties by position).
func topIndices(vals []float64, n int) []int {
	if n <= 0 {
		return nil
	}
	if n >= len(vals) {
		idx := make([]int, len(vals))
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	neg := make([]float64, len(vals))
	for i, v := range vals {
		neg[i] = -v
	}
	keep, err := removeLowest([]layerScores{{imp: neg}}, n)
	var out []int
	if err != nil { // fewer than n finite values: take them all
		for i, v := range vals {
			if !math.IsInf(v, -1) {
				out = append(out, i)
			}
		}
		return out
	}
	for i, k := range keep[0] {
		if !k {
			out = append(out, i)
		}
	}
	return out
}

// ApplyMasks puts the masks on m's prunable weights by name (1 kept, 0
// pruned) and zeroes the pruned weights.
func ApplyMasks[T nn.Float](m nn.Module[T], masks map[string][]bool) error {
	for _, p := range nn.Prunable(m) {
		keep, ok := masks[p.Name]
		if !ok {
			return fmt.Errorf("prune: no mask for %s", p.Name)
		}
		if len(keep) != p.Len() {
			return fmt.Errorf("prune: mask for %s has %d entries, the weight %d", p.Name, len(keep), p.Len())
		}
		p.Mask = make([]T, p.Len())
		for i, k := range keep {
			if k {
				p.Mask[i] = 1
			}
		}
		p.ApplyMask()
	}
	return nil
}
