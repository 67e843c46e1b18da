package corrbench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Criteria of transductive active learning, as the official al_utils.py.
const (
	TIG      = "tig"      // the pool points of largest predictive variance
	MIG      = "mig"      // largest Σ_t -log(1 - ρ²(p, t)) over test points t
	BatchMIG = "batchmig" // greedy: each pick maximises the joint MIG given the picks so far
	Random   = "random"
)

// Criteria lists the criteria.
var Criteria = []string{TIG, MIG, BatchMIG, Random}

// TALCovariance is the covariance the official code selects from
// (gen_correlation in its model_utils.py): the joint covariance of the noisy
// targets at the first nPool points and the latent function at the rest,
// that is the prediction's latent covariance with the noise variance added
// on the pool's diagonal only.
func TALCovariance(p Predictive, nPool int) *mat.SymDense { return withNoise(p, nPool) }

// Select picks k of the nPool pool points (indices into the pool) by the
// criterion, from cov, the covariance over the pool points and then the
// test points (TALCovariance: noisy targets at the pool, latent function at
// the test points). A gain that is NaN is an error, as is a BatchMIG that
// finds fewer than k points of positive conditional variance.
func Select(criterion string, cov *mat.SymDense, nPool, k int, rng *rand.Rand) ([]int, error) {
	n := cov.SymmetricDim()
	if k > nPool || nPool > n {
		return nil, fmt.Errorf("corrbench: select %d of %d pool points (%d in all)", k, nPool, n)
	}
	switch criterion {
	case TIG:
		v := make([]float64, nPool)
		for i := range v {
			v[i] = cov.At(i, i)
		}
		return topK(criterion, v, k)
	case MIG:
		return topK(criterion, migGains(cov, nPool), k)
	case BatchMIG:
		return batchMIG(cov, nPool, k)
	case Random:
		return rng.Perm(nPool)[:k], nil
	}
	return nil, fmt.Errorf("corrbench: unknown criterion %q (%v)", criterion, Criteria)
}

// migGains is each pool point's Σ_t -log(1 - ρ²(p, t)) over the test points.
func migGains(cov *mat.SymDense, nPool int) []float64 {
	n := cov.SymmetricDim()
	corr := Correlation(cov)
	v := make([]float64, nPool)
	for p := range v {
		for t := nPool; t < n; t++ {
			r := corr.At(p, t)
			v[p] -= math.Log(1 - r*r)
		}
	}
	return v
}

// topK returns the indices of the k largest values (stable, descending);
// a NaN value is an error (it has no place in the order).
func topK(criterion string, v []float64, k int) ([]int, error) {
	idx := make([]int, len(v))
	for i := range idx {
		if math.IsNaN(v[i]) {
			return nil, fmt.Errorf("corrbench: %s: the gain of pool point %d is NaN (a variance of 0 or a covariance that is not one)", criterion, i)
		}
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] > v[idx[b]] })
	return idx[:k], nil
}

// batchMIGEps keeps 1 - ρ² away from 0, as the official code.
const batchMIGEps = 1e-6

// batchMIGRank: a candidate whose conditional variance given the picks is
// below this fraction of its own variance is in their span (rounding keeps
// it from being exactly 0), and is not a candidate.
const batchMIGRank = 1e-9

// batchMIG picks greedily: with S the picks so far and L the Cholesky factor
// of K_SS, a candidate p's squared multiple correlation with test point t
// given S ∪ {p} is (‖L⁻¹K_St‖² + V_pt²)/K_tt, where V_pt = (K_pt - (L⁻¹K_Sp)ᵀ
// L⁻¹K_St)/E_p and E_p² = K_pp - ‖L⁻¹K_Sp‖² (the new row of the Cholesky
// factor of K_{S∪p}); each pick maximises -Σ_t log(1 + ε - ρ²). L grows by
// one row per pick (an incremental Cholesky), never refactorised.
func batchMIG(cov *mat.SymDense, nPool, k int) ([]int, error) {
	n := cov.SymmetricDim()
	tests := n - nPool
	var picked []int
	inPick := make([]bool, nPool)
	// Rows of L⁻¹ K_S· for every point (pool and test), one row per pick.
	var rows [][]float64
	for len(picked) < k {
		// ‖L⁻¹K_St‖² per test point.
		st := make([]float64, tests)
		for _, r := range rows {
			for t := 0; t < tests; t++ {
				st[t] += r[nPool+t] * r[nPool+t]
			}
		}
		best, bestGain := -1, math.Inf(-1)
		for p := 0; p < nPool; p++ {
			if inPick[p] {
				continue
			}
			e2 := cov.At(p, p)
			for _, r := range rows {
				e2 -= r[p] * r[p]
			}
			if !(e2 > batchMIGRank*cov.At(p, p)) {
				continue // no variance left given the picks, up to rounding
			}
			e := math.Sqrt(e2)
			gain := 0.0
			for t := 0; t < tests; t++ {
				v := cov.At(p, nPool+t)
				for _, r := range rows {
					v -= r[p] * r[nPool+t]
				}
				v /= e
				rho2 := (st[t] + v*v) / cov.At(nPool+t, nPool+t)
				gain -= math.Log(1 + batchMIGEps - rho2)
			}
			if math.IsNaN(gain) {
				return nil, fmt.Errorf("corrbench: batchmig: the gain of pool point %d is NaN after %d picks", p, len(picked))
			}
			if gain > bestGain {
				best, bestGain = p, gain
			}
		}
		if best < 0 {
			return nil, fmt.Errorf("corrbench: batchmig: only %d of the %d points asked for have a positive variance given those picked (a covariance of rank %d?)", len(picked), k, len(picked))
		}
		// New row of L⁻¹K_{S∪p}·: (K_p· - Σ_r r_p r·)/E_p.
		e2 := cov.At(best, best)
		for _, r := range rows {
			e2 -= r[best] * r[best]
		}
		e := math.Sqrt(e2)
		row := make([]float64, n)
		for j := 0; j < n; j++ {
			v := cov.At(best, j)
			for _, r := range rows {
				v -= r[best] * r[j]
			}
			row[j] = v / e
		}
		rows = append(rows, row)
		picked = append(picked, best)
		inPick[best] = true
	}
	return picked, nil
}
