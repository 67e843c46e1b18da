package corrbench

import (
	"fmt"
	"io"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Report is what `winnow corrbench` writes to results.json.
type Report struct {
	Data     string                 `json:"data,omitempty"`
	ToyDim   int                    `json:"toy_dim,omitempty"`
	Settings any                    `json:"settings"`
	Results  *Results               `json:"results,omitempty"`
	Toy      []map[string]ToyResult `json:"toy,omitempty"`
}

func meanErr(v []float64) (mean, stderr float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range v {
		mean += x / float64(len(v))
	}
	if len(v) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss/float64(len(v)-1)) / math.Sqrt(float64(len(v)))
}

// WriteMarkdown tabulates a report: per model RMSE, log-likelihood, XLL
// (mean over references and seeds) and XLLR (mean rank, 0 best), the
// active-learning curves' last round, or the toy meta-correlations; mean
// ± standard error over seeds.
func (r *Report) WriteMarkdown(w io.Writer) error {
	if r.Toy != nil {
		return r.writeToy(w)
	}
	res := r.Results
	fmt.Fprintf(w, "%s, %d seeds (mean ± standard error)\n\n", r.Data, len(res.Seeds))
	fmt.Fprintln(w, "| model | test RMSE | test log-likelihood | XLL | XLLR (mean rank, 0 best) |\n|---|---|---|---|---|")
	ranks := map[string][]float64{}
	for _, row := range res.Seeds {
		for ref := range res.Models {
			scores := make([]float64, len(res.Models))
			for i, m := range res.Models {
				scores[i] = row[m].XLL[ref]
			}
			for i, rk := range Ranks(scores) {
				ranks[res.Models[i]] = append(ranks[res.Models[i]], float64(rk))
			}
		}
	}
	for _, m := range res.Models {
		var rmse, ll, xll []float64
		for _, row := range res.Seeds {
			rmse, ll = append(rmse, row[m].RMSE), append(ll, row[m].LL)
			x := 0.0
			for _, v := range row[m].XLL {
				x += v / float64(len(row[m].XLL))
			}
			xll = append(xll, x)
		}
		a, ae := meanErr(rmse)
		b, be := meanErr(ll)
		c, ce := meanErr(xll)
		d, de := meanErr(ranks[m])
		fmt.Fprintf(w, "| %s | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | %.2f ± %.2f |\n", m, a, ae, b, be, c, ce, d, de)
	}
	if len(res.TAL) > 0 {
		fmt.Fprint(w, "\nTransductive active learning, after the last round (the model's own test metrics, and the oracle GP's given the same labels):\n\n")
		fmt.Fprintln(w, "| criterion | model | labelled | RMSE | log-likelihood | oracle RMSE | oracle log-likelihood |\n|---|---|---|---|---|---|---|")
		for _, crit := range Criteria {
			for _, m := range res.Models {
				seeds := res.TAL[crit][m]
				if len(seeds) == 0 {
					continue
				}
				var a, b, c, d []float64
				n := 0
				for _, rounds := range seeds {
					last := rounds[len(rounds)-1]
					a, b, c, d = append(a, last.RMSE), append(b, last.LL), append(c, last.OracleRMSE), append(d, last.OracleLL)
					n = last.Train
				}
				am, ae := meanErr(a)
				bm, be := meanErr(b)
				cm, ce := meanErr(c)
				dm, de := meanErr(d)
				fmt.Fprintf(w, "| %s | %s | %d | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f |\n", crit, m, n, am, ae, bm, be, cm, ce, dm, de)
			}
		}
	}
	return nil
}

