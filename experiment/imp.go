package experiment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/train"
)

// RewindFile is an IMP run's network at its rewinding step.
const RewindFile = "rewind.safetensors"

// roundDir is the folder of round r of the IMP run in dir.
func roundDir(dir string, r int) string { return filepath.Join(dir, fmt.Sprintf("round-%d", r)) }

// roundSparsity is the sparsity after round r of s.Rounds: each round
// removes the same fraction of the weights left, 1-(1-p)^(1/R), to p.
func roundSparsity(s Settings, r int) float64 {
	return prune.StepSparsity(s.Sparsity, r, s.Rounds)
}

// trainIMP runs iterative magnitude pruning with rewinding in rt.Out (see
// Train): round 0 trains the dense network, keeping it at step
// s.RewindStep in rewind.safetensors; round r prunes, by magnitude, the
// fraction of the weights round r-1 left that takes it to
// roundSparsity(r), rewinds the survivors to that step and trains them
// from it to the end of the schedule. Round r is a run of its own in
// round-r (its record says which round); the folder's summary.json is the
// last round's.
func trainIMP(ctx context.Context, s Settings, rt Runtime) (_ *Outcome, retErr error) {
	if dist.Or(rt.Comm).Size() > 1 {
		return nil, bad("prune", s.Prune, "iterative magnitude pruning runs in one process")
	}
	f, err := openFolder(s, &rt)
	if err != nil {
		return nil, err
	}
	defer f.lock.Unlock()
	defer func() { recordFailure(rt.Out, retErr) }()
	if rt.Force {
		for r := 0; r <= s.Rounds; r++ {
			if err := os.RemoveAll(roundDir(rt.Out, r)); err != nil {
				return nil, err
			}
		}
		os.Remove(filepath.Join(rt.Out, RewindFile))
	}
	rec := f.old
	if rec == nil {
		rec = &Record{Settings: s, Runtime: rt.record(), Provenance: NewProvenance(rt.Command)}
	} else {
		rec.Settings = s
		rec.Resumes = append(rec.Resumes, Resumed{Time: time.Now().UTC().Truncate(time.Second), Changes: f.changes, Runtime: rt.record(),
			Provenance: NewProvenance(rt.Command)})
	}
	if err := train.WriteJSON(filepath.Join(rt.Out, ConfigFile), rec); err != nil {
		return nil, err
	}
	var out *Outcome
	for r := 0; r <= s.Rounds; r++ {
		rs := s
		rs.Round, rs.Sparsity = r, roundSparsity(s, r)
		rrt := rt
		rrt.Out, rrt.impDir, rrt.Force = roundDir(rt.Out, r), rt.Out, false
		state := StateOf(rrt.Out)
		rrt.Resume = state != New
		if state == Finished {
			var sum train.Summary
			if err := readJSON(filepath.Join(rrt.Out, SummaryFile), &sum); err != nil {
				return nil, err
			}
			out = &Outcome{Dir: rrt.Out, Summary: sum}
			rt.logf("IMP round %d of %d (sparsity %.4g): done already in %s", r, s.Rounds, rs.Sparsity, rrt.Out)
			continue
		}
		rt.logf("IMP round %d of %d: sparsity %.4g in %s", r, s.Rounds, rs.Sparsity, rrt.Out)
		if out, err = Train(ctx, rs, rrt); err != nil {
			return nil, fmt.Errorf("IMP round %d: %w", r, err)
		}
	}
	if err := train.WriteJSON(filepath.Join(rt.Out, SummaryFile), out.Summary); err != nil {
		return nil, err
	}
	out.Dir = rt.Out
	return out, nil
}

// prepareIMPRound gives round s.Round of an IMP run its starting point:
// round 0 the fresh network (saved as the rewind point when the rewinding
// step is 0), a later round the rewind point with the masks of magnitude
// pruning the previous round's trained network.
func prepareIMPRound(st *Setup, rt *Runtime) (*prune.Report, error) {
	s := st.Settings
	rewind := filepath.Join(rt.impDir, RewindFile)
	if s.Round == 0 {
		trainL, _ := st.Loaders(1)
		if steps := s.Epochs * trainL.NumBatches(); s.RewindStep >= steps {
			return nil, bad("rewind", s.RewindStep, "beyond the run's %d steps (%d epochs of %d)", steps, s.Epochs, trainL.NumBatches())
		}
		if s.RewindStep == 0 {
			return nil, nn.SaveState(rewind, st.Model, nil)
		}
		return nil, nil
	}
	if _, err := st.LoadNetwork(rewind); err != nil {
		return nil, fmt.Errorf("IMP round %d: the rewind point: %w", s.Round, err)
	}
	prev, err := models.New[float32](s.Model, st.Input, models.Options{Width: s.Width}, s.Seed)
	if err != nil {
		return nil, err
	}
	prevFinal := filepath.Join(roundDir(rt.impDir, s.Round-1), train.FinalFile)
	if _, err := train.LoadNetwork(prevFinal, prev); err != nil {
		return nil, fmt.Errorf("IMP round %d: round %d's network: %w", s.Round, s.Round-1, err)
	}
	if s.Round > 1 {
		if err := LoadMasks(filepath.Join(roundDir(rt.impDir, s.Round-1), MaskFile), prev); err != nil {
			return nil, fmt.Errorf("IMP round %d: round %d's masks: %w", s.Round, s.Round-1, err)
		}
	}
	masks, err := prune.IterativeMagnitude(prev, s.Sparsity, prune.Scope(s.Scope), s.MinLayerDensity)
	if err != nil {
		return nil, err
	}
	if err := prune.ApplyMasks(st.Model, masks); err != nil {
		return nil, err
	}
	if err := checkCollapse(st, rt); err != nil {
		return nil, err
	}
	r := prune.NewReport(st.Model, st.InputCHW(), "imp", s.Sparsity)
	if rt.Log != nil {
		r.WriteTable(rt.Log)
	}
	return &r, nil
}

// impHooks sets the trainer of an IMP round: round 0 keeps its network at
// the rewinding step (k > 0), later rounds start at step k.
func impHooks(t *train.Trainer, s Settings, rt *Runtime, fresh bool) {
	k := s.RewindStep
	switch {
	case s.Round == 0 && k > 0:
		rewind := filepath.Join(rt.impDir, RewindFile)
		t.OnStep = func(step int) error {
			if step != k {
				return nil
			}
			return nn.SaveState(rewind, t.Model, nil)
		}
	case s.Round > 0 && fresh:
		t.StartStep = k
	}
}
