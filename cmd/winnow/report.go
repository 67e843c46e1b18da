package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/experiment"
)

type reportOptions struct {
	at float64
}

func newReportCommand() *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report DIR",
		Short: "Tabulate and plot the runs of a sweep folder (or of eigendamage runs)",
		Long: `Read every finished run under DIR and write DIR/report.md and DIR/report.csv:
final-epoch test accuracy, mean ± std over seeds, for each method x sparsity,
with the best-epoch accuracy in its own labelled column (it selects an epoch on
the test set), weights and FLOPs kept. Plots (PNG): accuracy vs sparsity per
method with error bars, per-layer density of each method at one sparsity (--at,
default the highest) and test-accuracy curves at that sparsity.

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
		RunE: func(cmd *cobra.Command, args []string) error { return runReport(cmd.OutOrStdout(), args[0], o) },
	}
	cmd.Flags().Float64Var(&o.at, "at", -1, "sparsity of the per-layer density and curve plots (default: the highest)")
	return cmd
}

func runReport(w io.Writer, dir string, o reportOptions) error {
	if rep, ok, err := loadCorrReport(dir); err != nil {
		return err
	} else if ok {
		return writeCorrReport(w, dir, rep)
	}
	if structured, err := experiment.LoadStructured(dir); err != nil {
		return err
	} else if len(structured) > 0 {
		return structuredReport(w, dir, structured)
	}
	runs, unfinished, err := experiment.Load(dir)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		return fmt.Errorf("%s holds no finished runs (%d unfinished)", dir, unfinished)
	}
	rows := experiment.Aggregate(runs)
	var md bytes.Buffer
	if err := experiment.WriteMarkdown(&md, rows); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	var csv bytes.Buffer
	if err := experiment.WriteCSV(&csv, rows); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.csv"), csv.Bytes(), 0o644); err != nil {
		return err
	}
	at := o.at
	if at < 0 {
		for _, r := range rows {
			at = max(at, r.Sparsity)
		}
	}
	files, err := experiment.Plots(dir, runs, rows, at)
	if err != nil {
		return err
	}
	w.Write(md.Bytes())
	fmt.Fprintf(w, "\n%d runs (%d unfinished left out); written: report.md, report.csv", len(runs), unfinished)
	for _, f := range files {
		fmt.Fprintf(w, ", %s", filepath.Base(f))
	}
	fmt.Fprintln(w)
	return nil
}

// structuredReport writes DIR/report.md and acc_vs_flops.png for a folder
// of structured-pruning runs (winnow eigendamage).
func structuredReport(w io.Writer, dir string, runs []experiment.StructuredRun) error {
	var md bytes.Buffer
	if err := experiment.WriteStructuredMarkdown(&md, runs); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	f, err := experiment.StructuredPlot(dir, runs)
	if err != nil {
		return err
	}
	w.Write(md.Bytes())
	fmt.Fprintf(w, "\n%d structured-pruning runs; written: report.md, %s\n", len(runs), filepath.Base(f))
	return nil
}
