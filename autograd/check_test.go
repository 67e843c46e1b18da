package autograd

import (
	"maps"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/winnow-ml/winnow/internal/kernels"
)

// leaf is a differentiable input of a test function.
type leaf struct {
	name  string
	shape []int
	value []float64
}

func randLeaf(rng *rand.Rand, name string, scale float64, shape ...int) leaf {
	v := make([]float64, numel(shape))
	for i := range v {
		v[i] = scale * rng.NormFloat64()
	}
	return leaf{name, shape, v}
}

// lossFn builds a scalar loss on the tape from the leaves' Vars.
type lossFn func(t *Tape[float64], vs []*Var[float64]) *Var[float64]

// evaluate runs f at the leaves' values; with dir set it runs an HVP tape
// with tangents dir. It returns the loss, the gradient and H dir, each
// concatenated over the leaves.
func evaluate(f lossFn, leaves []leaf, dir [][]float64) (float64, []float64, []float64) {
	var opts []Option
	if dir != nil {
		opts = append(opts, HVP())
	}
	t := NewTape[float64](opts...)
	vs := make([]*Var[float64], len(leaves))
	grads := make([][]float64, len(leaves))
	hvs := make([][]float64, len(leaves))
	for i, l := range leaves {
		grads[i] = make([]float64, len(l.value))
		hvs[i] = make([]float64, len(l.value))
		var tan []float64
		if dir != nil {
			tan = dir[i]
		}
		vs[i] = t.Leaf(l.name, l.value, grads[i], tan, hvs[i], l.shape...)
	}
	loss := f(t, vs)
	t.Backward(loss)
	var g, hv []float64
	for i := range leaves {
		g = append(g, grads[i]...)
		hv = append(hv, hvs[i]...)
	}
	return loss.Value[0], g, hv
}

func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den = max(den, a[i]*a[i], b[i]*b[i])
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num) / (math.Sqrt(den) * math.Sqrt(float64(len(a))))
}

func norm(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}

// perturbed returns copies of the leaves moved by h*u (u concatenated).
func perturbed(leaves []leaf, u []float64, h float64) []leaf {
	out := make([]leaf, len(leaves))
	k := 0
	for i, l := range leaves {
		v := append([]float64(nil), l.value...)
		for j := range v {
			v[j] += h * u[k]
			k++
		}
		out[i] = leaf{l.name, l.shape, v}
	}
	return out
}

// checkDerivatives compares f's gradient with central differences of the
// loss (step 1e-6), and its H v with central differences of the gradient
// along u = v/|v| (step h, about 1e-8 where ReLU or max-pool kinks could
// be crossed), all in float64.
func checkDerivatives(t *testing.T, f lossFn, leaves []leaf, rng *rand.Rand, h float64) {
	t.Helper()
	n := 0
	for _, l := range leaves {
		n += len(l.value)
	}
	_, g, _ := evaluate(f, leaves, nil)
	fd := make([]float64, n)
	e := make([]float64, n)
	for i := range fd {
		e[i] = 1
		lp, _, _ := evaluate(f, perturbed(leaves, e, 1e-6), nil)
		lm, _, _ := evaluate(f, perturbed(leaves, e, -1e-6), nil)
		e[i] = 0
		fd[i] = (lp - lm) / 2e-6
	}
	if r := relErr(g, fd); r > 1e-6 || math.IsNaN(r) {
		t.Errorf("gradient: relative error %.3g against central differences (norm %.3g)", r, norm(g))
	}

	checkHessianVector(t, f, leaves, g, rng, h)
}

// checkHessianVector checks, along a random direction v, that an HVP tape
// gives the plain tape's gradient g and that H v matches central
// differences of the gradient with step h.
func checkHessianVector(t *testing.T, f lossFn, leaves []leaf, g []float64, rng *rand.Rand, h float64) {
	t.Helper()
	n := len(g)
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	dir := make([][]float64, len(leaves))
	k := 0
	for i, l := range leaves {
		dir[i] = v[k : k+len(l.value)]
		k += len(l.value)
	}
	_, g2, hv := evaluate(f, leaves, dir)
	if r := relErr(g, g2); r > 1e-12 {
		t.Errorf("gradient on an HVP tape differs from a plain tape: %.3g", r)
	}
	nv := norm(v)
	u := make([]float64, n)
	for i := range u {
		u[i] = v[i] / nv
	}
	_, gp, _ := evaluate(f, perturbed(leaves, u, h), nil)
	_, gm, _ := evaluate(f, perturbed(leaves, u, -h), nil)
	want := make([]float64, n)
	for i := range want {
		want[i] = nv * (gp[i] - gm[i]) / (2 * h)
	}
	if r := relErr(hv, want); r > 1e-6 || math.IsNaN(r) {
		t.Errorf("H v: relative error %.3g against central differences of the gradient (norm %.3g)", r, norm(hv))
	}
}

