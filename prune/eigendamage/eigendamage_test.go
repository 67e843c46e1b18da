package eigendamage

import (
	"context"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
)

// tinyNet: conv (bias, padding) -> relu -> conv (stride 2) -> flatten ->
// linear -> relu -> classifier, on 2x4x4 inputs.
func tinyNet(seed uint64) nn.Module[float64] {
	rng := rand.New(rand.NewPCG(seed, 1))
	return nn.Named[float64](
		nn.Entry[float64]{Name: "conv1", Module: nn.NewConv2d[float64](rng, 2, 3, 3, 1, 1, true)},
		nn.Entry[float64]{Name: "relu1", Module: nn.ReLU[float64]{}},
		nn.Entry[float64]{Name: "conv2", Module: nn.NewConv2d[float64](rng, 3, 4, 3, 2, 1, false)},
		nn.Entry[float64]{Name: "flatten", Module: nn.Flatten[float64]{}},
		nn.Entry[float64]{Name: "fc1", Module: nn.NewLinear[float64](rng, 16, 5, true)},
		nn.Entry[float64]{Name: "relu2", Module: nn.ReLU[float64]{}},
		nn.Entry[float64]{Name: "fc2", Module: nn.NewLinear[float64](rng, 5, 3, true)},
	)
}

func tinyBatches(n int) []Batch[float64] {
	rng := rand.New(rand.NewPCG(7, 7))
	var out []Batch[float64]
	for b := 0; b < n; b++ {
		x := make([]float64, 3*2*4*4)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		out = append(out, Batch[float64]{X: x, Shape: []int{3, 2, 4, 4}, Labels: []int32{0, 2, 1}})
	}
	return out
}

func seq(bs []Batch[float64]) iter.Seq2[Batch[float64], error] {
	return func(yield func(Batch[float64], error) bool) {
		for _, b := range bs {
			if !yield(b, nil) {
				return
			}
		}
	}
}

// directFactors computes the factors of conv2 and fc1 by explicit sums over
// a separately recorded forward/backward pass: patches extracted by index.
func directFactors(t *testing.T, net nn.Module[float64], batches []Batch[float64]) map[string][2][]float64 {
	t.Helper()
	layers := nn.Layers(net)
	conv2, fc1 := layers[1].Conv, layers[2].Linear
	out := map[string][2][]float64{"conv2": {make([]float64, 9), make([]float64, 16)}, "fc1": {make([]float64, 256), make([]float64, 25)}}
	for _, b := range batches {
		var cx, cy, lx, ly *autograd.Var[float64]
		conv2.Observe = func(x, y *autograd.Var[float64]) { cx, cy = x, y }
		fc1.Observe = func(x, y *autograd.Var[float64]) { lx, ly = x, y }
		tp := autograd.NewTape[float64](autograd.KeepGrads())
		net.SetTraining(false)
		loss := autograd.SoftmaxCrossEntropy(tp, net.Forward(tp, tp.Input(b.X, b.Shape...)), b.Labels, 1)
		tp.Backward(loss)
		conv2.Observe, fc1.Observe = nil, nil
		n := b.Shape[0]
		// conv2: input 3x4x4, kernel 3, stride 2, padding 1, output 4x2x2.
		const c, h, w, oh, ow = 3, 4, 4, 2, 2
		p, k := float64(oh*ow), 9.0
		a := out["conv2"][0]
		for e := 0; e < n; e++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					for ky := 0; ky < 3; ky++ {
						for kx := 0; kx < 3; kx++ {
							y, x := oy*2-1+ky, ox*2-1+kx
							if y < 0 || y >= h || x < 0 || x >= w {
								continue
							}
							for i := 0; i < c; i++ {
								for j := 0; j < c; j++ {
									a[i*c+j] += cx.Value[((e*c+i)*h+y)*w+x] * cx.Value[((e*c+j)*h+y)*w+x] / (p * p * float64(n) * k)
								}
							}
						}
					}
				}
			}
		}
		s := out["conv2"][1]
		for e := 0; e < n; e++ {
			for pos := 0; pos < oh*ow; pos++ {
				for i := 0; i < 4; i++ {
					for j := 0; j < 4; j++ {
						s[i*4+j] += float64(n) * p * cy.Grad[(e*4+i)*oh*ow+pos] * cy.Grad[(e*4+j)*oh*ow+pos]
					}
				}
			}
		}
		la, ls := out["fc1"][0], out["fc1"][1]
		for e := 0; e < n; e++ {
			for i := 0; i < 16; i++ {
				for j := 0; j < 16; j++ {
					la[i*16+j] += lx.Value[e*16+i] * lx.Value[e*16+j] / float64(n)
				}
			}
			for i := 0; i < 5; i++ {
				for j := 0; j < 5; j++ {
					ls[i*5+j] += float64(n) * ly.Grad[e*5+i] * ly.Grad[e*5+j]
				}
			}
		}
	}
	for _, f := range out {
		for _, m := range f {
			for i := range m {
				m[i] /= float64(len(batches))
			}
		}
	}
	return out
}

