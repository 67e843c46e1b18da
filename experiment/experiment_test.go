package experiment

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/train"
)

func TestPlan(t *testing.T) {
	p, err := NewPlan(DefaultSettings(), []string{"grasp", "dense"}, []float64{0.9, 0.98}, []uint64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range p.Jobs {
		names = append(names, j.Name)
	}
	want := "grasp-0.9-s1 grasp-0.9-s2 grasp-0.98-s1 grasp-0.98-s2 dense-0-s1 dense-0-s2"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("plan %s, want %s", got, want)
	}
	if j := p.Jobs[3].Settings; j.Prune != "grasp" || j.Sparsity != 0.98 || j.Seed != 2 {
		t.Errorf("run 3: %+v", j)
	}
	if j := p.Jobs[4].Settings; j.Prune != "none" || j.Sparsity != 0 {
		t.Errorf("dense run: %+v", j)
	}
}

func TestStateOf(t *testing.T) {
	dir := t.TempDir()
	if StateOf(dir) != New {
		t.Error("empty folder is not new")
	}
	os.WriteFile(filepath.Join(dir, "checkpoint.safetensors"), nil, 0o644)
	if StateOf(dir) != Interrupted {
		t.Error("checkpoint without summary is not interrupted")
	}
	os.WriteFile(filepath.Join(dir, "summary.json"), []byte("{}"), 0o644)
	if StateOf(dir) != Finished {
		t.Error("summary is not finished")
	}
}

// fakeRun is a finished run of the given settings and results.
func fakeRun(s Settings, classes int, final, best float64) Run {
	r := Run{Settings: s, Model: s.Model, Dataset: s.Dataset, Method: s.Prune, Sparsity: s.Sparsity, Seed: s.Seed, Classes: classes,
		Summary: train.Summary{FinalTestAcc: final, BestTestAcc: best, Density: 1 - s.Sparsity, FLOPsKept: 50, FLOPsTotal: 100}}
	if r.Method == "none" {
		r.Method = "dense"
	}
	return r
}

func settingsOf(method string, sparsity float64, seed uint64) Settings {
	s := DefaultSettings()
	s.Model, s.Dataset, s.Prune, s.Sparsity, s.Seed = "m", "d", method, sparsity, seed
	return s
}

func TestAggregate(t *testing.T) {
	rows := Aggregate([]Run{
		fakeRun(settingsOf("none", 0, 1), 10, 0.99, 0.995), fakeRun(settingsOf("snip", 0.9, 1), 10, 0.9, 0.95),
		fakeRun(settingsOf("grasp", 0.9, 2), 10, 0.8, 0.85), fakeRun(settingsOf("grasp", 0.9, 1), 10, 0.7, 0.75)})
	if len(rows) != 3 || rows[0].Method != "grasp" || rows[1].Method != "snip" || rows[2].Method != "dense" {
		t.Fatalf("rows %+v", rows)
	}
	g := rows[0]
	if g.Seeds != 2 || math.Abs(g.FinalMean-0.75) > 1e-12 || math.Abs(g.FinalStd-math.Sqrt(0.005)) > 1e-12 || math.Abs(g.BestMean-0.8) > 1e-12 || g.FLOPsKept != 0.5 {
		t.Errorf("grasp row %+v", g)
	}
	var md bytes.Buffer
	WriteMarkdown(&md, rows)
	if !strings.Contains(md.String(), "| m | d | grasp | 90% | 2 | 75.00 ± 7.07 | 80.00 ± 7.07 | 10.00 | 50.00 |  |") {
		t.Errorf("markdown:\n%s", md.String())
	}
	if !strings.Contains(md.String(), "best-epoch acc % (selected on test)") {
		t.Error("best-epoch column is not labelled")
	}
}

