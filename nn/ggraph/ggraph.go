// Package ggraph exports a winnow network, pruned or not, as a Gorgonia
// expression graph (gorgonia.org/gorgonia), its parameters and masks as
// gorgonia.org/tensor Dense tensors: what a Gorgonia program needs to run
// the network winnow pruned and trained, or to build on it.
//
// The graph computes the network in evaluation mode (BatchNorm with its
// running statistics), its weights masked (W ⊙ M where a layer has a mask).
// Every layer winnow's models use is expressed: convolutions (factored ones
// as their three convolutions), linear layers, BatchNorm, ReLU, max and
// average pooling, global average pooling (as a mean over the last axis of
// the flattened maps: Gorgonia's sums along a middle axis of a 4-D tensor
// are wrong), flattening, and residual blocks (their additions). Only the
// forward pass is meant: Gorgonia's own derivatives of average pooling and
// BatchNorm are wrong (winnow's autograd differentiates).
package ggraph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/winnow-ml/winnow/nn"
)

// Graph is a network as a Gorgonia expression graph.
type Graph[T nn.Float] struct {
	G      *G.ExprGraph
	Input  *G.Node // [N, C, H, W], or [N, features] for an MLP
	Logits *G.Node // [N, classes]
	// Params and Masks are the network's parameters and buffers, and the
	// masks of its pruned weights, by state_dict name: copies of winnow's,
	// the values of the graph's nodes.
	Params map[string]*tensor.Dense
	Masks  map[string]*tensor.Dense

	pools int // average poolings so far, naming their constants
}

// Export builds the graph of m for inputs of the given shape (batch
// included). m itself is not changed.
func Export[T nn.Float](m nn.Module[T], input []int) (gr *Graph[T], err error) {
	defer func() {
		if r := recover(); r != nil { // Gorgonia's Must on a shape it cannot take
			err = fmt.Errorf("ggraph: %v", r)
		}
	}()
	nn.AllParams(m) // names every parameter
	gr = &Graph[T]{G: G.NewGraph(), Params: map[string]*tensor.Dense{}, Masks: map[string]*tensor.Dense{}}
	gr.Input = G.NewTensor(gr.G, dtype[T](), len(input), G.WithShape(input...), G.WithName("input"))
	if gr.Logits, err = gr.module(m, gr.Input); err != nil {
		return nil, err
	}
	return gr, nil
}

// Run computes the logits of x (the input's shape, row-major).
func (gr *Graph[T]) Run(x []T) ([]T, error) {
	in := tensor.New(tensor.WithShape(gr.Input.Shape()...), tensor.WithBacking(append([]T(nil), x...)))
	if err := G.Let(gr.Input, in); err != nil {
		return nil, err
	}
	vm := G.NewTapeMachine(gr.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return nil, fmt.Errorf("ggraph: %w", err)
	}
	return append([]T(nil), gr.Logits.Value().Data().([]T)...), nil
}

func dtype[T nn.Float]() tensor.Dtype {
	var z T
	if _, ok := any(z).(float32); ok {
		return tensor.Float32
	}
	return tensor.Float64
}

// param is the node of a parameter, masked where it has a mask.
func (gr *Graph[T]) param(p *nn.Param[T]) *G.Node {
	d := p.Tensor().Clone().(*tensor.Dense) // winnow's training does not move it
	gr.Params[p.Name] = d
	n := G.NewTensor(gr.G, dtype[T](), len(p.Shape), G.WithShape(p.Shape...), G.WithValue(d), G.WithName(p.Name))
	if p.Mask == nil {
		return n
	}
	md := tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(append([]T(nil), p.Mask...)))
	gr.Masks[p.Name] = md
	mn := G.NewTensor(gr.G, dtype[T](), len(p.Shape), G.WithShape(p.Shape...), G.WithValue(md), G.WithName(p.Name+"_mask"))
	return G.Must(G.HadamardProd(n, mn))
}