// writeToy tabulates the toy study: per model the meta-correlations of
// correlations (pool x test) and of variances (pool), XLL and XLLR against
// the models as references, and the exact oracle's test fit after one batch
// chosen by each criterion.
func (r *Report) writeToy(w io.Writer) error {
	models := toyModels(r.Toy)
	fmt.Fprintf(w, "Toy data, d = %d, %d splits (mean ± standard error): meta-correlation with the exact oracle of predictive correlations (pool x test) and of variances (pool); XLL and XLLR against the models as references\n\n", r.ToyDim, len(r.Toy))
	fmt.Fprintln(w, "| model | correlations, Pearson | Spearman | variances, Pearson | Spearman | XLL | XLLR |\n|---|---|---|---|---|---|---|")
	for _, name := range models {
		var cp, cs, vp, vs, xll []float64
		for _, row := range r.Toy {
			t := row[name]
			cp, cs, vp, vs = append(cp, t.Pearson), append(cs, t.Spearman), append(vp, t.VarPearson), append(vs, t.VarSpearman)
			x := 0.0
			for _, v := range t.XLL {
				x += v / float64(len(t.XLL))
			}
			xll = append(xll, x)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", name, pm(cp), pm(cs), pm(vp), pm(vs), pm(xll), pm(toyRanks(r.Toy, models)[name]))
	}
	if len(r.Toy[0][models[0]].TAL) == 0 {
		return nil
	}
	fmt.Fprint(w, "\nOne batch of active learning per criterion, chosen by each model; the exact oracle's test log-likelihood and RMSE given it:\n\n")
	fmt.Fprintln(w, "| model | criterion | oracle log-likelihood | oracle RMSE |\n|---|---|---|---|")
	for _, name := range models {
		for _, crit := range Criteria {
			var ll, rmse []float64
			for _, row := range r.Toy {
				if t, ok := row[name].TAL[crit]; ok {
					ll, rmse = append(ll, t.LL), append(rmse, t.RMSE)
				}
			}
			if len(ll) > 0 {
				fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, crit, pm(ll), pm(rmse))
			}
		}
	}
	return nil
}

// pm is "mean ± standard error" to three decimals.
func pm(v []float64) string {
	m, e := meanErr(v)
	return fmt.Sprintf("%.3f ± %.3f", m, e)
}

// toyRanks is each model's XLL rank (0 best) per reference and split.
func toyRanks(rows []map[string]ToyResult, models []string) map[string][]float64 {
	out := map[string][]float64{}
	for _, row := range rows {
		for ref := range row[models[0]].XLL {
			scores := make([]float64, len(models))
			for i, m := range models {
				scores[i] = row[m].XLL[ref]
			}
			for i, rk := range Ranks(scores) {
				out[models[i]] = append(out[models[i]], float64(rk))
			}
		}
	}
	return out
}

// toyScatter draws, one labelled point per model, a toy metric against the
// meta-correlation of correlations: the paper's check that TAL and XLL
// order the models as meta-correlation does.
func (r *Report) toyScatter(dir, file, ylabel string, metric func(ToyResult) (float64, bool)) (string, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("toy d = %d: %s against meta-correlation", r.ToyDim, ylabel)
	p.X.Label.Text = "meta-correlation of correlations (Pearson)"
	p.Y.Label.Text = ylabel
	var xy plotter.XYs
	var labels []string
	for _, name := range toyModels(r.Toy) {
		var xs, ys []float64
		for _, row := range r.Toy {
			if v, ok := metric(row[name]); ok {
				xs, ys = append(xs, row[name].Pearson), append(ys, v)
			}
		}
		if len(ys) == 0 {
			continue
		}
		x, _ := meanErr(xs)
		y, _ := meanErr(ys)
		xy, labels = append(xy, plotter.XY{X: x, Y: y}), append(labels, name)
	}
	if len(xy) == 0 {
		return "", nil
	}
	points, err := plotter.NewScatter(xy)
	if err != nil {
		return "", err
	}
	names, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: labels})
	if err != nil {
		return "", err
	}
	p.Add(points, names, plotter.NewGrid())
	f := filepath.Join(dir, file)
	return f, p.Save(6*vg.Inch, 4.5*vg.Inch, f)
}

