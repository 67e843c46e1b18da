package prune

import (
	"context"
	"fmt"
	"math"

	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/nn"
)

// Methods lists the pruning methods.
var Methods = []string{"grasp", "snip", "synflow", "magnitude", "random"}

// Config chooses a method and its settings.
type Config struct {
	Method          string
	Sparsity        float64 // fraction of prunable weights removed, 0 <= p < 1
	Scope           Scope
	MinLayerDensity float64 // each layer keeps at least this fraction (0: no floor)
	Seed            uint64
	GraSP           GraSPOptions
	SynFlow         SynFlowOptions
	// Shots prunes in this many shots (0 or 1: one), as Synaptic-Flow's
	// multishot experiment at initialisation: shot s of S re-scores the
	// network with the weights pruned so far at zero and prunes to density
	// (1-Sparsity)^(s/S), a pruned weight never revived. SynFlow is itself
	// iterative: S shots of its Rounds rounds are its S*Rounds rounds.
	Shots int
	// Comm, with more than one process, shares GraSP's and SNIP's scoring
	// batches out among the processes of a data-parallel run: every
	// process gets the same scores and masks (SynFlow and the data-free
	// methods need no data and compute them on each).
	Comm dist.Comm
}

// DefaultConfig has the papers' settings: GraSP at T = 200 as the official
// code (linear layers re-drawn for scoring, batches scored as halves),
// SynFlow with 100 rounds, a global threshold.
func DefaultConfig(method string, sparsity float64) Config {
	return Config{Method: method, Sparsity: sparsity, Scope: Global,
		GraSP:   GraSPOptions{Temperature: 200, ReinitLinear: true, SplitHalves: true},
		SynFlow: SynFlowOptions{Rounds: 100}}
}

// Validate checks the settings a user gives.
func (c Config) Validate() error {
	known := false
	for _, m := range Methods {
		known = known || m == c.Method
	}
	if !known {
		return fmt.Errorf("unknown pruning method %q (%v)", c.Method, Methods)
	}
	if !(c.Sparsity >= 0 && c.Sparsity < 1) {
		return fmt.Errorf("sparsity %v: the fraction of weights removed must be in [0, 1)", c.Sparsity)
	}
	if !(c.MinLayerDensity >= 0 && c.MinLayerDensity <= 1) {
		return fmt.Errorf("minimum layer density %v outside [0, 1]", c.MinLayerDensity)
	}
	if c.MinLayerDensity > 1-c.Sparsity {
		return fmt.Errorf("minimum layer density %v exceeds the overall density %v", c.MinLayerDensity, 1-c.Sparsity)
	}
	if c.Scope != Global && c.Scope != Local {
		return fmt.Errorf("unknown scope %q (global, local)", c.Scope)
	}
	if c.Method == "grasp" && !(c.GraSP.Temperature > 0) {
		return fmt.Errorf("temperature %v must be positive", c.GraSP.Temperature)
	}
	if c.Shots < 0 {
		return fmt.Errorf("%d shots", c.Shots)
	}
	if c.Method == "synflow" && c.SynFlow.Rounds < 1 {
		return fmt.Errorf("SynFlow needs at least one round, got %d", c.SynFlow.Rounds)
	}
	return nil
}

// NeedsData reports whether the method scores on data.
func (c Config) NeedsData() bool { return c.Method == "grasp" || c.Method == "snip" }

// Result holds the scores (as the method's paper defines them) and the keep
// masks of every prunable weight, by parameter name.
type Result struct {
	Config Config
	Order  []string // weight names in the network's order
	Scores map[string][]float64
	Masks  map[string][]bool
}

