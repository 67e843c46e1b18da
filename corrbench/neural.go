package corrbench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
)

// NetConfig sets the regression networks: one hidden ReLU layer, a
// Gaussian likelihood with a learned noise variance, trained with Adam on
// mini-batches.
type NetConfig struct {
	Hidden    int     // hidden units (50 in the paper)
	Steps     int     // Adam steps per network
	BatchSize int     // mini-batch size (at most the data)
	LR        float64 // Adam learning rate
	Samples   int     // predictive samples for the covariance (dropout, BBB)
	// FixedNoise, when positive, is the noise variance of every network,
	// not learned (the official toy study fixes it at the data's 0.01).
	FixedNoise float64
}

// DefaultNetConfig is winnow's default: 50 hidden units, 2000 Adam steps of
// 100 examples at lr 3e-3, 1000 predictive samples.
func DefaultNetConfig() NetConfig {
	return NetConfig{Hidden: 50, Steps: 2000, BatchSize: 100, LR: 3e-3, Samples: 1000}
}

// net is d -> hidden ReLU -> 1 with a log noise variance.
type net struct {
	l1, l2  *nn.Linear[float64]
	logVar  []float64
	gLogVar []float64
}

func newNet(rng *rand.Rand, d int, c NetConfig) *net { return newNetOutputs(rng, d, c, 1) }

// newNetOutputs is newNet with outputs outputs per input.
func newNetOutputs(rng *rand.Rand, d int, c NetConfig, outputs int) *net {
	hidden := c.Hidden
	n := &net{l1: nn.NewLinear[float64](rng, d, hidden, true), l2: nn.NewLinear[float64](rng, hidden, outputs, true),
		logVar: []float64{math.Log(0.1)}, gLogVar: []float64{0}}
	if c.FixedNoise > 0 {
		n.logVar[0] = math.Log(c.FixedNoise)
	}
	// Glorot-style scales for a small regression net (nn's default of
	// N(0, 0.01²) is the GraSP code's classifier initialisation).
	for _, p := range []*nn.Param[float64]{n.l1.Weight, n.l2.Weight} {
		s := math.Sqrt(2 / float64(p.Shape[0]+p.Shape[1]))
		for i := range p.Data {
			p.Data[i] = s * rng.NormFloat64()
		}
	}
	return n
}

func (n *net) params() []*nn.Param[float64] {
	return append(n.l1.Params("l1", nil), n.l2.Params("l2", nil)...)
}

// forward returns the network's outputs (N) for rows of x, with dropout
// mask (nil for none) on the hidden layer.
func (n *net) forward(t *autograd.Tape[float64], x []float64, rows, d int, mask []float64) *autograd.Var[float64] {
	h := autograd.ReLU(t, n.l1.Forward(t, t.Input(x, rows, d)))
	if mask != nil {
		h = autograd.Scale(t, h, mask)
	}
	return n.l2.Forward(t, h)
}

// noiseParams is the log noise variance and its gradient as Adam's
// parameters, or nothing when the noise is fixed.
func (n *net) noiseParams(c NetConfig) (values, grads [][]float64) {
	if c.FixedNoise > 0 {
		return nil, nil
	}
	return [][]float64{n.logVar}, [][]float64{n.gLogVar}
}

// adam is Adam (β = 0.9, 0.999, ε = 1e-8) over parameter and gradient slices.
type adam struct {
	lr     float64
	step   int
	values [][]float64
	grads  [][]float64
	m, v   [][]float64
}

func newAdam(lr float64, values, grads [][]float64) *adam {
	a := &adam{lr: lr, values: values, grads: grads}
	for _, v := range values {
		a.m = append(a.m, make([]float64, len(v)))
		a.v = append(a.v, make([]float64, len(v)))
	}
	return a
}

func (a *adam) update() {
	a.step++
	c1, c2 := 1-math.Pow(0.9, float64(a.step)), 1-math.Pow(0.999, float64(a.step))
	for i, val := range a.values {
		g, m, v := a.grads[i], a.m[i], a.v[i]
		for j := range val {
			m[j] = 0.9*m[j] + 0.1*g[j]
			v[j] = 0.999*v[j] + 0.001*g[j]*g[j]
			val[j] -= a.lr * (m[j] / c1) / (math.Sqrt(v[j]/c2) + 1e-8)
			g[j] = 0
		}
	}
}

