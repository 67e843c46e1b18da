package nn

import "fmt"

// Chain is a layer whose output units (filters or features) can be removed
// and the network rebuilt slimmer: its outputs pass, through at most one
// BatchNorm and shape-keeping ops (ReLU, pooling, flatten), into exactly one
// next convolution or linear layer and nowhere else. Outputs that join a
// residual addition belong to no chain.
type Chain[T Float] struct {
	Layer Layer[T]
	BN    *BatchNorm2d[T] // nil when there is none
	Next  Layer[T]
}

// Chains lists the chains of m: along Sequentials (blocks taken whole: a
// block's input and output join residual additions) and inside basic and
// bottleneck blocks (conv1 into conv2, conv2 into conv3).
func Chains[T Float](m Module[T]) []Chain[T] {
	var out []Chain[T]
	var walk func(prefix string, m Module[T])
	walk = func(prefix string, m Module[T]) {
		switch m := m.(type) {
		case *BasicBlock[T]:
			out = append(out, Chain[T]{Layer[T]{Name: join(prefix, "conv1"), Conv: m.Conv1}, m.BN1, Layer[T]{Name: join(prefix, "conv2"), Conv: m.Conv2}})
		case *Bottleneck[T]:
			out = append(out,
				Chain[T]{Layer[T]{Name: join(prefix, "conv1"), Conv: m.Conv1}, m.BN1, Layer[T]{Name: join(prefix, "conv2"), Conv: m.Conv2}},
				Chain[T]{Layer[T]{Name: join(prefix, "conv2"), Conv: m.Conv2}, m.BN2, Layer[T]{Name: join(prefix, "conv3"), Conv: m.Conv3}})
		case *Sequential[T]:
			for _, c := range m.Children {
				walk(join(prefix, c.Name), c.Module)
			}
		}
	}
	walk("", m)
	// Along the leaves of nested Sequentials, in order.
	leaves := residualLeaves(m)
	for i, l := range leaves {
		first, ok := asLayer(l)
		if !ok {
			continue
		}
		var bn *BatchNorm2d[T]
	scan:
		for _, n := range leaves[i+1:] {
			if next, ok := asLayer(n); ok {
				out = append(out, Chain[T]{first, bn, next})
				break
			}
			switch b := n.m.(type) {
			case *BatchNorm2d[T]:
				if bn != nil {
					break scan
				}
				bn = b
			case ReLU[T], MaxPool2d[T], AvgPool2d[T], GlobalAvgPool[T], Flatten[T]:
			default:
				break scan
			}
		}
	}
	return out
}

// Slim keeps only the output units keep (ascending) of the chain's layer:
// its weight rows and bias, the BatchNorm's channels, and the next layer's
// inputs fed by them (for a linear layer after a flatten, each unit's block
// of spatial positions). Masks are dropped from the changed parameters.
// Both layers must be unfactored.
func (c Chain[T]) Slim(keep []int) {
	if c.Layer.Factored() || c.Next.Factored() {
		panic(fmt.Sprintf("nn: Slim %s: factored layers cannot be slimmed", c.Layer.Name))
	}
	w := c.Layer.Core()
	o := w.Shape[0]
	rowLen := w.Len() / o
	sliceRows(w, keep, rowLen)
	if b := c.Layer.Bias(); b != nil {
		sliceRows(b, keep, 1)
	}
	if c.BN != nil {
		for _, p := range []*Param[T]{c.BN.Weight, c.BN.Bias, c.BN.RunningMean, c.BN.RunningVar} {
			sliceRows(p, keep, 1)
		}
	}
	sliceInputs(c.Next, keep, o)
}

// sliceInputs keeps the inputs of l fed by the units keep of a layer (or
// stream) of width units: for a linear layer after a flatten, each unit's
// block of spatial positions.
func sliceInputs[T Float](l Layer[T], keep []int, width int) {
	nw := l.Core()
	in := nw.Shape[1]
	if in%width != 0 {
		panic(fmt.Sprintf("nn: layer %s has %d inputs for %d units", l.Name, in, width))
	}
	if len(keep) == width {
		return
	}
	block := in / width // spatial positions per unit after a flatten; 1 otherwise
	per := nw.Len() / (nw.Shape[0] * in)
	var cols []int
	for _, k := range keep {
		for s := 0; s < block; s++ {
			cols = append(cols, k*block+s)
		}
	}
	rows := nw.Shape[0]
	data := make([]T, 0, rows*len(cols)*per)
	for r := 0; r < rows; r++ {
		for _, col := range cols {
			data = append(data, nw.Data[(r*in+col)*per:(r*in+col+1)*per]...)
		}
	}
	replace(nw, append([]int{rows, len(cols)}, nw.Shape[2:]...), data)
}

// Bias is the layer's bias, nil when it has none.
func (l Layer[T]) Bias() *Param[T] {
	if l.Conv != nil {
		return l.Conv.Bias
	}
	return l.Linear.Bias
}

// Factored reports whether the layer is three (In, core, Out).
func (l Layer[T]) Factored() bool {
	in, _ := l.Rotations()
	return in != nil
}

// sliceRows keeps the rows keep of p, each rowLen values long.
func sliceRows[T Float](p *Param[T], keep []int, rowLen int) {
	data := make([]T, 0, len(keep)*rowLen)
	for _, k := range keep {
		data = append(data, p.Data[k*rowLen:(k+1)*rowLen]...)
	}
	shape := append([]int{len(keep)}, p.Shape[1:]...)
	replace(p, shape, data)
}

// replace gives p new values and shape, with fresh gradient buffers.
func replace[T Float](p *Param[T], shape []int, data []T) {
	p.Shape, p.Data = shape, data
	if p.Grad != nil {
		p.Grad = make([]T, len(data))
	}
	p.Tangent, p.HV, p.Mask = nil, nil, nil
}