// TestAggregateKeepsSettingsApart: runs of one seed that differ in epochs
// and training-set size are not averaged as seeds; the table says what
// differs, and flags accuracy at chance and collapsed layers.
func TestAggregateKeepsSettingsApart(t *testing.T) {
	var runs []Run
	for epochs := 1; epochs <= 4; epochs++ {
		s := settingsOf("grasp", 0.9, 1)
		s.Epochs = epochs
		runs = append(runs, fakeRun(s, 10, 0.5+0.1*float64(epochs), 0.9))
	}
	s := settingsOf("grasp", 0.9, 1)
	s.Epochs, s.LimitTrain = 4, 1000
	collapsed := fakeRun(s, 10, 0.11, 0.12)
	collapsed.Layers = []prune.LayerReport{{Name: "conv1", Kept: 3}, {Name: "fc3", Kept: 0}}
	runs = append(runs, collapsed)
	dup := settingsOf("grasp", 0.9, 1)
	dup.Epochs = 2
	runs = append(runs, fakeRun(dup, 10, 0.7, 0.9)) // seed 1 again, in another folder
	rows := Aggregate(runs)
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5 (one per setting): %+v", len(rows), rows)
	}
	if keys := VaryingKeys(rows); strings.Join(keys, ",") != "epochs,limit-train" {
		t.Errorf("varying %v, want epochs and limit-train", keys)
	}
	for _, r := range rows {
		if r.Seeds != 1 {
			t.Errorf("%v: %d seeds, want 1", r.Varying, r.Seeds)
		}
		if r.Varying["epochs"] == "2" && (r.Runs != 2 || !strings.Contains(r.Flags(), "2 runs of 1 seeds")) {
			t.Errorf("epochs 2: runs %d, flags %q", r.Runs, r.Flags())
		}
	}
	last := rows[len(rows)-1]
	if last.Varying["limit-train"] != "1000" || !last.AtChance() || !strings.Contains(last.Flags(), "collapsed: fc3") || !strings.Contains(last.Flags(), "at chance") {
		t.Errorf("last row %+v, flags %q", last, last.Flags())
	}
	if rows[0].AtChance() {
		t.Errorf("60%% on 10 classes flagged at chance")
	}
	var md, runsCSV bytes.Buffer
	WriteMarkdown(&md, rows)
	if !strings.Contains(md.String(), "| epochs | limit-train |") || !strings.Contains(md.String(), "Rows differ in epochs, limit-train") {
		t.Errorf("markdown:\n%s", md.String())
	}
	WriteRunsCSV(&runsCSV, runs)
	if n := strings.Count(runsCSV.String(), "\n"); n != len(runs)+1 {
		t.Errorf("runs.csv has %d lines for %d runs", n, len(runs))
	}
}

// TestPlots draws PNG and SVG beside each other; the curves' title names
// dense only when a dense run is there; a one-epoch curve is points.
func TestPlots(t *testing.T) {
	dir := t.TempDir()
	var runs []Run
	for _, m := range []string{"grasp", "snip"} {
		for _, sp := range []float64{0.9, 0.98} {
			r := fakeRun(settingsOf(m, sp, 1), 10, 0.8, 0.8)
			r.Curve = []train.EpochResult{{Epoch: 1, TestAcc: 0.8}}
			r.Layers = []prune.LayerReport{{Name: "fc1", Density: 0.01, Kept: 10}, {Name: "fc2", Density: 0.2, Kept: 5}}
			runs = append(runs, r)
		}
	}
	files, err := Plots(dir, runs, Aggregate(runs), 0.98)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 6 {
		t.Fatalf("files %v, want 3 plots as PNG and SVG", files)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "curves_m.svg"))
	if !strings.Contains(string(svg), "test accuracy per epoch at 98% sparsity") || strings.Contains(string(svg), "dense") {
		t.Errorf("curves title without a dense run:\n%.300s", svg)
	}
	acc, _ := os.ReadFile(filepath.Join(dir, "acc_vs_sparsity_m.svg"))
	if !strings.Contains(string(acc), "weights remaining") {
		t.Error("the accuracy plot's axis is not the weights remaining")
	}
}
