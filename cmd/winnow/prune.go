package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/safetensors"
)

type pruneOptions struct {
	net  netOptions
	out  string
	dump string
	json bool
}

func newPruneCommand() *cobra.Command {
	var o pruneOptions
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Score a freshly initialised network, write its masks and print the per-layer report",
		Long: `Build the model at initialisation (--seed), score its conv and linear weights
with the method, remove the fraction --sparsity with the highest GraSP score or
the lowest score of the other methods, and print a per-layer report: shape,
weights, kept, density, FLOPs kept, and warnings of layer collapse.

--dump FILE writes everything needed to recompute the scores elsewhere:
param/<name> (every parameter at initialisation, PyTorch names and layouts),
scoring_param/<name> (linear weights GraSP re-draws for scoring),
input/<i> and label/<i> (the scoring batches in the order scored, after the
training transforms), score/<name> and mask/<name>, with metadata.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPrune(cmd.Context(), cmd.OutOrStdout(), &o) },
	}
	o.net.addFlags(cmd.Flags(), "grasp", 0.98, true)
	cmd.Flags().StringVar(&o.net.Prune, "method", "grasp", "pruning method (the same as --prune)")
	cmd.Flags().StringVar(&o.out, "out", "mask.safetensors", "where to write the masks")
	cmd.Flags().StringVar(&o.dump, "dump", "", "also write parameters, scoring batches, scores and masks to this safetensors file")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	return cmd
}

func runPrune(ctx context.Context, w io.Writer, o *pruneOptions) error {
	if o.net.Prune == "none" {
		return usageError{fmt.Errorf("winnow prune needs a method (--prune)")}
	}
	if err := o.net.validate(); err != nil {
		return err
	}
	s, err := newSetup(&o.net)
	if err != nil {
		return err
	}
	init := nn.StateTensors(s.model, safetensors.F32) // before masking zeroes weights
	p, err := s.pruneModel(ctx, &o.net)
	if err != nil {
		return err
	}
	meta := map[string]string{"method": o.net.Prune, "sparsity": strconv.FormatFloat(o.net.Sparsity, 'g', -1, 64),
		"model": o.net.Model, "dataset": o.net.Dataset, "seed": strconv.FormatUint(o.net.Seed, 10)}
	if err := nn.SaveMasks(o.out, s.model, meta); err != nil {
		return err
	}
	if o.dump != "" {
		if err := writeDump(o.dump, init, p, &o.net, meta); err != nil {
			return err
		}
	}
	if o.json {
		return json.NewEncoder(w).Encode(p.report)
	}
	if err := p.report.WriteTable(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "masks written to %s\n", o.out)
	return nil
}

func writeDump(path string, init []safetensors.Tensor, p *pruned, o *netOptions, meta map[string]string) error {
	var ts []safetensors.Tensor
	for _, t := range init {
		t.Name = "param/" + t.Name
		ts = append(ts, t)
	}
	c := p.result.Config
	scored := p.batches
	if c.Method == "grasp" {
		if c.GraSP.ReinitLinear {
			redrawn := prune.RedrawnLinear(p.twin, c.Seed)
			for _, name := range p.result.Order {
				if v, ok := redrawn[name]; ok {
					shape := paramShape(p.twin, name)
					ts = append(ts, safetensors.FromFloats("scoring_param/"+name, safetensors.F64, shape, v))
				}
			}
		}
		scored = c.GraSP.ScoringBatches(p.batches)
	}
	for i, b := range scored {
		ts = append(ts, safetensors.FromFloats(fmt.Sprintf("input/%d", i), safetensors.F64, b.Shape, b.X))
		labels := make([]int64, len(b.Labels))
		for j, l := range b.Labels {
			labels[j] = int64(l)
		}
		ts = append(ts, safetensors.FromInt64s(fmt.Sprintf("label/%d", i), []int{len(labels)}, labels))
	}
	for _, name := range p.result.Order {
		shape := paramShape(p.twin, name)
		ts = append(ts, safetensors.FromFloats("score/"+name, safetensors.F64, shape, p.result.Scores[name]))
		m := make([]byte, len(p.result.Masks[name]))
		for i, k := range p.result.Masks[name] {
			if k {
				m[i] = 1
			}
		}
		ts = append(ts, safetensors.FromBytes("mask/"+name, shape, m))
	}
	dm := map[string]string{"temperature": strconv.FormatFloat(c.GraSP.Temperature, 'g', -1, 64),
		"grasp_reinit_linear": strconv.FormatBool(c.GraSP.ReinitLinear), "grasp_split_halves": strconv.FormatBool(c.GraSP.SplitHalves),
		"scope": string(c.Scope), "score_note": scoreNote(c.Method)}
	for k, v := range meta {
		dm[k] = v
	}
	return safetensors.WriteFile(path, ts, dm)
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

func paramShape(m nn.Module[float64], name string) []int {
	for _, p := range nn.AllParams(m) {
		if p.Name == name {
			return p.Shape
		}
	}
	panic("no parameter " + name)
}
