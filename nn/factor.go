package nn

import (
	"fmt"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/safetensors"
)

// Container is a module made of named children.
type Container[T Float] interface {
	Entries() []Entry[T]
}

// Entries returns the Sequential's children.
func (s *Sequential[T]) Entries() []Entry[T] { return s.Children }

// Entries returns the block's layers under their state names.
func (b *BasicBlock[T]) Entries() []Entry[T] {
	c := []Entry[T]{{"conv1", b.Conv1}, {"bn1", b.BN1}, {"conv2", b.Conv2}, {"bn2", b.BN2}}
	if b.Shortcut != nil {
		c = append(c, Entry[T]{"shortcut", b.Shortcut})
	}
	return c
}

// Entries returns the block's layers under their state names.
func (b *Bottleneck[T]) Entries() []Entry[T] {
	c := []Entry[T]{{"conv1", b.Conv1}, {"bn1", b.BN1}, {"conv2", b.Conv2}, {"bn2", b.BN2}, {"conv3", b.Conv3}, {"bn3", b.BN3}}
	if b.Downsample != nil {
		c = append(c, Entry[T]{"downsample", b.Downsample})
	}
	return c
}

// Layer is a convolution or linear layer of a network, under its state
// name (the prefix of its parameters). Exactly one of Conv and Linear is set.
type Layer[T Float] struct {
	Name   string
	Conv   *Conv2d[T]
	Linear *Linear[T]
}

// Layers lists m's convolution and linear layers in the order of their
// parameters.
func Layers[T Float](m Module[T]) []Layer[T] {
	var out []Layer[T]
	var walk func(prefix string, m Module[T])
	walk = func(prefix string, m Module[T]) {
		switch m := m.(type) {
		case *Conv2d[T]:
			out = append(out, Layer[T]{Name: prefix, Conv: m})
		case *Linear[T]:
			out = append(out, Layer[T]{Name: prefix, Linear: m})
		case Container[T]:
			for _, c := range m.Entries() {
				walk(join(prefix, c.Name), c.Module)
			}
		}
	}
	walk("", m)
	return out
}

// Core is the layer's weight (the middle factor of a factored layer).
func (l Layer[T]) Core() *Param[T] {
	if l.Conv != nil {
		return l.Conv.Weight
	}
	return l.Linear.Weight
}

// Rotations are the layer's In and Out factors (nil when not factored).
func (l Layer[T]) Rotations() (in, out *Param[T]) {
	if l.Conv != nil {
		return l.Conv.In, l.Conv.Out
	}
	return l.Linear.In, l.Linear.Out
}

// Dims are the layer's input and output widths as the network sees them
// (channels or features), whether or not it is factored.
func (l Layer[T]) Dims() (in, out int) {
	w := l.Core()
	in, out = w.Shape[1], w.Shape[0]
	if rin, rout := l.Rotations(); rin != nil {
		in, out = rin.Shape[1], rout.Shape[0]
	}
	return in, out
}

// SetObserve sets (or, with nil, clears) the layer's Observe hook.
func (l Layer[T]) SetObserve(f func(x, y *autograd.Var[T])) {
	if l.Conv != nil {
		l.Conv.Observe = f
	} else {
		l.Linear.Observe = f
	}
}

