package corrbench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/winnow-ml/winnow/autograd"
)

// TestOfficialSettings: on an official UCI set the models get UCI_HYPERS
// and the official dropout; on other tables winnow's settings.
func TestOfficialSettings(t *testing.T) {
	if got := DatasetOf("../shared/data/uci/housing.data"); got != "boston" {
		t.Errorf("housing.data is %q, want boston", got)
	}
	c := &Config{Net: DefaultNetConfig(), Dataset: DatasetOf("yacht_hydrodynamics.data")}
	m, err := c.newModel("dropout", 6, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d := m.(*Dropout); d.P != 0.0025 || d.Tau != 0.005 || d.Net.Hidden != 400 || d.Net.LR != 0.01 {
		t.Errorf("yacht dropout: p %v, tau %v, %d units, lr %v; want 0.0025, 0.005, 400, 0.01", d.P, d.Tau, d.Net.Hidden, d.Net.LR)
	}
	if e, _ := c.newModel("ensemble", 6, 1); e.(*Ensemble).Net.Hidden != 50 || e.(*Ensemble).Net.LR != 0.01 || e.(*Ensemble).M != 100 || !e.(*Ensemble).Heteroscedastic {
		t.Errorf("yacht ensemble: %d members, heteroscedastic %v, %+v", e.(*Ensemble).M, e.(*Ensemble).Heteroscedastic, e.(*Ensemble).Net)
	}
	c.EnsembleSize = 20
	if e, _ := c.newModel("ensemble", 6, 1); e.(*Ensemble).M != 20 {
		t.Errorf("--ensemble-size 20: %d members", e.(*Ensemble).M)
	}
	c.Dataset = "wine"
	if g, _ := c.newModel("gp", 11, 1); g.(*GP).MinNoise != 1e-8 {
		t.Errorf("wine GP noise floor %v, want 1e-8", g.(*GP).MinNoise)
	}
	c.Dataset = ""
	m, _ = c.newModel("dropout", 6, 1)
	if d := m.(*Dropout); d.Tau != 0 || d.P != 0.05 || d.Net.Hidden != 50 {
		t.Errorf("another table: dropout %+v, want winnow's", d)
	}
	c.EnsembleSize = 0
	if e, _ := c.newModel("ensemble", 6, 1); e.(*Ensemble).M != 5 || e.(*Ensemble).Heteroscedastic {
		t.Errorf("another table: ensemble of %d, heteroscedastic %v; want winnow's 5", e.(*Ensemble).M, e.(*Ensemble).Heteroscedastic)
	}
	if b, _ := c.newModel("bbb", 6, 1); b.(*BBB).Official {
		t.Error("another table: the official BBB")
	}
}

// TestOfficialDropout: the official dropout's noise is its τ, not learned;
// its weight decay grows as τ shrinks (reg = l²(1-p)/(2Nτ)), so at a tiny τ
// the fitted function is flat (weights decayed away) while at the
// official τ it follows the data; prediction samples drop inputs, so
// predictions at different inputs correlate.
func TestOfficialDropout(t *testing.T) {
	x, y := sine(4, 80, 2)
	net := DefaultNetConfig()
	net.Steps, net.Samples = 1500, 300
	fit := func(tau float64) (Predictive, float64) {
		m := &Dropout{P: 0.05, Tau: tau, Net: net, Seed: 1}
		if err := m.Fit(context.Background(), x, y); err != nil {
			t.Fatal(err)
		}
		p, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		return p, RMSE(p, y)
	}
	p, rmse := fit(0.025)
	if p.Noise != 0.025 {
		t.Errorf("noise %v, want τ = 0.025", p.Noise)
	}
	_, flat := fit(1e-9)
	std := 0.0
	for _, v := range y {
		std += v * v / float64(len(y))
	}
	if !(rmse < 0.3 && flat > 0.8*math.Sqrt(std)) {
		t.Errorf("RMSE %v at τ 0.025, %v at τ 1e-9 (targets' RMS %v): weight decay not as the official", rmse, flat, math.Sqrt(std))
	}
	corr := Correlation(p.Cov)
	if r := corr.At(0, 1); math.Abs(r) < 0.05 {
		t.Errorf("correlation of two inputs' predictions %v: samples should share masks", r)
	}
}

// TestOfficialBBB: the official BBB applies weights of prior variance
// 1/(n_in + 1) (μ from N(0, 1), each layer divided by √(n_in+1)), starts
// its noise at e⁻⁴, and fits a sine better than a constant would.
func TestOfficialBBB(t *testing.T) {
	x, y := sine(6, 100, 3)
	net := DefaultNetConfig()
	net.Hidden, net.Steps, net.Samples, net.LR = 400, 0, 200, 0.01
	b := &BBB{PriorVar: 1, Official: true, Net: net, Seed: 1}
	if err := b.Fit(context.Background(), x, y); err != nil {
		t.Fatal(err)
	}
	b.sample()
	for _, c := range []struct {
		name string
		w    []float64
		in   int
	}{{"l1", b.n.l1.Weight.Data, 3}, {"l2", b.n.l2.Weight.Data, 400}} {
		v := 0.0
		for _, w := range c.w {
			v += w * w / float64(len(c.w))
		}
		if want := 1 / float64(c.in+1); math.Abs(v-want) > 0.25*want {
			t.Errorf("%s: applied weights of variance %v, want about 1/(n_in+1) = %v", c.name, v, want)
		}
	}
	if math.Abs(b.n.logVar[0]+4) > 1e-12 {
		t.Errorf("noise started at log %v, want -4", b.n.logVar[0])
	}
	net.Steps, net.Hidden = 1500, 50
	b = &BBB{PriorVar: 1, Official: true, Net: net, Seed: 1}
	if err := b.Fit(context.Background(), x, y); err != nil {
		t.Fatal(err)
	}
	p, err := b.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	spread := 0.0
	for _, v := range y {
		spread += v * v / float64(len(y))
	}
	// Mean-field BBB with the official prior underfits 100 points (its KL
	// over N is large); it must still beat the constant prediction.
	if rmse := RMSE(p, y); !(rmse < 0.75*math.Sqrt(spread)) {
		t.Errorf("official BBB: RMSE %v on the sine it was trained on, targets' RMS %v", rmse, math.Sqrt(spread))
	}
}

// TestBBBGradients: for fixed draws ε, the gradient BBB steps on (the
// NLL's through w = (μ + σ(ρ) ε)·scale, plus the KL's over N) against
// central differences, for winnow's BBB and the official one.
func TestBBBGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	x := randX(rng, 12, 2)
	y := make([]float64, 12)
	for i := range y {
		y[i] = x.At(i, 0) - 0.5*x.At(i, 1)
	}
	for _, official := range []bool{false, true} {
		net := DefaultNetConfig()
		net.Hidden, net.Steps = 4, 0
		b := &BBB{PriorVar: 0.7, Official: official, Net: net, Seed: 2}
		if err := b.Fit(context.Background(), x, y); err != nil {
			t.Fatal(err)
		}
		for i := range b.rho {
			for j := range b.rho[i] {
				b.rho[i][j] = -1 + 0.3*rng.NormFloat64()
			}
		}
		eps := b.sample()
		tape := autograd.NewTape[float64]()
		xb := x.RawMatrix().Data
		klScale := 1 / 12.0
		objective := func() float64 {
			b.apply(eps)
			v, err := b.drawGrads(tape, xb, y, 2, eps, zerosLike(b.mu), zerosLike(b.mu), 1)
			if err != nil {
				t.Fatal(err)
			}
			return v + klScale*b.kl()
		}
		gmu, grho := zerosLike(b.mu), zerosLike(b.mu)
		b.apply(eps)
		if _, err := b.drawGrads(tape, xb, y, 2, eps, gmu, grho, 1); err != nil {
			t.Fatal(err)
		}
		b.klGrads(klScale, gmu, grho)
		for _, c := range []struct {
			name string
			vals [][]float64
			grad [][]float64
		}{{"mu", b.mu, gmu}, {"rho", b.rho, grho}} {
			for i := range c.vals {
				for j := 0; j < len(c.vals[i]); j += 3 {
					old := c.vals[i][j]
					h := 1e-6
					c.vals[i][j] = old + h
					fp := objective()
					c.vals[i][j] = old - h
					fm := objective()
					c.vals[i][j] = old
					fd := (fp - fm) / (2 * h)
					if math.Abs(fd-c.grad[i][j]) > 1e-5*(1+math.Abs(fd)) {
						t.Errorf("official %v: d/d%s[%d][%d] = %v, central difference %v", official, c.name, i, j, c.grad[i][j], fd)
					}
				}
			}
		}
	}
}

