package corrbench

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const uciDir = "../../shared/data/uci"

// readYacht reads the UCI yacht set from ../shared, or skips.
func readYacht(t *testing.T) *Table {
	t.Helper()
	path := filepath.Join(uciDir, "yacht_hydrodynamics.data")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared data absent (%v)", err)
	}
	tab, err := ReadTable(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestRunYacht runs every model on the UCI yacht set (one seed, short
// training) with two rounds of active learning: finite metrics, RMSE well
// below the targets' spread, and each model's XLL against itself no worse
// than a constant correlation-free model's.
func TestRunYacht(t *testing.T) {
	tab := readYacht(t)
	if r, c := tab.X.Dims(); r != 308 || c != 6 {
		t.Fatalf("yacht: %dx%d inputs, want 308x6", r, c)
	}
	net := DefaultNetConfig()
	net.Steps, net.Samples = 300, 200
	c := Config{Models: Models, Seeds: 1, TestFrac: 0.2, TrainFrac: 0.2, Net: net,
		Criteria: []string{BatchMIG, Random}, TALModels: []string{"gp"}, Rounds: 2, RoundFrac: 0.01}
	res, err := Run(context.Background(), tab, c)
	if err != nil {
		t.Fatal(err)
	}
	std := 0.0
	mean := 0.0
	for _, v := range tab.Y {
		mean += v / float64(len(tab.Y))
	}
	for _, v := range tab.Y {
		std += (v - mean) * (v - mean) / float64(len(tab.Y))
	}
	std = math.Sqrt(std)
	for _, name := range Models {
		r := res.Seeds[0][name]
		if !(r.RMSE > 0 && r.RMSE < std) || math.IsNaN(r.LL) || len(r.XLL) != len(Models) {
			t.Errorf("%s: RMSE %v (targets' std %v), LL %v, %d XLLs", name, r.RMSE, std, r.LL, len(r.XLL))
		}
	}
	if gp := res.Seeds[0]["gp"]; gp.RMSE > 0.5*std {
		t.Errorf("GP RMSE %v on yacht, more than half the targets' std %v", gp.RMSE, std)
	}
	rep := &Report{Data: "yacht", Results: res}
	files, err := rep.Plots(t.TempDir())
	if err != nil || len(files) != 2 {
		t.Errorf("plots %v, %v: want xll.png and tal_gp.png", files, err)
	}
	var md strings.Builder
	if err := rep.WriteMarkdown(&md); err != nil || !strings.Contains(md.String(), "| kfac-laplace |") || !strings.Contains(md.String(), "| batchmig | gp |") {
		t.Errorf("report: %v\n%s", err, md.String())
	}
	for _, crit := range c.Criteria {
		rounds := res.TAL[crit]["gp"][0]
		if len(rounds) != 3 || rounds[2].Train != rounds[0].Train+2*3 {
			t.Errorf("%s: rounds %+v, want 3 with 3 more labels each", crit, rounds)
		}
	}
}

// TestRunToy: the oracle's own kernel reaches meta-correlation 1 for
// correlations and variances; the RBF GP less. Active learning by the
// oracle's covariance: BatchMIG maximises Σ_t log(σ²_t before / σ²_t
// after) over the test points' latent variances, so its picks leave the
// oracle less test variance (by that sum) than random picks; an empty
// batch reproduces the oracle's prediction itself. (The test log-likelihood
// of one draw is too noisy to order the criteria on a few splits.)
func TestRunToy(t *testing.T) {
	c := Config{Models: []string{"nngp", "gp"}, Seeds: 2, Net: DefaultNetConfig(),
		Criteria: []string{BatchMIG, MIG, TIG, Random}, RoundFrac: 0.02}
	res, err := RunToy(context.Background(), 2, 121, c)
	if err != nil {
		t.Fatal(err)
	}
	for s, row := range res {
		o, gp := row["nngp"], row["gp"]
		if math.Abs(o.Pearson-1) > 1e-6 || math.Abs(o.VarPearson-1) > 1e-6 {
			t.Errorf("split %d: the oracle kernel's meta-correlations %v, %v, want 1", s+1, o.Pearson, o.VarPearson)
		}
		if !(gp.Pearson > 0 && gp.Pearson < 1) || !(gp.VarPearson < 1) {
			t.Errorf("split %d: the RBF GP's meta-correlations %v, %v", s+1, gp.Pearson, gp.VarPearson)
		}
		t.Logf("split %d: oracle's TAL %+v; XLL %v", s+1, o.TAL, o.XLL)
		if len(o.XLL) != 2 || !(o.XLL[0] > o.XLL[1]-10) {
			t.Errorf("split %d: XLL %v", s+1, o.XLL)
		}
	}
	toy, err := NewToy(2, 121, 1)
	if err != nil {
		t.Fatal(err)
	}
	nPool, _ := toy.PoolX.Dims()
	logVar := func(picked []int) float64 {
		tx, ty, _, _ := move(toy.TrainX, toy.TrainY, toy.PoolX, toy.PoolY, picked)
		g := &GP{Kernel: OracleNNGP(), Noise: ToyNoise}
		if err := g.Fit(context.Background(), tx, ty); err != nil {
			t.Fatal(err)
		}
		p, err := g.Predict(toy.TestX)
		if err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for i := range toy.TestY {
			s += math.Log(p.Cov.At(i, i))
		}
		return s
	}
	rng := rand.New(rand.NewPCG(5, 6))
	bm, err := Select(BatchMIG, TALCovariance(toy.Oracle, nPool), nPool, 14, rng)
	if err != nil {
		t.Fatal(err)
	}
	for try := 0; try < 5; try++ {
		random, _ := Select(Random, toy.Oracle.Cov, nPool, 14, rng)
		if b, r := logVar(bm), logVar(random); !(b < r) {
			t.Errorf("Σ log test variance after BatchMIG's picks %v, after random picks %v", b, r)
		}
	}
	none, err := toyOracleAfter(context.Background(), toy, nil)
	if err != nil {
		t.Fatal(err)
	}
	test := subPredictive(toy.Oracle, nPool, nPool+len(toy.TestY))
	if want := LogLikelihood(test, toy.TestY); math.Abs(none.LL-want) > 1e-9 {
		t.Errorf("no picks: oracle test LL %v, want its own prediction's %v", none.LL, want)
	}
}

func TestReadTableErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"ragged": strings.Repeat("1 2 3\n", 12) + "1 2\n",
		"nan":    strings.Repeat("1 2 3\n", 12) + "1 NaN 3\n",
		"short":  "1 2\n3 4\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := ReadTable(p, -1); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
	p := filepath.Join(dir, "header.csv")
	os.WriteFile(p, []byte("a,b,c\n"+strings.Repeat("1,2,3\n4,5,7\n", 6)), 0o644)
	tab, err := ReadTable(p, 2)
	if err != nil || tab.Y[1] != 7 {
		t.Errorf("header file: %v, %+v", err, tab)
	}
}