// batchOf draws a mini-batch (rows of x and y) with rng.
func batchOf(rng *rand.Rand, x *mat.Dense, y []float64, size int, xb, yb []float64) ([]float64, []float64) {
	xb, yb = xb[:0], yb[:0]
	for _, i := range rng.Perm(len(y))[:size] {
		xb = append(xb, x.RawRowView(i)...)
		yb = append(yb, y[i])
	}
	return xb, yb
}

// sampled runs the network on x once per sample, after draw sets the
// sample up (weights drawn into the layers, or dropout's inputs and hidden
// mask returned; nil inputs are x's rows), and returns the samples' mean and
// covariance with the network's noise.
func (n *net) sampled(x *mat.Dense, samples int, draw func() (inputs, mask []float64)) Predictive {
	rows, d := x.Dims()
	t := autograd.NewTape[float64](autograd.NoGrad())
	fs := make([][]float64, samples)
	for s := range fs {
		inputs, mask := draw()
		if inputs == nil {
			inputs = x.RawMatrix().Data
		}
		t.Reset()
		fs[s] = append([]float64(nil), n.forward(t, inputs, rows, d, mask).Value...)
	}
	mean, cov := sampleCov(fs, rows)
	return Predictive{Mean: mean, Cov: cov, Noise: math.Exp(n.logVar[0])}
}

// sampleCov turns S samples (rows) of function values at m points into a
// mean and a sample covariance (divided by S-1).
func sampleCov(samples [][]float64, m int) ([]float64, *mat.SymDense) {
	s := float64(len(samples))
	mean := make([]float64, m)
	for _, f := range samples {
		for i, v := range f {
			mean[i] += v / s
		}
	}
	c := mat.NewDense(len(samples), m, nil)
	for r, f := range samples {
		for i, v := range f {
			c.Set(r, i, v-mean[i])
		}
	}
	cov := mat.NewSymDense(m, nil)
	cov.SymOuterK(1/(s-1), c.T())
	return mean, cov
}

// Ensemble is a deep ensemble of M networks trained from different
// initialisations and batch orders; its covariance is the members' sample
// covariance and its noise their mean noise variance.
//
// Heteroscedastic is the official ensemble (core/ensemble.py): each member
// outputs a mean μ and a variance softplus(a) per input, all trained at once
// on the Gaussian NLL with standard deviation √softplus(a) + 1e-5, each
// step's batch split among the members; the covariance is the members'
// means' covariance divided by M, the noise at an input the members' mean
// variance there. Where a batch has fewer rows than members the official
// split gives every row to the last member and none to the others (yacht:
// 61 training rows, 100 members); here each member then takes one row,
// member m row m mod B.
type Ensemble struct {
	M               int
	Heteroscedastic bool
	Net             NetConfig
	Seed            uint64
	nets            []*net
	d               int
}

// OfficialEnsembleSize is the official UCI ensembles' size (-n_networks).
const OfficialEnsembleSize = 100

// heteroscedasticEps is the official ensemble's EPS on the standard deviation.
const heteroscedasticEps = 1e-5

// Name implements Model.
func (e *Ensemble) Name() string { return "ensemble" }

// Fit implements Model.
func (e *Ensemble) Fit(ctx context.Context, x *mat.Dense, y []float64) error {
	_, e.d = x.Dims()
	e.nets = nil
	if e.Heteroscedastic {
		return e.fitHeteroscedastic(ctx, x, y)
	}
	for m := 0; m < e.M; m++ {
		rng := rand.New(rand.NewPCG(e.Seed, uint64(m)+1))
		n := newNet(rng, e.d, e.Net)
		if err := train(ctx, n, x, y, e.Net, rng, 0, 0); err != nil {
			return err
		}
		e.nets = append(e.nets, n)
	}
	return nil
}

// memberRows is the rows of a batch of b rows each of m members trains on
// (see Ensemble).
func memberRows(b, m int) [][]int {
	out := make([][]int, m)
	k := b / m
	for i := range out {
		if k == 0 {
			out[i] = []int{i % b}
			continue
		}
		hi := (i + 1) * k
		if i == m-1 {
			hi = b
		}
		for r := i * k; r < hi; r++ {
			out[i] = append(out[i], r)
		}
	}
	return out
}