// head makes any op output into a loss with curvature: a fixed random
// linear map to 3 classes, then softmax cross-entropy at temperature 2.
func head(rng *rand.Rand) func(t *Tape[float64], y *Var[float64]) *Var[float64] {
	var proj []float64
	labels := []int32{0, 2, 1, 1, 0, 2, 2, 1}
	return func(t *Tape[float64], y *Var[float64]) *Var[float64] {
		flat := y
		if len(y.Shape) != 2 {
			flat = Flatten(t, y)
		}
		if len(y.Shape) == 1 {
			flat = Reshape(t, y, 1, y.Shape[0])
		}
		in := flat.Shape[1]
		if proj == nil {
			proj = make([]float64, 3*in)
			for i := range proj {
				proj[i] = rng.NormFloat64() / math.Sqrt(float64(in))
			}
		}
		w := t.Input(proj, 3, in)
		return SoftmaxCrossEntropy(t, Linear(t, flat, w, nil), labels[:flat.Shape[0]], 2)
	}
}

func TestOpDerivatives(t *testing.T) {
	type tc struct {
		name   string
		step   float64 // finite-difference step for H v; 0 means 1e-8
		leaves func(r *rand.Rand) []leaf
		f      func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn
	}
	cases := []tc{
		{"linear", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 4, 5), randLeaf(r, "w", 0.5, 6, 5), randLeaf(r, "b", 0.5, 6)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] { return h(t, Linear(t, v[0], v[1], v[2])) }
		}},
		{"linear/nobias", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 3, 4), randLeaf(r, "w", 0.5, 5, 4)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] { return h(t, Linear(t, v[0], v[1], nil)) }
		}},
		{"conv2d/3x3/pad1", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 3, 5, 5), randLeaf(r, "w", 0.3, 4, 3, 3, 3), randLeaf(r, "b", 0.3, 4)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, Conv2d(t, v[0], v[1], v[2], [2]int{1, 1}, [2]int{1, 1}))
			}
		}},
		// 14x14 is large enough for the grid of padded images
		// (kernels.GridWorth): all three products on the grid.
		{"conv2d/3x3/pad1/grid", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 3, 14, 14), randLeaf(r, "w", 0.3, 4, 3, 3, 3), randLeaf(r, "b", 0.3, 4)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, Conv2d(t, v[0], v[1], v[2], [2]int{1, 1}, [2]int{1, 1}))
			}
		}},
		// Weights with 5 nonzeros of 108: forward and dx run over the
		// nonzeros only (kernels.SparseWorth), dW and the W' products dense.
		{"conv2d/3x3/pad1/sparse", 0, func(r *rand.Rand) []leaf {
			w := randLeaf(r, "w", 0.5, 4, 3, 3, 3)
			for i := range w.value {
				if i%23 != 5 {
					w.value[i] = 0
				}
			}
			return []leaf{randLeaf(r, "x", 1, 2, 3, 14, 14), w, randLeaf(r, "b", 0.3, 4)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, Conv2d(t, v[0], v[1], v[2], [2]int{1, 1}, [2]int{1, 1}))
			}
		}},
		{"conv2d/stride2/nopad", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 2, 7, 6), randLeaf(r, "w", 0.3, 3, 2, 3, 2)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, Conv2d(t, v[0], v[1], nil, [2]int{2, 2}, [2]int{0, 0}))
			}
		}},
		{"conv2d/1x1", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 3, 4, 4), randLeaf(r, "w", 0.3, 5, 3, 1, 1)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, Conv2d(t, v[0], v[1], nil, [2]int{1, 1}, [2]int{0, 0}))
			}
		}},
		{"conv2d/1x1/stride2", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 3, 5, 5), randLeaf(r, "w", 0.3, 4, 3, 1, 1)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, Conv2d(t, v[0], v[1], nil, [2]int{2, 2}, [2]int{0, 0}))
			}
		}},
		{"batchnorm/train/4d", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 3, 2, 3, 3), randLeaf(r, "gamma", 1, 2), randLeaf(r, "beta", 1, 2)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, BatchNorm(t, v[0], v[1], v[2], nil, true, 1e-5))
			}
		}},
		{"batchnorm/train/2d", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 5, 3), randLeaf(r, "gamma", 1, 3), randLeaf(r, "beta", 1, 3)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, BatchNorm(t, v[0], v[1], v[2], nil, true, 1e-5))
			}
		}},
		{"batchnorm/eval", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 2, 3, 3), randLeaf(r, "gamma", 1, 2), randLeaf(r, "beta", 1, 2)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			stats := &BatchNormStats[float64]{Mean: []float64{0.3, -0.2}, Var: []float64{1.5, 0.7}, Momentum: 0.1}
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, BatchNorm(t, v[0], v[1], v[2], stats, false, 1e-5))
			}
		}},
		{"batchnormrelu/train/4d", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 3, 2, 3, 3), randLeaf(r, "gamma", 1, 2), randLeaf(r, "beta", 1, 2)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, BatchNormReLU(t, v[0], v[1], v[2], nil, true, 1e-5))
			}
		}},
		{"batchnormrelu/eval", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 2, 3, 3), randLeaf(r, "gamma", 1, 2), randLeaf(r, "beta", 1, 2)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			stats := &BatchNormStats[float64]{Mean: []float64{0.3, -0.2}, Var: []float64{1.5, 0.7}, Momentum: 0.1}
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, BatchNormReLU(t, v[0], v[1], v[2], stats, false, 1e-5))
			}
		}},
		{"addrelu", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "a", 1, 3, 7), randLeaf(r, "b", 1, 3, 7)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] { return h(t, AddReLU(t, v[0], v[1])) }
		}},
		{"relu", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 3, 7)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] { return h(t, ReLU(t, v[0])) }
		}},
		{"maxpool/2x2", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 2, 4, 5)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] { return h(t, MaxPool2d(t, v[0], 2, 2, 0)) }
		}},
		{"maxpool/3x3/stride2/pad1", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 2, 5, 5)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] { return h(t, MaxPool2d(t, v[0], 3, 2, 1)) }
		}},
		{"avgpool/2x2", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 2, 4, 4)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] { return h(t, AvgPool2d(t, v[0], 2, 2)) }
		}},
		{"globalavgpool", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 3, 3, 2)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] { return h(t, GlobalAvgPool(t, v[0])) }
		}},
		{"add/shared-input", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 6), randLeaf(r, "w", 0.5, 6, 6)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, Add(t, ReLU(t, Linear(t, v[0], v[1], nil)), v[0]))
			}
		}},
		{"gaussian-nll", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 5, 3), randLeaf(r, "w", 0.7, 1, 3), randLeaf(r, "logvar", 0.5, 1)}
		}, func(func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return GaussianNLL(t, Linear(t, v[0], v[1], nil), []float64{0.3, -1, 0.5, 2, -0.2}, v[2])
			}
		}},
		{"scale", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 6)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, Scale(t, v[0], []float64{0, 2, 1, 0, 1.5, 2, 2, 0, 0.5, 1, 2, 0}))
			}
		}},
		{"softmax-cross-entropy/T200", 1e-5, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "logits", 30, 4, 5)}
		}, func(func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return SoftmaxCrossEntropy(t, v[0], []int32{4, 0, 2, 2}, 200)
			}
		}},
		{"softmax-cross-entropy/T1", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "logits", 2, 3, 4)}
		}, func(func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return SoftmaxCrossEntropy(t, v[0], []int32{3, 0, 1}, 1)
			}
		}},
		// (Appended: each case's data comes from a seed of its index.)
		// Rows of 16 are whole blocks of float64 micro-kernel columns
		// (kernels.GridImagesWorth): forward and dx written in place.
		{"conv2d/3x3/pad1/grid-rows", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 3, 16, 16), randLeaf(r, "w", 0.3, 4, 3, 3, 3), randLeaf(r, "b", 0.3, 4)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, Conv2d(t, v[0], v[1], v[2], [2]int{1, 1}, [2]int{1, 1}))
			}
		}},
		// Rows of 4 are quarters of a float64 block: blocks of four rows.
		{"conv2d/3x3/pad1/grid-rows4", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "x", 1, 2, 3, 8, 4), randLeaf(r, "w", 0.3, 4, 3, 3, 3), randLeaf(r, "b", 0.3, 4)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, Conv2d(t, v[0], v[1], v[2], [2]int{1, 1}, [2]int{1, 1}))
			}
		}},
		// The union rule's addition: channel 2 gets both summands, 0 and 3
		// a's only, 1 b's only.
		{"joinrelu", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "a", 1, 2, 3, 2, 2), randLeaf(r, "b", 1, 2, 2, 2, 2)}
		}, func(h func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return h(t, JoinReLU(t, v[0], []int{0, 2, 3}, v[1], []int{1, 2}, 4))
			}
		}},
		{"softmax-cross-entropy/smoothed", 0, func(r *rand.Rand) []leaf {
			return []leaf{randLeaf(r, "logits", 2, 3, 4)}
		}, func(func(*Tape[float64], *Var[float64]) *Var[float64]) lossFn {
			return func(t *Tape[float64], v []*Var[float64]) *Var[float64] {
				return SmoothedSoftmaxCrossEntropy(t, v[0], []int32{3, 0, 1}, 2, 0.3)
			}
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i)+1, 7))
			step := c.step
			if step == 0 {
				step = 1e-8
			}
			checkDerivatives(t, c.f(head(rng)), c.leaves(rng), rng, step)
		})
	}
}

