package corrbench

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestTALCovariance: pool point 0 has a small latent variance and a latent
// correlation of 0.9 with the test point, pool point 1 a large variance and
// 0.4. On latent covariances MIG would pick 0; on the official covariance
// (noise 0.5 on the pool's diagonal) point 0's target is mostly noise and
// MIG picks 1. The gains are checked against -log(1 - c²/((a + σ²) t)).
func TestTALCovariance(t *testing.T) {
	latent := mat.NewSymDense(3, []float64{
		0.01, 0, 0.09,
		0, 1, 0.4,
		0.09, 0.4, 1,
	})
	p := Predictive{Mean: make([]float64, 3), Cov: latent, Noise: 0.5}
	cov := TALCovariance(p, 2)
	if cov.At(0, 0) != 0.51 || cov.At(1, 1) != 1.5 || cov.At(2, 2) != 1 || cov.At(0, 2) != 0.09 {
		t.Fatalf("TAL covariance %v: noise on the pool's diagonal only", mat.Formatted(cov))
	}
	gains := migGains(cov, 2)
	want := []float64{-math.Log(1 - 0.09*0.09/(0.51*1)), -math.Log(1 - 0.16/(1.5*1))}
	for i := range want {
		if math.Abs(gains[i]-want[i]) > 1e-12 {
			t.Errorf("MIG gain of pool point %d = %v, want %v", i, gains[i], want[i])
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, crit := range []string{MIG, BatchMIG} {
		got, err := Select(crit, cov, 2, 1, rng)
		if err != nil || !slices.Equal(got, []int{1}) {
			t.Errorf("%s on the official covariance: %v, %v; want [1]", crit, got, err)
		}
		if got, err := Select(crit, latent, 2, 1, rng); err != nil || !slices.Equal(got, []int{0}) {
			t.Errorf("%s on the latent covariance: %v, %v; want [0] (the case must tell them apart)", crit, got, err)
		}
	}
}

// TestBatchMIGCount: an ensemble of 2 members gives a latent covariance of
// rank 2; BatchMIG asked for 4 points on it is an error (it used to return
// 2), and on the official covariance (noise on the pool) it gives 4.
func TestBatchMIGCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	nPool, nTest := 6, 3
	b := randX(rng, nPool+nTest, 2)
	var latent mat.SymDense
	latent.SymOuterK(1, b)
	if _, err := Select(BatchMIG, &latent, nPool, 4, rng); err == nil || !strings.Contains(err.Error(), "only 2 of the 4") {
		t.Errorf("BatchMIG on a rank-2 covariance: %v, want an error naming 2 of 4", err)
	}
	got, err := Select(BatchMIG, TALCovariance(Predictive{Cov: &latent, Noise: 0.05}, nPool), nPool, 4, rng)
	if err != nil || len(got) != 4 {
		t.Errorf("BatchMIG on the official covariance: %v, %v; want 4 points", got, err)
	}
}

// TestSelectNaN: a test point of zero variance makes NaN gains; MIG and
// BatchMIG refuse them instead of ranking them, TIG's variances are fine.
func TestSelectNaN(t *testing.T) {
	cov := mat.NewSymDense(3, []float64{
		1, 0.2, 0,
		0.2, 1, 0,
		0, 0, 0,
	})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, crit := range []string{MIG, BatchMIG} {
		if got, err := Select(crit, cov, 2, 1, rng); err == nil || !strings.Contains(err.Error(), "NaN") {
			t.Errorf("%s with a test variance of 0: %v, %v; want a NaN error", crit, got, err)
		}
	}
	if got, err := Select(TIG, cov, 2, 2, rng); err != nil || len(got) != 2 {
		t.Errorf("TIG: %v, %v", got, err)
	}
}
