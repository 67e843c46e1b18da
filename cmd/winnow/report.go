package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/corrbench"
	"github.com/winnow-ml/winnow/experiment"
)

func newReportCommand() *cobra.Command {
	var at float64
	cmd := &cobra.Command{
		Use:   "report DIR",
		Short: "Tabulate and plot the runs of a sweep folder (or of eigendamage runs, or a corrbench study)",
		Long: `Read every finished run under DIR and write DIR/report.md and DIR/report.csv:
final-epoch test accuracy, mean ± std over seeds, for each group of runs
whose settings differ only in their seed (a column for each setting that
differs between groups), with the best-epoch accuracy in its own labelled
column (it selects an epoch on the test set), weights and FLOPs kept, and
flags for accuracy at chance level and for layers that keep no weight;
DIR/runs.csv has one row per run. Plots (PNG and SVG): accuracy against the
fraction of weights remaining (log scale) per method with error bars,
per-layer density of each method at one sparsity (--at, default the
highest) and test-accuracy curves at that sparsity. A sweep may be reported
while it runs: unfinished runs are counted and left out.

A folder of winnow eigendamage runs gets a table of weights and FLOPs kept,
accuracy before pruning, right after it and after fine-tuning, inference
time, and a plot of accuracy against FLOPs kept (acc_vs_flops.png). A
winnow corrbench folder gets its tables and active-learning plots again.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("winnow report takes one folder, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runReport(cmd.OutOrStdout(), args[0], at) },
	}
	cmd.Flags().Float64Var(&at, "at", -1, "sparsity of the per-layer density and curve plots (default: the highest)")
	return cmd
}

func runReport(w io.Writer, dir string, at float64) error {
	if rep, ok, err := corrbench.LoadReport(dir); err != nil {
		return err
	} else if ok {
		files, err := rep.WriteFiles(dir)
		if err != nil {
			return err
		}
		return printReport(w, rep.Markdown(), "", files)
	}
	if r, err := experiment.WriteStructuredReport(dir); err != nil {
		return err
	} else if r != nil {
		return printReport(w, r.Markdown, fmt.Sprintf("%d structured-pruning runs", r.Runs), r.Files)
	}
	r, err := experiment.WriteReport(dir, at)
	if err != nil {
		return err
	}
	return printReport(w, r.Markdown, fmt.Sprintf("%d runs (%d unfinished left out)", r.Runs, r.Unfinished), r.Files)
}

func printReport(w io.Writer, md []byte, what string, files []string) error {
	w.Write(md)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if what != "" {
		what += "; "
	}
	_, err := fmt.Fprintf(w, "\n%swritten: %s\n", what, strings.Join(names, ", "))
	return err
}
