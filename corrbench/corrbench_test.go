package corrbench

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestGPClosedForm: with two training points the posterior is
// m = k*ᵀ (K + σ²I)⁻¹ y and C = k** - k*ᵀ (K + σ²I)⁻¹ k*, written out with the
// 2x2 inverse.
func TestGPClosedForm(t *testing.T) {
	k := &RBF{Lengthscales: []float64{0.7}, Variance: 1.3}
	g := &GP{Kernel: k, Noise: 0.1}
	x := mat.NewDense(2, 1, []float64{-0.5, 0.8})
	y := []float64{1.2, -0.4}
	if err := g.Fit(context.Background(), x, y); err != nil {
		t.Fatal(err)
	}
	rbf := func(a, b float64) float64 { return 1.3 * math.Exp(-0.5*(a-b)*(a-b)/0.49) }
	a, d := rbf(-0.5, -0.5)+0.1+jitter, rbf(0.8, 0.8)+0.1+jitter
	b := rbf(-0.5, 0.8)
	det := a*d - b*b
	inv := [2][2]float64{{d / det, -b / det}, {-b / det, a / det}}
	xs := []float64{0.1, 2.0}
	p, err := g.Predict(mat.NewDense(2, 1, xs))
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range xs {
		ku := [2]float64{rbf(u, -0.5), rbf(u, 0.8)}
		mean := 0.0
		for r := 0; r < 2; r++ {
			for c := 0; c < 2; c++ {
				mean += ku[r] * inv[r][c] * y[c]
			}
		}
		if math.Abs(p.Mean[i]-mean) > 1e-9 {
			t.Errorf("mean at %v = %v, want %v", u, p.Mean[i], mean)
		}
		for j, v := range xs {
			kv := [2]float64{rbf(v, -0.5), rbf(v, 0.8)}
			c := rbf(u, v)
			for r := 0; r < 2; r++ {
				for s := 0; s < 2; s++ {
					c -= ku[r] * inv[r][s] * kv[s]
				}
			}
			if math.Abs(p.Cov.At(i, j)-c) > 1e-9 {
				t.Errorf("cov(%v, %v) = %v, want %v", u, v, p.Cov.At(i, j), c)
			}
		}
	}
	if math.Abs(p.Noise-0.1) > 1e-15 {
		t.Errorf("noise %v, want 0.1", p.Noise)
	}
}

// TestGPGradient checks the marginal-likelihood gradient against central
// differences and that fitting raises the marginal likelihood.
func TestGPGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randX(rng, 15, 3)
	y := make([]float64, 15)
	for i := range y {
		y[i] = math.Sin(2*x.At(i, 0)) + 0.1*x.At(i, 2) + 0.1*rng.NormFloat64()
	}
	// ARD and isotropic, both with their lower bounds, noise free and fixed.
	for _, c := range []struct {
		name string
		gp   *GP
		p    []float64
	}{
		{"ard", &GP{Kernel: &RBF{Lengthscales: []float64{1, 1, 1}, Variance: 1, MinLengthscale: 1e-4}, Noise: 0.1, MinNoise: 1e-5}, []float64{0.1, -0.2, 0.3, 0.05, -1.5}},
		{"isotropic", &GP{Kernel: &RBF{Lengthscales: []float64{1}, Variance: 1, MinLengthscale: 0.05}, Noise: 0.1, MinNoise: 1e-3}, []float64{-0.3, 0.2, -2}},
		{"fixed noise", &GP{Kernel: &RBF{Lengthscales: []float64{1}, Variance: 1}, Noise: 0.01, FixNoise: true}, []float64{0.4, -0.1}},
		{"nngp", &GP{Kernel: NewTrainableNNGP(), Noise: 0.1, MinNoise: 1e-5}, []float64{0.3, -0.4, -2}},
	} {
		g := c.gp
		g.x, g.y = x, y
		p := c.p
		grad := make([]float64, len(p))
		g.nlml(p, grad)
		for i := range p {
			h := 1e-5
			pp, pm := append([]float64(nil), p...), append([]float64(nil), p...)
			pp[i] += h
			pm[i] -= h
			fp, _ := g.nlml(pp, nil)
			fm, _ := g.nlml(pm, nil)
			fd := (fp - fm) / (2 * h)
			if math.Abs(fd-grad[i]) > 1e-5*(1+math.Abs(fd)) {
				t.Errorf("%s: d nlml / d p[%d] = %v, central difference %v", c.name, i, grad[i], fd)
			}
		}
	}
	before := &GP{Kernel: &RBF{Lengthscales: []float64{1, 1, 1}, Variance: 1, MinLengthscale: 1e-4}, Noise: 0.1, MinNoise: 1e-5}
	before.Fit(context.Background(), x, y)
	fitted := &GP{Kernel: &RBF{Lengthscales: []float64{1, 1, 1}, Variance: 1}, Noise: 0.1, Optimise: true}
	if err := fitted.Fit(context.Background(), x, y); err != nil {
		t.Fatal(err)
	}
	if !(fitted.LogMarginalLikelihood() > before.LogMarginalLikelihood()+1e-3) {
		t.Errorf("fitting: log marginal likelihood %v, %v before", fitted.LogMarginalLikelihood(), before.LogMarginalLikelihood())
	}
}