// Prune scores net's conv and linear weights and selects the masks. Weights
// that masks on net prune already stay pruned (scored at zero, removed
// first). net is the float64 network at initialisation (or trained, to
// prune early in training); batches are the scoring batches of
// grasp and snip; input is the C, H, W of one input (synflow). net's
// values are left unchanged; apply the masks with ApplyMasks.
func Prune(ctx context.Context, net nn.Module[float64], batches Batches, input []int, c Config) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	if c.NeedsData() && (batches == nil || batches.Len() == 0) {
		return nil, fmt.Errorf("prune: %s needs scoring batches", c.Method)
	}
	r := &Result{Config: c}
	for _, p := range weights(net) {
		r.Order = append(r.Order, p.Name)
	}
	var err error
	if c.Method == "synflow" {
		o := c.SynFlow
		o.Input, o.Scope, o.MinLayerDensity = input, c.Scope, c.MinLayerDensity
		o.Rounds *= max(1, c.Shots)
		r.Scores, r.Masks, err = SynFlow(ctx, net, c.Sparsity, o)
		return r, err
	}
	shots := max(1, c.Shots)
	w := weights(net)
	pruned := prunedBy(w)
	if shots > 1 || pruned != nil {
		// Shots after the first (and a masked network's first) score the
		// network with the pruned weights at zero, held there through
		// GraSP's re-drawn layers by the masks.
		defer snapshot(w)()
		masks := make([][]float64, len(w))
		for i, p := range w {
			masks[i] = p.Mask
		}
		defer func() {
			for i, p := range w {
				p.Mask = masks[i]
			}
		}()
	}
	for shot := 1; shot <= shots; shot++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if pruned != nil {
			keep := map[string][]bool{}
			for name, gone := range pruned {
				k := make([]bool, len(gone))
				for i, g := range gone {
					k[i] = !g
				}
				keep[name] = k
			}
			if err := ApplyMasks(net, keep); err != nil {
				return nil, err
			}
		}
		if r.Scores, err = score(ctx, net, batches, c); err != nil {
			return nil, err
		}
		var layers []layerScores
		for _, name := range r.Order {
			imp := r.Scores[name]
			if c.Method == "grasp" { // S = -θ ⊙ Hg: the highest S go
				neg := make([]float64, len(imp))
				for i, v := range imp {
					neg[i] = -v
				}
				imp = neg
			}
			layers = append(layers, layerScores{name, imp})
		}
		if r.Masks, err = keepMasks(layers, StepSparsity(c.Sparsity, shot, shots), c.Scope, c.MinLayerDensity, pruned); err != nil {
			return nil, err
		}
		pruned = map[string][]bool{}
		for name, keep := range r.Masks {
			gone := make([]bool, len(keep))
			for i, k := range keep {
				gone[i] = !k
			}
			pruned[name] = gone
		}
	}
	return r, nil
}

// StepSparsity is the sparsity after step k of n steps that remove the same
// fraction of the weights left each, to sparsity after the last:
// 1-(1-sparsity)^(k/n), and sparsity itself (no rounding) at k = n.
func StepSparsity(sparsity float64, k, n int) float64 {
	if k >= n {
		return sparsity
	}
	return 1 - math.Pow(1-sparsity, float64(k)/float64(n))
}

// prunedBy returns the weights the masks on w prune, nil without masks.
func prunedBy(w []*nn.Param[float64]) map[string][]bool {
	var pruned map[string][]bool
	for _, p := range w {
		if p.Mask == nil {
			continue
		}
		if pruned == nil {
			pruned = map[string][]bool{}
		}
		gone := make([]bool, p.Len())
		for i, m := range p.Mask {
			gone[i] = m == 0
		}
		pruned[p.Name] = gone
	}
	return pruned
}

// score computes the scores of c.Method (not SynFlow) on net as it is.
func score(ctx context.Context, net nn.Module[float64], batches Batches, c Config) (map[string][]float64, error) {
	switch c.Method {
	case "grasp":
		o := c.GraSP
		o.Seed, o.Comm = c.Seed, c.Comm
		return GraSP(ctx, net, batches, o)
	case "snip":
		return SNIP(ctx, net, batches, c.Comm)
	case "magnitude":
		return Magnitude(net), nil
	case "random":
		return Random(net, c.Seed), nil
	}
	panic("prune: score: method " + c.Method)
}
