package nn

import (
	"fmt"
	"strings"

	"github.com/winnow-ml/winnow/autograd"
)

// LayerStats describes one convolution or linear layer for an input size.
type LayerStats struct {
	Name    string // layer name, e.g. "feature.0"
	Op      string // "conv2d" or "linear"
	Shape   []int  // weight shape
	Weights int    // weight elements (the prunable ones)
	Params  int    // weights and bias
	FLOPs   int64  // forward FLOPs of the layer for one input; multiply-add = 2
	Out     []int  // output shape for one input
}

// Summary counts a network's parameters and forward FLOPs for one input.
type Summary struct {
	Layers          []LayerStats // convolution and linear layers, in forward order
	PrunableWeights int          // conv and linear weights
	Params          int          // trainable parameters (weights, biases, BN affine)
	FLOPs           int64        // every op: conv, linear, BN, ReLU, pooling, adds
	ConvLinearFLOPs int64        // conv and linear layers only
	// OfficialFLOPs is the convention of EigenDamage-Pytorch's
	// compute_flops, which counts what its modules' hooks see: conv,
	// linear, BatchNorm, max pooling, and ReLU where it is a module (the
	// VGGs). It skips additions, average pooling (functional or built in
	// forward there) and the ReLUs of residual networks (F.relu there).
	OfficialFLOPs int64
	Activations   int64 // elements of every op's output: what a pass keeps per input
}

// Summarize counts m's parameters and forward FLOPs for an input of the
// given shape (without the batch dimension), without computing values.
func Summarize[T Float](m Module[T], input ...int) Summary {
	var s Summary
	weights := map[string]*Param[T]{}
	for _, p := range AllParams(m) {
		if p.Trainable() {
			s.Params += p.Len()
		}
		if p.Prunable() {
			s.PrunableWeights += p.Len()
		}
		weights[p.Name] = p
	}
	t := autograd.NewTape[T](autograd.ShapesOnly())
	x := &autograd.Var[T]{Shape: append([]int{1}, input...)}
	m.Forward(t, x)
	residual := false
	for _, r := range t.Records() {
		residual = residual || r.Op == "add"
	}
	for _, r := range t.Records() {
		s.FLOPs += r.FLOPs
		switch r.Op {
		case "conv2d", "linear", "batchnorm", "maxpool2d":
			s.OfficialFLOPs += r.FLOPs
		case "relu":
			if !residual {
				s.OfficialFLOPs += r.FLOPs
			}
		}
		n := int64(1)
		for _, d := range r.Out[1:] {
			n *= int64(d)
		}
		s.Activations += n
		if r.Op != "conv2d" && r.Op != "linear" {
			continue
		}
		s.ConvLinearFLOPs += r.FLOPs
		l := LayerStats{Op: r.Op, FLOPs: r.FLOPs, Out: r.Out[1:]}
		for _, name := range r.Params {
			p := weights[name]
			if p == nil {
				continue
			}
			l.Params += p.Len()
			if p.Prunable() {
				l.Name = strings.TrimSuffix(name, ".weight")
				l.Shape = p.Shape
				l.Weights = p.Len()
			}
		}
		s.Layers = append(s.Layers, l)
	}
	return s
}

// CheckInput reports whether m takes inputs of the given shape (without
// the batch dimension) and gives outputs of the given number of classes,
// by a shapes-only pass that computes no values: the error names the op
// that cannot take the shapes it is given.
func CheckInput[T Float](m Module[T], classes int, input ...int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	t := autograd.NewTape[T](autograd.ShapesOnly())
	y := m.Forward(t, &autograd.Var[T]{Shape: append([]int{1}, input...)})
	if len(y.Shape) != 2 || y.Shape[1] != classes {
		return fmt.Errorf("the network's output is %v for one input, want [1 %d]", y.Shape, classes)
	}
	return nil
}
