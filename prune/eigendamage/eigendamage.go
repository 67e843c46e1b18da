package eigendamage

import (
	"context"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"text/tabwriter"

	"github.com/winnow-ml/winnow/nn"
)

// Config sets one round of pruning.
type Config struct {
	Ratio  float64 // fraction of all directions removed
	Limit  float64 // most a layer may lose, of its input or its output directions
	Fisher Fisher
	Seed   uint64 // for the labels of the true Fisher
	// Damping, for C-OBS and Kron-OBS, adds Damping times the mean
	// diagonal to each factor before it is inverted; 0, the official
	// code's choice, adds nothing.
	Damping float64
	// KeepResidual, for the filter methods, keeps the outputs of layers
	// that join residual additions whole (earlier versions' rule) instead
	// of pruning them by the official union rule.
	KeepResidual bool
}

// OneShotLimit and RoundLimit are the official per-layer caps: 0.95 in
// one-shot pruning, 0.5 in each round of iterative pruning.
const (
	OneShotLimit = 0.95
	RoundLimit   = 0.5
)

// Result is what a round did to each target layer.
type Result struct {
	Layers []LayerPlan
}

// Prune runs one round on net: curvature statistics over batches, the
// eigenbasis of every target layer, one global threshold, and the rewrite
// of every layer whose parameter count drops.
func Prune[T nn.Float](ctx context.Context, net nn.Module[T], batches iter.Seq2[Batch[T], error], c Config) (*Result, error) {
	rng := rand.New(rand.NewPCG(c.Seed, 0x6569_6765_6e))
	factors, err := Collect(ctx, net, batches, c.Fisher, rng)
	if err != nil {
		return nil, err
	}
	layers := Targets(net)
	scored := make([]*Scored, len(layers))
	for i, l := range layers {
		b, err := Decompose(factors[i])
		if err != nil {
			return nil, err
		}
		scored[i] = Score(l, b)
	}
	plans, err := Plan(scored, c.Ratio, c.Limit)
	if err != nil {
		return nil, err
	}
	for i, l := range layers {
		Apply(l, scored[i], plans[i])
	}
	return &Result{Layers: plans}, nil
}

// WriteTable prints the kept directions of every layer.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\tin kept\tout kept\tweights before\tafter\trebuilt")
	var before, after int
	for _, p := range r.Layers {
		mark := "yes"
		kept := p.ParamsAfter
		if !p.Rewrite {
			mark, kept = "no (not smaller)", p.ParamsBefore
		}
		if p.CappedIn || p.CappedOut {
			mark += ", capped"
		}
		before += p.ParamsBefore
		after += kept
		fmt.Fprintf(tw, "%s\t%d/%d\t%d/%d\t%d\t%d\t%s\n", p.Layer, len(p.KeepIn), p.In, len(p.KeepOut), p.Out, p.ParamsBefore, kept, mark)
	}
	fmt.Fprintf(tw, "total\t\t\t%d\t%d\t\n", before, after)
	return tw.Flush()
}
