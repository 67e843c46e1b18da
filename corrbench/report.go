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
		fmt.Fprintf(w, "Toy data, d = %d, %d splits: meta-correlation of predictive correlations with the oracle's over pool x test pairs\n\n", r.ToyDim, len(r.Toy))
		fmt.Fprintln(w, "| model | Pearson | Spearman |\n|---|---|---|")
		for _, name := range toyModels(r.Toy) {
			var p, s []float64
			for _, row := range r.Toy {
				p, s = append(p, row[name].Pearson), append(s, row[name].Spearman)
			}
			pm, pe := meanErr(p)
			sm, se := meanErr(s)
			fmt.Fprintf(w, "| %s | %.3f ± %.3f | %.3f ± %.3f |\n", name, pm, pe, sm, se)
		}
		return nil
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
