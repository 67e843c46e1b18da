package prune

import (
	"context"
	"math"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/nn"
)

// SNIP scores by connection sensitivity (Lee, Ajanthan and Torr, "SNIP:
// Single-shot Network Pruning based on Connection Sensitivity", ICLR 2019):
//
//	S = |θ ⊙ g|,  g = sum_b ∇_θ L_b  (mean cross-entropy at T = 1)
//
// Higher = kept.
//
// With comm, the batches are shared out among the processes of a
// data-parallel run and g summed over them (as GraSP's).
func SNIP(ctx context.Context, net nn.Module[float64], batches Batches, comm dist.Comm) (map[string][]float64, error) {
	defer snapshot(nn.AllParams(net))()
	if err := gradient(autograd.NewTape[float64](), net, share(batches, comm), 1); err != nil {
		return nil, err
	}
	if err := sumOver(comm, weights(net), func(p *nn.Param[float64]) *[]float64 { return &p.Grad }); err != nil {
		return nil, err
	}
	scores := map[string][]float64{}
	for _, p := range weights(net) {
		s := make([]float64, p.Len())
		for i, theta := range p.Data {
			s[i] = math.Abs(theta * p.Grad[i])
		}
		scores[p.Name] = s
	}
	return scores, ctx.Err()
}
