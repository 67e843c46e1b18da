package corrbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/winnow-ml/winnow/internal/fsutil"
)

// Study is one benchmark: a regression table (Data, target column Target)
// or the toy study in dimension Toy, with the models and protocol of
// Config.
type Study struct {
	Data    string
	Target  int
	Toy     int
	ToySeed uint64
	Config  Config
	// Settings are recorded in results.json as they are.
	Settings any
}

// Validate checks the study's settings.
func (s *Study) Validate() error {
	c := s.Config
	if (s.Data == "") == (s.Toy == 0) {
		return errors.New("give a table (--data FILE) or the toy study's dimension (--toy D), one of them")
	}
	if s.Toy < 0 || c.Seeds < 1 || c.Rounds < 0 || c.Net.Steps < 1 || c.Net.Samples < 2 {
		return errors.New("--toy, --seeds, --rounds and --steps must be positive, --samples at least 2")
	}
	if !(c.RoundFrac > 0 && c.RoundFrac < 1) {
		return fmt.Errorf("--round-frac %v: want 0 < f < 1", c.RoundFrac)
	}
	for _, lists := range [][2][]string{{c.Models, Models}, {c.TALModels, Models}, {c.Criteria, Criteria}} {
		for _, v := range lists[0] {
			if !slices.Contains(lists[1], v) {
				return fmt.Errorf("%q is not one of %s", v, strings.Join(lists[1], ", "))
			}
		}
	}
	if len(c.Models) == 0 {
		return errors.New("--models is empty")
	}
	if s.Toy > 0 && len(c.Official) > 0 {
		return errors.New("--official predictions are of the UCI sets' splits, not of the toy study")
	}
	return nil
}

// Run runs the study and writes results.json, report.md and the plots to
// dir. It returns the report and the files written.
func (s *Study) Run(ctx context.Context, dir string) (*Report, []string, error) {
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	rep := &Report{Settings: s.Settings}
	if s.Toy > 0 {
		toy, err := RunToy(ctx, s.Toy, s.ToySeed, s.Config)
		if err != nil {
			return nil, nil, err
		}
		rep.Toy, rep.ToyDim = toy, s.Toy
	} else {
		tab, err := ReadTable(s.Data, s.Target)
		if err != nil {
			return nil, nil, err
		}
		res, err := Run(ctx, tab, s.Config)
		if err != nil {
			return nil, nil, err
		}
		rep.Results, rep.Data = res, filepath.Base(s.Data)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	if err := fsutil.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n')); err != nil {
		return nil, nil, err
	}
	files, err := rep.WriteFiles(dir)
	return rep, append([]string{filepath.Join(dir, "results.json")}, files...), err
}

// WriteFiles writes report.md and the plots of a report into dir and
// returns the files written.
func (r *Report) WriteFiles(dir string) ([]string, error) {
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		return nil, err
	}
	if err := fsutil.WriteFile(filepath.Join(dir, "report.md"), md.Bytes()); err != nil {
		return nil, err
	}
	plots, err := r.Plots(dir)
	if err != nil {
		return nil, err
	}
	return append([]string{filepath.Join(dir, "report.md")}, plots...), nil
}

// LoadReport reads dir/results.json of a corrbench study, reporting false
// when dir holds none.
func LoadReport(dir string) (*Report, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return nil, false, nil
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, false, fmt.Errorf("%s: %w", filepath.Join(dir, "results.json"), err)
	}
	if rep.Results == nil && rep.Toy == nil {
		return nil, false, nil
	}
	return &rep, true, nil
}

// Markdown returns the report's tables.
func (r *Report) Markdown() []byte {
	var md bytes.Buffer
	r.WriteMarkdown(&md)
	return md.Bytes()
}
