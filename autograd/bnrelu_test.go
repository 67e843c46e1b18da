package autograd

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBatchNormReLUFused checks the fused op against BatchNorm then ReLU:
// the same outputs, tangents, gradients, Hessian-vector products, running
// statistics and operation records.
func TestBatchNormReLUFused(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	x := randLeaf(rng, "x", 1, 4, 3, 5, 5)
	gamma, beta := randLeaf(rng, "gamma", 1, 3), randLeaf(rng, "beta", 1, 3)
	dirs := [][]float64{randLeaf(rng, "", 1, x.shape...).value, randLeaf(rng, "", 1, 3).value, randLeaf(rng, "", 1, 3).value}
	proj := randLeaf(rng, "proj", 0.3, 2, 3*5*5)
	type result struct {
		y, yt, stats []float64
		grads        [][]float64
		records      []string
	}
	run := func(fused bool) result {
		tp := NewTape[float64](HVP())
		var r result
		var vars []*Var[float64]
		for i, l := range []leaf{x, gamma, beta} {
			g, h := make([]float64, len(l.value)), make([]float64, len(l.value))
			r.grads = append(r.grads, g, h)
			vars = append(vars, tp.Leaf(l.name, l.value, g, dirs[i], h, l.shape...))
		}
		stats := &BatchNormStats[float64]{Mean: make([]float64, 3), Var: []float64{1, 1, 1}, Momentum: 0.1}
		var y *Var[float64]
		if fused {
			y = BatchNormReLU(tp, vars[0], vars[1], vars[2], stats, true, 1e-5)
		} else {
			y = ReLU(tp, BatchNorm(tp, vars[0], vars[1], vars[2], stats, true, 1e-5))
		}
		r.y, r.yt = slices.Clone(y.Value), slices.Clone(y.Tangent)
		logits := Linear(tp, Flatten(tp, y), tp.Input(proj.value, proj.shape...), nil)
		tp.Backward(SoftmaxCrossEntropy(tp, logits, []int32{0, 1, 1, 0}, 1))
		r.stats = append(slices.Clone(stats.Mean), stats.Var...)
		for _, rec := range tp.Records() {
			r.records = append(r.records, rec.Op)
		}
		return r
	}
	a, b := run(false), run(true)
	check := func(what string, got, want []float64) {
		if r := relErr(got, want); r > 1e-13 {
			t.Errorf("%s differs by %.3g", what, r)
		}
	}
	check("y", b.y, a.y)
	check("y'", b.yt, a.yt)
	check("running statistics", b.stats, a.stats)
	for i := range a.grads {
		check([]string{"dx", "R{dx}", "dgamma", "R{dgamma}", "dbeta", "R{dbeta}"}[i], b.grads[i], a.grads[i])
	}
	if !slices.Equal(a.records, b.records) {
		t.Errorf("records %v, want %v", b.records, a.records)
	}
}

// TestSharedGradients checks derivatives through a graph in which values
// feed several ops that write their inputs' gradients (the first to run
// overwrites pending zeros, the rest add) and ops that only add, with an
// output nobody consumes.
func TestSharedGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	leaves := []leaf{
		randLeaf(rng, "x", 1, 1, 2, 14, 14), randLeaf(rng, "w", 0.3, 2, 2, 3, 3),
		randLeaf(rng, "gamma", 1, 2), randLeaf(rng, "beta", 1, 2), randLeaf(rng, "proj", 0.2, 3, 2*7*7),
	}
	f := func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
		h := Conv2d(tp, v[0], v[1], nil, [2]int{1, 1}, [2]int{1, 1})
		a := BatchNormReLU(tp, h, v[2], v[3], nil, true, 1e-5)
		c := Add(tp, a, ReLU(tp, h))
		d := AddReLU(tp, c, h)
		ReLU(tp, d) // consumed by nothing
		p := MaxPool2d(tp, d, 2, 2, 0)
		l := Linear(tp, Flatten(tp, p), v[4], nil)
		return SoftmaxCrossEntropy(tp, Add(tp, l, l), []int32{2}, 1)
	}
	checkDerivatives(t, f, leaves, rng, 1e-7)
}

// TestKeepGrads checks that the gradients of intermediate values are handed
// on after Backward by default and kept with KeepGrads, the leaves' the
// same either way.
func TestKeepGrads(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	x, w := randLeaf(rng, "x", 1, 4, 6), randLeaf(rng, "w", 1, 3, 6)
	run := func(opts ...Option) (*Var[float64], []float64) {
		tp := NewTape[float64](opts...)
		g := make([]float64, len(w.value))
		h := Linear(tp, tp.Input(x.value, x.shape...), tp.Leaf("w", w.value, g, nil, nil, w.shape...), nil)
		tp.Backward(SoftmaxCrossEntropy(tp, ReLU(tp, h), []int32{0, 1, 2, 0}, 1))
		return h, g
	}
	h1, g1 := run()
	h2, g2 := run(KeepGrads())
	if len(h1.Grad) != 0 {
		t.Errorf("intermediate gradient kept without KeepGrads: %d values", len(h1.Grad))
	}
	if len(h2.Grad) != len(h2.Value) || norm(h2.Grad) == 0 {
		t.Errorf("KeepGrads: intermediate gradient %v", h2.Grad)
	}
	if !slices.Equal(g1, g2) {
		t.Errorf("weight gradients differ: %v vs %v", g1, g2)
	}
}

// TestRGradOnly checks that an HVP tape with RGradOnly gives the same
// Hessian-vector products and leaves the weights' Grad alone.
func TestRGradOnly(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	x := randLeaf(rng, "x", 1, 2, 3, 14, 14)
	w, lw := randLeaf(rng, "w", 0.3, 4, 3, 3, 3), randLeaf(rng, "lw", 0.1, 3, 4*14*14)
	dirs := [][]float64{randLeaf(rng, "", 1, w.shape...).value, randLeaf(rng, "", 1, lw.shape...).value}
	run := func(opts ...Option) (grads, hvs [][]float64) {
		tp := NewTape[float64](append(opts, HVP())...)
		var vars []*Var[float64]
		for i, l := range []leaf{w, lw} {
			g, h := make([]float64, len(l.value)), make([]float64, len(l.value))
			grads, hvs = append(grads, g), append(hvs, h)
			vars = append(vars, tp.Leaf(l.name, l.value, g, dirs[i], h, l.shape...))
		}
		h := BatchNormReLU(tp, Conv2d(tp, tp.Input(x.value, x.shape...), vars[0], nil, [2]int{1, 1}, [2]int{1, 1}), nil, nil, nil, true, 1e-5)
		tp.Backward(SoftmaxCrossEntropy(tp, Linear(tp, Flatten(tp, h), vars[1], nil), []int32{0, 2}, 1))
		return grads, hvs
	}
	g1, h1 := run()
	g2, h2 := run(RGradOnly())
	for i := range h1 {
		if r := relErr(h2[i], h1[i]); r > 1e-13 {
			t.Errorf("leaf %d: H v differs by %.3g", i, r)
		}
		if norm(g1[i]) == 0 || norm(g2[i]) != 0 {
			t.Errorf("leaf %d: gradient norms %v (full) and %v (RGradOnly, want 0)", i, norm(g1[i]), norm(g2[i]))
		}
	}
}
