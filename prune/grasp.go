package prune

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/nn"
)

// GraSPOptions are the settings of GraSP scoring.
type GraSPOptions struct {
	// Temperature divides the logits (the paper's T = 200).
	Temperature float64
	// ReinitLinear re-draws the linear layers' weights from Xavier normal in
	// the scoring copy, as the official code does (reinit=True); θ in the
	// score is then the re-drawn weight, and the trained network keeps its own.
	ReinitLinear bool
	// SplitHalves scores each batch as its two halves, as the official code
	// (so BatchNorm sees half-batch statistics).
	SplitHalves bool
	// Chunk, when positive, scores each batch in chunks of this many
	// examples instead, as the official ImageNet code (GraSP_ImageNet.py:
	// 20); ReinitLast re-draws only the last linear layer, as that code.
	Chunk      int
	ReinitLast bool
	Seed       uint64
	// Comm, with more than one process, shares the scoring batches out
	// among the processes of a data-parallel run: each computes its
	// batches' g and Hg, summed over the processes (g before the
	// Hessian-gradient pass, Hg after it), so that every process gets the
	// scores one process computes.
	Comm dist.Comm
}

// GraSP scores by Gradient Signal Preservation (Wang, Zhang and Grosse,
// "Picking Winning Tickets Before Training by Preserving Gradient Flow",
// ICLR 2020, eq. 8):
//
//	g  = sum_b ∇_θ L_b          (mean cross-entropy of logits/T on batch b)
//	Hg = sum_b H_b g            (exact Hessian-gradient products)
//	S  = -θ ⊙ Hg
//
// over the conv and linear weights θ, with BatchNorm in training mode. The
// weights with the highest S are removed: removing them reduces the gradient
// flow least (or increases it). The network's values are left unchanged;
// the weights' Grad holds g afterwards.
func GraSP(ctx context.Context, net nn.Module[float64], batches Batches, o GraSPOptions) (map[string][]float64, error) {
	w := weights(net)
	// Only the redrawn linear weights change (running statistics are kept):
	// they alone are saved, and every tangent cleared at the end.
	defer func() {
		for _, p := range nn.AllParams(net) {
			p.Tangent = nil
		}
	}()
	if o.ReinitLinear {
		redrawn := o.Redrawn(net)
		var changed []*nn.Param[float64]
		for _, p := range w {
			if _, ok := redrawn[p.Name]; ok {
				changed = append(changed, p)
			}
		}
		defer snapshot(changed)()
		for _, p := range changed {
			copy(p.Data, redrawn[p.Name])
			p.ApplyMask() // a masked network's pruned weights stay zero
		}
	}
	batches = share(o.ScoringBatches(batches), o.Comm)
	// g = sum_b ∇L_b. Both passes run on one tape: the second reuses the
	// first's buffers.
	tape := autograd.NewTape[float64]()
	if err := gradient(tape, net, batches, o.Temperature); err != nil {
		return nil, err
	}
	if err := sumOver(o.Comm, w, func(p *nn.Param[float64]) *[]float64 { return &p.Grad }); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// v = g on the weights, 0 elsewhere; Hg = sum_b H_b g. The tangent
	// shares g's buffer: the second pass leaves the weights' Grad alone.
	for _, p := range w {
		p.Tangent = p.Grad
	}
	if err := hessianVector(tape, net, batches, o.Temperature); err != nil {
		return nil, err
	}
	if err := sumOver(o.Comm, w, func(p *nn.Param[float64]) *[]float64 { return &p.HV }); err != nil {
		return nil, err
	}
	// S = -θ ⊙ Hg, in Hg's buffer (which the scores then own).
	scores := map[string][]float64{}
	for _, p := range w {
		s := p.HV
		for i, theta := range p.Data {
			s[i] = -theta * s[i]
		}
		scores[p.Name] = s
		p.HV = nil
	}
	return scores, nil
}

// ScoringBatches returns the batches GraSP scores: each batch's two halves
// with SplitHalves, else the batches themselves.
func (o GraSPOptions) ScoringBatches(batches Batches) Batches {
	switch {
	case o.Chunk > 0:
		return Chunks(batches, o.Chunk)
	case o.SplitHalves:
		return halves(batches)
	}
	return batches
}

// Redrawn returns the linear weights GraSP scores with (ReinitLinear):
// all of them, or with ReinitLast the last one's, from o.Seed.
func (o GraSPOptions) Redrawn(net nn.Module[float64]) map[string][]float64 {
	all := RedrawnLinear(net, o.Seed)
	if !o.ReinitLast {
		return all
	}
	w := weights(net)
	for i := len(w) - 1; i >= 0; i-- {
		if len(w[i].Shape) == 2 {
			return map[string][]float64{w[i].Name: lastRedrawn(w[i], o.Seed)}
		}
	}
	return nil
}

// lastRedrawn draws p's Xavier normal values as RedrawnLinear draws a
// network's first linear layer.
func lastRedrawn(p *nn.Param[float64], seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0x6a5b))
	std := math.Sqrt(2 / float64(p.Shape[0]+p.Shape[1]))
	v := make([]float64, p.Len())
	for i := range v {
		v[i] = rng.NormFloat64() * std
	}
	return v
}

// RedrawnLinear returns the linear weights GraSP scores with when
// ReinitLinear is set: Xavier normal, std = sqrt(2/(in+out)), drawn from the
// seed in layer order.
func RedrawnLinear(net nn.Module[float64], seed uint64) map[string][]float64 {
	rng := rand.New(rand.NewPCG(seed, 0x6a5b))
	out := map[string][]float64{}
	for _, p := range weights(net) {
		if len(p.Shape) != 2 {
			continue
		}
		std := math.Sqrt(2 / float64(p.Shape[0]+p.Shape[1]))
		v := make([]float64, p.Len())
		for i := range v {
			v[i] = rng.NormFloat64() * std
		}
		out[p.Name] = v
	}
	return out
}
