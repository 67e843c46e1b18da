package autograd

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/winnow-ml/winnow/internal/kernels"
)

// TestConvSupport checks that a convolution whose weights carry a sparse
// Support (a pruned layer) gives, at the supported weights, the gradient
// and Hessian-vector product of the same layer without one, and leaves the
// pruned weights' entries as they were.
func TestConvSupport(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := randLeaf(rng, "x", 1, 3, 4, 14, 14)
	w := randLeaf(rng, "w", 0.5, 5, 4, 3, 3)
	support := make([]float64, len(w.value))
	for i := range support {
		if rng.Float64() < 0.05 {
			support[i] = 1
		} else {
			w.value[i] = 0
		}
	}
	dir := randLeaf(rng, "", 1, w.shape...).value
	proj := randLeaf(rng, "proj", 0.1, 3, 5*14*14)
	run := func(sup []float64) (gw, hw []float64) {
		tp := NewTape[float64](HVP())
		gw, hw = make([]float64, len(w.value)), make([]float64, len(w.value))
		for i := range gw {
			gw[i], hw[i] = 7, 7 // left as they are where pruned
		}
		wv := tp.Leaf("w", w.value, gw, dir, hw, w.shape...)
		wv.Support = sup
		y := ReLU(tp, Conv2d(tp, tp.Input(x.value, x.shape...), wv, nil, [2]int{1, 1}, [2]int{1, 1}))
		logits := Linear(tp, Flatten(tp, y), tp.Input(proj.value, proj.shape...), nil)
		tp.Backward(SoftmaxCrossEntropy(tp, logits, []int32{0, 1, 2}, 1))
		return gw, hw
	}
	gd, hd := run(nil)
	gs, hs := run(support)
	// Without the micro-kernels the products stay dense and add to the
	// pruned weights' entries too ("may be left as they are").
	sparse := kernels.DirectLowering()
	for i, s := range support {
		if s == 0 && sparse {
			if gs[i] != 7 || hs[i] != 7 {
				t.Fatalf("pruned weight %d: gradient %v, Hv %v changed", i, gs[i], hs[i])
			}
			continue
		}
		if math.Abs(gs[i]-gd[i]) > 1e-12*(1+math.Abs(gd[i])) || math.Abs(hs[i]-hd[i]) > 1e-12*(1+math.Abs(hd[i])) {
			t.Fatalf("weight %d: gradient %v vs %v, Hv %v vs %v", i, gs[i], gd[i], hs[i], hd[i])
		}
	}
}
