package autograd

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// pair sums a slice over two goroutines: each Reduce call waits for the
// other's, as an all-reduce over two processes does.
type pair struct {
	mu    sync.Mutex
	cond  *sync.Cond
	bufs  [][]float64
	round int
}

func newPair() *pair {
	p := &pair{}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func (p *pair) reduce(x []float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	round := p.round
	p.bufs = append(p.bufs, x)
	if len(p.bufs) == 2 {
		a, b := p.bufs[0], p.bufs[1]
		for i := range a {
			s := a[i] + b[i]
			a[i], b[i] = s, s
		}
		p.bufs, p.round = nil, p.round+1
		p.cond.Broadcast()
		return
	}
	for p.round == round {
		p.cond.Wait()
	}
}

// TestSynchronisedBatchNorm: two shards of a batch through BatchNorm whose
// statistics are summed over both (Reduce) give the gradients and running
// statistics one pass over the whole batch gives: dx the whole batch's,
// dgamma, dbeta and the next layer's dW summing to its.
func TestSynchronisedBatchNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 2))
	const n, c, h = 6, 3, 2
	x := randLeaf(rng, "x", 1, n, c, h, h)
	gamma, beta := randLeaf(rng, "gamma", 1, c), randLeaf(rng, "beta", 1, c)
	w := randLeaf(rng, "w", 0.5, 4, c*h*h)
	labels := []int32{0, 1, 2, 3, 1, 2}
	type result struct{ dx, dg, db, dw, mean, vari []float64 }
	pass := func(lo, hi int, reduce func([]float64)) result {
		tp := NewTape[float64]()
		per := c * h * h
		r := result{dx: make([]float64, (hi-lo)*per), dg: make([]float64, c), db: make([]float64, c), dw: make([]float64, len(w.value)),
			mean: make([]float64, c), vari: make([]float64, c)}
		for i := range r.vari {
			r.vari[i] = 1
		}
		xv := tp.Leaf("x", x.value[lo*per:hi*per], r.dx, nil, nil, hi-lo, c, h, h)
		stats := &BatchNormStats[float64]{Mean: r.mean, Var: r.vari, Momentum: 0.1, Reduce: reduce}
		y := BatchNormReLU(tp, xv, tp.Leaf("gamma", gamma.value, r.dg, nil, nil, c), tp.Leaf("beta", beta.value, r.db, nil, nil, c), stats, true, 1e-5)
		loss := SoftmaxCrossEntropy(tp, Linear(tp, Flatten(tp, y), tp.Leaf("w", w.value, r.dw, nil, nil, w.shape...), nil), labels[lo:hi], 1)
		tp.BackwardFrom(loss, []float64{float64(hi-lo) / n}) // the whole batch's mean loss
		return r
	}
	whole := pass(0, n, nil)
	p := newPair()
	var halves [2]result
	var wg sync.WaitGroup
	for k, r := range [][2]int{{0, 2}, {2, n}} { // uneven shards
		wg.Add(1)
		go func() { defer wg.Done(); halves[k] = pass(r[0], r[1], p.reduce) }()
	}
	wg.Wait()
	a, b := halves[0], halves[1]
	sum := func(u, v []float64) []float64 {
		out := make([]float64, len(u))
		for i := range u {
			out[i] = u[i] + v[i]
		}
		return out
	}
	for _, cmp := range []struct {
		name      string
		got, want []float64
	}{
		{"dx", append(append([]float64{}, a.dx...), b.dx...), whole.dx},
		{"dgamma", sum(a.dg, b.dg), whole.dg}, {"dbeta", sum(a.db, b.db), whole.db}, {"dW", sum(a.dw, b.dw), whole.dw},
		{"running mean", a.mean, whole.mean}, {"running mean (other shard)", b.mean, whole.mean}, {"running var", b.vari, whole.vari},
	} {
		if r := relErr(cmp.got, cmp.want); r > 1e-12 {
			t.Errorf("%s: relative error %.3g against the whole batch", cmp.name, r)
		}
	}
	// Without synchronisation the shards' statistics differ: the test sees it.
	q := pass(0, 2, nil)
	if relErr(q.mean, whole.mean) < 1e-3 {
		t.Error("a shard's own statistics equal the whole batch's: the test cannot tell")
	}
}
