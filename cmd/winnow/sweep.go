package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/winnow-ml/winnow/experiment"
	"github.com/winnow-ml/winnow/prune"
)

type sweepOptions struct {
	methods, sparsities, seeds string
	out                        string
	jobs, threads              int
}

// sweepOwn are the flags sweep sets per run itself.
var sweepOwn = map[string]bool{"methods": true, "sparsity": true, "seeds": true, "out": true, "jobs": true, "threads": true,
	"prune": true, "seed": true, "resume": true, "force": true, "quiet": true}

func newSweepCommand() *cobra.Command {
	var o sweepOptions
	var t trainOptions
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Train every combination of methods, sparsities and seeds, each in its own folder",
		Long: `Run a training run for every method x sparsity x seed in DIR/<method>-<sparsity>-s<seed>
("dense" trains without pruning, once per seed). Any train flag applies to every
run. Running the sweep again skips finished runs and resumes interrupted ones.
--jobs runs several at once, each with threads/jobs threads. A progress line tells
how many runs are done, running and left, with an estimate of the time left.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSweep(cmd.Context(), cmd.OutOrStdout(), cmd.Flags(), &o)
		},
	}
	f := cmd.Flags()
	t.netOptions.addFlags(f, "", 0, false)
	addTrainFlags(f, &t)
	f.StringVar(&o.methods, "methods", "grasp,snip,synflow,magnitude,random,dense", "methods, comma-separated ("+strings.Join(prune.Methods, ", ")+", dense)")
	f.StringVar(&o.sparsities, "sparsity", "0.9,0.95,0.98,0.99", "sparsities, comma-separated")
	f.StringVar(&o.seeds, "seeds", "1,2", "seeds, comma-separated")
	f.IntVar(&o.jobs, "jobs", 1, "runs at once")
	f.Lookup("out").Usage = "the sweep folder"
	return cmd
}

func runSweep(ctx context.Context, w io.Writer, flags *pflag.FlagSet, o *sweepOptions) error {
	out, _ := flags.GetString("out")
	if out == "" {
		return usageError{fmt.Errorf("--out is required: the sweep's folder")}
	}
	methods := strings.Split(o.methods, ",")
	for _, m := range methods {
		if m != "dense" && prune.DefaultConfig(m, 0.5).Validate() != nil {
			return usageError{fmt.Errorf("unknown method %q", m)}
		}
	}
	var sparsities []float64
	for _, s := range strings.Split(o.sparsities, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || !(v >= 0 && v < 1) {
			return usageError{fmt.Errorf("sparsity %q: want a fraction in [0, 1)", s)}
		}
		sparsities = append(sparsities, v)
	}
	var seeds []uint64
	for _, s := range strings.Split(o.seeds, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return usageError{fmt.Errorf("seed %q is not a number", s)}
		}
		seeds = append(seeds, v)
	}
	threads, _ := flags.GetInt("threads")
	if o.jobs < 1 {
		return usageError{fmt.Errorf("--jobs must be at least 1")}
	}
	var args []string
	flags.Visit(func(f *pflag.Flag) {
		if !sweepOwn[f.Name] {
			args = append(args, "--"+f.Name+"="+f.Value.String())
		}
	})
	args = append(args, "--quiet")
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	s := &experiment.Sweep{Binary: bin, Out: out, Args: args, Jobs: o.jobs, Threads: max(1, threads/o.jobs), Log: w}
	if err := s.Run(ctx, experiment.Plan(methods, sparsities, seeds)); err != nil {
		return err
	}
	fmt.Fprintf(w, "sweep done: winnow report %s\n", filepath.Clean(out))
	return nil
}
