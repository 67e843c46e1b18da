package nn

import (
	"fmt"
	"slices"

	"github.com/winnow-ml/winnow/autograd"
)

// Join is how the two summands of a pruned basic block fill its output
// when they keep different channels (the official EigenDamage code's union
// rule): the branch's channel c is output channel Branch[c], the
// shortcut's channel c output channel Shortcut[c], the output as wide as
// the union. Both are saved with the block as join.branch and
// join.shortcut (int64).
type Join[T Float] struct {
	Branch, Shortcut *Param[T]
}

func newJoin[T Float](branch, shortcut []int) *Join[T] {
	j := &Join[T]{Branch: newParam[T](Index, len(branch)), Shortcut: newParam[T](Index, len(shortcut))}
	for i, v := range branch {
		j.Branch.Data[i] = T(v)
	}
	for i, v := range shortcut {
		j.Shortcut.Data[i] = T(v)
	}
	return j
}

// Positions returns the output channels of the branch's and the shortcut's
// channels, and the output's width.
func (j *Join[T]) Positions() (branch, shortcut []int, width int) {
	branch, shortcut = ints(j.Branch.Data), ints(j.Shortcut.Data)
	for _, p := range [][]int{branch, shortcut} {
		if len(p) > 0 {
			width = max(width, p[len(p)-1]+1)
		}
	}
	return branch, shortcut, width
}

func ints[T Float](v []T) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// check reports what makes j no join of a block whose branch and shortcut
// give nb and ns channels: positions ascending within each summand, and
// together every output channel, each at most twice.
func (j *Join[T]) check(nb, ns int) error {
	if j.Branch.Len() != nb || j.Shortcut.Len() != ns {
		return fmt.Errorf("positions for %d and %d channels, the summands have %d and %d", j.Branch.Len(), j.Shortcut.Len(), nb, ns)
	}
	for _, p := range []*Param[T]{j.Branch, j.Shortcut} {
		for i, v := range p.Data {
			if v != T(int(v)) || v < 0 || v > 1<<20 {
				return fmt.Errorf("%s[%d] = %v is not a channel", p.Name, i, v)
			}
			if i > 0 && !(v > p.Data[i-1]) {
				return fmt.Errorf("%s is not ascending at %d", p.Name, i)
			}
		}
	}
	b, s, w := j.Positions()
	covered := make([]bool, w)
	for _, c := range slices.Concat(b, s) {
		covered[c] = true
	}
	if i := slices.Index(covered, false); i >= 0 {
		return fmt.Errorf("output channel %d of %d is neither summand's", i, w)
	}
	return nil
}

// joinForward is the block's addition and ReLU: plain, or by its Join.
func joinForward[T Float](t *autograd.Tape[T], j *Join[T], o, s *autograd.Var[T]) *autograd.Var[T] {
	if j == nil {
		return autograd.AddReLU(t, o, s)
	}
	b, sc, w := j.Positions()
	return autograd.JoinReLU(t, o, b, s, sc, w)
}

// checkJoins validates every Join of m against its block's shapes, as a
// state file may hold any values.
func checkJoins[T Float](m Module[T]) error {
	for _, nb := range basicBlocks(m) {
		b := nb.block
		if b.Join == nil {
			continue
		}
		ns, _ := Layer[T]{Conv: b.Conv1}.Dims()
		if b.Shortcut != nil {
			ns = shortcutOut(b)
		}
		if err := b.Join.check(b.BN2.Weight.Len(), ns); err != nil {
			return fmt.Errorf("block %s: join: %w", nb.name, err)
		}
	}
	return nil
}

// shortcutOut is the number of channels a block's shortcut gives.
func shortcutOut[T Float](b *BasicBlock[T]) int {
	for _, c := range b.Shortcut.Children {
		if bn, ok := c.Module.(*BatchNorm2d[T]); ok {
			return bn.Weight.Len()
		}
	}
	panic("nn: a shortcut without BatchNorm")
}

type namedBlock[T Float] struct {
	name  string
	block *BasicBlock[T]
}

