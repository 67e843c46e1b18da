package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/experiment"
)

func newEigenDamageCommand() *cobra.Command {
	s := experiment.StructuredSettings{Data: experiment.DefaultSettings(), Method: "eigendamage", Ratio: 0.5, Fisher: "true",
		FinetuneEpochs: 10, BatchSize: 128, LR: 1e-3, WeightDecay: 1e-4}
	var o runtimeOptions
	cmd := &cobra.Command{
		Use:   "eigendamage",
		Short: "Prune a trained network structurally (EigenDamage, or C-OBD / C-OBS / Kron-OBD / Kron-OBS filters) and fine-tune it",
		Long: `Load a trained network (--checkpoint: a train run's checkpoint.safetensors or
final.safetensors), collect K-FAC statistics over the training set (or its first
--fisher-examples examples; model in evaluation mode, labels drawn from its
softmax: --fisher true), remove the
fraction --ratio of all eigenbasis directions under one global threshold
(at most --limit of any layer's inputs or outputs), rebuild each pruned layer
as input rotation, core and output rotation where that has fewer weights, and
fine-tune with SGD (momentum 0.9, x0.1 at 50% and 75% of the epochs), then
re-estimate BatchNorm statistics. --method c-obd, c-obs, kron-obd or kron-obs
prune whole output units (filters, features) instead, as the official code
defines them (docs/eigendamage.md): scored with the exact diagonal Fisher, the
diagonal of the K-FAC inverse or the K-FAC factors, the OBS methods also
correcting the kept units, one threshold over every layer's and the
classifier's scores (the classifier keeps its outputs), and rebuild the
layers slimmer. Layers whose outputs join residual additions are pruned by
the official union rule (a block's output keeps a channel its branch or its
shortcut keeps); --keep-residual keeps them whole. --iterative R prunes in R rounds, each
removing the fraction --ratio of what is left (official: 7 rounds of 0.5),
each followed by fine-tuning.

Files in --out: config.json, layers.txt (kept directions per layer and round),
round-N/ (fine-tuning metrics and checkpoint), pruned.safetensors (the pruned
network; winnow eval loads it) and summary.json (weights, FLOPs in winnow's and the
official convention, the inference speed-up over interleaved pairs of passes
of the network before and after with its spread, and test accuracy: before pruning, after
pruning, and final: the last fine-tuning epoch's model after BN
re-estimation).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rt, err := o.runtime(cmd)
			if err != nil {
				return err
			}
			return runEigenDamage(cmd.Context(), cmd.OutOrStdout(), s, rt)
		},
	}
	f := cmd.Flags()
	addDataFlags(f, &s.Data)
	f.StringVar(&s.Method, "method", s.Method, "eigendamage, or a filter-pruning baseline that rebuilds slimmer layers: c-obd, c-obs, kron-obd, kron-obs (--ratio: fraction of units)")
	f.StringVar(&s.Checkpoint, "checkpoint", "", "trained network: checkpoint.safetensors or final.safetensors of a train run (required)")
	f.Float64Var(&s.Ratio, "ratio", s.Ratio, "fraction of all eigenbasis directions removed (per round with --iterative)")
	f.Float64Var(&s.FLOPsTarget, "flops-target", 0, "keep this fraction of the FLOPs (official convention) instead: the least ratio that does, searched with the round's scores (one round)")
	f.IntVar(&s.Rounds, "iterative", 0, "prune in this many rounds (0: one-shot)")
	f.Float64Var(&s.Limit, "limit", 0, "most a layer may lose of its input or output directions (0: 0.95 one-shot, 0.5 per round)")
	f.StringVar(&s.Fisher, "fisher", s.Fisher, "labels of the curvature pass: true (sampled from the model) or empirical (the data's)")
	f.IntVar(&s.FisherExamples, "fisher-examples", 0, "curvature statistics over this many training examples (0: the whole training set, as the official code)")
	f.Float64Var(&s.Damping, "damping", 0, "c-obs, kron-obs: add this times the mean diagonal to each Kronecker factor before inverting it (0: none, as the official code)")
	f.BoolVar(&s.KeepResidual, "keep-residual", false, "filter methods: keep every unit of the layers whose outputs join residual additions (default: the official union rule prunes them)")
	f.IntVar(&s.FinetuneEpochs, "finetune-epochs", s.FinetuneEpochs, "fine-tuning epochs after each round (0: none)")
	f.IntVar(&s.BatchSize, "batch-size", s.BatchSize, "batch size of statistics, fine-tuning and evaluation")
	f.Float64Var(&s.LR, "lr", s.LR, "fine-tuning learning rate")
	f.Float64Var(&s.WeightDecay, "weight-decay", s.WeightDecay, "fine-tuning weight decay")
	f.StringVar(&o.out, "out", "", "output folder (default runs/<method>-<model>-<dataset>-<ratio>)")
	f.BoolVar(&o.force, "force", false, "overwrite an earlier result in --out")
	o.addComputeFlags(f)
	f.BoolVar(&o.quiet, "quiet", false, "print only the summary")
	return cmd
}

func runEigenDamage(ctx context.Context, w io.Writer, s experiment.StructuredSettings, rt experiment.Runtime) error {
	sum, err := experiment.EigenDamage(ctx, s, rt)
	if err != nil {
		return err
	}
	b, f := sum.Before, sum.Final
	sp := sum.Speedup
	speed := fmt.Sprintf("inference %.3f -> %.3f ms per image, %.2fx (%.2f-%.2f over %d interleaved pairs)", sp.Before.MedianMs, sp.After.MedianMs, sp.Ratio, sp.P10, sp.P90, sp.Pairs)
	if sum.SpeedupNote != "" {
		speed += ": " + sum.SpeedupNote
	}
	fmt.Fprintf(w, "final (last fine-tuning epoch, BN re-estimated): test accuracy %.4f (before pruning %.4f); weights %d -> %d (%.1f%% kept), FLOPs %.4g -> %.4g M (%.1f%% kept), %s\n",
		f.TestAcc, b.TestAcc, b.Weights, f.Weights, 100*sum.WeightsKept, float64(b.FLOPs)/1e6, float64(f.FLOPs)/1e6, 100*sum.FLOPsKept, speed)
	return nil
}