func close(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*scale {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestFactorsAndScores checks Collect's factors, the eigenbasis, W* and
// the direction scores of a tiny network against explicit sums.
func TestFactorsAndScores(t *testing.T) {
	net := tinyNet(1)
	batches := tinyBatches(2)
	factors, err := Collect(context.Background(), net, seq(batches), EmpiricalFisher, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(factors) != 3 || factors[2].Layer != "fc1" {
		t.Fatalf("factors of %d layers, want conv1, conv2, fc1 (not the classifier)", len(factors))
	}
	want := directFactors(t, net, batches)
	for i, name := range []string{"conv2", "fc1"} {
		f := factors[i+1]
		close(t, name+" A", f.A, want[name][0], 1e-12)
		close(t, name+" S", f.S, want[name][1], 1e-12)
	}

	// Eigenbasis: A Q_A = Q_A diag(L_A), and scores by explicit sums.
	l := nn.Layers(net)[1]
	b, err := Decompose(factors[1])
	if err != nil {
		t.Fatal(err)
	}
	n := b.In
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			aq := 0.0
			for m := 0; m < n; m++ {
				aq += factors[1].A[i*n+m] * b.QA[m*n+j]
			}
			if math.Abs(aq-b.QA[i*n+j]*b.LA[j]) > 1e-12 {
				t.Fatalf("A Q_A != Q_A L_A at (%d, %d)", i, j)
			}
		}
	}
	s := Score(l, b)
	w := l.Conv.Weight.Data // [4, 3, 3, 3]
	wantIn, wantOut := make([]float64, 3), make([]float64, 4)
	for i := 0; i < 4; i++ {
		for j := 0; j < 3; j++ {
			for pos := 0; pos < 9; pos++ {
				ws := 0.0
				for a := 0; a < 4; a++ {
					for c := 0; c < 3; c++ {
						ws += b.QS[a*4+i] * w[(a*3+c)*9+pos] * b.QA[c*3+j]
					}
				}
				if math.Abs(ws-s.WStar[(i*3+j)*9+pos]) > 1e-12 {
					t.Fatalf("W*[%d,%d,%d] = %v, want %v", i, j, pos, s.WStar[(i*3+j)*9+pos], ws)
				}
				imp := ws * ws * b.LS[i] * b.LA[j]
				wantIn[j] += imp
				wantOut[i] += imp
			}
		}
	}
	close(t, "input scores", s.In, wantIn, 1e-12)
	close(t, "output scores", s.Out, wantOut, 1e-12)
}

func evalOut(net nn.Module[float64], b Batch[float64]) []float64 {
	net.SetTraining(false)
	tp := autograd.NewTape[float64](autograd.NoGrad())
	return append([]float64(nil), net.Forward(tp, tp.Input(b.X, b.Shape...)).Value...)
}

// TestRewriteKeepsFunction: rebuilding every layer in its eigenbasis with
// nothing pruned computes the same function, and so does a second round
// composed onto the first.
func TestRewriteKeepsFunction(t *testing.T) {
	net := tinyNet(2)
	batches := tinyBatches(2)
	want := evalOut(net, batches[0])
	for round := 1; round <= 2; round++ {
		factors, err := Collect(context.Background(), net, seq(batches), TrueFisher, rand.New(rand.NewPCG(1, uint64(round))))
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range Targets(net) {
			b, err := Decompose(factors[i])
			if err != nil {
				t.Fatal(err)
			}
			s := Score(l, b)
			plans, err := Plan([]*Scored{s}, 0, OneShotLimit)
			if err != nil {
				t.Fatal(err)
			}
			p := plans[0]
			if len(p.KeepIn) != b.In || len(p.KeepOut) != b.Out {
				t.Fatalf("ratio 0 pruned %s: kept %d/%d in, %d/%d out", l.Name, len(p.KeepIn), b.In, len(p.KeepOut), b.Out)
			}
			p.Rewrite = true // larger, but rebuilt for the test
			Apply(l, s, p)
		}
		close(t, "output after rewrite", evalOut(net, batches[0]), want, 1e-10)
	}
}

// TestPlan: the global threshold removes the asked fraction, the cap keeps
// at least (1-limit) of a layer, and layers whose rewrite is not smaller
// are left alone.
func TestPlan(t *testing.T) {
	mk := func(in, out []float64, width, height, k, params int) *Scored {
		return &Scored{Basis: &Basis{Layer: "l"}, In: in, Out: out, K: k, Width: width, Height: height, Params: params}
	}
	a := mk([]float64{1, 2, 3, 4}, []float64{5, 6, 7, 8}, 4, 8, 9, 8*4*9)
	b := mk([]float64{0.1, 0.2}, []float64{0.3, 0.4}, 2, 2, 1, 4)
	plans, err := Plan([]*Scored{a, b}, 0.5, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	// 12 scores, threshold at sorted[6] = 3: kept are those > 3.
	if in, out := plans[0].KeepIn, plans[0].KeepOut; len(in) != 1 || in[0] != 3 || len(out) != 4 || plans[0].CappedIn {
		t.Errorf("layer a keeps %v, %v; want [3], all four outputs, uncapped", in, out)
	}
	if len(plans[1].KeepIn) != 1 || len(plans[1].KeepOut) != 1 || !plans[1].CappedIn {
		t.Errorf("layer b keeps %v, %v; want one of each (capped)", plans[1].KeepIn, plans[1].KeepOut)
	}
	// The official cap: a's inputs lose 3 of 4 at the threshold, more than
	// 0.5; capped, those above a's own sorted[floor(4·0.5)] = 3 are kept,
	// which is [3] again (the count is n - floor(n·limit) - 1).
	capped, err := Plan([]*Scored{a, b}, 0.5, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if in := capped[0].KeepIn; len(in) != 1 || in[0] != 3 || !capped[0].CappedIn {
		t.Errorf("layer a with cap 0.5 keeps inputs %v, want [3] (capped)", in)
	}
	// 64 scores, all below the threshold, cap 0.95: sorted[60] is 60, and
	// 61, 62, 63 are kept (not ceil(0.05·64) = 4).
	many := make([]float64, 64)
	for i := range many {
		many[i] = float64(i)
	}
	if idx, c := keep(many, 100, 0.95); !slices.Equal(idx, []int{61, 62, 63}) || !c {
		t.Errorf("64 units under the cap of 0.95 keep %v (capped %v), want [61 62 63]", idx, c)
	}
	// a: 1*4 + 4*1*9 + 8*4 = 72 <= 288; b: 1*2 + 1*1 + 2*1 = 5 > 4.
	if !plans[0].Rewrite || plans[0].ParamsAfter != 72 || plans[1].Rewrite || plans[1].ParamsAfter != 5 {
		t.Errorf("rewrites %v (%d), %v (%d); want true (72), false (5)", plans[0].Rewrite, plans[0].ParamsAfter, plans[1].Rewrite, plans[1].ParamsAfter)
	}
	for _, bad := range []float64{-0.1, 1, math.NaN()} {
		if _, err := Plan([]*Scored{a}, bad, 0.95); err == nil {
			t.Errorf("Plan accepted ratio %v", bad)
		}
	}
}

// TestCounts: parameters and FLOPs of a pruned layer by hand.
func TestCounts(t *testing.T) {
	net := tinyNet(3)
	l := nn.Layers(net)[1] // conv2: 3 -> 4, 3x3, stride 2, on 4x4 -> 2x2
	before := nn.Summarize(net, 2, 4, 4)
	// Keep 2 input and 3 output directions.
	l.Factor(make([]float64, 2*3), 2, make([]float64, 3*2*9), make([]float64, 4*3), 3)
	after := nn.Summarize(net, 2, 4, 4)
	if d := before.Params - after.Params; d != 4*3*9-(2*3+3*2*9+4*3) {
		t.Errorf("parameters dropped by %d, want %d", d, 108-72)
	}
	// FLOPs (multiply-add = 2): before 2*4*3*9*4 on 2x2 outputs; after the
	// 1x1 input rotation on the 4x4 input, the core on 2x2, the 1x1 output
	// rotation on 2x2.
	wantDelta := int64(2*4*3*9*4) - int64(2*2*3*16+2*3*2*9*4+2*4*3*4)
	if d := before.FLOPs - after.FLOPs; d != wantDelta {
		t.Errorf("FLOPs dropped by %d, want %d", d, wantDelta)
	}
}