func randomPD(rng *rand.Rand, n int) *mat.SymDense {
	b := randX(rng, n, n+2)
	var c mat.SymDense
	c.SymOuterK(1, b)
	for i := 0; i < n; i++ {
		c.SetSym(i, i, c.At(i, i)+0.1)
	}
	return &c
}

// TestXLLOfReference: XLL of the reference against itself, over subsets of
// all test points, is its joint log-likelihood per point; and a model
// with the reference's correlations scores the same whatever its variances.
func TestXLLOfReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 6
	ref := Predictive{Mean: make([]float64, n), Cov: randomPD(rng, n), Noise: 0.05}
	y := make([]float64, n)
	for i := range y {
		ref.Mean[i] = rng.NormFloat64()
		y[i] = rng.NormFloat64()
	}
	xll, err := XLL(ref, ref, y, n)
	if err != nil {
		t.Fatal(err)
	}
	joint, _ := JointLogLikelihood(ref, y)
	if math.Abs(xll-joint/float64(n)) > 1e-12 {
		t.Errorf("XLL(ref, ref) = %v, joint log-likelihood / n = %v", xll, joint/float64(n))
	}
	// Scaling the target covariance by a diagonal keeps the correlations.
	scaled := mat.NewSymDense(n, nil)
	tc := TargetCov(ref)
	s := []float64{0.5, 2, 1, 3, 0.7, 1.1}
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			scaled.SetSym(i, j, tc.At(i, j)*s[i]*s[j])
		}
	}
	other := Predictive{Mean: make([]float64, n), Cov: scaled}
	a, _ := XLL(ref, ref, y, XLLSubset)
	b, _ := XLL(other, ref, y, XLLSubset)
	if math.Abs(a-b) > 1e-12 {
		t.Errorf("XLL depends on the model's variances: %v vs %v", a, b)
	}
}

// TestMetaCorrelationOfOracle is 1 against itself, below 1 against noise.
func TestMetaCorrelationOfOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	c := randomPD(rng, 12)
	pr, sr := MetaCorrelation(c, c, 5)
	if math.Abs(pr-1) > 1e-12 || math.Abs(sr-1) > 1e-12 {
		t.Errorf("meta-correlation with itself: %v, %v", pr, sr)
	}
	if pr, _ := MetaCorrelation(randomPD(rng, 12), c, 5); !(pr < 0.99) {
		t.Errorf("meta-correlation with an unrelated covariance: %v", pr)
	}
}

// TestSpearmanTies against scipy.stats.spearmanr([1,2,2,3], [1,3,2,4]) = 0.9486832980505138.
func TestSpearmanTies(t *testing.T) {
	if got := Spearman([]float64{1, 2, 2, 3}, []float64{1, 3, 2, 4}); math.Abs(got-0.9486832980505138) > 1e-12 {
		t.Errorf("Spearman = %v", got)
	}
}

