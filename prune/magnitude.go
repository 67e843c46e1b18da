package prune

import (
	"math"
	"math/rand/v2"

	"github.com/winnow-ml/winnow/nn"
)

// Magnitude scores S = |θ|. Higher = kept.
func Magnitude(net nn.Module[float64]) map[string][]float64 {
	scores := map[string][]float64{}
	for _, p := range weights(net) {
		s := make([]float64, p.Len())
		for i, theta := range p.Data {
			s[i] = math.Abs(theta)
		}
		scores[p.Name] = s
	}
	return scores
}

// Random scores every weight uniformly at random from the seed: pruning by
// them keeps a uniformly random subset. Higher = kept.
func Random(net nn.Module[float64], seed uint64) map[string][]float64 {
	rng := rand.New(rand.NewPCG(seed, 0x7a4d))
	scores := map[string][]float64{}
	for _, p := range weights(net) {
		s := make([]float64, p.Len())
		for i := range s {
			s[i] = rng.Float64()
		}
		scores[p.Name] = s
	}
	return scores
}
