package data

import (
	"context"
	"fmt"
	"math/rand/v2"
)

// SplitReport is a split's size.
type SplitReport struct {
	Split    Split `json:"split"`
	Examples int   `json:"examples"`
}

// CheckReport is what Check found.
type CheckReport struct {
	Dataset string        `json:"dataset"`
	Dir     string        `json:"dir"`
	Classes int           `json:"classes"`
	Splits  []SplitReport `json:"splits"`
	// Mean and Std are the pixels' statistics over Sample random training
	// images; Normalize is what training normalises with (the dataset's
	// conventional values, or a folder's own statistics).
	Mean      []float64 `json:"mean"`
	Std       []float64 `json:"std"`
	Sample    int       `json:"sample"`
	NormMean  []float32 `json:"normalize_mean"`
	NormStd   []float32 `json:"normalize_std"`
	NormFrom  string    `json:"normalize_from"`
	Checked   int       `json:"checked"`
	Notes     []string  `json:"notes,omitempty"`
	ImageSize [3]int    `json:"input"`
}

// Check opens both splits of a dataset (OpenSplits), decodes every example
// (a check of every file) and computes the pixels' statistics of a random
// sample of the training split.
func Check(ctx context.Context, name, dir string, o Options, sample int) (*CheckReport, error) {
	if sample < 1 {
		return nil, fmt.Errorf("data: a sample of %d examples", sample)
	}
	s, err := OpenSplits(name, dir, o)
	if err != nil {
		return nil, err
	}
	rep := &CheckReport{Dataset: name, Dir: s.Dir, Classes: s.Train.Classes(), Notes: s.Notes,
		NormMean: s.Info.Mean, NormStd: s.Info.Std, NormFrom: s.Info.StatsFrom,
		ImageSize: [3]int{s.Info.Channels, s.Info.Height, s.Info.Width}}
	if rep.NormFrom == "" {
		rep.NormFrom = "the dataset's conventional values"
	}
	for _, sp := range []struct {
		split Split
		ds    Dataset
	}{{Train, s.Train}, {Test, s.Test}} {
		rep.Splits = append(rep.Splits, SplitReport{sp.split, sp.ds.Len()})
		var ex Example
		for i := 0; i < sp.ds.Len(); i++ {
			if i%1024 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err := sp.ds.Get(i, &ex); err != nil {
				return nil, fmt.Errorf("%s split: %w", sp.split, err)
			}
			if ex.Label < 0 || ex.Label >= sp.ds.Classes() {
				return nil, fmt.Errorf("%s split: example %d has label %d outside [0, %d)", sp.split, i, ex.Label, sp.ds.Classes())
			}
			rep.Checked++
		}
	}
	idx := rand.New(rand.NewPCG(0, 0)).Perm(s.Train.Len())
	if len(idx) > sample {
		idx = idx[:sample]
	}
	st, err := ChannelStats(s.Train, idx)
	if err != nil {
		return nil, err
	}
	rep.Mean, rep.Std, rep.Sample = st.Mean, st.Std, st.Images
	return rep, nil
}
