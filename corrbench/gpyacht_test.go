package corrbench

import (
	"context"
	"slices"
	"testing"
)

// TestGPYachtOptimum: on yacht (seed 1's official split) a GP started at
// unit lengthscales, fitted once, ends in a degenerate optimum (a
// lengthscale near 1e-5, log marginal likelihood 31.4, test RMSE 1.91); the
// official start (median distances, noise 0.1 bounded by 1e-5) with
// restarts reaches the better one (70.1, RMSE 1.01).
func TestGPYachtOptimum(t *testing.T) {
	s, err := NewSplit(readYacht(t), 0.2, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, d := s.TrainX.Dims()
	unit := make([]float64, d)
	for i := range unit {
		unit[i] = 1
	}
	fit := func(g *GP) (lml, rmse, minLength float64) {
		if err := g.Fit(context.Background(), s.TrainX, s.TrainY); err != nil {
			t.Fatal(err)
		}
		p, err := g.Predict(s.TestX)
		if err != nil {
			t.Fatal(err)
		}
		return g.LogMarginalLikelihood(), RMSE(p, s.TestY) * s.YStd, slices.Min(g.Kernel.(*RBF).Lengthscales)
	}
	oldL, oldR, oldMin := fit(&GP{Kernel: &RBF{Lengthscales: unit, Variance: 1}, Noise: 0.1, Optimise: true})
	newL, newR, newMin := fit(NewGP(1))
	t.Logf("unit start: log ML %.2f, RMSE %.3f, least lengthscale %.3g; official: %.2f, %.3f, %.3g", oldL, oldR, oldMin, newL, newR, newMin)
	if !(newL > oldL+20 && newL > 60) {
		t.Errorf("official start: log marginal likelihood %.2f, want above 60 and the unit start's %.2f by 20", newL, oldL)
	}
	if !(newMin > 1e-2 && newR < 0.6*oldR) {
		t.Errorf("official start: least lengthscale %.3g, RMSE %.3f (unit start's %.3f)", newMin, newR, oldR)
	}
}
