package experiment

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/winnow-ml/winnow/train"
)

func TestPlan(t *testing.T) {
	jobs := Plan([]string{"grasp", "dense"}, []float64{0.9, 0.98}, []uint64{1, 2})
	var names []string
	for _, j := range jobs {
		names = append(names, j.Name())
	}
	want := "grasp-0.9-s1 grasp-0.9-s2 grasp-0.98-s1 grasp-0.98-s2 dense-0-s1 dense-0-s2"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("plan %s, want %s", got, want)
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

func TestAggregate(t *testing.T) {
	run := func(method string, s float64, seed uint64, final, best float64) Run {
		return Run{Model: "m", Dataset: "d", Method: method, Sparsity: s, Seed: seed,
			Summary: train.Summary{FinalTestAcc: final, BestTestAcc: best, Density: 1 - s, FLOPsKept: 50, FLOPsTotal: 100}}
	}
	rows := Aggregate([]Run{run("dense", 0, 1, 0.99, 0.995), run("snip", 0.9, 1, 0.9, 0.95), run("grasp", 0.9, 2, 0.8, 0.85), run("grasp", 0.9, 1, 0.7, 0.75)})
	if len(rows) != 3 || rows[0].Method != "grasp" || rows[1].Method != "snip" || rows[2].Method != "dense" {
		t.Fatalf("rows %+v", rows)
	}
	g := rows[0]
	if g.Seeds != 2 || math.Abs(g.FinalMean-0.75) > 1e-12 || math.Abs(g.FinalStd-math.Sqrt(0.005)) > 1e-12 || math.Abs(g.BestMean-0.8) > 1e-12 || g.FLOPsKept != 0.5 {
		t.Errorf("grasp row %+v", g)
	}
	var md bytes.Buffer
	WriteMarkdown(&md, rows)
	if !strings.Contains(md.String(), "| m | d | grasp | 90% | 2 | 75.00 ± 7.07 | 80.00 ± 7.07 | 10.00 | 50.00 |") {
		t.Errorf("markdown:\n%s", md.String())
	}
	if !strings.Contains(md.String(), "best-epoch acc % (selected on test)") {
		t.Error("best-epoch column is not labelled")
	}
}
