package corrbench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Model is a Bayesian regression model.
type Model interface {
	Name() string
	Fit(ctx context.Context, x *mat.Dense, y []float64) error
	Predict(x *mat.Dense) (Predictive, error)
}

// Models lists the models NewModel builds.
var Models = []string{"gp", "nngp", "ensemble", "dropout", "bbb", "kfac-laplace"}

// NewModel builds a model by name: gp (RBF-ARD, hyperparameters by marginal
// likelihood), nngp (the ReLU NNGP kernel, its variances and the noise by marginal likelihood),
// ensemble (5 networks), dropout (p = 0.05), bbb (prior N(0, 1)),
// kfac-laplace (prior precision 1).
func NewModel(name string, dims int, seed uint64, net NetConfig) (Model, error) {
	switch name {
	case "gp":
		return NewGP(seed), nil
	case "nngp":
		return &GP{Kernel: NewTrainableNNGP(), Noise: 0.1, MinNoise: 1e-5, Optimise: true, Restarts: 2, Seed: seed}, nil
	case "ensemble":
		return &Ensemble{M: 5, Net: net, Seed: seed}, nil
	case "dropout":
		return &Dropout{P: 0.05, Net: net, Seed: seed}, nil
	case "bbb":
		return &BBB{PriorVar: 1, Net: net, Seed: seed}, nil
	case "kfac-laplace":
		return &Laplace{PriorPrec: 1, Net: net, Seed: seed}, nil
	}
	return nil, fmt.Errorf("corrbench: unknown model %q (%v)", name, Models)
}

// Config is a benchmark's settings.
type Config struct {
	Models    []string
	Seeds     int
	TestFrac  float64 // 0.2
	TrainFrac float64 // 0.2
	Net       NetConfig
	// Transductive active learning: criteria (none: skipped), rounds, and
	// the fraction of all rows labelled per round, for the models TALModels.
	Criteria  []string
	TALModels []string
	Rounds    int     // 10
	RoundFrac float64 // 0.01
	// Official are models whose test predictions the official code saved
	// (LoadOfficialPredictions): they join the XLL comparison under their
	// names, on the official split's test points of each seed.
	Official []OfficialModel
	// Dataset, the official name of the UCI set (DatasetOf), selects the
	// official per-dataset settings of the models (Config.newModel); ""
	// keeps winnow's.
	Dataset string
	// EnsembleSize, when positive, is the ensembles' number of members
	// (official: 100 on the UCI sets; winnow's: 5).
	EnsembleSize int
	Progress     func(format string, args ...any)
}

// OfficialModel names a folder of the official regression task's saved
// predictions (results/regression/<dataset>_<method>).
type OfficialModel struct {
	Name, Dir string
}

// ModelResult is one model's results on one seed's test set.
type ModelResult struct {
	RMSE float64 `json:"rmse"` // in the target's units
	LL   float64 `json:"ll"`   // mean marginal log-likelihood, target's units
	// XLL[r] uses model r (in Results.Models order: Config.Models, then Config.Official) as the reference.
	XLL []float64 `json:"xll"`
}

// TALRound is the state before each round's selection (and after the last).
type TALRound struct {
	Train      int     `json:"train"`
	RMSE       float64 `json:"rmse"`
	LL         float64 `json:"ll"`
	OracleRMSE float64 `json:"oracle_rmse"`
	OracleLL   float64 `json:"oracle_ll"`
}

// Results are a benchmark's outcomes per seed.
type Results struct {
	Models []string                           `json:"models"`
	Seeds  []map[string]ModelResult           `json:"seeds"`
	TAL    map[string]map[string][][]TALRound `json:"tal,omitempty"` // criterion -> model -> seed -> rounds
}

func (c *Config) logf(format string, args ...any) {
	if c.Progress != nil {
		c.Progress(format, args...)
	}
}

