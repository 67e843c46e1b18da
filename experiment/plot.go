package experiment

import (
	"fmt"
	"image/color"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// errorPoints are points with symmetric vertical error bars.
type errorPoints struct {
	plotter.XYs
	plotter.YErrors
}

// Plots writes, for each model in the rows, accuracy vs sparsity per method
// with error bars (acc_vs_sparsity_<model>.png), the per-layer density of
// each method at sparsity `at` (layer_density_<model>.png, the layer-collapse
// picture) and the test-accuracy curves at `at` (curves_<model>.png). It
// returns the files written.
func Plots(dir string, runs []Run, rows []Row, at float64) ([]string, error) {
	var files []string
	models := map[string]bool{}
	for _, r := range rows {
		models[r.Model] = true
	}
	for model := range models {
		f, err := accuracyPlot(dir, model, rows)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		if f, err := densityPlot(dir, model, runs, at); err != nil {
			return nil, err
		} else if f != "" {
			files = append(files, f)
		}
		if f, err := curvesPlot(dir, model, runs, at); err != nil {
			return nil, err
		} else if f != "" {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	return files, nil
}

func methodsOf(rows []Row, model string) []string {
	seen := map[string]bool{}
	var ms []string
	for _, r := range rows {
		if r.Model == model && !seen[r.Method] {
			seen[r.Method] = true
			ms = append(ms, r.Method)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return order(ms[i]) < order(ms[j]) })
	return ms
}

func accuracyPlot(dir, model string, rows []Row) (string, error) {
	p := plot.New()
	p.Title.Text = model + ": final test accuracy (mean ± std over seeds)"
	p.X.Label.Text = "sparsity (% of weights removed)"
	p.Y.Label.Text = "test accuracy (%)"
	p.Legend.Top, p.Legend.Left = false, true
	lo, hi := 100.0, 0.0
	for _, r := range rows {
		if r.Model == model && r.Method != "dense" {
			lo, hi = min(lo, 100*r.Sparsity), max(hi, 100*r.Sparsity)
		}
	}
	for i, m := range methodsOf(rows, model) {
		var pts errorPoints
		for _, r := range rows {
			if r.Model != model || r.Method != m {
				continue
			}
			x := 100 * r.Sparsity
			if m == "dense" { // a level line across the sparsities
				for _, xx := range []float64{lo, hi} {
					pts.XYs = append(pts.XYs, plotter.XY{X: xx, Y: 100 * r.FinalMean})
					pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{100 * r.FinalStd, 100 * r.FinalStd})
				}
				continue
			}
			pts.XYs = append(pts.XYs, plotter.XY{X: x, Y: 100 * r.FinalMean})
			pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{100 * r.FinalStd, 100 * r.FinalStd})
		}
		line, points, err := plotter.NewLinePoints(pts.XYs)
		if err != nil {
			return "", err
		}
		c := plotutil.Color(i)
		line.Color, points.Color = c, c
		points.Shape = plotutil.Shape(i)
		if m == "dense" {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		bars, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return "", err
		}
		bars.Color = c
		p.Add(line, points, bars)
		p.Legend.Add(m, line, points)
	}
	p.Add(plotter.NewGrid())
	f := filepath.Join(dir, "acc_vs_sparsity_"+model+".png")
	return f, p.Save(7*vg.Inch, 4.5*vg.Inch, f)
}

func densityPlot(dir, model string, runs []Run, at float64) (string, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: per-layer density at %g%% sparsity (seed of the first run)", model, 100*at)
	p.X.Label.Text = "layer (forward order)"
	p.Y.Label.Text = "kept fraction of the layer's weights"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{}
	seen := map[string]bool{}
	var names []string
	i := 0
	sort.Slice(runs, func(a, b int) bool {
		if runs[a].Method != runs[b].Method {
			return order(runs[a].Method) < order(runs[b].Method)
		}
		return runs[a].Seed < runs[b].Seed
	})
	for _, r := range runs {
		if r.Model != model || r.Sparsity != at || seen[r.Method] || len(r.Layers) == 0 {
			continue
		}
		seen[r.Method] = true
		var xy plotter.XYs
		names = names[:0]
		for j, l := range r.Layers {
			xy = append(xy, plotter.XY{X: float64(j), Y: max(l.Density, 1e-5)})
			names = append(names, l.Name)
		}
		line, points, err := plotter.NewLinePoints(xy)
		if err != nil {
			return "", err
		}
		line.Color, points.Color, points.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
		p.Add(line, points)
		p.Legend.Add(r.Method, line, points)
		i++
	}
	if i == 0 {
		return "", nil
	}
	if len(names) <= 40 {
		var ticks []plot.Tick
		for j, n := range names {
			ticks = append(ticks, plot.Tick{Value: float64(j), Label: n})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Tick.Label.Rotation = 0.8
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	}
	p.Add(plotter.NewGrid())
	f := filepath.Join(dir, "layer_density_"+model+".png")
	return f, p.Save(8*vg.Inch, 5*vg.Inch, f)
}

func curvesPlot(dir, model string, runs []Run, at float64) (string, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: test accuracy per epoch at %g%% sparsity (mean over seeds; dense for reference)", model, 100*at)
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "test accuracy (%)"
	p.Legend.Top, p.Legend.Left = false, true
	byMethod := map[string][][]float64{}
	for _, r := range runs {
		if r.Model != model || (r.Sparsity != at && r.Method != "dense") {
			continue
		}
		var acc []float64
		for _, e := range r.Curve {
			acc = append(acc, 100*e.TestAcc)
		}
		byMethod[r.Method] = append(byMethod[r.Method], acc)
	}
	if len(byMethod) == 0 {
		return "", nil
	}
	var ms []string
	for m := range byMethod {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return order(ms[i]) < order(ms[j]) })
	for i, m := range ms {
		curves := byMethod[m]
		n := len(curves[0])
		for _, c := range curves {
			n = min(n, len(c))
		}
		var xy plotter.XYs
		for e := 0; e < n; e++ {
			var s float64
			for _, c := range curves {
				s += c[e]
			}
			xy = append(xy, plotter.XY{X: float64(e + 1), Y: s / float64(len(curves))})
		}
		line, points, err := plotter.NewLinePoints(xy)
		if err != nil {
			return "", err
		}
		line.Color, points.Color, points.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
		if m == "dense" {
			line.Color = color.Gray{Y: 80}
		}
		p.Add(line, points)
		p.Legend.Add(m, line, points)
	}
	p.Add(plotter.NewGrid())
	f := filepath.Join(dir, "curves_"+model+".png")
	return f, p.Save(7*vg.Inch, 4.5*vg.Inch, f)
}
