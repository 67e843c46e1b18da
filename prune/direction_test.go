package prune

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/winnow-ml/winnow/nn"
)

// byHand is a two-layer bias-free MLP, 3 -> 4 -> 2, whose scores every
// method's paper defines in closed form.
type byHand struct {
	net    *nn.Sequential[float64]
	w1, w2 []float64 // [4, 3] and [2, 4]
	x      []float64 // one input
	y      int       // its label
}

func newByHand(seed uint64) byHand {
	rng := rand.New(rand.NewPCG(seed, 9))
	l1, l2 := nn.NewLinear[float64](rng, 3, 4, false), nn.NewLinear[float64](rng, 4, 2, false)
	for _, p := range [][]float64{l1.Weight.Data, l2.Weight.Data} {
		for i := range p {
			p[i] = rng.NormFloat64()
		}
	}
	net := nn.Named(nn.Entry[float64]{Name: "fc1", Module: l1}, nn.Entry[float64]{Name: "relu", Module: nn.ReLU[float64]{}},
		nn.Entry[float64]{Name: "fc2", Module: l2})
	return byHand{net: net, w1: l1.Weight.Data, w2: l2.Weight.Data, x: []float64{0.7, -1.2, 0.4}, y: 1}
}

// forward returns the hidden pre-activations, the ReLU's output and the
// logits divided by temp.
func (h byHand) forward(temp float64) (pre, hid, z []float64) {
	pre, hid, z = make([]float64, 4), make([]float64, 4), make([]float64, 2)
	for j := range pre {
		for i, v := range h.x {
			pre[j] += h.w1[j*3+i] * v
		}
		hid[j] = max(pre[j], 0)
	}
	for o := range z {
		for j := range hid {
			z[o] += h.w2[o*4+j] * hid[j] / temp
		}
	}
	return pre, hid, z
}

// grad returns the gradient of the cross-entropy of logits/temp, fc1's
// weights then fc2's.
func (h byHand) grad(temp float64) []float64 {
	pre, hid, z := h.forward(temp)
	p := softmax(z)
	dz := make([]float64, 2)
	for o := range dz {
		dz[o] = p[o] / temp
		if o == h.y {
			dz[o] -= 1 / temp
		}
	}
	g := make([]float64, 12+8)
	dh := make([]float64, 4)
	for o := range dz {
		for j := range hid {
			g[12+o*4+j] = dz[o] * hid[j]
			dh[j] += dz[o] * h.w2[o*4+j]
		}
	}
	for j := range dh {
		if pre[j] > 0 {
			for i, v := range h.x {
				g[j*3+i] = dh[j] * v
			}
		}
	}
	return g
}

// weightsFlat are fc1's and fc2's weights in one slice.
func (h byHand) weightsFlat() []float64 { return append(append([]float64{}, h.w1...), h.w2...) }

// hg is H g by central differences of the gradient along g.
func (h byHand) hg(temp float64) []float64 {
	g := h.grad(temp)
	const eps = 1e-6
	shift := func(s float64) []float64 {
		for i := range h.w1 {
			h.w1[i] += s * g[i]
		}
		for i := range h.w2 {
			h.w2[i] += s * g[12+i]
		}
		return h.grad(temp)
	}
	gp := shift(eps)
	gm := shift(-2 * eps)
	shift(eps)
	out := make([]float64, len(g))
	for i := range out {
		out[i] = (gp[i] - gm[i]) / (2 * eps)
	}
	return out
}

// keptByRule keeps all but the n weights the rule removes: removeHighest
// (GraSP) removes the highest scores, the other methods the lowest.
func keptByRule(scores []float64, n int, removeHighest bool) []bool {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		if removeHighest {
			return scores[idx[a]] > scores[idx[b]]
		}
		return scores[idx[a]] < scores[idx[b]]
	})
	kept := make([]bool, len(scores))
	for i := range kept {
		kept[i] = true
	}
	for _, i := range idx[:n] {
		kept[i] = false
	}
	return kept
}

// TestEachMethodPrunesInItsPapersDirection: on a network small enough to
// score by hand, every method removes what its paper says: GraSP the
// weights of highest S = -θ ⊙ Hg (removing them reduces the gradient flow
// least), SNIP the lowest |θ ⊙ g|, magnitude the lowest |θ|, SynFlow (one
// round) the lowest |θ ⊙ ∂R/∂θ| with R the network of absolute weights on
// an all-ones input. Flipping a method's direction or its score's sign
// fails here.
func TestEachMethodPrunesInItsPapersDirection(t *testing.T) {
	const sparsity, temp = 0.5, 2.0
	for _, method := range []string{"grasp", "snip", "magnitude", "synflow"} {
		t.Run(method, func(t *testing.T) {
			h := newByHand(11)
			theta := h.weightsFlat()
			scores := make([]float64, len(theta))
			removeHighest := false
			switch method {
			case "grasp":
				hg := h.hg(temp)
				for i := range scores {
					scores[i] = -theta[i] * hg[i]
				}
				removeHighest = true
			case "snip":
				g := h.grad(1)
				for i := range scores {
					scores[i] = math.Abs(theta[i] * g[i])
				}
			case "magnitude":
				for i := range scores {
					scores[i] = math.Abs(theta[i])
				}
			case "synflow":
				// R = sum_o sum_j |W2_oj| max(sum_i |W1_ji|, 0): dR/d|W1_ji| = sum_o |W2_oj|,
				// dR/d|W2_oj| = sum_i |W1_ji|.
				for j := 0; j < 4; j++ {
					var out, in float64
					for o := 0; o < 2; o++ {
						out += math.Abs(h.w2[o*4+j])
					}
					for i := 0; i < 3; i++ {
						in += math.Abs(h.w1[j*3+i])
					}
					for i := 0; i < 3; i++ {
						scores[j*3+i] = math.Abs(h.w1[j*3+i]) * out
					}
					for o := 0; o < 2; o++ {
						scores[12+o*4+j] = math.Abs(h.w2[o*4+j]) * in
					}
				}
			}
			want := keptByRule(scores, int(sparsity*float64(len(scores))), removeHighest)
			c := DefaultConfig(method, sparsity)
			c.GraSP = GraSPOptions{Temperature: temp}
			c.SynFlow.Rounds = 1
			r, err := Prune(context.Background(), h.net, List{{X: h.x, Shape: []int{1, 3}, Labels: []int32{int32(h.y)}}}, []int{3}, c)
			if err != nil {
				t.Fatal(err)
			}
			got := append(append([]bool{}, r.Masks["fc1.weight"]...), r.Masks["fc2.weight"]...)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("weight %d (score %.4g): kept %v, the paper's rule keeps %v\nscores %.4g", i, scores[i], got[i], want[i], scores)
				}
			}
		})
	}
}
