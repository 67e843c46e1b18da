package corrbench

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
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
	if e, _ := c.newModel("ensemble", 6, 1); e.(*Ensemble).Net.Hidden != 50 || e.(*Ensemble).Net.LR != 0.01 {
		t.Errorf("yacht ensemble: %+v", e.(*Ensemble).Net)
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
}

// TestOfficialDropout: the official dropout's noise is its τ, not learned;
// its weight decay grows as τ shrinks (reg = l²(1-p)/(2Nτ)), so at a tiny τ
// the fitted function is flat (weights decayed away) while at the
// official τ it follows the data; prediction samples drop inputs, so
// predictions at different inputs correlate.
func TestOfficialDropout(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	x := randX(rng, 80, 2)
	y := make([]float64, 80)
	for i := range y {
		y[i] = math.Sin(2*x.At(i, 0)) + 0.05*rng.NormFloat64()
	}
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
