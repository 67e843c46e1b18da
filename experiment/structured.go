package experiment

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// StructuredRun is a finished structured-pruning run (winnow eigendamage).
type StructuredRun struct {
	Dir            string
	Method         string  `json:"method"`
	Model          string  `json:"model"`
	Dataset        string  `json:"dataset"`
	Ratio          float64 `json:"ratio"`
	Rounds         int     `json:"rounds"`
	FinetuneEpochs int     `json:"finetune_epochs"`
	Before         Stage   `json:"before"`
	Pruned         Stage   `json:"pruned"`
	Final          Stage   `json:"final"`
}

// LoadStructured reads the structured-pruning runs directly under dir (a
// folder whose summary.json names a method such as "eigendamage"), ordered
// by model, method, rounds and ratio.
func LoadStructured(dir string) ([]StructuredRun, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	var runs []StructuredRun
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(filepath.Join(d, "summary.json"))
		if err != nil {
			continue
		}
		var r StructuredRun
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("experiment: %s: %w", d, err)
		}
		if r.Method == "" || r.Before.FLOPs == 0 {
			continue // a training run
		}
		r.Dir = d
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool {
		a, b := runs[i], runs[j]
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		if a.Rounds != b.Rounds {
			return a.Rounds < b.Rounds
		}
		return a.Ratio < b.Ratio
	})
	return runs, nil
}

// WriteStructuredMarkdown tabulates the runs: reductions in weights and
// FLOPs, accuracy before pruning, right after it and final (after
// fine-tuning), and measured inference time.
func WriteStructuredMarkdown(w io.Writer, runs []StructuredRun) error {
	fmt.Fprintln(w, "| model | method | rounds x ratio | weights kept | FLOPs kept | test acc. before | after pruning | final (fine-tuned) | inference ms/image before -> after |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range runs {
		_, err := fmt.Fprintf(w, "| %s | %s | %d x %g | %.1f%% | %.1f%% | %.2f%% | %.2f%% | %.2f%% | %.3f -> %.3f |\n",
			r.Model, r.Method, r.Rounds, r.Ratio,
			100*float64(r.Final.Weights)/float64(r.Before.Weights), 100*float64(r.Final.FLOPs)/float64(r.Before.FLOPs),
			100*r.Before.TestAcc, 100*r.Pruned.TestAcc, 100*r.Final.TestAcc, r.Before.InferMsPerImg, r.Final.InferMsPerImg)
		if err != nil {
			return err
		}
	}
	return nil
}

// StructuredPlot draws final and unfine-tuned test accuracy against the
// fraction of FLOPs kept, one line per model and method.
func StructuredPlot(dir string, runs []StructuredRun) (string, error) {
	p := plot.New()
	p.Title.Text = "structured pruning: test accuracy vs FLOPs kept"
	p.X.Label.Text = "FLOPs kept (%)"
	p.Y.Label.Text = "test accuracy (%)"
	p.Legend.Top, p.Legend.Left = false, true
	type key struct{ model, method string }
	groups := map[key][]StructuredRun{}
	var keys []key
	for _, r := range runs {
		k := key{r.Model, r.Method}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	for i, k := range keys {
		rs := groups[k]
		sort.Slice(rs, func(a, b int) bool { return rs[a].Final.FLOPs < rs[b].Final.FLOPs })
		for j, stage := range []string{"fine-tuned", "before fine-tuning"} {
			var xy plotter.XYs
			for _, r := range rs {
				acc := r.Final.TestAcc
				if j == 1 {
					acc = r.Pruned.TestAcc
				}
				xy = append(xy, plotter.XY{X: 100 * float64(r.Final.FLOPs) / float64(r.Before.FLOPs), Y: 100 * acc})
			}
			line, points, err := plotter.NewLinePoints(xy)
			if err != nil {
				return "", err
			}
			c := plotutil.Color(i)
			line.Color, points.Color, points.Shape = c, c, plotutil.Shape(i)
			if j == 1 {
				line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(line, points)
			p.Legend.Add(fmt.Sprintf("%s %s, %s", k.model, k.method, stage), line, points)
		}
	}
	p.Add(plotter.NewGrid())
	f := filepath.Join(dir, "acc_vs_flops.png")
	return f, p.Save(7*vg.Inch, 4.5*vg.Inch, f)
}
