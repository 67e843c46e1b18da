package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/experiment"
)

type evalOptions struct {
	checkpoint, predictions string
	json                    bool
	workers                 int
}

func newEvalCommand() *cobra.Command {
	s := experiment.DefaultSettings()
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Test a saved network: accuracy, weights, FLOPs and inference time",
		Long: `Load a network saved by winnow (--checkpoint: a train run's checkpoint or
final.safetensors, or eigendamage's pruned.safetensors, whose factored
layers are rebuilt from the file) and report its test accuracy, weights,
FLOPs (a multiply-add counts 2; BN, ReLU and pooling included) and inference
time per image (median of repeated passes). The data are normalised as
training normalised them: the dataset's values, a folder's own statistics,
or --mean/--std (config.json of the run records them).

--predictions FILE writes each test example's prediction: a .csv of index,
label, predicted class and class probabilities, or a .safetensors file of
logits, labels and indices.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEval(cmd.Context(), cmd.OutOrStdout(), s, o) },
	}
	f := cmd.Flags()
	addDataFlags(f, &s)
	f.IntVar(&s.BatchSize, "batch-size", 128, "batch size of the evaluation")
	f.StringVar(&o.checkpoint, "checkpoint", "", "the saved network (required)")
	f.StringVar(&o.predictions, "predictions", "", "write per-example predictions to this .csv or .safetensors file")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	f.IntVar(&o.workers, "workers", 2, "data loading goroutines")
	return cmd
}

func runEval(ctx context.Context, w io.Writer, s experiment.Settings, o evalOptions) error {
	ev, err := experiment.Evaluate(ctx, s, o.checkpoint, o.predictions, o.workers)
	if err != nil {
		return err
	}
	if o.json {
		return json.NewEncoder(w).Encode(ev)
	}
	st := ev.Stage
	fmt.Fprintf(w, "%s on %s (%d test examples): accuracy %.4f, loss %.4f; %d parameters (%d conv/linear weights, %.2f%% kept), %.4g MFLOPs, %.3f ms per image\n",
		s.Model, s.Dataset, st.TestExamples, st.TestAcc, st.TestLoss, st.Params, st.Weights, 100*ev.Density, float64(st.FLOPs)/1e6, st.InferMsPerImg)
	if o.predictions != "" {
		fmt.Fprintf(w, "predictions written to %s\n", o.predictions)
	}
	return nil
}