// sine is n points of N(0, I_d) inputs and targets sin(2 x_0) + N(0, 0.05²).
func sine(seed uint64, n, d int) (*mat.Dense, []float64) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	x := randX(rng, n, d)
	y := make([]float64, n)
	for i := range y {
		y[i] = math.Sin(2*x.At(i, 0)) + 0.05*rng.NormFloat64()
	}
	return x, y
}

func zerosLike(v [][]float64) [][]float64 {
	out := make([][]float64, len(v))
	for i := range v {
		out[i] = make([]float64, len(v[i]))
	}
	return out
}

// TestHeteroscedasticNLL: the official members' loss and its gradient with
// respect to (μ, a) against central differences.
func TestHeteroscedasticNLL(t *testing.T) {
	out := []float64{0.3, -1.2, -0.5, 0.8, 1.1, 2.5}
	y := []float64{0.1, 0.4, -0.7}
	_, grad := heteroscedasticNLL(out, y, 5)
	for i := range out {
		h := 1e-6
		p, m := append([]float64(nil), out...), append([]float64(nil), out...)
		p[i] += h
		m[i] -= h
		lp, _ := heteroscedasticNLL(p, y, 5)
		lm, _ := heteroscedasticNLL(m, y, 5)
		if fd := (lp - lm) / (2 * h); math.Abs(fd-grad[i]) > 1e-6*(1+math.Abs(fd)) {
			t.Errorf("d/dout[%d] = %v, central difference %v", i, grad[i], fd)
		}
	}
	loss, _ := heteroscedasticNLL([]float64{0, math.Log(math.E - 1)}, []float64{2}, 1)
	if want := math.Log(1+heteroscedasticEps) + 0.5*4/((1+heteroscedasticEps)*(1+heteroscedasticEps)); math.Abs(loss-want) > 1e-12 {
		t.Errorf("loss at softplus(a) = 1: %v, want %v", loss, want)
	}
}