// Run benchmarks the models on a table: per seed, each model is fitted on
// the training split and predicts the test split; RMSE, log-likelihood and
// the XLL against every model as reference are recorded; then transductive
// active learning runs for each criterion.
func Run(ctx context.Context, t *Table, c Config) (*Results, error) {
	names := append([]string(nil), c.Models...)
	for _, o := range c.Official {
		if slices.Contains(names, o.Name) {
			return nil, fmt.Errorf("corrbench: the official predictions %s take the name of a model already compared", o.Name)
		}
		names = append(names, o.Name)
	}
	res := &Results{Models: names, TAL: map[string]map[string][][]TALRound{}}
	for seed := 1; seed <= c.Seeds; seed++ {
		s, err := NewSplit(t, c.TestFrac, c.TrainFrac, uint64(seed))
		if err != nil {
			return nil, err
		}
		_, d := s.TrainX.Dims()
		preds := make([]Predictive, len(names))
		for i, o := range c.Official {
			if preds[len(c.Models)+i], err = LoadOfficialPredictions(o.Dir, seed, len(s.TestY)); err != nil {
				return nil, fmt.Errorf("seed %d: %w", seed, err)
			}
		}
		for i, name := range c.Models {
			m, err := c.newModel(name, d, uint64(seed))
			if err != nil {
				return nil, err
			}
			if err := m.Fit(ctx, s.TrainX, s.TrainY); err != nil {
				return nil, fmt.Errorf("seed %d, %s: %w", seed, name, err)
			}
			if preds[i], err = m.Predict(s.TestX); err != nil {
				return nil, fmt.Errorf("seed %d, %s: %w", seed, name, err)
			}
		}
		row := map[string]ModelResult{}
		for i, name := range names {
			r := ModelResult{RMSE: RMSE(preds[i], s.TestY) * s.YStd, LL: LogLikelihood(preds[i], s.TestY) - math.Log(s.YStd)}
			for j := range names {
				x, err := XLL(preds[i], preds[j], s.TestY, min(XLLSubset, len(s.TestY)))
				if err != nil {
					return nil, fmt.Errorf("seed %d, XLL of %s against %s: %w", seed, name, names[j], err)
				}
				r.XLL = append(r.XLL, x-math.Log(s.YStd))
			}
			row[name] = r
			c.logf("seed %d: %-8s RMSE %.4f, LL %.4f", seed, name, r.RMSE, r.LL)
		}
		res.Seeds = append(res.Seeds, row)
		for _, crit := range c.Criteria {
			if res.TAL[crit] == nil {
				res.TAL[crit] = map[string][][]TALRound{}
			}
			for _, name := range c.TALModels {
				rounds, err := runTAL(ctx, s, name, crit, uint64(seed), c)
				if err != nil {
					return nil, fmt.Errorf("seed %d, active learning with %s by %s: %w", seed, name, crit, err)
				}
				res.TAL[crit][name] = append(res.TAL[crit][name], rounds)
				last := rounds[len(rounds)-1]
				c.logf("seed %d: %-8s %-8s after %d rounds: RMSE %.4f, LL %.4f (oracle GP %.4f, %.4f)", seed, crit, name, c.Rounds, last.RMSE, last.LL, last.OracleRMSE, last.OracleLL)
			}
		}
	}
	return res, nil
}

// runTAL: each round fits the model on the labelled set, predicts pool and
// test points, and labels the fraction RoundFrac of all rows chosen by the
// criterion from TALCovariance (noisy targets at the pool, latent function
// at the test points, as the official code). The oracle GP (RBF-ARD,
// hyperparameters fitted once on training and pool data, then fixed) is
// conditioned on the same labelled set to judge the selection.
func runTAL(ctx context.Context, s *Split, name, criterion string, seed uint64, c Config) ([]TALRound, error) {
	_, d := s.TrainX.Dims()
	trainX, trainY := mat.DenseCopyOf(s.TrainX), append([]float64(nil), s.TrainY...)
	poolX, poolY := mat.DenseCopyOf(s.PoolX), append([]float64(nil), s.PoolY...)
	nTest := len(s.TestY)
	total := len(trainY) + len(poolY) + nTest
	k := max(1, int(c.RoundFrac*float64(total)))
	oracle := NewGP(seed)
	if err := oracle.Fit(ctx, stack(trainX, poolX), append(append([]float64(nil), trainY...), poolY...)); err != nil {
		return nil, err
	}
	oracle.Optimise = false
	rng := rand.New(rand.NewPCG(seed, 0x7a1))
	var rounds []TALRound
	for r := 0; ; r++ {
		m, err := c.newModel(name, d, seed+uint64(r)*1000)
		if err != nil {
			return nil, err
		}
		if err := m.Fit(ctx, trainX, trainY); err != nil {
			return nil, err
		}
		nPool, _ := poolX.Dims()
		p, err := m.Predict(stack(poolX, s.TestX))
		if err != nil {
			return nil, err
		}
		test := subPredictive(p, nPool, nPool+nTest)
		if err := oracle.Fit(ctx, trainX, trainY); err != nil {
			return nil, err
		}
		op, err := oracle.Predict(s.TestX)
		if err != nil {
			return nil, err
		}
		rounds = append(rounds, TALRound{Train: len(trainY),
			RMSE: RMSE(test, s.TestY) * s.YStd, LL: LogLikelihood(test, s.TestY) - math.Log(s.YStd),
			OracleRMSE: RMSE(op, s.TestY) * s.YStd, OracleLL: LogLikelihood(op, s.TestY) - math.Log(s.YStd)})
		if r == c.Rounds || nPool <= k {
			return rounds, nil
		}
		picked, err := Select(criterion, TALCovariance(p, nPool), nPool, k, rng)
		if err != nil {
			return nil, err
		}
		trainX, trainY, poolX, poolY = move(trainX, trainY, poolX, poolY, picked)
	}
}

