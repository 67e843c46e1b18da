package eigendamage

import (
	"context"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"text/tabwriter"

	"gonum.org/v1/gonum/mat"

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
	if !(c.Ratio >= 0 && c.Ratio < 1) {
		return nil, fmt.Errorf("eigendamage: ratio %v: want 0 <= ratio < 1", c.Ratio)
	}
	r, err := NewRound(ctx, net, batches, "eigendamage", c)
	if err != nil {
		return nil, err
	}
	return r.Apply(net, c.Ratio)
}

// Round is one round's curvature statistics and scores of a network by a
// method (Methods), computed once: Apply prunes the network, or a copy of
// it, at any ratio, so that a ratio can be searched for (a FLOPs target).
type Round[T nn.Float] struct {
	Method string
	Config Config
	// EigenDamage: each target layer's scored eigenbasis.
	scored []*Scored
	// Filter methods: the scored layers (chains, residual writers, the
	// classifier last), their unit scores, unit matrices and inverses.
	names           []string
	chains, writers int
	unitScores      [][]float64
	weights         []*mat.Dense
	ginv, ainv      []*mat.Dense
}

// NewRound collects the statistics of method over batches and scores
// net's directions (EigenDamage) or output units (the filter methods).
// Config.Ratio is not read.
func NewRound[T nn.Float](ctx context.Context, net nn.Module[T], batches iter.Seq2[Batch[T], error], method string, c Config) (*Round[T], error) {
	if !(c.Limit > 0 && c.Limit < 1) {
		return nil, fmt.Errorf("eigendamage: per-layer limit %v: want 0 < limit < 1", c.Limit)
	}
	if !(c.Damping >= 0) || math.IsInf(c.Damping, 0) {
		return nil, fmt.Errorf("eigendamage: damping %v: want a finite value >= 0", c.Damping)
	}
	r := &Round[T]{Method: method, Config: c}
	if method != "eigendamage" {
		return r, r.scoreFilters(ctx, net, batches)
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x6569_6765_6e))
	factors, err := Collect(ctx, net, batches, c.Fisher, rng)
	if err != nil {
		return nil, err
	}
	for i, l := range Targets(net) {
		b, err := Decompose(factors[i])
		if err != nil {
			return nil, err
		}
		r.scored = append(r.scored, Score(l, b))
	}
	return r, nil
}

// Apply prunes net, the network the round scored or a copy of it, at the
// ratio: the fraction of all scores at or below the global threshold.
func (r *Round[T]) Apply(net nn.Module[T], ratio float64) (*Result, error) {
	if !(ratio >= 0 && ratio < 1) {
		return nil, fmt.Errorf("eigendamage: ratio %v: want 0 <= ratio < 1", ratio)
	}
	if r.Method != "eigendamage" {
		return r.applyFilters(net, ratio)
	}
	layers := Targets(net)
	if len(layers) != len(r.scored) {
		return nil, fmt.Errorf("eigendamage: the network has %d target layers, the round scored %d", len(layers), len(r.scored))
	}
	plans, err := Plan(r.scored, ratio, r.Config.Limit)
	if err != nil {
		return nil, err
	}
	for i, l := range layers {
		if l.Name != r.scored[i].Basis.Layer {
			return nil, fmt.Errorf("eigendamage: layer %s of the network is not %s, the one scored", l.Name, r.scored[i].Basis.Layer)
		}
		Apply(l, r.scored[i], plans[i])
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
