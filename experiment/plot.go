package experiment

import (
	"fmt"
	"image/color"
	"sort"
	"strconv"

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

// Plots writes, for each model in the rows, accuracy against the weights
// remaining (log scale, as the pruning papers draw it) per method with
// error bars (acc_vs_sparsity_<model>), the per-layer density of each
// method at sparsity `at` (layer_density_<model>, the layer-collapse
// picture) and the test-accuracy curves at `at` (curves_<model>), each as
// PNG and SVG. It returns the files written.
func Plots(dir string, runs []Run, rows []Row, at float64) ([]string, error) {
	var files []string
	models := map[string]bool{}
	for _, r := range rows {
		models[r.Model] = true
	}
	for model := range models {
		for _, draw := range []func() ([]string, error){
			func() ([]string, error) { return accuracyPlot(dir, model, rows) },
			func() ([]string, error) { return densityPlot(dir, model, runs, at) },
			func() ([]string, error) { return curvesPlot(dir, model, runs, at) },
		} {
			f, err := draw()
			if err != nil {
				return nil, err
			}
			files = append(files, f...)
		}
	}
	sort.Strings(files)
	return files, nil
}

// seriesName names a row's line: its method, and the settings that set it
// apart from other rows.
func seriesName(r Row) string {
	name := r.Method
	for _, k := range sortedKeys(r.Varying) {
		name += fmt.Sprintf(" %s=%s", k, r.Varying[k])
	}
	return name
}

func sortedKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// series groups a model's rows by line, in method order.
func series(rows []Row, model string) ([]string, map[string][]Row) {
	by := map[string][]Row{}
	var names []string
	for _, r := range rows {
		if r.Model != model {
			continue
		}
		n := seriesName(r)
		if by[n] == nil {
			names = append(names, n)
		}
		by[n] = append(by[n], r)
	}
	sort.SliceStable(names, func(i, j int) bool { return order(by[names[i]][0].Method) < order(by[names[j]][0].Method) })
	return names, by
}

func accuracyPlot(dir, model string, rows []Row) ([]string, error) {
	p := plot.New()
	p.Title.Text = model + ": final test accuracy (mean ± std over seeds)"
	p.X.Label.Text = "weights remaining (%, log scale)"
	p.Y.Label.Text = "test accuracy (%)"
	p.X.Scale = plot.InvertedScale{Normalizer: plot.LogScale{}}
	lo, hi := 100.0, 0.0
	remaining := map[float64]bool{}
	for _, r := range rows {
		if r.Model == model && r.Method != "dense" {
			x := 100 * (1 - r.Sparsity)
			lo, hi = min(lo, x), max(hi, x)
			remaining[x] = true
		}
	}
	if hi == 0 { // dense alone
		lo, hi = 1, 100
	}
	// The axes reach past the data, so that no point or error bar is
	// drawn on an axis' edge.
	lo, hi = lo/1.25, hi*1.25
	ylo, yhi := 100.0, 0.0
	for _, r := range rows {
		if r.Model == model {
			ylo, yhi = min(ylo, 100*(r.FinalMean-r.FinalStd)), max(yhi, 100*(r.FinalMean+r.FinalStd))
		}
	}
	pad := max(0.5, 0.06*(yhi-ylo))
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, ylo-pad, yhi+pad
	names, by := series(rows, model)
	for i, name := range names {
		var pts errorPoints
		for _, r := range by[name] {
			if r.Method == "dense" { // a level line across the sparsities
				for _, x := range []float64{lo, hi} {
					pts.XYs = append(pts.XYs, plotter.XY{X: x, Y: 100 * r.FinalMean})
					pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{100 * r.FinalStd, 100 * r.FinalStd})
				}
				continue
			}
			pts.XYs = append(pts.XYs, plotter.XY{X: 100 * (1 - r.Sparsity), Y: 100 * r.FinalMean})
			pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{100 * r.FinalStd, 100 * r.FinalStd})
		}
		line, points, err := plotter.NewLinePoints(pts.XYs)
		if err != nil {
			return nil, err
		}
		c := plotutil.Color(i)
		line.Color, points.Color = c, c
		points.Shape = plotutil.Shape(i)
		if by[name][0].Method == "dense" {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		bars, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return nil, err
		}
		bars.Color = c
		p.Add(line, points, bars)
		p.Legend.Add(name, line, points)
	}
	var ticks []plot.Tick
	for x := range remaining {
		ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', 3, 64)})
	}
	if len(ticks) > 0 {
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
	}
	p.X.Padding, p.Y.Padding = vg.Points(8), vg.Points(8)
	p.Add(plotter.NewGrid())
	return saveFigure(dir, "acc_vs_sparsity_"+model, p, 8*vg.Inch, 4.5*vg.Inch)
}

