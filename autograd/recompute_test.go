package autograd

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRecompute checks that a Recompute tape gives bit for bit the loss,
// gradients, Hessian-vector products and running statistics of a tape that
// keeps every activation, on a network whose BatchNormReLU outputs are read
// by the next op, by an op three layers on (a residual sum, recomputed in
// the forward pass), by another BatchNormReLU, and through a Reshape
// sharing its values, with the tape reused for a second batch.
func TestRecompute(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	const c = 6
	params := []leaf{
		randLeaf(rng, "w1", 0.4, c, 3, 3, 3), randLeaf(rng, "w2", 0.3, c, c, 3, 3),
		randLeaf(rng, "w3", 0.3, c, c, 3, 3), randLeaf(rng, "w4", 0.3, c, c, 3, 3),
		randLeaf(rng, "g", 0.5, c), randLeaf(rng, "b", 0.5, c), randLeaf(rng, "fc", 0.3, 4, c*4*4),
	}
	inputs := [][]float64{randLeaf(rng, "x", 1, 5, 3, 8, 8).value, randLeaf(rng, "x", 1, 5, 3, 8, 8).value}
	labels := []int32{0, 3, 1, 2, 1}

	type result struct{ losses, grads, hv, stats []float64 }
	run := func(hvp bool, opts ...Option) result {
		var r result
		grads := make([][]float64, len(params))
		hv := make([][]float64, len(params))
		for i, p := range params {
			grads[i], hv[i] = make([]float64, len(p.value)), make([]float64, len(p.value))
		}
		stats := &BatchNormStats[float64]{Mean: make([]float64, c), Var: make([]float64, c), Momentum: 0.1}
		for i := range stats.Var {
			stats.Var[i] = 1
		}
		if hvp {
			opts = append(opts, HVP())
		}
		tape := NewTape[float64](opts...)
		for _, x := range inputs {
			tape.Reset()
			v := make([]*Var[float64], len(params))
			for i, p := range params {
				var tan []float64
				if hvp {
					tan = make([]float64, len(p.value))
					for j := range tan {
						tan[j] = float64(j%7) - 3
					}
				}
				v[i] = tape.Leaf(p.name, p.value, grads[i], tan, hv[i], p.shape...)
			}
			bnr := func(y *Var[float64]) *Var[float64] {
				return BatchNormReLU(tape, y, v[4], v[5], stats, true, 1e-5)
			}
			conv := func(y, w *Var[float64]) *Var[float64] {
				return Conv2d(tape, y, w, nil, [2]int{1, 1}, [2]int{1, 1})
			}
			a := bnr(conv(tape.Input(x, 5, 3, 8, 8), v[0]))
			b := bnr(conv(a, v[1]))
			d := bnr(bnr(conv(b, v[2]))) // one recomputed from another
			e := bnr(Add(tape, conv(d, v[3]), a))
			logits := Linear(tape, Flatten(tape, MaxPool2d(tape, e, 2, 2, 0)), v[6], nil)
			loss := SoftmaxCrossEntropy(tape, logits, labels, 2)
			r.losses = append(r.losses, loss.Value[0])
			tape.Backward(loss)
		}
		for i := range params {
			r.grads = append(r.grads, grads[i]...)
			r.hv = append(r.hv, hv[i]...)
		}
		r.stats = append(append(r.stats, stats.Mean...), stats.Var...)
		return r
	}
	for _, hvp := range []bool{false, true} {
		want, got := run(hvp), run(hvp, Recompute())
		for _, f := range []struct {
			name      string
			got, want []float64
		}{{"loss", got.losses, want.losses}, {"gradient", got.grads, want.grads}, {"H v", got.hv, want.hv}, {"running statistics", got.stats, want.stats}} {
			if !slices.Equal(f.got, f.want) {
				t.Errorf("hvp %v: %s differs with Recompute", hvp, f.name)
			}
		}
		if hvp && slices.Equal(got.hv, make([]float64, len(got.hv))) {
			t.Error("H v is all zero: the test checks nothing")
		}
	}
}

// TestResetWithOptions checks that a tape switched by Reset from a
// gradient pass to a Hessian-vector pass gives what a fresh HVP tape gives
// and reuses the first pass's value buffers.
func TestResetWithOptions(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	x := randLeaf(rng, "x", 1, 4, 3, 8, 8)
	w1, w2 := randLeaf(rng, "w1", 0.4, 5, 3, 3, 3), randLeaf(rng, "w2", 0.3, 2, 5*8*8)
	gw1, gw2 := make([]float64, len(w1.value)), make([]float64, len(w2.value))
	tan1, tan2 := randLeaf(rng, "t1", 1, 5, 3, 3, 3).value, randLeaf(rng, "t2", 1, 2, 5*8*8).value
	pass := func(tp *Tape[float64], hvp bool) (hv []float64, logits *Var[float64]) {
		hv1, hv2 := make([]float64, len(w1.value)), make([]float64, len(w2.value))
		var t1, t2 []float64
		if hvp {
			t1, t2 = tan1, tan2
		}
		a := tp.Leaf("w1", w1.value, gw1, t1, hv1, w1.shape...)
		b := tp.Leaf("w2", w2.value, gw2, t2, hv2, w2.shape...)
		h := BatchNormReLU(tp, Conv2d(tp, tp.Input(x.value, x.shape...), a, nil, [2]int{1, 1}, [2]int{1, 1}), nil, nil, nil, true, 1e-5)
		logits = Linear(tp, Flatten(tp, h), b, nil)
		tp.Backward(SoftmaxCrossEntropy(tp, logits, []int32{0, 1, 1, 0}, 1))
		return append(hv1, hv2...), logits
	}
	fresh := NewTape[float64](HVP(), Recompute())
	want, _ := pass(fresh, true)

	shared := NewTape[float64](Recompute())
	_, before := pass(shared, false)
	shared.Reset(HVP(), Recompute())
	got, after := pass(shared, true)
	if !slices.Equal(got, want) {
		t.Error("H v after Reset(HVP()) differs from a fresh HVP tape's")
	}
	if slices.Equal(got, make([]float64, len(got))) {
		t.Error("H v is all zero: the test checks nothing")
	}
	if &before.Value[0] != &after.Value[0] {
		t.Error("the HVP pass got new value buffers (tangents interleaved with values?)")
	}
	if !shared.HVPMode() {
		t.Error("Reset(HVP()) left the tape without HVP")
	}
}
