package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/experiment"
)

func basePresets() []string {
	var out []string
	all := experiment.Presets()
	for _, n := range experiment.PresetNames() {
		if n[len(n)-3] != '-' {
			out = append(out, n+": "+all[n].Doc)
		}
	}
	return out
}

func newTrainCommand() *cobra.Command {
	s := experiment.DefaultSettings()
	var o runtimeOptions
	var dryRun bool
	cmd := &cobra.Command{
		Annotations: map[string]string{dataParallel: "yes"},
		Use:         "train",
		Short:       "Prune a fresh network at initialisation and train it (default: lenet5 on MNIST, GraSP at 98%)",
		Long: `Build the model, prune it at initialisation with --prune at --sparsity (the
fraction of conv and linear weights removed; --prune none trains the dense
network, or the masked network of --mask or --init), and train it with SGD,
keeping pruned weights at exactly zero.

With no flags: lenet5 on the built-in MNIST, GraSP at 98% sparsity, 3 epochs
(a few minutes on 2 cores).

Presets carry a paper's hyperparameters (flags given explicitly win); a
suffix -90, -95, -98 (ImageNet: -60, -80, -90) sets the sparsity too:
  ` + strings.Join(basePresets(), "\n  ") + `

Files in --out: config.json (every setting, the data, the source revision,
command, host and CPU), prune-report.json, mask.safetensors,
checkpoint.safetensors (atomically, after each epoch's training and its
evaluation, with --checkpoint-every within epochs, and when interrupted),
metrics.csv, final.safetensors (loads into the PyTorch model) and
summary.json (final_test_acc is the last epoch's; best_test_acc selects an
epoch by test accuracy and is labelled so).

--resume continues the run in --out with the settings it started with: a
setting that defines the run (model, data, pruning, optimisation, seed)
must be the same, or the resume is refused with the differences listed.
--threads, --workers, --data-dir (the same data elsewhere) and, if the
schedule gives the epochs done the same rates (epochs:E1,E2, constant),
more --epochs may change; config.json records each resume.

Exit status: 0 done, 1 failed (a NaN loss, bad data...), 2 bad usage (or a
folder holding another run), 11 the folder is in use by another process,
130 interrupted (a checkpoint is written at the next step boundary).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyPreset(cmd, &s); err != nil {
				return err
			}
			if dryRun {
				return printSettings(cmd.OutOrStdout(), s)
			}
			rt, err := o.runtime(cmd)
			if err != nil {
				return err
			}
			return runTrain(cmd.Context(), cmd.OutOrStdout(), s, rt)
		},
	}
	f := cmd.Flags()
	addDataFlags(f, &s)
	addPruneFlags(f, &s, true)
	addTrainFlags(f, &s)
	o.addFlags(f)
	f.BoolVar(&dryRun, "dry-run", false, "check the settings and print them as JSON (presets applied) without running")
	return cmd
}

// printSettings validates settings and prints them as JSON.
func printSettings(w io.Writer, s experiment.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

func runTrain(ctx context.Context, w io.Writer, s experiment.Settings, rt experiment.Runtime) error {
	out, err := experiment.Train(ctx, s, rt)
	if err != nil {
		return err
	}
	if rt.Comm != nil && rt.Comm.Rank() != 0 {
		return nil
	}
	sum := out.Summary
	fmt.Fprintf(w, "final test accuracy %.4f (epoch %d); best-epoch selection %.4f at epoch %d; weights kept %d of %d (%.2f%%), FLOPs kept %.2f%%; %s\n",
		sum.FinalTestAcc, sum.Epochs, sum.BestTestAcc, sum.BestEpoch, sum.WeightsKept, sum.WeightsTotal, 100*sum.Density,
		100*float64(sum.FLOPsKept)/float64(sum.FLOPsTotal), out.Dir)
	return nil
}
