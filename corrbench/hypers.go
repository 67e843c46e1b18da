package corrbench

import (
	"path/filepath"
	"strings"
)

// Hyper is a model's settings on one UCI set as the official scripts give
// them (UCI_HYPERS in scripts/gen_scripts.py): hidden units and Adam's rate;
// for dropout its rate P and the fixed observation variance Tau.
type Hyper struct {
	Hidden int
	LR     float64
	P, Tau float64
}

// officialHypers is UCI_HYPERS for the models winnow has of the official
// set (ensemble, bbb, dropout).
var officialHypers = map[string]map[string]Hyper{
	"ensemble": {
		"boston": {400, 0.003, 0, 0}, "concrete": {50, 0.01, 0, 0}, "energy": {50, 0.01, 0, 0}, "wine": {50, 0.001, 0, 0},
		"yacht": {50, 0.01, 0, 0}, "kin8nm": {400, 0.01, 0, 0}, "naval": {50, 0.001, 0, 0}, "power_plant": {400, 0.003, 0, 0},
	},
	"bbb": {
		"boston": {400, 0.003, 0, 0}, "concrete": {50, 0.01, 0, 0}, "energy": {50, 0.01, 0, 0}, "wine": {50, 0.001, 0, 0},
		"yacht": {50, 0.01, 0, 0}, "kin8nm": {400, 0.001, 0, 0}, "naval": {50, 0.003, 0, 0}, "power_plant": {50, 0.003, 0, 0},
	},
	"dropout": {
		"boston": {400, 0.01, 0.05, 0.025}, "concrete": {400, 0.001, 0.05, 0.025}, "energy": {400, 0.003, 0.0025, 0.005},
		"wine": {400, 0.001, 0.05, 0.125}, "yacht": {400, 0.01, 0.0025, 0.005}, "kin8nm": {400, 0.001, 0.01, 0.025},
		"naval": {400, 0.001, 0.0025, 0.005}, "power_plant": {400, 0.001, 0.05, 0.025},
	},
}

// officialFiles names the official datasets by the file names of their
// tables (the official data/uci folder, as ../shared/data/uci has them).
var officialFiles = map[string]string{
	"housing.data": "boston", "concrete.data": "concrete", "energy.data": "energy", "wine.data": "wine",
	"yacht_hydrodynamics.data": "yacht", "kin8nm.data": "kin8nm", "naval.data": "naval", "power_plant.data": "power_plant",
}

// DatasetOf is the official name of the UCI set in the file at path, or ""
// for a file the official code does not have.
func DatasetOf(path string) string { return officialFiles[strings.ToLower(filepath.Base(path))] }

// OfficialHyper is model's official setting on dataset, false where the
// official scripts give none.
func OfficialHyper(dataset, model string) (Hyper, bool) {
	h, ok := officialHypers[model][dataset]
	return h, ok
}

// newModel builds a model for this benchmark: NewModel with, when the
// table is an official UCI set (Config.Dataset), the official settings:
// UCI_HYPERS for the networks, the official dropout (Dropout.Tau), BBB
// (BBB.Official) and ensemble (Ensemble.Heteroscedastic, 100 members unless
// Config.EnsembleSize says otherwise), and the
// GP's noise floor of 1e-8 on wine and energy (1e-5 elsewhere).
func (c *Config) newModel(name string, d int, seed uint64) (Model, error) {
	net := c.Net
	h, ok := OfficialHyper(c.Dataset, name)
	if ok {
		net.Hidden, net.LR = h.Hidden, h.LR
	}
	m, err := NewModel(name, d, seed, net)
	if err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *Dropout:
		if ok {
			m.P, m.Tau = h.P, h.Tau
		}
	case *BBB:
		m.Official = ok
	case *Ensemble:
		if ok {
			m.Heteroscedastic, m.M = true, OfficialEnsembleSize
		}
		if c.EnsembleSize > 0 {
			m.M = c.EnsembleSize
		}
	case *GP:
		if c.Dataset == "wine" || c.Dataset == "energy" {
			m.MinNoise = 1e-8
		}
	}
	return m, nil
}
