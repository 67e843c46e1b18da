package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/experiment"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/safetensors"
)

type pruneOptions struct {
	out, dump string
	json      bool
	threads   int
}

func newPruneCommand() *cobra.Command {
	s := experiment.DefaultSettings()
	var o pruneOptions
	cmd := &cobra.Command{
		Annotations: map[string]string{dataParallel: "yes"},
		Use:         "prune",
		Short:       "Score a freshly initialised network, write its masks and print the per-layer report",
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
		RunE: func(cmd *cobra.Command, _ []string) error { return runPrune(cmd.Context(), cmd.OutOrStdout(), s, o) },
	}
	f := cmd.Flags()
	addDataFlags(f, &s)
	addPruneFlags(f, &s, true)
	f.StringVar(&s.Prune, "method", s.Prune, "pruning method (the same as --prune)")
	f.StringVar(&o.out, "out", "mask.safetensors", "where to write the masks")
	f.StringVar(&o.dump, "dump", "", "also write parameters, scoring batches, scores and masks to this safetensors file")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	f.IntVar(&o.threads, "threads", runtime.GOMAXPROCS(0), "threads for computation")
	return cmd
}

func runPrune(ctx context.Context, w io.Writer, s experiment.Settings, o pruneOptions) error {
	if o.threads < 1 {
		return usageError{fmt.Errorf("--threads must be at least 1")}
	}
	runtime.GOMAXPROCS(o.threads)
	comm := world(ctx)
	st, p, err := experiment.Prune(ctx, s, comm)
	if err != nil {
		return err
	}
	if comm.Rank() != 0 { // rank 0 writes the masks
		return nil
	}
	for _, n := range st.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	meta := map[string]string{"method": s.Prune, "sparsity": strconv.FormatFloat(s.Sparsity, 'g', -1, 64),
		"model": s.Model, "dataset": s.Dataset, "seed": strconv.FormatUint(s.Seed, 10)}
	if err := nn.SaveMasks(o.out, st.Model, meta); err != nil {
		return err
	}
	if o.dump != "" {
		tensors, dm, err := p.Dump(meta)
		if err != nil {
			return err
		}
		if err := safetensors.WriteFile(o.dump, tensors, dm); err != nil {
			return err
		}
	}
	if o.json {
		return json.NewEncoder(w).Encode(p.Report)
	}
	if err := p.Report.WriteTable(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "masks written to %s\n", o.out)
	return nil
}
