package prune

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/nn"
)

// TestRemovesExactlyFloorPN: sparsity p of N weights removes floor(p N)
// of them, whatever the ties, with p's decimal not exact in binary
// (0.98 * 430500 is 421889.99999999994 in float64: 421890 go).
func TestRemovesExactlyFloorPN(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		n       int
		p       float64
		removed int
	}{{430500, 0.98, 421890}, {430500, 0.9, 387450}, {100, 0.99, 99}, {100, 0.999, 99}, {7, 0.5, 3}, {7, 0.99, 6},
		{1, 0.999, 0}, {3, 0.7, 2}, {10, 0.3, 3}, {266200, 0.95, 252890}, {1000, 0, 0}} {
		imp := make([]float64, c.n)
		for i := range imp {
			imp[i] = float64(rng.IntN(5)) // many ties
		}
		a, b := imp[:c.n/3], imp[c.n/3:]
		masks, err := keepMasks([]layerScores{{"a", a}, {"b", b}}, c.p, Global, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		removed := 0
		for _, k := range append(slices.Clone(masks["a"]), masks["b"]...) {
			if !k {
				removed++
			}
		}
		if removed != c.removed {
			t.Errorf("n=%d p=%v: removed %d, want %d", c.n, c.p, removed, c.removed)
		}
	}
}

func TestTiesAndOrder(t *testing.T) {
	// Lowest go first; ties go in position order, earlier layers first.
	// Three weights tie at 1 and two go: a[1], then b[0].
	masks, _ := keepMasks([]layerScores{{"a", []float64{3, 1, 2}}, {"b", []float64{1, 5, 1}}}, 0.34, Global, 0, nil)
	if !slices.Equal(masks["a"], []bool{true, false, true}) || !slices.Equal(masks["b"], []bool{false, true, true}) {
		t.Errorf("masks %v %v", masks["a"], masks["b"])
	}
	// Local: each layer loses floor(p*n_l).
	masks, _ = keepMasks([]layerScores{{"a", []float64{3, 1, 2, 0}}, {"b", []float64{9, 8}}}, 0.5, Local, 0, nil)
	if !slices.Equal(masks["a"], []bool{true, false, true, false}) || !slices.Equal(masks["b"], []bool{true, false}) {
		t.Errorf("local masks %v %v", masks["a"], masks["b"])
	}
	// A minimum density keeps a layer alive that a global threshold kills.
	layers := []layerScores{{"a", []float64{0, 0, 0, 0}}, {"b", []float64{5, 6, 7, 8, 9, 10}}}
	masks, _ = keepMasks(layers, 0.5, Global, 0.25, nil)
	if kept(masks["a"]) != 1 || kept(masks["a"])+kept(masks["b"]) != 5 {
		t.Errorf("min density: %v %v", masks["a"], masks["b"])
	}
	if _, err := keepMasks(layers, 0.5, Global, 0.9, nil); err == nil {
		t.Error("a floor protecting more than the density allows: no error")
	}
	// Already pruned weights are never revived, even with top scores.
	masks, _ = keepMasks([]layerScores{{"a", []float64{9, 1, 2, 3}}}, 0.25, Global, 0, map[string][]bool{"a": {true, false, false, false}})
	if masks["a"][0] {
		t.Error("pruned weight revived")
	}
}

func kept(m []bool) int {
	n := 0
	for _, k := range m {
		if k {
			n++
		}
	}
	return n
}

// TestGraSPByHand: for one linear layer z = W x / T and one example, with
// p = softmax(z) and e the one-hot label,
//
//	g = (p - e) x^T / T,  H v = ((diag p - p p^T) (v x / T)) x^T / T,
//
// and GraSP's score is S = -W ⊙ H g.
func TestGraSPByHand(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const in, out, temp = 3, 4, 2.0
	lin := nn.NewLinear[float64](rng, in, out, false)
	for i := range lin.Weight.Data {
		lin.Weight.Data[i] = rng.NormFloat64()
	}
	net := nn.Named(nn.Entry[float64]{Name: "fc", Module: lin})
	x := []float64{0.5, -1, 2}
	y := 2
	W := lin.Weight.Data
	z := make([]float64, out)
	for o := range z {
		for i := range x {
			z[o] += W[o*in+i] * x[i] / temp
		}
	}
	p := softmax(z)
	g := make([]float64, out*in)
	for o := 0; o < out; o++ {
		d := p[o]
		if o == y {
			d--
		}
		for i := range x {
			g[o*in+i] = d * x[i] / temp
		}
	}
	zt := make([]float64, out) // v x / T with v = g
	for o := range zt {
		for i := range x {
			zt[o] += g[o*in+i] * x[i] / temp
		}
	}
	var pz float64
	for o := range p {
		pz += p[o] * zt[o]
	}
	want := make([]float64, out*in)
	for o := 0; o < out; o++ {
		pt := p[o] * (zt[o] - pz)
		for i := range x {
			want[o*in+i] = -W[o*in+i] * pt * x[i] / temp
		}
	}
	before := slices.Clone(W)
	scores, err := GraSP(context.Background(), net, List{{X: x, Shape: []int{1, in}, Labels: []int32{int32(y)}}}, GraSPOptions{Temperature: temp})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if math.Abs(scores["fc.weight"][i]-w) > 1e-14 {
			t.Errorf("S[%d] = %v, by hand %v", i, scores["fc.weight"][i], w)
		}
	}
	if !slices.Equal(before, W) {
		t.Error("GraSP changed the weights")
	}
}