// constant is a node of fixed values.
func (gr *Graph[T]) constant(name string, v []T, shape ...int) *G.Node {
	d := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	return G.NewTensor(gr.G, dtype[T](), len(shape), G.WithShape(shape...), G.WithValue(d), G.WithName(name))
}

func (gr *Graph[T]) module(m nn.Module[T], x *G.Node) (*G.Node, error) {
	switch l := m.(type) {
	case *nn.Sequential[T]:
		var err error
		for _, c := range l.Children {
			if x, err = gr.module(c.Module, x); err != nil {
				return nil, err
			}
		}
		return x, nil
	case *nn.Conv2d[T]:
		return gr.conv(l, x), nil
	case *nn.Linear[T]:
		return gr.linear(l, x), nil
	case *nn.BatchNorm2d[T]:
		return gr.batchNorm(l, x), nil
	case nn.ReLU[T]:
		return G.Must(G.Rectify(x)), nil
	case nn.MaxPool2d[T]:
		p := l.Padding
		return G.Must(G.MaxPool2D(x, tensor.Shape{l.Kernel, l.Kernel}, []int{p, p}, []int{l.Stride, l.Stride})), nil
	case nn.AvgPool2d[T]:
		return gr.avgPool(x, l.Kernel, l.Stride), nil
	case nn.GlobalAvgPool[T]:
		s := x.Shape()
		flat := G.Must(G.Reshape(x, tensor.Shape{s[0], s[1], s[2] * s[3]}))
		return G.Must(G.Mean(flat, 2)), nil
	case nn.Flatten[T]:
		s := x.Shape()
		return G.Must(G.Reshape(x, tensor.Shape{s[0], s.TotalSize() / s[0]})), nil
	case *nn.BasicBlock[T]:
		o := G.Must(G.Rectify(gr.batchNorm(l.BN1, gr.conv(l.Conv1, x))))
		o = gr.batchNorm(l.BN2, gr.conv(l.Conv2, o))
		s := x
		if l.Shortcut != nil {
			var err error
			if s, err = gr.module(l.Shortcut, x); err != nil {
				return nil, err
			}
		}
		if l.Join != nil {
			// The union rule's addition: each summand placed in the output's
			// channels by a 1x1 convolution of zeros and ones.
			branch, shortcut, width := l.Join.Positions()
			o, s = gr.placed(l.Join.Branch.Name, o, branch, width), gr.placed(l.Join.Shortcut.Name, s, shortcut, width)
		}
		return G.Must(G.Rectify(G.Must(G.Add(o, s)))), nil
	case *nn.Bottleneck[T]:
		o := G.Must(G.Rectify(gr.batchNorm(l.BN1, gr.conv(l.Conv1, x))))
		o = G.Must(G.Rectify(gr.batchNorm(l.BN2, gr.conv(l.Conv2, o))))
		o = gr.batchNorm(l.BN3, gr.conv(l.Conv3, o))
		s := x
		if l.Downsample != nil {
			var err error
			if s, err = gr.module(l.Downsample, x); err != nil {
				return nil, err
			}
		}
		return G.Must(G.Rectify(G.Must(G.Add(o, s)))), nil
	}
	return nil, fmt.Errorf("ggraph: no Gorgonia form for %T", m)
}

// avgPool is average pooling as a convolution whose weight is 1/k² from
// each channel to itself and 0 elsewhere: Gorgonia's AveragePool2D gives
// other values than PyTorch's (and winnow's) average pooling.
func (gr *Graph[T]) avgPool(x *G.Node, k, stride int) *G.Node {
	c := x.Shape()[1]
	w := make([]T, c*c*k*k)
	for ch := 0; ch < c; ch++ {
		for i := 0; i < k*k; i++ {
			w[(ch*c+ch)*k*k+i] = 1 / T(k*k)
		}
	}
	gr.pools++
	return convNode(x, gr.constant(fmt.Sprintf("avgpool%d", gr.pools), w, c, c, k, k), [2]int{stride, stride}, [2]int{0, 0})
}