// TestTapeReusesBuffers checks that after Reset a pass of the same shapes
// gets the same value buffers back and its gradients the buffers released
// by the last pass, so training steps do not allocate activations.
func TestTapeReusesBuffers(t *testing.T) {
	tp := NewTape[float32]()
	const n, d = 64, 256
	w, g, x := make([]float32, d*d), make([]float32, d*d), make([]float32, n*d)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	labels := make([]int32, n)
	pass := func() *Var[float32] {
		tp.Reset()
		h := ReLU(tp, Linear(tp, tp.Input(x, n, d), tp.Leaf("w", w, g, nil, nil, d, d), nil))
		y := Linear(tp, h, tp.Leaf("w", w, g, nil, nil, d, d), nil)
		tp.Backward(SoftmaxCrossEntropy(tp, y, labels, 1))
		return y
	}
	a := pass()
	b := pass()
	if &a.Value[0] != &b.Value[0] {
		t.Error("second pass got new value buffers")
	}
	// After each pass the released gradient buffers are the same ones.
	buffers := func() map[*float32]bool {
		m := map[*float32]bool{}
		for _, f := range tp.free {
			m[&f[:1][0]] = true
		}
		return m
	}
	before := buffers()
	if len(before) == 0 {
		t.Fatal("no gradient buffer released")
	}
	pass()
	if after := buffers(); !maps.Equal(before, after) {
		t.Errorf("gradient buffers %v, then %v: not reused", before, after)
	}
}