// Factor makes the layer three, replacing its weights: in is k_in x I (the
// input rotation, I the layer's input width), core is k_out x k_in x KH x KW
// (conv) or k_out x k_in (linear), out is O x k_out. The bias is kept and
// moves after the output rotation. Factoring with in = identity, out =
// identity and core = the weight computes the same function.
func (l Layer[T]) Factor(in []T, kIn int, core []T, out []T, kOut int) {
	i, o := l.Dims()
	w := l.Core()
	spatial := 1
	if l.Conv != nil {
		spatial = w.Shape[2] * w.Shape[3]
	}
	if len(in) != kIn*i || len(out) != o*kOut || len(core) != kOut*kIn*spatial {
		panic(fmt.Sprintf("nn: Factor %s: %d, %d, %d values for k_in %d, k_out %d of a %dx%d layer",
			l.Name, len(in), len(core), len(out), kIn, kOut, o, i))
	}
	var pin, pcore, pout *Param[T]
	if l.Conv != nil {
		pin, pcore, pout = newParam[T](Weight, kIn, i, 1, 1), newParam[T](Weight, kOut, kIn, w.Shape[2], w.Shape[3]), newParam[T](Weight, o, kOut, 1, 1)
	} else {
		pin, pcore, pout = newParam[T](Weight, kIn, i), newParam[T](Weight, kOut, kIn), newParam[T](Weight, o, kOut)
	}
	copy(pin.Data, in)
	copy(pcore.Data, core)
	copy(pout.Data, out)
	if l.Conv != nil {
		l.Conv.In, l.Conv.Weight, l.Conv.Out = pin, pcore, pout
	} else {
		l.Linear.In, l.Linear.Weight, l.Linear.Out = pin, pcore, pout
	}
}

// ShapeLike gives m the structure of a saved state, with zero values, so
// that SetState can then load the state into m: layers factored in tensors
// (name.0.weight, name.1.weight, name.2.weight) are factored with those
// shapes, and parameters saved with another shape of the same rank (a
// slimmed layer's weight, bias and BatchNorm) take the saved shape.
func ShapeLike[T Float](m Module[T], tensors []safetensors.Tensor) error {
	byName := make(map[string][]int, len(tensors))
	for _, t := range tensors {
		byName[t.Name] = t.Shape
	}
	for _, l := range Layers(m) {
		core, ok := byName[join(l.Name, "1.weight")]
		if !ok {
			continue
		}
		in, out := byName[join(l.Name, "0.weight")], byName[join(l.Name, "2.weight")]
		i, o := l.Dims()
		w := l.Core().Shape
		want := 2
		if l.Conv != nil {
			want = 4
		}
		if len(in) != want || len(out) != want || len(core) != want || in[1] != i || out[0] != o ||
			core[1] != in[0] || core[0] != out[1] || (want == 4 && (core[2] != w[2] || core[3] != w[3])) {
			return fmt.Errorf("nn: layer %s: factors of shapes %v, %v, %v do not fit a layer of weight %v", l.Name, in, core, out, w)
		}
		spatial := 1
		if want == 4 {
			spatial = core[2] * core[3]
		}
		l.Factor(make([]T, in[0]*i), in[0], make([]T, core[0]*core[1]*spatial), make([]T, o*out[1]), out[1])
	}
	// Blocks pruned by the union rule get their joins (values set later).
	for _, nb := range basicBlocks(m) {
		br, ok1 := byName[join(nb.name, "join.branch")]
		sc, ok2 := byName[join(nb.name, "join.shortcut")]
		if !ok1 && !ok2 {
			nb.block.Join = nil
			continue
		}
		if len(br) != 1 || len(sc) != 1 || br[0] < 1 || sc[0] < 1 || br[0] > 1<<20 || sc[0] > 1<<20 {
			return fmt.Errorf("nn: block %s: join tensors of shapes %v and %v, want two lists of channels", nb.name, br, sc)
		}
		nb.block.Join = &Join[T]{Branch: newParam[T](Index, br[0]), Shortcut: newParam[T](Index, sc[0])}
	}
	for _, p := range AllParams(m) {
		shape, ok := byName[p.Name]
		if !ok || sameShape(shape, p.Shape) || len(shape) != len(p.Shape) || p.Kind == Counter || p.Kind == Index {
			continue
		}
		n := 1
		for k, d := range shape {
			if d < 1 {
				return fmt.Errorf("nn: tensor %q has shape %v", p.Name, shape)
			}
			if d > p.Shape[k] {
				return fmt.Errorf("nn: tensor %q has shape %v, the model's %v: a slimmed layer is no larger than the model's in any dimension", p.Name, shape, p.Shape)
			}
			n *= d
		}
		replace(p, append([]int(nil), shape...), make([]T, n))
	}
	return nil
}