// convNode convolves x with weights w [O, C, KH, KW].
func convNode(x, w *G.Node, stride, pad [2]int) *G.Node {
	s := w.Shape()
	return G.Must(G.Conv2d(x, w, tensor.Shape{s[2], s[3]}, pad[:], stride[:], []int{1, 1}))
}

func (gr *Graph[T]) conv(c *nn.Conv2d[T], x *G.Node) *G.Node {
	one, zero := [2]int{1, 1}, [2]int{0, 0}
	if c.In != nil {
		x = convNode(x, gr.param(c.In), one, zero)
	}
	y := convNode(x, gr.param(c.Weight), c.Stride, c.Padding)
	if c.Out != nil {
		y = convNode(y, gr.param(c.Out), one, zero)
	}
	if c.Bias != nil {
		b := G.Must(G.Reshape(gr.param(c.Bias), tensor.Shape{1, c.Bias.Shape[0], 1, 1}))
		y = G.Must(G.BroadcastAdd(y, b, nil, []byte{0, 2, 3}))
	}
	return y
}

// linearNode is x w^T for w [out, in].
func linearNode(x, w *G.Node) *G.Node { return G.Must(G.Mul(x, G.Must(G.Transpose(w)))) }

func (gr *Graph[T]) linear(l *nn.Linear[T], x *G.Node) *G.Node {
	if l.In != nil {
		x = linearNode(x, gr.param(l.In))
	}
	y := linearNode(x, gr.param(l.Weight))
	if l.Out != nil {
		y = linearNode(y, gr.param(l.Out))
	}
	if l.Bias != nil {
		b := G.Must(G.Reshape(gr.param(l.Bias), tensor.Shape{1, l.Bias.Shape[0]}))
		y = G.Must(G.BroadcastAdd(y, b, nil, []byte{0}))
	}
	return y
}

// batchNorm is evaluation-mode BatchNorm, as per-channel scale and shift
// computed in the graph from gamma, beta and the running statistics:
//
//	y = (x - mean) gamma / sqrt(var + eps) + beta
func (gr *Graph[T]) batchNorm(b *nn.BatchNorm2d[T], x *G.Node) *G.Node {
	c := b.Weight.Shape[0]
	nbt := b.NumBatchesTracked // with the state, not computed with
	gr.Params[nbt.Name] = tensor.New(tensor.WithShape(), tensor.WithBacking(append([]T(nil), nbt.Data...)))
	eps := make([]T, c)
	for i := range eps {
		eps[i] = b.Eps
	}
	inv := G.Must(G.Sqrt(G.Must(G.Add(gr.param(b.RunningVar), gr.constant(b.Weight.Name+"_eps", eps, c)))))
	scale := G.Must(G.HadamardDiv(gr.param(b.Weight), inv))
	shift := G.Must(G.Sub(gr.param(b.Bias), G.Must(G.HadamardProd(gr.param(b.RunningMean), scale))))
	shape, pattern := tensor.Shape{1, c, 1, 1}, []byte{0, 2, 3}
	if len(x.Shape()) == 2 {
		shape, pattern = tensor.Shape{1, c}, []byte{0}
	}
	y := G.Must(G.BroadcastHadamardProd(x, G.Must(G.Reshape(scale, shape)), nil, pattern))
	return G.Must(G.BroadcastAdd(y, G.Must(G.Reshape(shift, shape)), nil, pattern))
}

// placed puts channel c of x at channel pos[c] of a width-channel output,
// by a 1x1 convolution of zeros and ones.
func (gr *Graph[T]) placed(name string, x *G.Node, pos []int, width int) *G.Node {
	w := make([]T, width*len(pos))
	for k, p := range pos {
		w[p*len(pos)+k] = 1
	}
	return convNode(x, gr.constant(name, w, width, len(pos), 1, 1), [2]int{1, 1}, [2]int{0, 0})
}
