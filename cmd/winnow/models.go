package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
)

type modelsOptions struct {
	json bool
}

func newModelsCommand() *cobra.Command {
	var o modelsOptions
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the models with their prunable weights, parameters and forward FLOPs",
		Long: `List every model, one line each: its name, prunable (conv + linear) weights,
trainable parameters and forward FLOPs for one image of its default dataset
(a multiply-add counts 2 FLOPs).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runModels(cmd.OutOrStdout(), o) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON lines instead of a table")
	return cmd
}

type modelRow struct {
	Name            string `json:"name"`
	Dataset         string `json:"dataset"`
	Input           []int  `json:"input"`
	PrunableWeights int    `json:"prunable_weights"`
	Params          int    `json:"params"`
	FLOPs           int64  `json:"flops"`
	Description     string `json:"description"`
}

func runModels(w io.Writer, o modelsOptions) error {
	var rows []modelRow
	for _, name := range models.Names() {
		doc, dataset, in, err := models.Describe(name)
		if err != nil {
			return err
		}
		m, err := models.New[float32](name, in, models.Options{}, 0)
		if err != nil {
			return err
		}
		s := nn.Summarize(m, in.Channels, in.Height, in.Width)
		rows = append(rows, modelRow{name, dataset, []int{in.Channels, in.Height, in.Width}, s.PrunableWeights, s.Params, s.FLOPs, doc})
	}
	if o.json {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tprunable weights\tparams\tforward FLOPs\tdataset\tinput")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%dx%dx%d\n", r.Name, r.PrunableWeights, r.Params, r.FLOPs, r.Dataset, r.Input[0], r.Input[1], r.Input[2])
	}
	return tw.Flush()
}
