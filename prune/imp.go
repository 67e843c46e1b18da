package prune

import (
	"math"

	"github.com/winnow-ml/winnow/nn"
)

// IterativeMagnitude is one round of iterative magnitude pruning (Frankle
// and Carbin's lottery tickets; open_lth's sparse_global): of m's prunable
// weights (trained, with the masks of the rounds so far) it keeps the
// largest |θ| so that the fraction sparsity of all of them is removed,
// globally or per layer, those the masks prune already removed first and
// never revived. m's values are left unchanged.
func IterativeMagnitude[T nn.Float](m nn.Module[T], sparsity float64, scope Scope, minLayerDensity float64) (map[string][]bool, error) {
	var layers []layerScores
	pruned := map[string][]bool{}
	for _, p := range nn.Prunable(m) {
		s := make([]float64, p.Len())
		for i, v := range p.Data {
			s[i] = math.Abs(float64(v))
		}
		layers = append(layers, layerScores{p.Name, s})
		if p.Mask != nil {
			gone := make([]bool, p.Len())
			for i, k := range p.Mask {
				gone[i] = k == 0
			}
			pruned[p.Name] = gone
		}
	}
	return keepMasks(layers, sparsity, scope, minLayerDensity, pruned)
}
