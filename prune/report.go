package prune

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/winnow-ml/winnow/nn"
)

// LayerReport describes the mask of one layer.
type LayerReport struct {
	Name        string  `json:"name"`
	Shape       []int   `json:"shape"`
	Weights     int     `json:"weights"`
	Kept        int     `json:"kept"`
	Density     float64 `json:"density"`
	FLOPs       int64   `json:"flops"`
	FLOPsKept   int64   `json:"flops_kept"`
	Outputs     int     `json:"outputs"`      // output channels or units
	DeadOutputs int     `json:"dead_outputs"` // outputs with every weight pruned
}

// Report is the per-layer report of a pruned network.
type Report struct {
	Method    string        `json:"method"`
	Sparsity  float64       `json:"sparsity"`
	Layers    []LayerReport `json:"layers"`
	Weights   int           `json:"weights"`
	Kept      int           `json:"kept"`
	Density   float64       `json:"density"`
	FLOPs     int64         `json:"flops"`
	FLOPsKept int64         `json:"flops_kept"`
	Warnings  []string      `json:"warnings"`
}

// NewReport describes the masks on m's weights for an input of the given
// C, H, W. FLOPs are those of the conv and linear layers for one input,
// kept in proportion to the kept weights. It warns of layer collapse: a
// layer with nothing kept, or output channels or units cut off entirely.
func NewReport[T nn.Float](m nn.Module[T], input []int, method string, sparsity float64) Report {
	r := Report{Method: method, Sparsity: sparsity, Warnings: []string{}}
	byName := map[string]*nn.Param[T]{}
	for _, p := range nn.Prunable(m) {
		byName[p.Name] = p
	}
	for _, l := range nn.Summarize(m, input...).Layers {
		p := byName[l.Name+".weight"]
		if p == nil {
			continue
		}
		lr := LayerReport{Name: l.Name, Shape: p.Shape, Weights: p.Len(), Kept: p.Kept(), FLOPs: l.FLOPs, Outputs: p.Shape[0]}
		lr.Density = float64(lr.Kept) / float64(lr.Weights)
		lr.FLOPsKept = int64(float64(l.FLOPs) * lr.Density)
		per := p.Len() / p.Shape[0]
		for o := 0; o < p.Shape[0] && p.Mask != nil; o++ {
			dead := true
			for _, v := range p.Mask[o*per : (o+1)*per] {
				if v != 0 {
					dead = false
					break
				}
			}
			if dead {
				lr.DeadOutputs++
			}
		}
		switch {
		case lr.Kept == 0:
			r.Warnings = append(r.Warnings, fmt.Sprintf("layer collapse: %s keeps no weight; the network computes a constant (use --min-layer-density)", l.Name))
		case lr.DeadOutputs > 0:
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %d of %d output %s cut off entirely", l.Name, lr.DeadOutputs, lr.Outputs, unit(p.Shape)))
		}
		r.Layers = append(r.Layers, lr)
		r.Weights += lr.Weights
		r.Kept += lr.Kept
		r.FLOPs += lr.FLOPs
		r.FLOPsKept += lr.FLOPsKept
	}
	if r.Weights > 0 {
		r.Density = float64(r.Kept) / float64(r.Weights)
	}
	return r
}

func unit(shape []int) string {
	if len(shape) == 4 {
		return "channels"
	}
	return "units"
}

// WriteTable prints the report as an aligned table with totals and warnings.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\tshape\tweights\tkept\tdensity\tFLOPs\tFLOPs kept\tdead outputs")
	for _, l := range r.Layers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.4f\t%d\t%d\t%d/%d\n", l.Name, shapeString(l.Shape), l.Weights, l.Kept, l.Density, l.FLOPs, l.FLOPsKept, l.DeadOutputs, l.Outputs)
	}
	fmt.Fprintf(tw, "total\t\t%d\t%d\t%.4f\t%d\t%d\t\n", r.Weights, r.Kept, r.Density, r.FLOPs, r.FLOPsKept)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, m := range r.Warnings {
		fmt.Fprintln(w, "warning:", m)
	}
	return nil
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, "x")
}
