package experiment

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// saveFigure draws p with its legend to the right of the data area (never
// over the data) and writes dir/name.png and dir/name.svg, returning them.
func saveFigure(dir, name string, p *plot.Plot, w, h vg.Length) ([]string, error) {
	legend := p.Legend
	p.Legend = plot.NewLegend()
	legend.Top, legend.Left = true, true
	var files []string
	for _, format := range []string{"png", "svg"} {
		var canvas vg.CanvasSizer
		var out io.WriterTo
		switch format {
		case "png":
			img := vgimg.New(w, h)
			canvas, out = img, vgimg.PngCanvas{Canvas: img}
		case "svg":
			svg := vgsvg.New(w, h)
			canvas, out = svg, svg
		}
		dc := draw.New(canvas)
		width := legend.Rectangle(dc).Size().X + vg.Points(8)
		p.Draw(draw.Crop(dc, 0, -width, 0, 0))
		legend.Draw(draw.Crop(dc, w-width+vg.Points(4), 0, 0, -vg.Points(24)))
		path := filepath.Join(dir, name+"."+format)
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		if _, err := out.WriteTo(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		files = append(files, path)
	}
	p.Legend = legend
	return files, nil
}