// TestConvChunks checks that a batch lowered in several chunks (here 28
// images and then 2) gives the same values, gradients and H v as each image
// convolved alone. The loss is a mean over images of per-image terms, so the
// batch's derivatives are the per-image ones divided by N.
func TestConvChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const n = 30
	x := randLeaf(rng, "x", 1, n, 16, 32, 32)
	w := randLeaf(rng, "w", 0.1, 4, 16, 3, 3)
	b := randLeaf(rng, "b", 0.1, 4)
	proj := randLeaf(rng, "proj", 0.01, 3, 4*32*32)
	g := kernels.NewConvGeom(16, 32, 32, 3, 3, 1, 1, 1, 1)
	if chunk := kernels.NewConvPlan[float64](&kernels.Workspace[float64]{}, g, 4, w.value, nil, n).Chunk(n); chunk >= n {
		t.Fatalf("test does not span chunks: %d images per chunk", chunk)
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(i % 3)
	}
	dir := [][]float64{randLeaf(rng, "", 1, n, 16, 32, 32).value, randLeaf(rng, "", 1, 4, 16, 3, 3).value, randLeaf(rng, "", 1, 4).value}
	const per = 16 * 32 * 32
	run := func(lo, hi int) (y, gx, gw, hx, hw []float64) {
		tp := NewTape[float64](HVP())
		gx, hx = make([]float64, (hi-lo)*per), make([]float64, (hi-lo)*per)
		gw, hw = make([]float64, len(w.value)), make([]float64, len(w.value))
		gb, hb := make([]float64, 4), make([]float64, 4)
		xv := tp.Leaf("x", x.value[lo*per:hi*per], gx, dir[0][lo*per:hi*per], hx, hi-lo, 16, 32, 32)
		wv := tp.Leaf("w", w.value, gw, dir[1], hw, w.shape...)
		bv := tp.Leaf("b", b.value, gb, dir[2], hb, 4)
		out := Conv2d(tp, xv, wv, bv, [2]int{1, 1}, [2]int{1, 1})
		logits := Linear(tp, Flatten(tp, ReLU(tp, out)), tp.Input(proj.value, proj.shape...), nil)
		tp.Backward(SoftmaxCrossEntropy(tp, logits, labels[lo:hi], 1))
		return append([]float64(nil), out.Value...), gx, gw, hx, hw
	}
	y, gx, gw, hx, hw := run(0, n)
	if norm(gw) == 0 || norm(hw) == 0 || norm(hx) == 0 {
		t.Fatal("zero derivatives: the test checks nothing")
	}
	scaled := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, a := range v {
			out[i] = a * n
		}
		return out
	}
	sgw, shw := make([]float64, len(gw)), make([]float64, len(hw))
	for i := 0; i < n; i++ {
		yi, gxi, gwi, hxi, hwi := run(i, i+1)
		py := len(yi)
		if r := relErr(y[i*py:(i+1)*py], yi); r > 1e-13 {
			t.Fatalf("image %d: output differs by %.3g", i, r)
		}
		if r := relErr(scaled(gx[i*per:(i+1)*per]), gxi); r > 1e-12 {
			t.Fatalf("image %d: dx differs by %.3g", i, r)
		}
		if r := relErr(scaled(hx[i*per:(i+1)*per]), hxi); r > 1e-12 {
			t.Fatalf("image %d: R{dx} differs by %.3g", i, r)
		}
		for j := range gwi {
			sgw[j] += gwi[j] / n
			shw[j] += hwi[j] / n
		}
	}
	if r := relErr(gw, sgw); r > 1e-12 {
		t.Errorf("dW differs from the per-image mean by %.3g", r)
	}
	if r := relErr(hw, shw); r > 1e-12 {
		t.Errorf("R{dW} differs from the per-image mean by %.3g", r)
	}
}

