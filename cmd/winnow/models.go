package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/nn/models"
)

func newModelsCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the models with their prunable weights, parameters and forward FLOPs",
		Long: `List every model, one line each: its name, prunable (conv + linear) weights,
trainable parameters and forward FLOPs for one image of its default dataset
(a multiply-add counts 2 FLOPs).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runModels(cmd.OutOrStdout(), asJSON) },
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines instead of a table")
	return cmd
}

func runModels(w io.Writer, asJSON bool) error {
	rows, err := models.Catalog()
	if err != nil {
		return err
	}
	if asJSON {
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
