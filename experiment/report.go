package experiment

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/train"
)

// Run is a finished training run read back from its folder.
type Run struct {
	Dir      string
	Model    string
	Dataset  string
	Method   string // "dense" for --prune none
	Sparsity float64
	Seed     uint64
	Summary  train.Summary
	Curve    []train.EpochResult
	Layers   []prune.LayerReport
}

// Load reads every finished run (a folder with summary.json) directly under
// dir, and counts the unfinished ones.
func Load(dir string) (runs []Run, unfinished int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("experiment: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d := filepath.Join(dir, e.Name())
		switch StateOf(d) {
		case Interrupted:
			unfinished++
			continue
		case New:
			continue
		}
		r, err := loadRun(d)
		if err != nil {
			return nil, 0, err
		}
		runs = append(runs, r)
	}
	return runs, unfinished, nil
}

func loadRun(dir string) (Run, error) {
	r := Run{Dir: dir}
	var cfg struct {
		Settings struct {
			Model    string  `json:"model"`
			Dataset  string  `json:"dataset"`
			Prune    string  `json:"prune"`
			Sparsity float64 `json:"sparsity"`
			Seed     uint64  `json:"seed"`
		} `json:"settings"`
	}
	if err := readJSON(filepath.Join(dir, "config.json"), &cfg); err != nil {
		return r, err
	}
	s := cfg.Settings
	r.Model, r.Dataset, r.Method, r.Sparsity, r.Seed = s.Model, s.Dataset, s.Prune, s.Sparsity, s.Seed
	if r.Method == "none" {
		r.Method, r.Sparsity = "dense", 0
	}
	if err := readJSON(filepath.Join(dir, "summary.json"), &r.Summary); err != nil {
		return r, err
	}
	var rep prune.Report
	if err := readJSON(filepath.Join(dir, "prune-report.json"), &rep); err == nil {
		r.Layers = rep.Layers
	}
	curve, err := readMetrics(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		return r, err
	}
	r.Curve = curve
	return r, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("experiment: %s: %w", path, err)
	}
	return nil
}

func readMetrics(path string) ([]train.EpochResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("experiment: %s: %w", path, err)
	}
	var out []train.EpochResult
	for i, row := range rows {
		if i == 0 {
			continue
		}
		if len(row) < 5 {
			return nil, fmt.Errorf("experiment: %s: line %d has %d fields", path, i+1, len(row))
		}
		v := make([]float64, len(row))
		for j, s := range row {
			v[j], _ = strconv.ParseFloat(s, 64)
		}
		out = append(out, train.EpochResult{Epoch: int(v[0]), TrainLoss: v[1], TrainAcc: v[2], TestLoss: v[3], TestAcc: v[4]})
	}
	return out, nil
}

// Row is one line of the report: a method at a sparsity, over seeds.
type Row struct {
	Model, Dataset, Method string
	Sparsity               float64
	Seeds                  int
	FinalMean, FinalStd    float64 // final-epoch test accuracy
	BestMean, BestStd      float64 // best-epoch selection (looks at the test set)
	WeightsKept            float64 // fraction of prunable weights kept
	FLOPsKept              float64 // fraction of conv/linear FLOPs kept
}

var methodOrder = map[string]int{"grasp": 0, "snip": 1, "synflow": 2, "magnitude": 3, "random": 4, "dense": 5}

// Aggregate groups runs by model, dataset, method and sparsity. Standard
// deviations are sample standard deviations (n-1), 0 for one seed.
func Aggregate(runs []Run) []Row {
	type key struct {
		model, dataset, method string
		sparsity               float64
	}
	groups := map[key][]Run{}
	var keys []key
	for _, r := range runs {
		k := key{r.Model, r.Dataset, r.Method, r.Sparsity}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.model != b.model {
			return a.model < b.model
		}
		if a.dataset != b.dataset {
			return a.dataset < b.dataset
		}
		if a.method != b.method {
			return order(a.method) < order(b.method)
		}
		return a.sparsity < b.sparsity
	})
	var rows []Row
	for _, k := range keys {
		g := groups[k]
		var final, best, wk, fk []float64
		for _, r := range g {
			final = append(final, r.Summary.FinalTestAcc)
			best = append(best, r.Summary.BestTestAcc)
			wk = append(wk, r.Summary.Density)
			fk = append(fk, float64(r.Summary.FLOPsKept)/math.Max(1, float64(r.Summary.FLOPsTotal)))
		}
		row := Row{Model: k.model, Dataset: k.dataset, Method: k.method, Sparsity: k.sparsity, Seeds: len(g)}
		row.FinalMean, row.FinalStd = meanStd(final)
		row.BestMean, row.BestStd = meanStd(best)
		row.WeightsKept, _ = meanStd(wk)
		row.FLOPsKept, _ = meanStd(fk)
		rows = append(rows, row)
	}
	return rows
}

func order(m string) int {
	if o, ok := methodOrder[m]; ok {
		return o
	}
	return len(methodOrder)
}

func meanStd(v []float64) (float64, float64) {
	var m float64
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	if len(v) < 2 {
		return m, 0
	}
	var s float64
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return m, math.Sqrt(s / float64(len(v)-1))
}

// WriteMarkdown writes the rows as a Markdown table, accuracies in percent.
func WriteMarkdown(w io.Writer, rows []Row) error {
	fmt.Fprintln(w, "| model | dataset | method | sparsity | seeds | final test acc % (mean ± std) | best-epoch acc % (selected on test) | weights kept % | FLOPs kept % |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		_, err := fmt.Fprintf(w, "| %s | %s | %s | %g%% | %d | %.2f ± %.2f | %.2f ± %.2f | %.2f | %.2f |\n",
			r.Model, r.Dataset, r.Method, 100*r.Sparsity, r.Seeds, 100*r.FinalMean, 100*r.FinalStd,
			100*r.BestMean, 100*r.BestStd, 100*r.WeightsKept, 100*r.FLOPsKept)
		if err != nil {
			return err
		}
	}
	return nil
}

// WriteCSV writes the rows as CSV, accuracies as fractions.
func WriteCSV(w io.Writer, rows []Row) error {
	c := csv.NewWriter(w)
	c.Write([]string{"model", "dataset", "method", "sparsity", "seeds", "final_test_acc_mean", "final_test_acc_std",
		"best_epoch_test_acc_mean", "best_epoch_test_acc_std", "weights_kept", "flops_kept"})
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, r := range rows {
		c.Write([]string{r.Model, r.Dataset, r.Method, g(r.Sparsity), strconv.Itoa(r.Seeds), g(r.FinalMean), g(r.FinalStd),
			g(r.BestMean), g(r.BestStd), g(r.WeightsKept), g(r.FLOPsKept)})
	}
	c.Flush()
	return c.Error()
}