func softmax(z []float64) []float64 {
	m := slices.Max(z)
	out := make([]float64, len(z))
	var s float64
	for i, v := range z {
		out[i] = math.Exp(v - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

func smallNet(rng *rand.Rand) nn.Module[float64] {
	return nn.NewSequential[float64](
		nn.NewConv2d[float64](rng, 2, 3, 3, 1, 1, false), nn.NewBatchNorm2d[float64](3), nn.ReLU[float64]{},
		nn.MaxPool2d[float64]{Kernel: 2, Stride: 2},
		nn.Flatten[float64]{},
		nn.NewLinear[float64](rng, 3*3*3, 4, true),
	)
}

func smallBatches(rng *rand.Rand, n int) List {
	var bs []Batch
	for k := 0; k < n; k++ {
		x := make([]float64, 4*2*6*6)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		bs = append(bs, Batch{X: x, Shape: []int{4, 2, 6, 6}, Labels: []int32{0, 1, 2, 3}})
	}
	return bs
}

func flatGrad(net nn.Module[float64], bs []Batch, temp float64) []float64 {
	nn.ZeroGrad(net)
	for _, b := range bs {
		tape := autograd.NewTape[float64](autograd.KeepRunningStats())
		tape.Backward(autograd.SoftmaxCrossEntropy(tape, net.Forward(tape, tape.Input(b.X, b.Shape...)), b.Labels, temp))
	}
	var g []float64
	for _, p := range weights(net) {
		g = append(g, p.Grad...)
	}
	return g
}

// TestGraSPHgAgainstFiniteDifferences: -S/θ = Hg from GraSP equals float64
// central differences of g along g/|g| at T = 200, over two batches.
func TestGraSPHgAgainstFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	net := smallNet(rng)
	for _, p := range weights(net) {
		for i := range p.Data {
			p.Data[i] *= 4
		}
	}
	bs := smallBatches(rng, 2)
	const temp = 200
	scores, err := GraSP(context.Background(), net, bs, GraSPOptions{Temperature: temp})
	if err != nil {
		t.Fatal(err)
	}
	g := flatGrad(net, bs, temp)
	var ng float64
	for _, v := range g {
		ng += v * v
	}
	ng = math.Sqrt(ng)
	const h = 1e-5 // T = 200 makes the logits nearly linear; a larger step is exact enough
	shift := func(s float64) {
		k := 0
		for _, p := range weights(net) {
			for i := range p.Data {
				p.Data[i] += s * g[k] / ng
				k++
			}
		}
	}
	shift(h)
	gp := flatGrad(net, bs, temp)
	shift(-2 * h)
	gm := flatGrad(net, bs, temp)
	shift(h)
	var num, den float64
	k := 0
	for _, p := range weights(net) {
		for i, theta := range p.Data {
			fd := -theta * ng * (gp[k] - gm[k]) / (2 * h)
			num += (scores[p.Name][i] - fd) * (scores[p.Name][i] - fd)
			den += fd * fd
			k++
		}
	}
	if r := math.Sqrt(num / den); r > 1e-6 {
		t.Errorf("GraSP scores: relative error %.3g against central differences", r)
	}
}

func TestSNIPIsThetaTimesGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	net := smallNet(rng)
	bs := smallBatches(rng, 2)
	scores, err := SNIP(context.Background(), net, bs, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := flatGrad(net, bs, 1)
	k := 0
	for _, p := range weights(net) {
		for i, theta := range p.Data {
			if want := math.Abs(theta * g[k]); math.Abs(scores[p.Name][i]-want) > 1e-15 {
				t.Fatalf("%s[%d]: %v, want |θ g| = %v", p.Name, i, scores[p.Name][i], want)
			}
			k++
		}
	}
}

// TestSynFlowConservation: in a bias-free ReLU MLP every layer's total
// synaptic-flow score is the same (Tanaka et al., theorem 2).
func TestSynFlowConservation(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	net := nn.NewSequential[float64](
		nn.Flatten[float64]{},
		nn.NewLinear[float64](rng, 12, 9, false), nn.ReLU[float64]{},
		nn.NewLinear[float64](rng, 9, 7, false), nn.ReLU[float64]{},
		nn.NewLinear[float64](rng, 7, 3, false),
	)
	for _, p := range weights(net) {
		for i := range p.Data {
			p.Data[i] = rng.NormFloat64()
		}
	}
	scores, masks, err := SynFlow(context.Background(), net, 0, SynFlowOptions{Rounds: 1, Input: []int{1, 3, 4}, Scope: Global})
	if err != nil {
		t.Fatal(err)
	}
	var sums []float64
	for _, p := range weights(net) {
		var s float64
		for _, v := range scores[p.Name] {
			s += v
		}
		sums = append(sums, s)
		if kept(masks[p.Name]) != p.Len() {
			t.Error("sparsity 0 pruned something")
		}
	}
	for _, s := range sums[1:] {
		if math.Abs(s-sums[0]) > 1e-9*sums[0] {
			t.Errorf("layer totals %v are not equal", sums)
		}
	}
}

func TestSynFlowIterative(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	net := smallNet(rng)
	before := map[string][]float64{}
	for _, p := range nn.AllParams(net) {
		before[p.Name] = slices.Clone(p.Data)
	}
	_, masks, err := SynFlow(context.Background(), net, 0.9, SynFlowOptions{Rounds: 20, Input: []int{2, 6, 6}, Scope: Global})
	if err != nil {
		t.Fatal(err)
	}
	total, keptN := 0, 0
	for _, p := range weights(net) {
		total += p.Len()
		keptN += kept(masks[p.Name])
	}
	if total-keptN != removeCount(0.9, total) {
		t.Errorf("removed %d of %d, want %d", total-keptN, total, removeCount(0.9, total))
	}
	for _, p := range nn.AllParams(net) {
		if !slices.Equal(before[p.Name], p.Data) {
			t.Errorf("SynFlow changed %s", p.Name)
		}
	}
}

func TestPruneAndReport(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	bs := smallBatches(rng, 1)
	for _, m := range Methods {
		net := smallNet(rand.New(rand.NewPCG(8, 8)))
		c := DefaultConfig(m, 0.8)
		c.SynFlow.Rounds = 5
		r, err := Prune(context.Background(), net, bs, []int{2, 6, 6}, c)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if err := ApplyMasks(net, r.Masks); err != nil {
			t.Fatal(err)
		}
		rep := NewReport(net, []int{2, 6, 6}, m, 0.8)
		if rep.Weights-rep.Kept != removeCount(0.8, rep.Weights) {
			t.Errorf("%s: removed %d of %d", m, rep.Weights-rep.Kept, rep.Weights)
		}
		if len(rep.Layers) != 2 || rep.Layers[0].FLOPs == 0 || rep.FLOPsKept >= rep.FLOPs {
			t.Errorf("%s: report %+v", m, rep)
		}
	}
	for _, bad := range []Config{DefaultConfig("grasp", 1), DefaultConfig("grasp", -0.1), DefaultConfig("obd", 0.5), DefaultConfig("grasp", math.NaN())} {
		if _, err := Prune(context.Background(), smallNet(rng), bs, nil, bad); err == nil {
			t.Errorf("config %+v: no error", bad)
		}
	}
}

func TestCollapseWarning(t *testing.T) {
	net := smallNet(rand.New(rand.NewPCG(9, 9)))
	masks := map[string][]bool{}
	for _, p := range weights(net) {
		masks[p.Name] = make([]bool, p.Len())
	}
	for i := 0; i < 27; i++ { // one output unit of the linear layer alive
		masks["5.weight"][i] = true
	}
	ApplyMasks(net, masks)
	rep := NewReport(net, []int{2, 6, 6}, "test", 0.9)
	if len(rep.Warnings) != 2 || rep.Layers[1].DeadOutputs != 3 {
		t.Errorf("warnings %v, dead %d", rep.Warnings, rep.Layers[1].DeadOutputs)
	}
}

// TestScoresOverRanks: GraSP's and SNIP's scores, their batches shared out
// among the ranks of a data-parallel run and g and Hg summed over them,
// are one process's, to float64 rounding; with four ranks for three
// batches one rank has none and adds zeros.
func TestScoresOverRanks(t *testing.T) {
	setup := func() (nn.Module[float64], List) {
		rng := rand.New(rand.NewPCG(8, 8))
		return smallNet(rng), smallBatches(rng, 3)
	}
	methods := map[string]func(nn.Module[float64], List, dist.Comm) (map[string][]float64, error){
		"grasp": func(net nn.Module[float64], bs List, c dist.Comm) (map[string][]float64, error) {
			return GraSP(context.Background(), net, bs, GraSPOptions{Temperature: 200, Comm: c})
		},
		"snip": func(net nn.Module[float64], bs List, c dist.Comm) (map[string][]float64, error) {
			return SNIP(context.Background(), net, bs, c)
		},
	}
	for name, score := range methods {
		net, bs := setup()
		want, err := score(net, bs, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{2, 4} {
			got := make([]map[string][]float64, n)
			errs := make([]error, n)
			done := make(chan struct{})
			for r, c := range dist.Loopback(n) {
				go func() {
					defer func() { done <- struct{}{} }()
					net, bs := setup()
					got[r], errs[r] = score(net, bs, c)
				}()
			}
			for range n {
				<-done
			}
			for r := range n {
				if errs[r] != nil {
					t.Fatalf("%s, rank %d of %d: %v", name, r, n, errs[r])
				}
				for layer, w := range want {
					for i, v := range w {
						if d := math.Abs(got[r][layer][i] - v); d > 1e-12*math.Max(1e-300, math.Abs(v)) && d > 1e-18 {
							t.Fatalf("%s, rank %d of %d: %s[%d] = %v, one process %v", name, r, n, layer, i, got[r][layer][i], v)
						}
					}
				}
			}
		}
	}
}

// Multishot pruning at initialisation: magnitude's scores do not change
// as weights go, so its shots give the one-shot masks; SynFlow's shots are
// more rounds; GraSP's second shot scores the network the first left.
func TestMultishot(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	bs := smallBatches(rng, 1)
	in := []int{2, 6, 6}
	prune := func(net nn.Module[float64], c Config) *Result {
		t.Helper()
		r, err := Prune(context.Background(), net, bs, in, c)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	same := func(a, b map[string][]bool) bool {
		for name := range a {
			if !slices.Equal(a[name], b[name]) {
				return false
			}
		}
		return len(a) == len(b)
	}
	c := DefaultConfig("magnitude", 0.9)
	one := prune(smallNet(rand.New(rand.NewPCG(8, 8))), c)
	c.Shots = 4
	if !same(one.Masks, prune(smallNet(rand.New(rand.NewPCG(8, 8))), c).Masks) {
		t.Error("magnitude: 4 shots differ from one")
	}
	s := DefaultConfig("synflow", 0.9)
	s.SynFlow.Rounds = 20
	twenty := prune(smallNet(rand.New(rand.NewPCG(8, 8))), s)
	s.SynFlow.Rounds, s.Shots = 5, 4
	if !same(twenty.Masks, prune(smallNet(rand.New(rand.NewPCG(8, 8))), s).Masks) {
		t.Error("synflow: 4 shots of 5 rounds differ from 20 rounds")
	}

	// GraSP in 2 shots to 90%: the first is one shot to 1 - sqrt(0.1); the
	// second scores the network with those weights at zero.
	net := smallNet(rand.New(rand.NewPCG(8, 8)))
	before := map[string][]float64{}
	for _, p := range nn.AllParams(net) {
		before[p.Name] = slices.Clone(p.Data)
	}
	g := DefaultConfig("grasp", 0.9)
	g.Shots = 2
	got := prune(net, g)
	for _, p := range nn.AllParams(net) {
		if !slices.Equal(before[p.Name], p.Data) || p.Mask != nil {
			t.Fatalf("%s changed or left masked", p.Name)
		}
	}
	g1 := DefaultConfig("grasp", 1-math.Sqrt(0.1))
	first := prune(net, g1)
	if err := ApplyMasks(net, first.Masks); err != nil {
		t.Fatal(err)
	}
	o := g1.GraSP
	scores, err := GraSP(context.Background(), net, bs, o)
	if err != nil {
		t.Fatal(err)
	}
	var layers []layerScores
	pruned := map[string][]bool{}
	for _, p := range weights(net) {
		neg := make([]float64, len(scores[p.Name]))
		for i, v := range scores[p.Name] {
			neg[i] = -v
		}
		layers = append(layers, layerScores{p.Name, neg})
		gone := make([]bool, p.Len())
		for i, k := range first.Masks[p.Name] {
			gone[i] = !k
		}
		pruned[p.Name] = gone
	}
	want, err := keepMasks(layers, 0.9, Global, 0, pruned)
	if err != nil {
		t.Fatal(err)
	}
	if !same(got.Masks, want) {
		t.Error("grasp, 2 shots: not the second shot's masks on the first's network")
	}
	if single := prune(smallNet(rand.New(rand.NewPCG(8, 8))), DefaultConfig("grasp", 0.9)); same(single.Masks, got.Masks) {
		t.Error("grasp: 2 shots give the one-shot masks (the second shot did not re-score)")
	}
}

// A masked network's pruned weights stay pruned, whatever the method, and
// its masks are left as they were.
func TestPruneMaskedNetwork(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	bs := smallBatches(rng, 1)
	for _, m := range Methods {
		net := smallNet(rand.New(rand.NewPCG(8, 8)))
		rc := DefaultConfig("random", 0.5)
		rc.Seed = 7 // not the seed of the random method below: its order is another
		first, err := Prune(context.Background(), net, bs, []int{2, 6, 6}, rc)
		if err != nil {
			t.Fatal(err)
		}
		if err := ApplyMasks(net, first.Masks); err != nil {
			t.Fatal(err)
		}
		before := map[string][]float64{}
		for _, p := range weights(net) {
			before[p.Name] = slices.Clone(p.Mask)
		}
		c := DefaultConfig(m, 0.8)
		c.SynFlow.Rounds = 5
		r, err := Prune(context.Background(), net, bs, []int{2, 6, 6}, c)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		total, kept := 0, 0
		for _, p := range weights(net) {
			if !slices.Equal(before[p.Name], p.Mask) {
				t.Fatalf("%s: the masks of %s changed", m, p.Name)
			}
			for i, k := range r.Masks[p.Name] {
				if k && !first.Masks[p.Name][i] {
					t.Fatalf("%s revives %s[%d]", m, p.Name, i)
				}
				if k {
					kept++
				}
			}
			total += p.Len()
		}
		if total-kept != removeCount(0.8, total) {
			t.Errorf("%s: removed %d of %d, want %d", m, total-kept, total, removeCount(0.8, total))
		}
	}
}

// The ImageNet variant: chunks of 5 of batches of 8 are scored as the
// batches of 5, 3, 5, 3 would be; only the last linear layer re-drawn.
func TestGraSPChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	bs := smallBatches(rng, 2) // two batches of 4
	var eight List
	for i := 0; i < 2; i++ {
		b := Batch{X: append(slices.Clone(bs[0].X), bs[1].X...), Shape: append([]int{8}, bs[0].Shape[1:]...), Labels: append(slices.Clone(bs[0].Labels), bs[1].Labels...)}
		eight = append(eight, b)
	}
	var explicit List
	for _, b := range eight {
		explicit = append(explicit, slice(b, 0, 5), slice(b, 5, 8))
	}
	c := Chunks(eight, 5)
	if c.Len() != 4 || c.Size(0) != 5 || c.Size(1) != 3 || largest(c) != 5 {
		t.Fatalf("chunks: %d, sizes %d %d", c.Len(), c.Size(0), c.Size(1))
	}
	net := smallNet(rand.New(rand.NewPCG(8, 8)))
	got, err := GraSP(context.Background(), net, eight, GraSPOptions{Temperature: 200, Chunk: 5})
	if err != nil {
		t.Fatal(err)
	}
	want, err := GraSP(context.Background(), net, explicit, GraSPOptions{Temperature: 200})
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := GraSP(context.Background(), net, eight, GraSPOptions{Temperature: 200})
	for name := range want {
		if !slices.Equal(got[name], want[name]) {
			t.Errorf("%s: chunked scores differ from the chunks' own", name)
		}
		if slices.Equal(got[name], whole[name]) {
			t.Errorf("%s: chunked scores equal the whole batches' (BatchNorm sees chunk statistics)", name)
		}
	}
	chunked, plain := DefaultConfig("grasp", 0.9), DefaultConfig("grasp", 0.9)
	chunked.GraSP.Chunk, plain.GraSP.SplitHalves = 20, false
	if a, b := ScoringMemory(net, []int{2, 6, 6}, 250, chunked), ScoringMemory(net, []int{2, 6, 6}, 20, plain); a != b {
		t.Errorf("scoring memory of batches of 250 in chunks of 20: %d, of batches of 20: %d", a, b)
	}
	o := GraSPOptions{Seed: 3, ReinitLast: true}
	last := o.Redrawn(net)
	w := weights(net)
	if len(last) != 1 || last[w[len(w)-1].Name] == nil {
		t.Errorf("ReinitLast re-draws %d layers", len(last))
	}
}