// TestMemberRows: a batch split among members as the official code, and one
// row each where the batch is smaller than the ensemble.
func TestMemberRows(t *testing.T) {
	got := memberRows(10, 3)
	if fmt.Sprint(got) != "[[0 1 2] [3 4 5] [6 7 8 9]]" {
		t.Errorf("10 rows over 3 members: %v", got)
	}
	got = memberRows(61, 100)
	if len(got) != 100 || len(got[0]) != 1 || got[99][0] != 99%61 || got[60][0] != 60 {
		t.Errorf("61 rows over 100 members: %v", got)
	}
}

// TestHeteroscedasticEnsemble: an official ensemble learns a noise that
// varies with the input (standard deviation 0.05 for x < 0, 0.5 above), and
// its covariance is its members' means' covariance divided by M.
func TestHeteroscedasticEnsemble(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	x := randX(rng, 200, 1)
	y := make([]float64, 200)
	for i := range y {
		sd := 0.05
		if x.At(i, 0) > 0 {
			sd = 0.5
		}
		y[i] = math.Sin(x.At(i, 0)) + sd*rng.NormFloat64()
	}
	net := DefaultNetConfig()
	net.Steps, net.LR = 2000, 0.01
	e := &Ensemble{M: 4, Heteroscedastic: true, Net: net, Seed: 3}
	if err := e.Fit(context.Background(), x, y); err != nil {
		t.Fatal(err)
	}
	probe := mat.NewDense(2, 1, []float64{-1, 1})
	p, err := e.Predict(probe)
	if err != nil {
		t.Fatal(err)
	}
	if !(p.NoiseOf(1) > 10*p.NoiseOf(0)) {
		t.Errorf("noise variance %v at x = -1 (true 0.0025), %v at x = 1 (true 0.25)", p.NoiseOf(0), p.NoiseOf(1))
	}
	tape := autograd.NewTape[float64](autograd.NoGrad())
	var m0, m1 []float64
	for _, n := range e.nets {
		tape.Reset()
		out := n.forward(tape, probe.RawMatrix().Data, 2, 1, nil).Value
		m0, m1 = append(m0, out[0]), append(m1, out[2])
	}
	mean := func(v []float64) float64 { return (v[0] + v[1] + v[2] + v[3]) / 4 }
	c01 := 0.0
	for i := range m0 {
		c01 += (m0[i] - mean(m0)) * (m1[i] - mean(m1)) / 4
	}
	if math.Abs(p.Cov.At(0, 1)-c01) > 1e-12 || math.Abs(p.Mean[0]-mean(m0)) > 1e-12 {
		t.Errorf("covariance %v, mean %v; want the members' %v (divided by M), %v", p.Cov.At(0, 1), p.Mean[0], c01, mean(m0))
	}
}