// TestConvWinograd checks convolutions that run by Winograd's transforms
// (kernels.WinogradWorth): 8 images of 256 channels on 8x8 float64 maps
// (by F(4x4, 3x3)) and 6 images of 64 to 128 channels on 10x10 maps (by
// F(2x2, 3x3)); forward, dx and dW. Too many weights for differences
// element by element, so the gradient is checked along random directions,
// and H v as in checkDerivatives.
func TestConvWinograd(t *testing.T) {
	for _, tc := range []struct{ n, c, hw, out int }{{8, 256, 8, 256}, {6, 64, 10, 128}} {
		rng := rand.New(rand.NewPCG(41, 7))
		leaves := []leaf{randLeaf(rng, "x", 1, tc.n, tc.c, tc.hw, tc.hw), randLeaf(rng, "w", 0.03, tc.out, tc.c, 3, 3), randLeaf(rng, "b", 0.3, tc.out)}
		if kernels.DirectLowering() && !kernels.WinogradWorth[float64](kernels.NewConvGeom(tc.c, tc.hw, tc.hw, 3, 3, 1, 1, 1, 1), tc.out, tc.n) {
			t.Fatalf("%+v no longer runs by Winograd: choose a geometry that does", tc)
		}
		h := head(rng)
		f := func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
			tp.conv.Force = kernels.Winograd // on every CPU
			return h(tp, Conv2d(tp, v[0], v[1], v[2], [2]int{1, 1}, [2]int{1, 1}))
		}
		n := 0
		for _, l := range leaves {
			n += len(l.value)
		}
		_, g, _ := evaluate(f, leaves, nil)
		for range 3 {
			u := make([]float64, n)
			for i := range u {
				u[i] = rng.NormFloat64()
			}
			lp, _, _ := evaluate(f, perturbed(leaves, u, 1e-6), nil)
			lm, _, _ := evaluate(f, perturbed(leaves, u, -1e-6), nil)
			var want float64
			for i := range u {
				want += g[i] * u[i]
			}
			if got := (lp - lm) / 2e-6; math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
				t.Errorf("%+v: directional derivative %v, central difference %v", tc, want, got)
			}
		}
		checkHessianVector(t, f, leaves, g, rng, 1e-5)
	}
}