func densityPlot(dir, model string, runs []Run, at float64) ([]string, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: per-layer density at %g%% sparsity (the first seed)", model, 100*at)
	p.X.Label.Text = "layer (forward order)"
	p.Y.Label.Text = "kept fraction of the layer's weights (log scale)"
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
			return nil, err
		}
		line.Color, points.Color, points.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
		p.Add(line, points)
		p.Legend.Add(r.Method, line, points)
		i++
	}
	if i == 0 {
		return nil, nil
	}
	ylo, yhi := 1.0, 1e-5
	for _, r := range runs {
		if r.Model == model && r.Sparsity == at {
			for _, l := range r.Layers {
				ylo, yhi = min(ylo, max(l.Density, 1e-5)), max(yhi, max(l.Density, 1e-5))
			}
		}
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, float64(len(names))-0.5, ylo/1.6, min(1.6, yhi*1.6)
	if len(names) <= 40 {
		var ticks []plot.Tick
		for j, n := range names {
			ticks = append(ticks, plot.Tick{Value: float64(j), Label: n})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Tick.Label.Rotation = 0.8
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	}
	p.X.Padding, p.Y.Padding = vg.Points(8), vg.Points(8)
	p.Add(plotter.NewGrid())
	return saveFigure(dir, "layer_density_"+model, p, 9*vg.Inch, 5*vg.Inch)
}

func curvesPlot(dir, model string, runs []Run, at float64) ([]string, error) {
	p := plot.New()
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "test accuracy (%)"
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
		return nil, nil
	}
	p.Title.Text = fmt.Sprintf("%s: test accuracy per epoch at %g%% sparsity (mean over seeds)", model, 100*at)
	if byMethod["dense"] != nil && at != 0 {
		p.Title.Text = fmt.Sprintf("%s: test accuracy per epoch at %g%% sparsity, and dense (mean over seeds)", model, 100*at)
	}
	var ms []string
	for m := range byMethod {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return order(ms[i]) < order(ms[j]) })
	epochs, ylo, yhi := 0, 100.0, 0.0
	for _, cs := range byMethod {
		for _, c := range cs {
			epochs = max(epochs, len(c))
			for _, v := range c {
				ylo, yhi = min(ylo, v), max(yhi, v)
			}
		}
	}
	pad := max(0.5, 0.06*(yhi-ylo))
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0.5, float64(epochs)+0.5, ylo-pad, yhi+pad
	if epochs <= 30 {
		var ticks []plot.Tick
		for e := 1; e <= epochs; e++ {
			label := ""
			if epochs <= 10 || e%5 == 0 || e == 1 {
				label = strconv.Itoa(e)
			}
			ticks = append(ticks, plot.Tick{Value: float64(e), Label: label})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
	}
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
		col := plotutil.Color(i)
		if m == "dense" {
			col = color.Gray{Y: 80}
		}
		points, err := plotter.NewScatter(xy)
		if err != nil {
			return nil, err
		}
		points.Color, points.Shape = col, plotutil.Shape(i)
		if n > 1 {
			line, err := plotter.NewLine(xy)
			if err != nil {
				return nil, err
			}
			line.Color = col
			p.Add(line)
			p.Legend.Add(m, line, points)
		} else {
			p.Legend.Add(m, points)
		}
		p.Add(points)
	}
	p.X.Padding, p.Y.Padding = vg.Points(8), vg.Points(8)
	p.Add(plotter.NewGrid())
	return saveFigure(dir, "curves_"+model, p, 8*vg.Inch, 4.5*vg.Inch)
}
