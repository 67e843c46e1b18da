package experiment

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/train"
)

// Run is a finished training run read back from its folder.
type Run struct {
	Dir      string
	Settings Settings
	Model    string
	Dataset  string
	Method   string // "dense" for --prune none
	Sparsity float64
	Seed     uint64
	Classes  int
	Summary  train.Summary
	Curve    []train.EpochResult
	Layers   []prune.LayerReport
}

// Collapsed lists the layers of the run's masks that keep no weight.
func (r *Run) Collapsed() []string {
	var out []string
	for _, l := range r.Layers {
		if l.Kept == 0 {
			out = append(out, l.Name)
		}
	}
	return out
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
		if _, err := os.Stat(filepath.Join(d, ConfigFile)); err != nil {
			continue // not a run folder
		}
		switch StateOf(d) {
		case Interrupted:
			unfinished++
			continue
		case New:
			continue
		}
		var cfg struct{ Settings *Settings }
		if err := readJSON(filepath.Join(d, ConfigFile), &cfg); err == nil && cfg.Settings != nil && cfg.Settings.Prune == "imp" {
			// An IMP run: a row for each round's sparsity.
			for k := 0; k <= cfg.Settings.Rounds; k++ {
				rr, ok, err := loadRun(roundDir(d, k))
				if err != nil {
					return nil, 0, err
				}
				if ok {
					runs = append(runs, rr)
				}
			}
			continue
		}
		r, ok, err := loadRun(d)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			runs = append(runs, r)
		}
	}
	return runs, unfinished, nil
}

// loadRun reads a training run's folder; ok is false for the folders of
// other commands (winnow eigendamage).
func loadRun(dir string) (Run, bool, error) {
	r := Run{Dir: dir}
	var cfg struct {
		Settings *Settings             `json:"settings"`
		Input    struct{ Classes int } `json:"input"`
	}
	if err := readJSON(filepath.Join(dir, ConfigFile), &cfg); err != nil {
		return r, false, err
	}
	if cfg.Settings == nil || cfg.Settings.Epochs == 0 {
		return r, false, nil
	}
	s := *cfg.Settings
	r.Settings, r.Classes = s, cfg.Input.Classes
	r.Model, r.Dataset, r.Method, r.Sparsity, r.Seed = s.Model, s.Dataset, s.Prune, s.Sparsity, s.Seed
	if r.Method == "none" {
		r.Method, r.Sparsity = "dense", 0
	}
	if err := readJSON(filepath.Join(dir, SummaryFile), &r.Summary); err != nil {
		return r, false, err
	}
	var rep prune.Report
	if err := readJSON(filepath.Join(dir, PruneReportFile), &rep); err == nil {
		r.Layers = rep.Layers
	}
	curve, err := readMetrics(filepath.Join(dir, train.MetricsFile))
	if err != nil {
		return r, false, err
	}
	r.Curve = curve
	return r, true, nil
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

// Row is one line of the report: the runs whose settings differ only in
// their seed.
type Row struct {
	Model, Dataset, Method string
	Sparsity               float64
	// Varying holds this row's values of the settings that differ between
	// the rows of the report (beyond model, dataset, method, sparsity).
	Varying             map[string]string
	Seeds               int     // distinct seeds
	Runs                int     // runs (more than Seeds when a seed ran twice)
	FinalMean, FinalStd float64 // final-epoch test accuracy
	BestMean, BestStd   float64 // best-epoch selection (looks at the test set)
	WeightsKept         float64 // fraction of prunable weights kept
	FLOPsKept           float64 // fraction of conv/linear FLOPs kept
	Chance              float64 // chance accuracy (1/classes; 0 unknown)
	Collapsed           []string
}

// AtChance reports whether the row's mean accuracy is within half of
// chance level above it: the network learnt nothing.
func (r Row) AtChance() bool { return r.Chance > 0 && r.FinalMean < 1.5*r.Chance }

// Flags names what a reader must know about the row: accuracy at chance,
// layers that keep no weight.
func (r Row) Flags() string {
	var f []string
	if r.AtChance() {
		f = append(f, fmt.Sprintf("at chance (%.3g%%)", 100*r.Chance))
	}
	if len(r.Collapsed) > 0 {
		f = append(f, "collapsed: "+strings.Join(r.Collapsed, ", "))
	}
	if r.Runs > r.Seeds {
		f = append(f, fmt.Sprintf("%d runs of %d seeds", r.Runs, r.Seeds))
	}
	return strings.Join(f, "; ")
}

var methodOrder = map[string]int{"grasp": 0, "snip": 1, "synflow": 2, "magnitude": 3, "random": 4, "imp": 5, "dense": 6}

// groupKey is the settings of a run that define its group: all but the
// seed and those that do not change the result.
func groupKey(s Settings) Settings {
	s.Seed, s.DataDir, s.Preset = 0, "", ""
	if s.Prune == "none" {
		s.Sparsity = 0
	}
	return s
}

// settingValues flattens settings into flag name -> value text.
func settingValues(s Settings) map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(s)
	for i := 0; i < v.NumField(); i++ {
		out[flagName(jsonName(v.Type().Field(i)))] = fmt.Sprint(v.Field(i).Interface())
	}
	return out
}

