package corrbench

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Correlation returns the correlation matrix of a covariance.
func Correlation(cov *mat.SymDense) *mat.SymDense {
	n := cov.SymmetricDim()
	out := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			out.SetSym(i, j, cov.At(i, j)/math.Sqrt(cov.At(i, i)*cov.At(j, j)))
		}
	}
	return out
}

// Pearson is the sample correlation of a and b.
func Pearson(a, b []float64) float64 {
	n := float64(len(a))
	var ma, mb float64
	for i := range a {
		ma += a[i] / n
		mb += b[i] / n
	}
	var sab, saa, sbb float64
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	return sab / math.Sqrt(saa*sbb)
}

// ranks gives average ranks (ties share the mean of their positions).
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	return r
}

// Spearman is the Pearson correlation of the ranks (ties averaged), as
// scipy.stats.spearmanr.
func Spearman(a, b []float64) float64 { return Pearson(ranks(a), ranks(b)) }

// MetaCorrelation compares a model's predictive correlations with an
// oracle's, both over the same inputs: the first nPool pool points, then
// the test points. It returns the Pearson and Spearman correlations over all
// pool x test pairs, as the official compute_pearson_and_spearman_r.
func MetaCorrelation(model, oracle *mat.SymDense, nPool int) (pearson, spearman float64) {
	a, b := poolTest(Correlation(model), nPool), poolTest(Correlation(oracle), nPool)
	return Pearson(a, b), Spearman(a, b)
}

func poolTest(m *mat.SymDense, nPool int) []float64 {
	n := m.SymmetricDim()
	var out []float64
	for i := 0; i < nPool; i++ {
		for j := nPool; j < n; j++ {
			out = append(out, m.At(i, j))
		}
	}
	return out
}

// RMSE is the root mean squared error of the predictive mean.
func RMSE(p Predictive, y []float64) float64 {
	s := 0.0
	for i, v := range y {
		d := v - p.Mean[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(y)))
}

// LogLikelihood is the mean marginal Gaussian log-likelihood of the
// targets, with variance Cov_ii + Noise.
func LogLikelihood(p Predictive, y []float64) float64 {
	s := 0.0
	for i, v := range y {
		variance := p.Cov.At(i, i) + p.NoiseOf(i)
		d := v - p.Mean[i]
		s += -0.5*math.Log(2*math.Pi*variance) - 0.5*d*d/variance
	}
	return s / float64(len(y))
}

// TargetCov is the predictive covariance of the targets: Cov + Noise I.
func TargetCov(p Predictive) *mat.SymDense { return withNoise(p, p.Cov.SymmetricDim()) }

// withNoise is p's covariance with the noise variance added to the first n
// diagonal entries.
func withNoise(p Predictive, n int) *mat.SymDense {
	out := mat.NewSymDense(p.Cov.SymmetricDim(), nil)
	out.CopySym(p.Cov)
	for i := 0; i < n; i++ {
		out.SetSym(i, i, out.At(i, i)+p.NoiseOf(i))
	}
	return out
}

// XLLSubset is the official subset size: 5 test points per XLL term.
const XLLSubset = 5

// XLL is the cross-normalised log-likelihood of model against reference on
// test targets y, as the official uci_xll.py (topk_abs indices, p2_lld):
// for each test point i, the k points with the largest |correlation| with
// it under the reference's target covariance (i itself first); the joint
// Gaussian log density of their targets with the reference's means, and
// the model's target covariance rescaled to the reference's variances (so
// only the model's correlations count), divided by k; the mean over i.
func XLL(model, reference Predictive, y []float64, k int) (float64, error) {
	n := len(y)
	if k > n {
		return 0, fmt.Errorf("corrbench: XLL over %d points with subsets of %d", n, k)
	}
	rc, mc := TargetCov(reference), TargetCov(model)
	rcorr := Correlation(rc)
	total := 0.0
	idx := make([]int, n)
	for i := 0; i < n; i++ {
		for j := range idx {
			idx[j] = j
		}
		// Descending |corr|, ties by index, as a stable reverse argsort.
		sort.SliceStable(idx, func(a, b int) bool { return math.Abs(rcorr.At(i, idx[a])) > math.Abs(rcorr.At(i, idx[b])) })
		sub := idx[:k]
		cov := mat.NewSymDense(k, nil)
		for a, p := range sub {
			for b := a; b < k; b++ {
				q := sub[b]
				scale := math.Sqrt(rc.At(p, p) / mc.At(p, p) * rc.At(q, q) / mc.At(q, q))
				cov.SetSym(a, b, mc.At(p, q)*scale)
			}
		}
		var chol mat.Cholesky
		if !chol.Factorize(cov) {
			return 0, fmt.Errorf("corrbench: XLL: the model's covariance of test points %v is not positive definite", sub)
		}
		d := mat.NewVecDense(k, nil)
		for a, p := range sub {
			d.SetVec(a, y[p]-reference.Mean[p])
		}
		var sol mat.VecDense
		if err := chol.SolveVecTo(&sol, d); err != nil {
			return 0, err
		}
		lp := -0.5*mat.Dot(d, &sol) - 0.5*chol.LogDet() - 0.5*float64(k)*math.Log(2*math.Pi)
		total += lp / float64(k)
	}
	return total / float64(n), nil
}

// JointLogLikelihood is log N(y; mean, TargetCov(p)), the full joint
// density of the targets.
func JointLogLikelihood(p Predictive, y []float64) (float64, error) {
	var chol mat.Cholesky
	if !chol.Factorize(TargetCov(p)) {
		return 0, fmt.Errorf("corrbench: the predictive covariance is not positive definite")
	}
	d := mat.NewVecDense(len(y), nil)
	for i, v := range y {
		d.SetVec(i, v-p.Mean[i])
	}
	var sol mat.VecDense
	if err := chol.SolveVecTo(&sol, d); err != nil {
		return 0, err
	}
	return -0.5*mat.Dot(d, &sol) - 0.5*chol.LogDet() - 0.5*float64(len(y))*math.Log(2*math.Pi), nil
}

// Ranks turns scores (higher is better) into ranks 0 (best), 1, ... as the
// official XLLR (ties keep the listed order).
func Ranks(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	r := make([]int, len(scores))
	for pos, i := range idx {
		r[i] = pos
	}
	return r
}
