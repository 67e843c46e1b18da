package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/data"
)

func newEvalCommand() *cobra.Command {
	var o netOptions
	var checkpoint string
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Test a saved network: accuracy, weights, FLOPs and inference time",
		Long: `Load a network saved by winnow (--checkpoint: a train run's checkpoint or
final.safetensors, or eigendamage's pruned.safetensors, whose factored
layers are rebuilt from the file) and report its test accuracy, weights,
FLOPs (a multiply-add counts 2; BN, ReLU and pooling included) and inference
time per image.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEval(cmd.Context(), cmd.OutOrStdout(), &o, checkpoint)
		},
	}
	addModelDataFlags(cmd.Flags(), &o)
	cmd.Flags().StringVar(&checkpoint, "checkpoint", "", "the saved network (required)")
	return cmd
}

func runEval(ctx context.Context, w io.Writer, o *netOptions, checkpoint string) error {
	o.Prune, o.SamplesPerClass, o.ScoringIters = "none", 1, 1
	if err := o.validate(); err != nil {
		return err
	}
	if checkpoint == "" {
		return usageError{fmt.Errorf("--checkpoint is required")}
	}
	s, err := newSetup(o)
	if err != nil {
		return err
	}
	if err := loadNetwork(checkpoint, s.model); err != nil {
		return fmt.Errorf("loading --checkpoint: %w", err)
	}
	test := &data.Loader{Dataset: s.test, Transform: data.PipelineFor(s.info, false), BatchSize: 500, Workers: o.Workers}
	st, err := measure(ctx, s.model, s, test)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s on %s (%d test examples): accuracy %.4f, loss %.4f; %d parameters (%d conv/linear weights), %.4g MFLOPs, %.3f ms per image\n",
		o.Model, o.Dataset, st.TestExamples, st.TestAcc, st.TestLoss, st.Params, st.Weights, float64(st.FLOPs)/1e6, st.InferMsPerImg)
	return nil
}