// heteroscedasticNLL is the official members' loss on rows of (μ, a)
// pairs: Σ_r [log σ_r + ½ ((y_r - μ_r)/σ_r)²] / total with σ = √softplus(a)
// + ε, and its gradient with respect to the outputs (the constant ½ log 2π
// left out).
func heteroscedasticNLL(out, y []float64, total int) (float64, []float64) {
	grad := make([]float64, len(out))
	loss := 0.0
	for r, v := range y {
		mu, a := out[2*r], out[2*r+1]
		sp := softplus(a)
		sd := math.Sqrt(sp) + heteroscedasticEps
		z := (v - mu) / sd
		loss += (math.Log(sd) + 0.5*z*z) / float64(total)
		grad[2*r] = -z / sd / float64(total)
		dsd := (1/sd - z*z/sd) / float64(total)
		grad[2*r+1] = dsd / (2 * math.Sqrt(sp)) / (1 + math.Exp(-a))
	}
	return loss, grad
}

func (e *Ensemble) fitHeteroscedastic(ctx context.Context, x *mat.Dense, y []float64) error {
	rng := rand.New(rand.NewPCG(e.Seed, 0xe5))
	var values, grads [][]float64
	for m := 0; m < e.M; m++ {
		n := newNetOutputs(rng, e.d, e.Net, 2)
		for _, p := range n.params() {
			values, grads = append(values, p.Data), append(grads, p.Grad)
		}
		e.nets = append(e.nets, n)
	}
	// Every batch has the same size, so the members' rows are the same each step.
	parts := memberRows(min(e.Net.BatchSize, len(y)), e.M)
	total := 0
	for _, rows := range parts {
		total += len(rows)
	}
	var xs, ys []float64
	return minimise(ctx, e.Net, rng, x, y, values, grads, func(t *autograd.Tape[float64], xb, yb []float64) error {
		for m, rows := range parts {
			xs, ys = xs[:0], ys[:0]
			for _, r := range rows {
				xs, ys = append(xs, xb[r*e.d:(r+1)*e.d]...), append(ys, yb[r])
			}
			t.Reset()
			out := e.nets[m].forward(t, xs, len(ys), e.d, nil)
			loss, seed := heteroscedasticNLL(out.Value, ys, total)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return fmt.Errorf("corrbench: the ensemble's member %d has loss %v", m, loss)
			}
			t.BackwardFrom(out, seed)
		}
		return nil
	})
}

// Predict implements Model.
func (e *Ensemble) Predict(x *mat.Dense) (Predictive, error) {
	if len(e.nets) < 2 {
		return Predictive{}, fmt.Errorf("corrbench: the ensemble is not fitted")
	}
	rows, d := x.Dims()
	t := autograd.NewTape[float64](autograd.NoGrad())
	var samples [][]float64
	noise := 0.0
	var noiseAt []float64
	if e.Heteroscedastic {
		noiseAt = make([]float64, rows)
	}
	for _, n := range e.nets {
		t.Reset()
		out := n.forward(t, x.RawMatrix().Data, rows, d, nil).Value
		if !e.Heteroscedastic {
			samples = append(samples, append([]float64(nil), out...))
			noise += math.Exp(n.logVar[0]) / float64(len(e.nets))
			continue
		}
		means := make([]float64, rows)
		for r := range means {
			means[r] = out[2*r]
			noiseAt[r] += softplus(out[2*r+1]) / float64(len(e.nets))
		}
		samples = append(samples, means)
	}
	mean, cov := sampleCov(samples, rows)
	if e.Heteroscedastic {
		// tfp.stats.covariance divides by M, not M - 1.
		cov.ScaleSym(float64(len(e.nets)-1)/float64(len(e.nets)), cov)
	}
	return Predictive{Mean: mean, Cov: cov, Noise: noise, NoiseAt: noiseAt}, nil
}

// train fits n by Adam on the Gaussian likelihood; with dropout > 0 the
// hidden units are dropped with that probability at every step; with prior
// > 0 the weights have a Gaussian prior of that precision (the loss per
// example gains prior/(2N) |w|²: the MAP estimate).
func train(ctx context.Context, n *net, x *mat.Dense, y []float64, c NetConfig, rng *rand.Rand, dropout, prior float64) error {
	_, d := x.Dims()
	params := n.params()
	values, grads := n.noiseParams(c)
	for _, p := range params {
		values, grads = append(values, p.Data), append(grads, p.Grad)
	}
	return minimise(ctx, c, rng, x, y, values, grads, func(t *autograd.Tape[float64], xb, yb []float64) error {
		var mask []float64
		if dropout > 0 {
			mask = dropoutMask(rng, len(yb)*c.Hidden, dropout)
		}
		out := n.forward(t, xb, len(yb), d, mask)
		loss := autograd.GaussianNLL(t, out, yb, t.Leaf("log_noise", n.logVar, n.gLogVar, nil, nil, 1))
		if v := loss.Value[0]; math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("corrbench: the training loss is %v", v)
		}
		t.Backward(loss)
		if prior > 0 {
			for _, p := range params {
				for i, w := range p.Data {
					p.Grad[i] += prior / float64(len(y)) * w
				}
			}
		}
		return nil
	})
}