// TestBatchMIGIncremental: the incremental Cholesky picks what the direct
// computation (inverting K_QQ for every candidate set) picks.
func TestBatchMIGIncremental(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	nPool, nTest, k := 9, 5, 4
	cov := randomPD(rng, nPool+nTest)
	got, err := batchMIG(cov, nPool, k)
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for len(want) < k {
		best, bestGain := -1, math.Inf(-1)
		for p := 0; p < nPool; p++ {
			taken := false
			for _, w := range want {
				taken = taken || w == p
			}
			if taken {
				continue
			}
			q := append(append([]int(nil), want...), p)
			kqq := mat.NewDense(len(q), len(q), nil)
			for a, i := range q {
				for b, j := range q {
					kqq.Set(a, b, cov.At(i, j))
				}
			}
			var inv mat.Dense
			if err := inv.Inverse(kqq); err != nil {
				t.Fatal(err)
			}
			gain := 0.0
			for tt := nPool; tt < nPool+nTest; tt++ {
				s := 0.0
				for a, i := range q {
					for b, j := range q {
						s += cov.At(tt, i) * inv.At(a, b) * cov.At(j, tt)
					}
				}
				gain -= math.Log(1 + batchMIGEps - s/cov.At(tt, tt))
			}
			if gain > bestGain {
				best, bestGain = p, gain
			}
		}
		want = append(want, best)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("BatchMIG picks %v, direct computation %v", got, want)
		}
	}
	// The first BatchMIG pick is MIG's best.
	mig, _ := Select(MIG, cov, nPool, 1, nil)
	if mig[0] != got[0] {
		t.Errorf("first BatchMIG pick %d, MIG's best %d", got[0], mig[0])
	}
}

// TestLaplaceFactors: the output layer's gradient factor is 1 (f is its
// output), A's homogeneous corner is 1, and weight samples have the matrix
// normal's variances.
func TestLaplaceFactors(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x := randX(rng, 40, 2)
	y := make([]float64, 40)
	for i := range y {
		y[i] = math.Sin(x.At(i, 0)) + 0.1*rng.NormFloat64()
	}
	net := DefaultNetConfig()
	net.Steps, net.Hidden = 200, 8
	l := &Laplace{PriorPrec: 1, Net: net, Seed: 1}
	if err := l.Fit(context.Background(), x, y); err != nil {
		t.Fatal(err)
	}
	last := l.layers[1]
	if math.Abs(last.g[0]-1) > 1e-12 {
		t.Errorf("output layer G = %v, want 1", last.g[0])
	}
	if c := last.in + 1; math.Abs(last.a[c*c-1]-1) > 1e-12 {
		t.Errorf("A's bias corner = %v, want 1", last.a[c*c-1])
	}
	first := l.layers[0]
	var rowCov, colCov mat.Dense
	rowCov.Mul(first.rowChol, first.rowChol.T())
	colCov.Mul(first.colChol, first.colChol.T())
	want := rowCov.At(0, 0) * colCov.At(1, 1)
	const n = 20000
	var s, ss float64
	for i := 0; i < n; i++ {
		l.sample()
		v := first.lin.Weight.Data[1] - first.mapW[1]
		s += v
		ss += v * v
	}
	got := ss/n - (s/n)*(s/n)
	if math.Abs(got-want) > 0.05*want {
		t.Errorf("sampled weight variance %v, matrix normal's %v", got, want)
	}
}

// TestDropoutCorrelates: MC dropout samples are whole thinned networks, so
// nearby inputs' predictions are strongly correlated.
func TestDropoutCorrelates(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x := randX(rng, 30, 1)
	y := make([]float64, 30)
	for i := range y {
		y[i] = math.Sin(x.At(i, 0))
	}
	net := DefaultNetConfig()
	net.Steps, net.Samples = 300, 300
	m := &Dropout{P: 0.2, Net: net, Seed: 1}
	if err := m.Fit(context.Background(), x, y); err != nil {
		t.Fatal(err)
	}
	p, err := m.Predict(mat.NewDense(2, 1, []float64{0.5, 0.52}))
	if err != nil {
		t.Fatal(err)
	}
	if c := Correlation(p.Cov).At(0, 1); !(c > 0.9) {
		t.Errorf("correlation of f(0.5) and f(0.52) under MC dropout = %v, want near 1", c)
	}
}
