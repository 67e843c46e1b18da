package experiment

import (
	"errors"
	"strings"
	"testing"
)

func TestOptimizerSettings(t *testing.T) {
	for _, c := range []struct {
		flag string
		set  func(*Settings)
	}{
		{"optimizer", func(s *Settings) { s.Optimizer = "adagrad" }},
		{"nesterov", func(s *Settings) { s.Optimizer, s.Nesterov = "adam", true }},
		{"adam-betas", func(s *Settings) { s.AdamBetas = []float64{0.9} }},
		{"adam-betas", func(s *Settings) { s.AdamBetas = []float64{0.9, 1} }},
		{"adam-eps", func(s *Settings) { s.AdamEps = -1e-8 }},
		{"label-smoothing", func(s *Settings) { s.LabelSmoothing = 1 }},
		{"schedule", func(s *Settings) { s.Schedule = "cosine+warmup:3" }}, // 3 epochs
	} {
		s := DefaultSettings()
		c.set(&s)
		var se *SettingError
		if err := s.Validate(); !errors.As(err, &se) || se.Flag != c.flag {
			t.Errorf("%+v: error %v, want one naming --%s", s, err, c.flag)
		}
	}
	s := DefaultSettings()
	s.Optimizer, s.AdamBetas, s.LabelSmoothing, s.Schedule = "adamw", []float64{0.8, 0.99}, 0.1, "cosine+warmup:1"
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	c := s.TrainConfig()
	if c.Optimizer != "adamw" || c.Betas != [2]float64{0.8, 0.99} || c.Eps != 1e-8 || c.LabelSmoothing != 0.1 || c.Schedule.String() != "cosine+warmup:1" {
		t.Errorf("TrainConfig: %+v", c)
	}
}

// A run recorded before the optimiser settings existed resumes under
// today's defaults (SGD), and only under them.
func TestDiffFillsSettingsOlderRunsLack(t *testing.T) {
	old := DefaultSettings()
	old.Optimizer, old.AdamBetas, old.AdamEps = "", nil, 0
	if d := Diff(old, DefaultSettings()); len(d) != 0 {
		t.Errorf("an older run against the defaults: %v", d)
	}
	adam := DefaultSettings()
	adam.Optimizer = "adam"
	if d := Diff(old, adam); len(d) != 1 || !strings.HasPrefix(d[0], "optimizer: sgd -> adam") {
		t.Errorf("an older (SGD) run resumed with adam: %v", d)
	}
}