// basicBlocks lists m's basic blocks with their names, in order.
func basicBlocks[T Float](m Module[T]) []namedBlock[T] {
	var out []namedBlock[T]
	var walk func(prefix string, m Module[T])
	walk = func(prefix string, m Module[T]) {
		switch m := m.(type) {
		case *BasicBlock[T]:
			out = append(out, namedBlock[T]{prefix, m})
		case *Sequential[T]:
			for _, c := range m.Children {
				walk(join(prefix, c.Name), c.Module)
			}
		}
	}
	walk("", m)
	return out
}

// Writer is a layer whose outputs join residual additions, with the
// BatchNorm that follows it.
type Writer[T Float] struct {
	Layer Layer[T]
	BN    *BatchNorm2d[T]
}

// residualLeaves is m's leaves in forward order (Sequentials flattened,
// blocks whole).
func residualLeaves[T Float](m Module[T]) []namedModule[T] {
	var out []namedModule[T]
	var walk func(prefix string, m Module[T])
	walk = func(prefix string, m Module[T]) {
		if s, ok := m.(*Sequential[T]); ok {
			for _, c := range s.Children {
				walk(join(prefix, c.Name), c.Module)
			}
			return
		}
		out = append(out, namedModule[T]{prefix, m})
	}
	walk("", m)
	return out
}

type namedModule[T Float] struct {
	name string
	m    Module[T]
}

func asLayer[T Float](l namedModule[T]) (Layer[T], bool) {
	switch m := l.m.(type) {
	case *Conv2d[T]:
		return Layer[T]{Name: l.name, Conv: m}, true
	case *Linear[T]:
		return Layer[T]{Name: l.name, Linear: m}, true
	}
	return Layer[T]{}, false
}

// ResidualWriters lists the layers of m whose outputs join the residual
// additions of its basic blocks, in forward order: the layer that feeds
// the first block (the stem), and each block's conv2 and shortcut
// convolution. It is empty when m has no basic blocks, or has bottleneck
// blocks or a layout SlimResidual does not follow (between the stem and
// the first block only BatchNorm, ReLU and max pooling; after the last
// block only pooling, ReLU and flatten before the next layer).
func ResidualWriters[T Float](m Module[T]) []Writer[T] {
	leaves := residualLeaves(m)
	var out []Writer[T]
	var pending *Writer[T] // the last layer, while only BN/ReLU/pooling follow it
	for _, l := range leaves {
		if layer, ok := asLayer(l); ok {
			pending = &Writer[T]{Layer: layer}
			continue
		}
		switch b := l.m.(type) {
		case *BasicBlock[T]:
			if len(out) == 0 {
				if pending == nil || pending.Layer.Factored() {
					return nil
				}
				out = append(out, *pending)
			}
			pending = nil
			out = append(out, Writer[T]{Layer: Layer[T]{Name: join(l.name, "conv2"), Conv: b.Conv2}, BN: b.BN2})
			if b.Shortcut != nil {
				conv, _ := b.Shortcut.Children[0].Module.(*Conv2d[T])
				bn, _ := b.Shortcut.Children[1].Module.(*BatchNorm2d[T])
				if conv == nil || bn == nil {
					return nil
				}
				out = append(out, Writer[T]{Layer: Layer[T]{Name: join(l.name, "shortcut.0"), Conv: conv}, BN: bn})
			}
		case *Bottleneck[T]:
			return nil
		case *BatchNorm2d[T]:
			if pending != nil {
				if pending.BN != nil {
					pending = nil
				} else {
					pending.BN = b
				}
			}
		case ReLU[T], MaxPool2d[T], AvgPool2d[T], GlobalAvgPool[T], Flatten[T]:
		default:
			pending = nil
		}
	}
	for _, w := range out {
		if w.Layer.Factored() {
			return nil
		}
	}
	return out
}

