package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/corrbench"
	"github.com/winnow-ml/winnow/experiment"
)

type corrOptions struct {
	Data      string   `json:"data,omitempty"`
	Target    int      `json:"target"`
	Toy       int      `json:"toy,omitempty"`
	ToySeed   uint64   `json:"toy_seed,omitempty"`
	Models    []string `json:"models"`
	Seeds     int      `json:"seeds"`
	Criteria  []string `json:"criteria"`
	TALModels []string `json:"tal_models"`
	Rounds    int      `json:"rounds"`
	RoundFrac float64  `json:"round_frac"`
	Steps     int      `json:"steps"`
	Samples   int      `json:"samples"`
	Official  []string `json:"official,omitempty"`
	Hypers    string   `json:"hypers"`
	Ensemble  int      `json:"ensemble_size,omitempty"`
	Threads   int      `json:"threads"`
	Out       string   `json:"out"`
	Quiet     bool     `json:"-"`
}

func newCorrBenchCommand() *cobra.Command {
	var o corrOptions
	cmd := &cobra.Command{
		Use:   "corrbench",
		Short: "Benchmark how well Bayesian regression models estimate predictive correlations",
		Long: `Fit Bayesian regression models to a regression table (--data FILE: numbers
separated by spaces or commas, the target in column --target, -1 the last)
and compare their predictive correlations, as Wang, Sun and Grosse (AISTATS
2021): per seed the official split (20% test, 20% train, the rest a pool
that holds the fixed validation part), test RMSE and log-likelihood, XLL of
every model against every model as reference and its rank XLLR, and
transductive active learning (TIG, MIG, BatchMIG, random: 1% of the rows
labelled per round for --rounds rounds, chosen from the joint covariance of
noisy pool targets and latent test values) judged by the model's own and a
fixed oracle GP's test metrics.

--toy D instead draws the toy data of dimension D (5D training, 500 pool,
200 test points from a ReLU-NNGP prior, noise variance 0.01, fixed at that
for every model as the official toy runs; the GP's RBF kernel isotropic) and
reports per model the meta-correlation (Pearson, Spearman) of its
correlations (pool x test) and variances (pool) with the exact posterior's,
XLL and XLLR, and the exact oracle's test fit after one batch chosen by each
criterion, over --seeds splits.

Models: gp (RBF-ARD from the official start, lengthscales of median
distances, 3 fits by marginal likelihood), nngp (ReLU NNGP kernel), ensemble
(5 networks), dropout (MC dropout), bbb (Bayes by backprop), kfac-laplace
(K-FAC Laplace around the MAP network); networks have 50 hidden ReLU units
and a learned noise variance, except on the official UCI sets with --hypers
official (the default): there the official widths and Adam rates per set
(UCI_HYPERS), the official MC dropout (dropout on every layer's inputs,
the noise variance fixed at its tau, squared error with weight decay), BBB
(prior scaled by 1/sqrt(n_in+1), 10 draws a step) and heteroscedastic
ensembles of 100 (--ensemble-size).

--official NAME=DIR adds a model of the official code from the test
predictions its regression task saved (mean and covariance per seed, on the
official split, which winnow reproduces): it is scored on RMSE,
log-likelihood and XLL beside winnow's models.

Files in --out: results.json, report.md, xll.png and tal_<model>.png
(toy_xll.png and toy_tal.png for --toy), also made by winnow report DIR.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCorrBench(cmd.Context(), cmd.OutOrStdout(), &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Data, "data", "", "regression table (e.g. ../shared/data/uci/yacht_hydrodynamics.data)")
	f.IntVar(&o.Target, "target", -1, "target column (negative: from the end)")
	f.IntVar(&o.Toy, "toy", 0, "run the toy meta-correlation study in this input dimension instead")
	f.Uint64Var(&o.ToySeed, "toy-seed", 121, "seed of the toy data draw (the splits are seeds 1..--seeds)")
	f.StringSliceVar(&o.Models, "models", corrbench.Models, "models: "+strings.Join(corrbench.Models, ", "))
	f.IntVar(&o.Seeds, "seeds", 10, "seeds (splits)")
	f.StringSliceVar(&o.Criteria, "criteria", corrbench.Criteria, "active-learning criteria (none: --criteria '')")
	f.StringSliceVar(&o.TALModels, "tal-models", []string{"gp"}, "models that select points in active learning")
	f.IntVar(&o.Rounds, "rounds", 10, "active-learning rounds")
	f.Float64Var(&o.RoundFrac, "round-frac", 0.01, "fraction of all rows labelled per round")
	f.IntVar(&o.Steps, "steps", corrbench.DefaultNetConfig().Steps, "Adam steps per network")
	f.IntVar(&o.Samples, "samples", corrbench.DefaultNetConfig().Samples, "predictive samples for dropout and BBB covariances")
	f.StringVar(&o.Hypers, "hypers", "official", "the networks' settings on the official UCI sets: official (UCI_HYPERS widths and rates, the official MC dropout) or winnow (50 units, Adam at 3e-3, dropout p 0.05 with a learned noise)")
	f.IntVar(&o.Ensemble, "ensemble-size", 0, "members of the ensembles (0: the official 100 on the official UCI sets with --hypers official, 5 elsewhere)")
	f.StringArrayVar(&o.Official, "official", nil, "NAME=DIR: the official code's saved test predictions (DIR/test_mean_cov_seed<k>.npz, from its results/regression/<dataset>_<method>) join the XLL comparison as NAME")
	f.IntVar(&o.Threads, "threads", runtime.GOMAXPROCS(0), "threads")
	f.StringVar(&o.Out, "out", "", "output folder (default runs/corrbench-<data or toy>)")
	f.BoolVar(&o.Quiet, "quiet", false, "print only the report")
	return cmd
}

func runCorrBench(ctx context.Context, w io.Writer, o *corrOptions) error {
	if o.Threads < 1 {
		return usageError{fmt.Errorf("--threads must be at least 1")}
	}
	runtime.GOMAXPROCS(o.Threads)
	if o.Out == "" {
		name := strings.TrimSuffix(filepath.Base(o.Data), filepath.Ext(o.Data))
		if o.Toy > 0 {
			name = fmt.Sprintf("toy%d", o.Toy)
		}
		o.Out = filepath.Join("runs", "corrbench-"+name)
	}
	net := corrbench.DefaultNetConfig()
	net.Steps, net.Samples = o.Steps, o.Samples
	c := corrbench.Config{Models: o.Models, Seeds: o.Seeds, TestFrac: 0.2, TrainFrac: 0.2, Net: net,
		Criteria: o.Criteria, TALModels: o.TALModels, Rounds: o.Rounds, RoundFrac: o.RoundFrac, EnsembleSize: o.Ensemble}
	if o.Ensemble < 0 || o.Ensemble == 1 {
		return usageError{fmt.Errorf("--ensemble-size %d: at least 2 members (0 for the default)", o.Ensemble)}
	}
	switch o.Hypers {
	case "official":
		c.Dataset = corrbench.DatasetOf(o.Data)
	case "winnow":
	default:
		return usageError{fmt.Errorf("--hypers %q: official or winnow", o.Hypers)}
	}
	for _, v := range o.Official {
		name, dir, ok := strings.Cut(v, "=")
		if !ok || name == "" || dir == "" {
			return usageError{fmt.Errorf("--official %q: want NAME=DIR", v)}
		}
		c.Official = append(c.Official, corrbench.OfficialModel{Name: name, Dir: dir})
	}
	if !o.Quiet {
		c.Progress = func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	}
	study := &corrbench.Study{Data: o.Data, Target: o.Target, Toy: o.Toy, ToySeed: o.ToySeed, Config: c,
		Settings: map[string]any{"options": o, "provenance": experiment.NewProvenance(commandLine())}}
	if err := study.Validate(); err != nil {
		return usageError{err}
	}
	rep, files, err := study.Run(ctx, o.Out)
	if err != nil {
		return err
	}
	return printReport(w, rep.Markdown(), "", files)
}