// subPredictive is the prediction restricted to points [lo, hi).
func subPredictive(p Predictive, lo, hi int) Predictive {
	cov := mat.NewSymDense(hi-lo, nil)
	for i := lo; i < hi; i++ {
		for j := i; j < hi; j++ {
			cov.SetSym(i-lo, j-lo, p.Cov.At(i, j))
		}
	}
	out := Predictive{Mean: append([]float64(nil), p.Mean[lo:hi]...), Cov: cov, Noise: p.Noise}
	if p.NoiseAt != nil {
		out.NoiseAt = append([]float64(nil), p.NoiseAt[lo:hi]...)
	}
	return out
}

// move labels the picked pool rows: they join the training set.
func move(tx *mat.Dense, ty []float64, px *mat.Dense, py []float64, picked []int) (*mat.Dense, []float64, *mat.Dense, []float64) {
	isPicked := map[int]bool{}
	for _, p := range picked {
		isPicked[p] = true
	}
	nPool, d := px.Dims()
	nTrain, _ := tx.Dims()
	newTX := mat.NewDense(nTrain+len(picked), d, nil)
	newTX.Slice(0, nTrain, 0, d).(*mat.Dense).Copy(tx)
	newTY := append([]float64(nil), ty...)
	newPX := mat.NewDense(nPool-len(picked), d, nil)
	var newPY []float64
	ti, pi := nTrain, 0
	for i := 0; i < nPool; i++ {
		if isPicked[i] {
			newTX.SetRow(ti, px.RawRowView(i))
			newTY = append(newTY, py[i])
			ti++
		} else {
			newPX.SetRow(pi, px.RawRowView(i))
			newPY = append(newPY, py[i])
			pi++
		}
	}
	return newTX, newTY, newPX, newPY
}

// ToyResult is one model's results on one toy split, as the official
// toy study (tasks/toy/compute_metrics.py) computes them.
type ToyResult struct {
	// Meta-correlation of the predictive correlations with the oracle's
	// over pool x test pairs, and of the latent variances over the pool.
	Pearson     float64 `json:"pearson"`
	Spearman    float64 `json:"spearman"`
	VarPearson  float64 `json:"var_pearson"`
	VarSpearman float64 `json:"var_spearman"`
	// TAL[criterion]: the oracle's test log-likelihood and RMSE once one
	// batch (RoundFrac of all points) chosen by the model is labelled.
	TAL map[string]ToyTAL `json:"tal,omitempty"`
	// XLL[r] uses model r (in Config.Models order) as the reference.
	XLL []float64 `json:"xll"`
}

// ToyTAL is the exact oracle's test fit after one batch of active learning.
type ToyTAL struct {
	LL   float64 `json:"ll"`
	RMSE float64 `json:"rmse"`
}

// newToyModel is a model as the official toy runs set it: the noise
// variance fixed at the data's for every model, the GP's RBF kernel
// isotropic, the nngp model the oracle's own kernel.
func newToyModel(name string, d int, seed uint64, c NetConfig) (Model, error) {
	c.FixedNoise = ToyNoise
	m, err := NewModel(name, d, seed, c)
	if g, ok := m.(*GP); ok {
		g.Noise, g.FixNoise = ToyNoise, true
		if name == "nngp" {
			g.Kernel, g.Optimise = OracleNNGP(), false
		} else {
			g.Kernel = &RBF{Isotropic: true, MinLengthscale: 1e-4}
		}
	}
	return m, err
}