func toyModels(rows []map[string]ToyResult) []string {
	var out []string
	for _, m := range Models {
		if _, ok := rows[0][m]; ok {
			out = append(out, m)
		}
	}
	return out
}

// xllPlot draws each model's XLL (mean over references and seeds) with
// standard-error bars.
func (r *Report) xllPlot(dir string) (string, error) {
	res := r.Results
	p := plot.New()
	p.Title.Text = r.Data + ": XLL per model (higher is better)"
	p.Y.Label.Text = "XLL"
	var errs plotter.YErrors
	var xy plotter.XYs
	for i, m := range res.Models {
		var v []float64
		for _, row := range res.Seeds {
			for _, x := range row[m].XLL {
				v = append(v, x)
			}
		}
		mean, se := meanErr(v)
		errs = append(errs, struct{ Low, High float64 }{se, se})
		xy = append(xy, plotter.XY{X: float64(i), Y: mean})
	}
	points, err := plotter.NewScatter(xy)
	if err != nil {
		return "", err
	}
	bars, err := plotter.NewYErrorBars(struct {
		plotter.XYer
		plotter.YErrorer
	}{xy, errs})
	if err != nil {
		return "", err
	}
	p.Add(points, bars, plotter.NewGrid())
	p.NominalX(res.Models...)
	f := filepath.Join(dir, "xll.png")
	return f, p.Save(7*vg.Inch, 4*vg.Inch, f)
}

// Plots draws the XLL of every model and the active-learning curves (oracle GP test log-likelihood
// against labelled points, one line per criterion, for each model) into
// dir and returns the files.
func (r *Report) Plots(dir string) ([]string, error) {
	if r.Toy != nil {
		var files []string
		for _, c := range []struct {
			file, label string
			metric      func(ToyResult) (float64, bool)
		}{
			{"toy_xll.png", "XLL", func(t ToyResult) (float64, bool) {
				x := 0.0
				for _, v := range t.XLL {
					x += v / float64(len(t.XLL))
				}
				return x, len(t.XLL) > 0
			}},
			{"toy_tal.png", "oracle test log-likelihood after a BatchMIG batch", func(t ToyResult) (float64, bool) {
				v, ok := t.TAL[BatchMIG]
				return v.LL, ok
			}},
		} {
			f, err := r.toyScatter(dir, c.file, c.label, c.metric)
			if err != nil {
				return nil, err
			}
			if f != "" {
				files = append(files, f)
			}
		}
		return files, nil
	}
	if r.Results == nil {
		return nil, nil
	}
	var files []string
	if f, err := r.xllPlot(dir); err != nil {
		return nil, err
	} else {
		files = append(files, f)
	}
	for _, m := range r.Results.Models {
		p := plot.New()
		p.Title.Text = "active learning with " + m + ": oracle GP test log-likelihood"
		p.X.Label.Text = "labelled points"
		p.Y.Label.Text = "test log-likelihood"
		p.Legend.Top, p.Legend.Left = false, true
		drawn := false
		for i, crit := range Criteria {
			seeds := r.Results.TAL[crit][m]
			if len(seeds) == 0 {
				continue
			}
			var xy plotter.XYs
			for round := range seeds[0] {
				var v []float64
				for _, rounds := range seeds {
					if round < len(rounds) {
						v = append(v, rounds[round].OracleLL)
					}
				}
				mean, _ := meanErr(v)
				xy = append(xy, plotter.XY{X: float64(seeds[0][round].Train), Y: mean})
			}
			line, points, err := plotter.NewLinePoints(xy)
			if err != nil {
				return nil, err
			}
			line.Color, points.Color, points.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
			p.Add(line, points)
			p.Legend.Add(crit, line, points)
			drawn = true
		}
		if !drawn {
			continue
		}
		p.Add(plotter.NewGrid())
		f := filepath.Join(dir, "tal_"+m+".png")
		if err := p.Save(7*vg.Inch, 4.5*vg.Inch, f); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}
