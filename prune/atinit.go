package prune

import (
	"context"
	"fmt"
	"strconv"

	"github.com/winnow-ml/winnow/internal/mem"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/safetensors"
)

// Pruned is the outcome of pruning a network at initialisation.
type Pruned struct {
	Result  *Result
	Report  Report
	Batches Batches // the scoring sample as drawn (before any split in halves or chunks)
	twin    nn.Module[float64]
}

// AtInit prunes net at initialisation: it copies net's values into twin (a
// float64 network of the same architecture, as models.New[float64] builds),
// scores twin's conv and linear weights by c.Method on the scoring batches
// (GraSP and SNIP; nil for the data-free methods), and puts the masks on
// net, zeroing its pruned weights. input is the C, H, W of one input.
// Scores are computed in float64 whatever net computes in.
//
// Before scoring it checks that the scoring pass fits in the memory the
// system has available (ScoringMemory), and refuses it otherwise. net must
// carry no masks yet.
func AtInit(ctx context.Context, net nn.Module[float32], twin nn.Module[float64], batches Batches, input []int, c Config) (*Pruned, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	for _, p := range nn.Prunable(net) {
		if p.Mask != nil {
			return nil, fmt.Errorf("prune: %s carries a mask already: prune a network without masks", p.Name)
		}
	}
	nn.CopyState(twin, net)
	if c.NeedsData() {
		if err := CheckScoringMemory(twin, input, largest(batches), c, mem.Available()); err != nil {
			return nil, err
		}
	}
	r, err := Prune(ctx, twin, batches, input, c)
	if err != nil {
		return nil, err
	}
	if err := ApplyMasks(net, r.Masks); err != nil {
		return nil, err
	}
	return &Pruned{Result: r, Report: NewReport(net, input, c.Method, c.Sparsity), Batches: batches, twin: twin}, nil
}

// ScoringMemory estimates the bytes a scoring pass of batches of the given
// number of images takes: a float64 pass keeps every activation with its
// adjoint (and, for GraSP, their tangents) for the whole scored batch, with
// the network's data, gradient, tangent and Hv.
//
// Three quarters of the copies count, for the buffers GraSP shares and
// recomputes (autograd.Recompute); calibrated on measured peaks of winnow
// prune: CIFAR-10, GraSP on 2 x 50 images, vgg19 1.6 GB (estimated 2.4),
// resnet32 1.3 GB (2.7); Tiny-ImageNet, vgg19 on 2 x 100 images at 64x64,
// 4.5 GB (10.3).
func ScoringMemory[T nn.Float](net nn.Module[T], input []int, images int, c Config) int64 {
	n := int64(images)
	copies := int64(2)
	if c.Method == "grasp" {
		copies = 4
		switch {
		case c.GraSP.Chunk > 0:
			n = min(n, int64(c.GraSP.Chunk))
		case c.GraSP.SplitHalves:
			n = (n + 1) / 2
		}
	}
	s := nn.Summarize(net, input...)
	return n*s.Activations*8*copies*3/4 + 8*8*int64(s.Params)
}

// CheckScoringMemory refuses a scoring pass that needs more than available
// bytes (0: no check).
func CheckScoringMemory[T nn.Float](net nn.Module[T], input []int, images int, c Config, available int64) error {
	need := ScoringMemory(net, input, images, c)
	if available > 0 && need > available {
		return fmt.Errorf("prune: %s scoring on batches of %d images needs about %.1f GB, more than the %.1f GB available: "+
			"lower --samples-per-class (and raise --scoring-iters to keep the sample)", c.Method, images,
			float64(need)/1e9, float64(available)/1e9)
	}
	return nil
}

// Dump returns everything needed to recompute the scores elsewhere, as
// safetensors tensors and metadata: param/<name> (every parameter at
// initialisation, PyTorch names and layouts), scoring_param/<name> (the
// linear weights GraSP re-draws for scoring), input/<i> and label/<i> (the
// scoring batches in the order scored, after the training transforms),
// score/<name> and mask/<name>. meta is added to the metadata.
func (p *Pruned) Dump(meta map[string]string) ([]safetensors.Tensor, map[string]string, error) {
	var ts []safetensors.Tensor
	for _, t := range nn.StateTensors(p.twin, safetensors.F32) { // the values at initialisation
		t.Name = "param/" + t.Name
		ts = append(ts, t)
	}
	c := p.Result.Config
	shapes := map[string][]int{}
	for _, w := range nn.Prunable(p.twin) {
		shapes[w.Name] = w.Shape
	}
	scored := p.Batches
	if c.Method == "grasp" {
		if c.GraSP.ReinitLinear {
			o := c.GraSP
			o.Seed = c.Seed
			redrawn := o.Redrawn(p.twin)
			for _, name := range p.Result.Order {
				if v, ok := redrawn[name]; ok {
					ts = append(ts, safetensors.FromFloats("scoring_param/"+name, safetensors.F64, shapes[name], v))
				}
			}
		}
		scored = c.GraSP.ScoringBatches(p.Batches)
	}
	for i := range scored.Len() {
		b, err := scored.Batch(i)
		if err != nil {
			return nil, nil, fmt.Errorf("prune: dump: scoring batch %d: %w", i, err)
		}
		ts = append(ts, safetensors.FromFloats(fmt.Sprintf("input/%d", i), safetensors.F64, b.Shape, b.X))
		labels := make([]int64, len(b.Labels))
		for j, l := range b.Labels {
			labels[j] = int64(l)
		}
		ts = append(ts, safetensors.FromInt64s(fmt.Sprintf("label/%d", i), []int{len(labels)}, labels))
	}
	for _, name := range p.Result.Order {
		ts = append(ts, safetensors.FromFloats("score/"+name, safetensors.F64, shapes[name], p.Result.Scores[name]))
		m := make([]byte, len(p.Result.Masks[name]))
		for i, k := range p.Result.Masks[name] {
			if k {
				m[i] = 1
			}
		}
		ts = append(ts, safetensors.FromBytes("mask/"+name, shapes[name], m))
	}
	dm := map[string]string{"temperature": strconv.FormatFloat(c.GraSP.Temperature, 'g', -1, 64),
		"grasp_reinit_linear": strconv.FormatBool(c.GraSP.ReinitLinear), "grasp_split_halves": strconv.FormatBool(c.GraSP.SplitHalves),
		"scope": string(c.Scope), "score_note": scoreNote(c.Method)}
	for k, v := range meta {
		dm[k] = v
	}
	return ts, dm, nil
}

func scoreNote(method string) string {
	switch method {
	case "grasp":
		return "S = -theta * Hg (theta: param/, or scoring_param/ where present; T = temperature); the highest S are removed"
	case "snip":
		return "S = |theta * g| at T = 1; the lowest are removed"
	case "synflow":
		return "S = |theta * dR/dtheta| of the last round; masks come from the iterative rounds"
	}
	return "the lowest scores are removed"
}