// RunToy fits each model on the toy training points of dimension d, for
// splits 1..seeds of one data draw (dataSeed), and compares it with the
// exact oracle: meta-correlations of correlations and variances, one batch
// of active learning per criterion in c.Criteria judged by the oracle's test
// log-likelihood, and XLL against every model as reference.
func RunToy(ctx context.Context, d int, dataSeed uint64, c Config) ([]map[string]ToyResult, error) {
	var out []map[string]ToyResult
	for seed := 1; seed <= c.Seeds; seed++ {
		toy, err := NewToy(d, dataSeed, uint64(seed))
		if err != nil {
			return nil, err
		}
		row := map[string]ToyResult{}
		x := stack(toy.PoolX, toy.TestX)
		nPool, _ := toy.PoolX.Dims()
		nTest := len(toy.TestY)
		nTrain := len(toy.TrainY)
		k := max(1, int(c.RoundFrac*float64(nTrain+nPool+nTest)))
		tests := make([]Predictive, len(c.Models))
		for i, name := range c.Models {
			m, err := newToyModel(name, d, uint64(seed), c.Net)
			if err != nil {
				return nil, err
			}
			if err := m.Fit(ctx, toy.TrainX, toy.TrainY); err != nil {
				return nil, fmt.Errorf("toy split %d, %s: %w", seed, name, err)
			}
			p, err := m.Predict(x)
			if err != nil {
				return nil, err
			}
			r := ToyResult{TAL: map[string]ToyTAL{}}
			r.Pearson, r.Spearman = MetaCorrelation(p.Cov, toy.Oracle.Cov, nPool)
			r.VarPearson, r.VarSpearman = varianceMetaCorrelation(p.Cov, toy.Oracle.Cov, nPool)
			rng := rand.New(rand.NewPCG(uint64(seed), 0x7a2))
			for _, crit := range c.Criteria {
				picked, err := Select(crit, TALCovariance(p, nPool), nPool, k, rng)
				if err != nil {
					return nil, fmt.Errorf("toy split %d, %s by %s: %w", seed, name, crit, err)
				}
				if r.TAL[crit], err = toyOracleAfter(ctx, toy, picked); err != nil {
					return nil, err
				}
			}
			tests[i] = subPredictive(p, nPool, nPool+nTest)
			row[name] = r
			c.logf("toy d=%d split %d: %-8s meta-correlation Pearson %.4f, Spearman %.4f; variances %.4f, %.4f", d, seed, name, r.Pearson, r.Spearman, r.VarPearson, r.VarSpearman)
		}
		for i, name := range c.Models {
			r := row[name]
			for j := range c.Models {
				v, err := XLL(tests[i], tests[j], toy.TestY, min(XLLSubset, nTest))
				if err != nil {
					return nil, fmt.Errorf("toy split %d, XLL of %s against %s: %w", seed, name, c.Models[j], err)
				}
				r.XLL = append(r.XLL, v)
			}
			row[name] = r
		}
		out = append(out, row)
	}
	return out, nil
}

// varianceMetaCorrelation is the Pearson and Spearman correlation of two
// covariances' diagonals over the first nPool points (the official var_pr_f).
func varianceMetaCorrelation(model, oracle *mat.SymDense, nPool int) (pearson, spearman float64) {
	a, b := make([]float64, nPool), make([]float64, nPool)
	for i := range a {
		a[i], b[i] = model.At(i, i), oracle.At(i, i)
	}
	return Pearson(a, b), Spearman(a, b)
}

// toyOracleAfter conditions the exact oracle (the data's kernel and noise)
// on the training points and the picked pool points, and scores it on the
// test points (the official compute_oracle_lld_rmse).
func toyOracleAfter(ctx context.Context, toy *Toy, picked []int) (ToyTAL, error) {
	tx, ty, _, _ := move(toy.TrainX, toy.TrainY, toy.PoolX, toy.PoolY, picked)
	oracle := &GP{Kernel: OracleNNGP(), Noise: ToyNoise}
	if err := oracle.Fit(ctx, tx, ty); err != nil {
		return ToyTAL{}, err
	}
	p, err := oracle.Predict(toy.TestX)
	if err != nil {
		return ToyTAL{}, err
	}
	return ToyTAL{LL: LogLikelihood(p, toy.TestY), RMSE: RMSE(p, toy.TestY)}, nil
}
