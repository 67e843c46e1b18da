package experiment

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/winnow-ml/winnow/internal/fsutil"
)

// ReportFiles is what a report of a folder wrote.
type ReportFiles struct {
	Markdown   []byte   // the report.md table
	Files      []string // the files written
	Runs       int      // runs reported
	Unfinished int      // runs left out, not finished
}

// WriteReport reports the training runs under dir: report.md and
// report.csv (one row per group of runs that differ only in their seed),
// runs.csv (one row per run) and the plots. at is the sparsity of the
// per-layer and curve plots (negative: the highest).
func WriteReport(dir string, at float64) (*ReportFiles, error) {
	runs, unfinished, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%s holds no finished runs (%d unfinished)", dir, unfinished)
	}
	rows := Aggregate(runs)
	out := &ReportFiles{Runs: len(runs), Unfinished: unfinished}
	var md, csv, perRun bytes.Buffer
	if err := WriteMarkdown(&md, rows); err != nil {
		return nil, err
	}
	if err := WriteCSV(&csv, rows); err != nil {
		return nil, err
	}
	if err := WriteRunsCSV(&perRun, runs); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{"report.md", md.Bytes()}, {"report.csv", csv.Bytes()}, {"runs.csv", perRun.Bytes()}} {
		p := filepath.Join(dir, f.name)
		if err := fsutil.WriteFile(p, f.b); err != nil {
			return nil, err
		}
		out.Files = append(out.Files, p)
	}
	if at < 0 {
		for _, r := range rows {
			at = max(at, r.Sparsity)
		}
	}
	plots, err := Plots(dir, runs, rows, at)
	if err != nil {
		return nil, err
	}
	out.Markdown, out.Files = md.Bytes(), append(out.Files, plots...)
	return out, nil
}

// WriteStructuredReport reports the structured-pruning runs under dir
// (report.md and acc_vs_flops.png); it returns nil when there are none.
func WriteStructuredReport(dir string) (*ReportFiles, error) {
	runs, err := LoadStructured(dir)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	var md bytes.Buffer
	if err := WriteStructuredMarkdown(&md, runs); err != nil {
		return nil, err
	}
	p := filepath.Join(dir, "report.md")
	if err := fsutil.WriteFile(p, md.Bytes()); err != nil {
		return nil, err
	}
	f, err := StructuredPlot(dir, runs)
	if err != nil {
		return nil, err
	}
	return &ReportFiles{Markdown: md.Bytes(), Files: []string{p, f}, Runs: len(runs)}, nil
}