// TestWinogradWeightsNotStale checks that a tape reused after the weights
// changed in place (an SGD step) does not reuse their old transform.
func TestWinogradWeightsNotStale(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 7))
	x, w := randLeaf(rng, "x", 1, 8, 256, 8, 8), randLeaf(rng, "w", 0.03, 256, 256, 3, 3)
	conv := func(tp *Tape[float64]) []float64 {
		tp.Reset()
		y := Conv2d(tp, tp.Input(x.value, x.shape...), tp.Leaf("w", w.value, nil, nil, nil, w.shape...), nil, [2]int{1, 1}, [2]int{1, 1})
		return append([]float64(nil), y.Value...)
	}
	reused := NewTape[float64]()
	conv(reused)
	for i := range w.value {
		w.value[i] *= -0.5
	}
	if got, want := conv(reused), conv(NewTape[float64]()); relErr(got, want) > 1e-14 {
		t.Errorf("after the weights changed, a reused tape's output is off by %.3g", relErr(got, want))
	}
}

// TestConvWinograd32 checks the float32 Winograd convolution (8x8 maps of
// 256 channels, kernels.WinogradWorth) against the float64 one, which
// TestConvWinograd checks against differences: values, dx and dW.
func TestConvWinograd32(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 7))
	x, w := randLeaf(rng, "x", 1, 8, 256, 8, 8), randLeaf(rng, "w", 0.03, 256, 256, 3, 3)
	if kernels.DirectLowering() && !kernels.WinogradWorth[float32](kernels.NewConvGeom(256, 8, 8, 3, 3, 1, 1, 1, 1), 256, 8) {
		t.Fatal("the geometry no longer runs by Winograd in float32: choose one that does")
	}
	seed := randLeaf(rng, "dy", 1, 8, 256, 8, 8).value
	y64, dx64, dw64 := convPass(x.value, w.value, seed, x.shape, w.shape)
	y32, dx32, dw32 := convPass(to32(x.value), to32(w.value), to32(seed), x.shape, w.shape)
	for _, c := range []struct {
		name string
		got  []float32
		want []float64
	}{{"y", y32, y64}, {"dx", dx32, dx64}, {"dW", dw32, dw64}} {
		if r := relErr(to64(c.got), c.want); r > 1e-5 {
			t.Errorf("float32 %s: relative error %.3g against float64", c.name, r)
		}
	}
}

// convPass runs a 3x3 "same" convolution forward and back from seed,
// returning y, dx and dW.
func convPass[T Float](x, w, seed []T, xs, ws []int) (y, dx, dw []T) {
	tp := NewTape[T]()
	tp.conv.Force = kernels.Winograd // on every CPU
	dx, dw = make([]T, len(x)), make([]T, len(w))
	out := Conv2d(tp, tp.Leaf("x", x, dx, nil, nil, xs...), tp.Leaf("w", w, dw, nil, nil, ws...), nil, [2]int{1, 1}, [2]int{1, 1})
	tp.BackwardFrom(out, seed)
	return out.Value, dx, dw
}

func to64(s []float32) []float64 {
	o := make([]float64, len(s))
	for i, v := range s {
		o[i] = float64(v)
	}
	return o
}

// TestOnLeafGrad: Backward hands over each leaf once its gradient is
// complete, the last layer's first, while earlier rules are still to run:
// a weight used twice only after its second use's rule.
func TestOnLeafGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 1))
	x := randLeaf(rng, "x", 1, 2, 3)
	w1, w2 := randLeaf(rng, "w1", 1, 3, 3), randLeaf(rng, "w2", 1, 4, 3)
	tp := NewTape[float64]()
	var order []string
	var g1 []float64
	tp.OnLeafGrad(func(v *Var[float64]) {
		order = append(order, v.Name)
		if v.Name == "w1" {
			g1 = append([]float64(nil), v.Grad...)
		}
	})
	gw1, gw2 := make([]float64, 9), make([]float64, 12)
	v1, v2 := tp.Leaf("w1", w1.value, gw1, nil, nil, 3, 3), tp.Leaf("w2", w2.value, gw2, nil, nil, 4, 3)
	h := ReLU(tp, Linear(tp, tp.Input(x.value, x.shape...), v1, nil))
	h = ReLU(tp, Linear(tp, h, v1, nil)) // w1 again
	loss := SoftmaxCrossEntropy(tp, Linear(tp, h, v2, nil), []int32{1, 3}, 1)
	tp.Backward(loss)
	if strings.Join(order, " ") != "w2 w1" {
		t.Fatalf("leaves handed over in order %v, want w2 then w1 once", order)
	}
	if relErr(g1, gw1) != 0 {
		t.Error("w1 was handed over before its gradient was complete")
	}
}