// minimise runs c.Steps steps of Adam over values on mini-batches of (x,
// y): each step draws a batch and calls grad, which fills grads.
func minimise(ctx context.Context, c NetConfig, rng *rand.Rand, x *mat.Dense, y []float64, values, grads [][]float64, grad func(t *autograd.Tape[float64], xb, yb []float64) error) error {
	opt := newAdam(c.LR, values, grads)
	size := min(c.BatchSize, len(y))
	t := autograd.NewTape[float64]()
	var xb, yb []float64
	for step := 0; step < c.Steps; step++ {
		if step%100 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		xb, yb = batchOf(rng, x, y, size, xb, yb)
		t.Reset()
		if err := grad(t, xb, yb); err != nil {
			return fmt.Errorf("%w at step %d", err, step)
		}
		opt.update()
	}
	return nil
}

func dropoutMask(rng *rand.Rand, n int, p float64) []float64 {
	m := make([]float64, n)
	for i := range m {
		if rng.Float64() >= p {
			m[i] = 1 / (1 - p)
		}
	}
	return m
}

// Dropout is MC dropout: one network trained with dropout on its hidden
// units, the covariance estimated from Samples forward passes, each with
// one fresh mask shared by all inputs.
//
// With Tau > 0 it is the official code's (core/dropout.py, utils/nets.py,
// model_utils.py): dropout of rate P before every dense layer, the inputs'
// included; the observation variance fixed at Tau; the loss the mean
// squared error plus the kernels' L2 penalty reg·½Σw² with reg =
// l²(1-P)/(2Nτ), l = 1e-2; in training a mask per example, in prediction one
// per sample shared by all inputs (noise_shape [1, n_in]).
type Dropout struct {
	P    float64
	Tau  float64
	Net  NetConfig
	Seed uint64
	n    *net
	rng  *rand.Rand
	d    int
}

// officialDropoutLength is the official code's prior lengthscale l.
const officialDropoutLength = 1e-2

// Name implements Model.
func (m *Dropout) Name() string { return "dropout" }

// Fit implements Model.
func (m *Dropout) Fit(ctx context.Context, x *mat.Dense, y []float64) error {
	_, m.d = x.Dims()
	m.rng = rand.New(rand.NewPCG(m.Seed, 0xd0))
	if m.Tau > 0 {
		c := m.Net
		c.FixedNoise = m.Tau
		m.n = newNet(m.rng, m.d, c)
		return m.trainOfficial(ctx, x, y, c)
	}
	m.n = newNet(m.rng, m.d, m.Net)
	return train(ctx, m.n, x, y, m.Net, m.rng, m.P, 0)
}

// trainOfficial is the official dropout's training (see Dropout).
func (m *Dropout) trainOfficial(ctx context.Context, x *mat.Dense, y []float64, c NetConfig) error {
	n, p := m.n, m.P
	reg := officialDropoutLength * officialDropoutLength * (1 - p) / (2 * float64(len(y)) * m.Tau)
	var values, grads [][]float64
	for _, q := range n.params() {
		values, grads = append(values, q.Data), append(grads, q.Grad)
	}
	// The Gaussian NLL at variance ½ is the squared error plus a constant:
	// the same gradient.
	half, gHalf := []float64{math.Log(0.5)}, []float64{0}
	return minimise(ctx, c, m.rng, x, y, values, grads, func(t *autograd.Tape[float64], xb, yb []float64) error {
		for i, v := range dropoutMask(m.rng, len(xb), p) {
			xb[i] *= v
		}
		out := n.forward(t, xb, len(yb), m.d, dropoutMask(m.rng, len(yb)*c.Hidden, p))
		loss := autograd.GaussianNLL(t, out, yb, t.Leaf("half", half, gHalf, nil, nil, 1))
		if v := loss.Value[0]; math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("corrbench: the dropout loss is %v", v)
		}
		t.Backward(loss)
		for _, k := range []*nn.Param[float64]{n.l1.Weight, n.l2.Weight} {
			for i, w := range k.Data {
				k.Grad[i] += reg * w
			}
		}
		return nil
	})
}