// columns are the settings every row shows.
var columns = map[string]bool{"model": true, "dataset": true, "prune": true, "sparsity": true, "seed": true, "data-dir": true, "preset": true}

// Aggregate groups runs whose settings differ only in their seed. Standard
// deviations are sample standard deviations (n-1) over the group's runs, 0
// for one run. Settings that differ between groups are listed in each
// row's Varying.
func Aggregate(runs []Run) []Row {
	type group struct {
		key  Settings
		runs []Run
	}
	var groups []*group
	for _, r := range runs {
		k := groupKey(r.Settings)
		var g *group
		for _, x := range groups {
			if reflect.DeepEqual(x.key, k) {
				g = x
			}
		}
		if g == nil {
			g = &group{key: k}
			groups = append(groups, g)
		}
		g.runs = append(g.runs, r)
	}
	// The settings whose values differ between groups.
	values := map[string]map[string]bool{}
	for _, g := range groups {
		for k, v := range settingValues(g.key) {
			if values[k] == nil {
				values[k] = map[string]bool{}
			}
			values[k][v] = true
		}
	}
	var varying []string
	for k, vs := range values {
		if len(vs) > 1 && !columns[k] {
			varying = append(varying, k)
		}
	}
	sort.Strings(varying)
	var rows []Row
	for _, g := range groups {
		all := settingValues(g.key)
		first := g.runs[0]
		row := Row{Model: first.Model, Dataset: first.Dataset, Method: first.Method, Sparsity: first.Sparsity, Runs: len(g.runs), Varying: map[string]string{}}
		for _, k := range varying {
			row.Varying[k] = all[k]
		}
		seeds := map[uint64]bool{}
		collapsed := map[string]bool{}
		var final, best, wk, fk []float64
		for _, r := range g.runs {
			seeds[r.Seed] = true
			final = append(final, r.Summary.FinalTestAcc)
			best = append(best, r.Summary.BestTestAcc)
			wk = append(wk, r.Summary.Density)
			fk = append(fk, float64(r.Summary.FLOPsKept)/math.Max(1, float64(r.Summary.FLOPsTotal)))
			if r.Classes > 0 {
				row.Chance = 1 / float64(r.Classes)
			}
			for _, l := range r.Collapsed() {
				if !collapsed[l] {
					collapsed[l] = true
					row.Collapsed = append(row.Collapsed, l)
				}
			}
		}
		row.Seeds = len(seeds)
		row.FinalMean, row.FinalStd = meanStd(final)
		row.BestMean, row.BestStd = meanStd(best)
		row.WeightsKept, _ = meanStd(wk)
		row.FLOPsKept, _ = meanStd(fk)
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		if a.Dataset != b.Dataset {
			return a.Dataset < b.Dataset
		}
		for _, k := range varying {
			if a.Varying[k] != b.Varying[k] {
				return naturalLess(a.Varying[k], b.Varying[k])
			}
		}
		if a.Method != b.Method {
			return order(a.Method) < order(b.Method)
		}
		return a.Sparsity < b.Sparsity
	})
	return rows
}