// SlimResidual removes output units of the residual writers of m
// (ResidualWriters) by the official EigenDamage code's union rule: each
// writer keeps its units keep[name] (all when absent; ascending), its
// BatchNorm likewise; a block's output keeps the union of the channels its
// branch and its shortcut keep, the two summands placed by its Join; and
// every layer reading a block's output (the next block's conv1 and
// shortcut, the layer after the last block) keeps the inputs of that union.
func SlimResidual[T Float](m Module[T], keep map[string][]int) error {
	writers := ResidualWriters(m)
	if len(writers) == 0 {
		return fmt.Errorf("nn: the network has no residual writers the union rule can slim")
	}
	kept := func(l Layer[T], bn *BatchNorm2d[T]) []int {
		o := l.Core().Shape[0]
		k, ok := keep[l.Name]
		if !ok {
			return seq(o)
		}
		if len(k) == 0 || k[0] < 0 || k[len(k)-1] >= o || !slices.IsSorted(k) {
			panic(fmt.Sprintf("nn: SlimResidual: %s keeps %v of %d units", l.Name, k, o))
		}
		if len(k) < o {
			sliceOutputs(l, bn, k)
		}
		return k
	}
	leaves := residualLeaves(m)
	var stream []int // kept channels of the stream, numbered as before
	width := 0       // the stream's channels before
	for _, l := range leaves {
		b, ok := l.m.(*BasicBlock[T])
		if !ok {
			if layer, ok := asLayer(l); ok {
				if stream != nil {
					sliceInputs(layer, stream, width)
					stream = nil
				}
				if layer.Name == writers[0].Layer.Name && width == 0 {
					width = layer.Core().Shape[0]
					stream = kept(writers[0].Layer, writers[0].BN)
				}
			}
			continue
		}
		if stream == nil {
			return fmt.Errorf("nn: block %s reads no residual stream", l.name)
		}
		in := stream
		sliceInputs(Layer[T]{Conv: b.Conv1}, in, width)
		// Positions in the block's output before, of its branch's and its
		// shortcut's channels.
		ob, os, w := seq(b.BN2.Weight.Len()), seq(width), b.BN2.Weight.Len()
		if b.Join != nil {
			ob, os, w = b.Join.Positions()
		}
		k2 := kept(Layer[T]{Name: join(l.name, "conv2"), Conv: b.Conv2}, b.BN2)
		r := in // the shortcut's kept channels
		if b.Shortcut != nil {
			sc := Layer[T]{Name: join(l.name, "shortcut.0"), Conv: b.Shortcut.Children[0].Module.(*Conv2d[T])}
			if b.Join == nil {
				os = seq(sc.Core().Shape[0])
			}
			sliceInputs(sc, in, width)
			r = kept(sc, b.Shortcut.Children[1].Module.(*BatchNorm2d[T]))
		}
		posB, posS := pick(ob, k2), pick(os, r)
		union := slices.Compact(slices.Sorted(slices.Values(slices.Concat(posB, posS))))
		at := func(p []int) []int {
			out := make([]int, len(p))
			for i, v := range p {
				out[i], _ = slices.BinarySearch(union, v)
			}
			return out
		}
		b.Join = nil
		if bp, sp := at(posB), at(posS); !slices.Equal(bp, sp) || len(bp) != len(union) {
			b.Join = newJoin[T](bp, sp)
		}
		stream, width = union, w
	}
	if stream != nil {
		return fmt.Errorf("nn: the output of the last block reaches no layer")
	}
	return nil
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func pick(from, idx []int) []int {
	out := make([]int, len(idx))
	for i, k := range idx {
		out[i] = from[k]
	}
	return out
}

// sliceOutputs keeps the output units keep of l and of its BatchNorm.
func sliceOutputs[T Float](l Layer[T], bn *BatchNorm2d[T], keep []int) {
	w := l.Core()
	sliceRows(w, keep, w.Len()/w.Shape[0])
	if b := l.Bias(); b != nil {
		sliceRows(b, keep, 1)
	}
	if bn != nil {
		for _, p := range []*Param[T]{bn.Weight, bn.Bias, bn.RunningMean, bn.RunningVar} {
			sliceRows(p, keep, 1)
		}
	}
}