// Predict implements Model.
func (m *Dropout) Predict(x *mat.Dense) (Predictive, error) {
	if m.n == nil {
		return Predictive{}, fmt.Errorf("corrbench: the dropout network is not fitted")
	}
	rows, d := x.Dims()
	hidden := len(m.n.l1.Bias.Data)
	// Filled anew for each sample (sampled copies the outputs).
	mask := make([]float64, rows*hidden)
	var inputs []float64
	if m.Tau > 0 {
		inputs = make([]float64, rows*d)
	}
	return m.n.sampled(x, m.Net.Samples, func() ([]float64, []float64) {
		// One posterior sample is one thinned network: the same units are
		// dropped for every input (W diag(z), Gal and Ghahramani), or the
		// inputs' predictions would be independent.
		if m.Tau > 0 {
			zin := dropoutMask(m.rng, d, m.P)
			for i, v := range x.RawMatrix().Data {
				inputs[i] = v * zin[i%d]
			}
		}
		z := dropoutMask(m.rng, hidden, m.P)
		for r := 0; r < rows; r++ {
			copy(mask[r*hidden:], z)
		}
		return inputs, mask
	}), nil
}

// BBB is Bayes by backprop: a mean-field Gaussian q(w) = N(μ, softplus(ρ)²)
// over every weight and bias, trained on the ELBO per example (expected
// Gaussian log-likelihood by the reparameterisation w = μ + softplus(ρ) ε,
// minus KL(q || N(0, PriorVar)) / N), the noise variance a point estimate.
//
// Official is the official code's BBB (core/wvi.py, utils/nets.py
// mlp_input_outer): q(w) = N(μ, exp(ρ)²) with μ of the weights from N(0, 1),
// of the biases 0, and ρ = -5; every layer's pre-activation divided by
// √(n_in + 1), so that the prior N(0, 1) on w is N(0, 1/(n_in+1)) on the
// weights the layer applies; the noise variance started at e⁻⁴; the expected
// log-likelihood over OfficialBBBSamples draws a step.
type BBB struct {
	PriorVar float64
	Official bool
	Net      NetConfig
	Seed     uint64
	n        *net
	mu, rho  [][]float64
	scale    []float64 // per parameter: the layer's 1/√(n_in+1) (Official), else 1
	rng      *rand.Rand
}

// OfficialBBBSamples is the official BBB's draws of the weights per step
// (its train_samples).
const OfficialBBBSamples = 10

// Name implements Model.
func (b *BBB) Name() string { return "bbb" }

func softplus(v float64) float64 {
	if v > 30 {
		return v
	}
	return math.Log1p(math.Exp(v))
}

// sd is q's standard deviation for ρ and its derivative dσ/dρ.
func (b *BBB) sd(rho float64) (float64, float64) {
	if b.Official {
		e := math.Exp(rho)
		return e, e
	}
	return softplus(rho), 1 / (1 + math.Exp(-rho))
}

// sample draws weights into the network's parameters and returns the ε.
func (b *BBB) sample() [][]float64 {
	eps := make([][]float64, len(b.mu))
	for i := range b.mu {
		eps[i] = make([]float64, len(b.mu[i]))
		for j := range eps[i] {
			eps[i][j] = b.rng.NormFloat64()
		}
	}
	b.apply(eps)
	return eps
}

// apply sets the network's weights to (μ + σ(ρ) ε)·scale.
func (b *BBB) apply(eps [][]float64) {
	for i, p := range b.n.params() {
		for j := range p.Data {
			sd, _ := b.sd(b.rho[i][j])
			p.Data[j] = (b.mu[i][j] + sd*eps[i][j]) * b.scale[i]
		}
	}
}