// VaryingKeys lists the varying settings of the rows, sorted.
func VaryingKeys(rows []Row) []string {
	var keys []string
	if len(rows) > 0 {
		for k := range rows[0].Varying {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// naturalLess orders numbers as numbers, else text as text.
func naturalLess(a, b string) bool {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
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

// WriteMarkdown writes the rows as a Markdown table, accuracies in percent,
// with a column for each setting that differs between rows and a flags
// column (accuracy at chance, collapsed layers).
func WriteMarkdown(w io.Writer, rows []Row) error {
	varying := VaryingKeys(rows)
	head := "| model | dataset | method | sparsity |"
	rule := "|---|---|---|---|"
	for _, k := range varying {
		head += " " + k + " |"
		rule += "---|"
	}
	fmt.Fprintln(w, head+" seeds | final test acc % (mean ± std) | best-epoch acc % (selected on test) | weights kept % | FLOPs kept % | flags |")
	fmt.Fprintln(w, rule+"---|---|---|---|---|---|")
	for _, r := range rows {
		line := fmt.Sprintf("| %s | %s | %s | %s%% |", r.Model, r.Dataset, r.Method, percent(r.Sparsity))
		for _, k := range varying {
			line += " " + r.Varying[k] + " |"
		}
		_, err := fmt.Fprintf(w, "%s %d | %.2f ± %.2f | %.2f ± %.2f | %.2f | %.2f | %s |\n", line, r.Seeds, 100*r.FinalMean, 100*r.FinalStd,
			100*r.BestMean, 100*r.BestStd, 100*r.WeightsKept, 100*r.FLOPsKept, r.Flags())
		if err != nil {
			return err
		}
	}
	if len(varying) > 0 {
		fmt.Fprintf(w, "\nRows differ in %s besides model, dataset, method and sparsity; runs are grouped only with runs of the same settings (their seeds aside).\n", strings.Join(varying, ", "))
	}
	return nil
}

// WriteCSV writes the rows as CSV, accuracies as fractions.
func WriteCSV(w io.Writer, rows []Row) error {
	varying := VaryingKeys(rows)
	c := csv.NewWriter(w)
	head := []string{"model", "dataset", "method", "sparsity"}
	head = append(head, varying...)
	c.Write(append(head, "seeds", "runs", "final_test_acc_mean", "final_test_acc_std",
		"best_epoch_test_acc_mean", "best_epoch_test_acc_std", "weights_kept", "flops_kept", "at_chance", "collapsed_layers"))
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, r := range rows {
		rec := []string{r.Model, r.Dataset, r.Method, g(r.Sparsity)}
		for _, k := range varying {
			rec = append(rec, r.Varying[k])
		}
		c.Write(append(rec, strconv.Itoa(r.Seeds), strconv.Itoa(r.Runs), g(r.FinalMean), g(r.FinalStd),
			g(r.BestMean), g(r.BestStd), g(r.WeightsKept), g(r.FLOPsKept), strconv.FormatBool(r.AtChance()), strings.Join(r.Collapsed, " ")))
	}
	c.Flush()
	return c.Error()
}

// WriteRunsCSV writes one row per run: its folder, every setting, and its
// results.
func WriteRunsCSV(w io.Writer, runs []Run) error {
	c := csv.NewWriter(w)
	var names []string
	v := reflect.ValueOf(Settings{})
	for i := 0; i < v.NumField(); i++ {
		names = append(names, jsonName(v.Type().Field(i)))
	}
	c.Write(append(append([]string{"dir"}, names...), "epochs_done", "final_test_acc", "best_test_acc", "best_epoch", "final_test_loss",
		"weights_kept", "weights_total", "flops_kept", "flops_total", "train_images_per_s", "collapsed_layers"))
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for _, r := range runs {
		rec := []string{r.Dir}
		sv := reflect.ValueOf(r.Settings)
		for i := 0; i < sv.NumField(); i++ {
			rec = append(rec, fmt.Sprint(sv.Field(i).Interface()))
		}
		s := r.Summary
		c.Write(append(rec, strconv.Itoa(s.Epochs), g(s.FinalTestAcc), g(s.BestTestAcc), strconv.Itoa(s.BestEpoch), g(s.FinalTestLoss),
			strconv.Itoa(s.WeightsKept), strconv.Itoa(s.WeightsTotal), strconv.FormatInt(s.FLOPsKept, 10), strconv.FormatInt(s.FLOPsTotal, 10),
			g(s.TrainImagesPerS), strings.Join(r.Collapsed(), " ")))
	}
	c.Flush()
	return c.Error()
}

// percent writes a sparsity in percent to 4 significant digits: IMP's
// rounds land on fractions such as 0.369042655.
func percent(f float64) string { return strconv.FormatFloat(100*f, 'g', 4, 64) }
