package prune

import (
	"context"
	"math"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
)

// SynFlowOptions are the settings of SynFlow.
type SynFlowOptions struct {
	Rounds          int   // 100 in the paper
	Input           []int // C, H, W of one input
	Scope           Scope
	MinLayerDensity float64
}

// SynFlow prunes by Iterative Synaptic Flow (Tanaka, Kunin, Yamins and
// Ganguli, "Pruning neural networks without any data by iteratively
// conserving synaptic flow", NeurIPS 2020, algorithm 1). Without data: every
// parameter and BatchNorm statistic is replaced by its absolute value, BN
// runs in evaluation mode, and with an all-ones input x
//
//	R = 1^T f(x; |θ| ⊙ m),  S = |θ ⊙ ∂R/∂θ|
//
// for the masked weights θ ⊙ m. Over Rounds rounds the density follows the
// exponential schedule d^(r/Rounds), r = 1..Rounds, and a pruned weight is
// never revived. It returns the last round's scores and the final masks; the
// network's values and mode are restored (it is left in training mode).
func SynFlow(ctx context.Context, net nn.Module[float64], sparsity float64, o SynFlowOptions) (map[string][]float64, map[string][]bool, error) {
	all := nn.AllParams(net)
	defer snapshot(all)()
	net.SetTraining(false)
	defer net.SetTraining(true)
	for _, p := range all {
		if p.Kind == nn.Counter {
			continue
		}
		for i, v := range p.Data {
			p.Data[i] = math.Abs(v)
		}
	}
	w := weights(net)
	abs := make([][]float64, len(w))
	for i, p := range w {
		abs[i] = append([]float64(nil), p.Data...)
	}
	ones := make([]float64, 1)
	shape := append([]int{1}, o.Input...)
	for _, d := range o.Input {
		ones = make([]float64, len(ones)*d)
	}
	for i := range ones {
		ones[i] = 1
	}
	tape := autograd.NewTape[float64]()
	density := 1 - sparsity
	pruned := prunedBy(w) // a masked network's pruned weights stay pruned
	var scores map[string][]float64
	var masks map[string][]bool
	for r := 1; r <= o.Rounds; r++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		// Masked absolute weights.
		for i, p := range w {
			copy(p.Data, abs[i])
			if pruned != nil {
				for j, gone := range pruned[p.Name] {
					if gone {
						p.Data[j] = 0
					}
				}
			}
		}
		nn.ZeroGrad(net)
		tape.Reset()
		out := net.Forward(tape, tape.Input(ones, shape...))
		rsum := sumAll(tape, out)
		tape.Backward(rsum)
		// The scores' buffers serve every round: the last round's are
		// returned.
		if scores == nil {
			scores = map[string][]float64{}
			for _, p := range w {
				scores[p.Name] = make([]float64, p.Len())
			}
		}
		var layers []layerScores
		for _, p := range w {
			s := scores[p.Name]
			for j, theta := range p.Data {
				s[j] = math.Abs(theta * p.Grad[j])
			}
			layers = append(layers, layerScores{p.Name, s})
		}
		d := math.Pow(density, float64(r)/float64(o.Rounds))
		var err error
		masks, err = keepMasks(layers, 1-d, o.Scope, o.MinLayerDensity, pruned)
		if err != nil {
			return nil, nil, err
		}
		if pruned == nil {
			pruned = map[string][]bool{}
		}
		for name, keep := range masks {
			gone := pruned[name]
			if gone == nil {
				gone = make([]bool, len(keep))
				pruned[name] = gone
			}
			for j, k := range keep {
				gone[j] = !k
			}
		}
	}
	return scores, masks, nil
}

// sumAll is R = sum of all outputs, as a scalar on the tape (a linear layer
// with a ones weight keeps to the ops autograd has).
func sumAll(tape *autograd.Tape[float64], out *autograd.Var[float64]) *autograd.Var[float64] {
	flat := autograd.Flatten(tape, out)
	ones := make([]float64, flat.Shape[1])
	for i := range ones {
		ones[i] = 1
	}
	return autograd.Reshape(tape, autograd.Linear(tape, flat, tape.Input(ones, 1, flat.Shape[1]), nil), 1)
}