// Fit implements Model.
func (b *BBB) Fit(ctx context.Context, x *mat.Dense, y []float64) error {
	_, d := x.Dims()
	b.rng = rand.New(rand.NewPCG(b.Seed, 0xbb))
	b.n = newNet(b.rng, d, b.Net)
	if b.Official && b.Net.FixedNoise == 0 {
		b.n.logVar[0] = -4 // obs_logstd -2
	}
	params := b.n.params()
	layerIn := map[*nn.Param[float64]]int{b.n.l1.Weight: d, b.n.l1.Bias: d, b.n.l2.Weight: b.Net.Hidden, b.n.l2.Bias: b.Net.Hidden}
	b.mu, b.rho, b.scale = nil, nil, nil
	gmu, grho := make([][]float64, len(params)), make([][]float64, len(params))
	for i, p := range params {
		mu := append([]float64(nil), p.Data...)
		scale := 1.0
		if b.Official {
			scale = 1 / math.Sqrt(float64(layerIn[p])+1)
			for j := range mu {
				mu[j] = 0
				if p == b.n.l1.Weight || p == b.n.l2.Weight {
					mu[j] = b.rng.NormFloat64()
				}
			}
		}
		b.mu, b.scale = append(b.mu, mu), append(b.scale, scale)
		r := make([]float64, len(p.Data))
		for j := range r {
			r[j] = -5 // softplus(-5) ≈ 0.0067; exp(-5) ≈ 0.0067
		}
		b.rho = append(b.rho, r)
		gmu[i], grho[i] = make([]float64, len(p.Data)), make([]float64, len(p.Data))
	}
	values, grads := b.n.noiseParams(b.Net)
	values = append(append(values, b.mu...), b.rho...)
	grads = append(append(grads, gmu...), grho...)
	klScale := 1 / float64(len(y))
	draws := 1
	if b.Official {
		draws = OfficialBBBSamples
	}
	return minimise(ctx, b.Net, b.rng, x, y, values, grads, func(t *autograd.Tape[float64], xb, yb []float64) error {
		for s := 0; s < draws; s++ {
			if _, err := b.drawGrads(t, xb, yb, d, b.sample(), gmu, grho, 1/float64(draws)); err != nil {
				return err
			}
		}
		b.n.gLogVar[0] /= float64(draws)
		b.klGrads(klScale, gmu, grho)
		return nil
	})
}

// drawGrads runs the network on a batch with the weights drawn as eps
// (sample) and adds weight times the gradient of its Gaussian NLL with
// respect to μ and ρ to gmu and grho (the noise's to the net's own); it
// returns the NLL. The applied weight is (μ + σ(ρ) ε)·scale: dL/dμ =
// scale dL/dw, dL/dρ = scale dL/dw ε σ'(ρ).
func (b *BBB) drawGrads(t *autograd.Tape[float64], xb, yb []float64, d int, eps, gmu, grho [][]float64, weight float64) (float64, error) {
	t.Reset()
	nn.ZeroGrad[float64](b.n.l1)
	nn.ZeroGrad[float64](b.n.l2)
	out := b.n.forward(t, xb, len(yb), d, nil)
	loss := autograd.GaussianNLL(t, out, yb, t.Leaf("log_noise", b.n.logVar, b.n.gLogVar, nil, nil, 1))
	v := loss.Value[0]
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v, fmt.Errorf("corrbench: the BBB loss is %v", v)
	}
	t.Backward(loss)
	for i, p := range b.n.params() {
		for j, g := range p.Grad {
			_, dsd := b.sd(b.rho[i][j])
			g *= b.scale[i] * weight
			gmu[i][j] += g
			grho[i][j] += g * eps[i][j] * dsd
		}
	}
	return v, nil
}

// kl is KL(q || N(0, PriorVar)) = Σ log(σp/σ) + (σ² + μ²)/(2σp²) - ½.
func (b *BBB) kl() float64 {
	s := 0.0
	for i := range b.mu {
		for j, mu := range b.mu[i] {
			sd, _ := b.sd(b.rho[i][j])
			s += 0.5*math.Log(b.PriorVar) - math.Log(sd) + (sd*sd+mu*mu)/(2*b.PriorVar) - 0.5
		}
	}
	return s
}

// klGrads adds scale times the KL's gradient to gmu and grho.
func (b *BBB) klGrads(scale float64, gmu, grho [][]float64) {
	for i := range b.mu {
		for j, mu := range b.mu[i] {
			sd, dsd := b.sd(b.rho[i][j])
			gmu[i][j] += scale * mu / b.PriorVar
			grho[i][j] += scale * (-1/sd + sd/b.PriorVar) * dsd
		}
	}
}

// Predict implements Model: Samples draws of the weights.
func (b *BBB) Predict(x *mat.Dense) (Predictive, error) {
	if b.n == nil {
		return Predictive{}, fmt.Errorf("corrbench: BBB is not fitted")
	}
	return b.n.sampled(x, b.Net.Samples, func() ([]float64, []float64) { b.sample(); return nil, nil }), nil
}
