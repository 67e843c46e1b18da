package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/train"
)

// Job is one run of a sweep: its folder's name under the sweep's, and its
// full settings.
type Job struct {
	Name     string   `json:"name"`
	Settings Settings `json:"settings"`
}

// Plan is a sweep: every combination of methods, sparsities and seeds on
// one base configuration. It is written to the sweep folder as sweep.json,
// from which each run can be started by its index (winnow sweep run).
type Plan struct {
	Base       Settings  `json:"base"`
	Methods    []string  `json:"methods"`
	Sparsities []float64 `json:"sparsities"`
	Seeds      []uint64  `json:"seeds"`
	Jobs       []Job     `json:"runs"`
}

// PlanFile is a sweep's plan in its folder.
const PlanFile = "sweep.json"

// JobName is a run's folder name, <method>-<sparsity>-s<seed>.
func JobName(method string, sparsity float64, seed uint64) string {
	return fmt.Sprintf("%s-%s-s%d", method, strconv.FormatFloat(sparsity, 'g', -1, 64), seed)
}

// NewPlan lists the runs of every combination; "dense" (no pruning) runs
// once per seed. Every run's settings are validated.
func NewPlan(base Settings, methods []string, sparsities []float64, seeds []uint64) (*Plan, error) {
	p := &Plan{Base: base, Methods: methods, Sparsities: sparsities, Seeds: seeds}
	if len(methods) == 0 || len(seeds) == 0 || (len(sparsities) == 0 && !onlyDense(methods)) {
		return nil, bad("methods", nil, "a sweep needs methods, sparsities and seeds")
	}
	for _, m := range methods {
		levels := sparsities
		if m == "dense" {
			levels = []float64{0}
		}
		for _, sp := range levels {
			for _, seed := range seeds {
				s := base
				s.Prune, s.Sparsity, s.Seed = m, sp, seed
				if m == "dense" {
					s.Prune = "none"
				}
				if err := s.Validate(); err != nil {
					return nil, fmt.Errorf("run %s: %w", JobName(m, sp, seed), err)
				}
				p.Jobs = append(p.Jobs, Job{JobName(m, sp, seed), s})
			}
		}
	}
	return p, nil
}

// PlanFromLists is NewPlan of comma-separated lists, as the command line
// gives them: methods ("dense" among them for no pruning), sparsities and
// seeds.
func PlanFromLists(base Settings, methods, sparsities, seeds string) (*Plan, error) {
	var ms []string
	for _, m := range strings.Split(methods, ",") {
		m = strings.TrimSpace(m)
		if m != "dense" && !slices.Contains(prune.Methods, m) {
			return nil, bad("methods", m, "unknown method (dense, %s)", strings.Join(prune.Methods, ", "))
		}
		ms = append(ms, m)
	}
	var sp []float64
	for _, s := range strings.Split(sparsities, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || !(v >= 0 && v < 1) {
			return nil, bad("sparsity", s, "want fractions in [0, 1)")
		}
		sp = append(sp, v)
	}
	var sd []uint64
	for _, s := range strings.Split(seeds, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, bad("seeds", s, "not a seed")
		}
		sd = append(sd, v)
	}
	return NewPlan(base, ms, sp, sd)
}

func onlyDense(methods []string) bool {
	for _, m := range methods {
		if m != "dense" {
			return false
		}
	}
	return true
}

// WritePlan writes the plan to dir/sweep.json.
func (p *Plan) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return train.WriteJSON(filepath.Join(dir, PlanFile), p)
}

// ReadPlan reads dir/sweep.json.
func ReadPlan(dir string) (*Plan, error) {
	var p Plan
	if err := readJSON(filepath.Join(dir, PlanFile), &p); err != nil {
		return nil, fmt.Errorf("%s is not a sweep folder: %w", dir, err)
	}
	if len(p.Jobs) == 0 {
		return nil, fmt.Errorf("%s: the plan lists no runs", filepath.Join(dir, PlanFile))
	}
	return &p, nil
}

// State is how far a run folder got.
type State int

const (
	New         State = iota // nothing yet
	Interrupted              // started, not finished: resume
	Finished                 // summary.json exists
)

func (s State) String() string {
	return [...]string{"pending", "interrupted", "done"}[s]
}

// StateOf inspects a run folder.
func StateOf(dir string) State {
	if _, err := os.Stat(filepath.Join(dir, SummaryFile)); err == nil {
		return Finished
	}
	for _, f := range []string{train.CheckpointFile, ConfigFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return Interrupted
		}
	}
	return New
}

// JobStatus is where a run of a sweep stands.
type JobStatus struct {
	Job      Job
	State    State
	Holder   string   // the process working on it, if one is
	Conflict []string // settings of the folder's run that differ from the plan's
	Epochs   int      // epochs done
}

// Inspect reports where a run of the sweep in dir stands.
func Inspect(dir string, j Job) JobStatus {
	d := filepath.Join(dir, j.Name)
	st := JobStatus{Job: j, State: StateOf(d), Holder: Holder(d)}
	if st.State == New {
		return st
	}
	rec, err := ReadRecord(d)
	if err != nil {
		st.Conflict = []string{fmt.Sprintf("unreadable %s: %v", ConfigFile, err)}
		return st
	}
	st.Conflict = Diff(rec.Settings, j.Settings)
	if meta, err := readCheckpointEpochs(d); err == nil {
		st.Epochs = meta
	}
	if st.State == Finished && rec.Settings.Epochs != j.Settings.Epochs {
		st.State = Interrupted // more epochs asked for: resume (if the schedule allows it)
	}
	return st
}

func readCheckpointEpochs(dir string) (int, error) {
	return checkpointEpochs(filepath.Join(dir, train.CheckpointFile))
}

// Runner runs one run of a sweep.
type Runner interface {
	Run(ctx context.Context, sweepDir string, index int, j Job, rt Runtime) error
}

// InProcess runs a sweep's runs in this process (Train).
type InProcess struct{}

// Run implements Runner.
func (InProcess) Run(ctx context.Context, _ string, _ int, j Job, rt Runtime) error {
	_, err := Train(ctx, j.Settings, rt)
	return err
}

// Sweep runs the runs of a plan in a sweep folder, Jobs at a time: runs
// finished with the plan's settings are skipped, interrupted ones resumed.
// A folder holding a run of other settings is an error naming the
// differences, unless Force starts every run over.
type Sweep struct {
	Dir     string
	Plan    *Plan
	Jobs    int    // runs at once
	Threads int    // threads of each run
	Force   bool   // start every run over
	Runner  Runner // nil: InProcess
	// CheckpointEvery and CheckpointInterval are each run's checkpoints
	// within epochs, as Runtime's.
	CheckpointEvery    int
	CheckpointInterval time.Duration
	Log                io.Writer
}

// Run writes the plan and executes the runs not finished yet, printing a
// progress line whenever a run starts or ends.
func (s *Sweep) Run(ctx context.Context) error {
	if err := s.Plan.Write(s.Dir); err != nil {
		return err
	}
	runner := s.Runner
	if runner == nil {
		runner = InProcess{}
	}
	type item struct {
		index int
		job   Job
		state State
	}
	var todo []item
	var conflicts []string
	done, elsewhere := 0, 0
	for i, j := range s.Plan.Jobs {
		st := Inspect(s.Dir, j)
		switch {
		case st.Holder != "":
			elsewhere++
			fmt.Fprintf(s.Log, "%s: in use by %s, left to it\n", j.Name, st.Holder)
		case s.Force:
			todo = append(todo, item{i, j, New})
		case len(st.Conflict) > 0:
			conflicts = append(conflicts, fmt.Sprintf("%s (%s)", j.Name, strings.Join(st.Conflict, "; ")))
		case st.State == Finished:
			done++
		default:
			todo = append(todo, item{i, j, st.State})
		}
	}
	if len(conflicts) > 0 {
		return usage("%s holds runs of other settings than this sweep's: %s. Sweep into another --out, or --force to start every run over",
			s.Dir, strings.Join(conflicts, ", "))
	}
	var mu sync.Mutex
	running, finishedHere := 0, 0
	start := time.Now()
	total := len(s.Plan.Jobs)
	status := func(event string) {
		left := total - done - running - elsewhere
		eta := "unknown"
		if finishedHere > 0 {
			per := time.Since(start) / time.Duration(finishedHere)
			eta = (per * time.Duration(left+running) / time.Duration(max(1, s.Jobs))).Round(time.Second).String()
		}
		fmt.Fprintf(s.Log, "[%s] %d done, %d running, %d left, about %s to go: %s\n",
			time.Now().Format("15:04:05"), done, running, left, eta, event)
	}
	work := make(chan item)
	var failed []error
	var wg sync.WaitGroup
	for w := 0; w < max(1, s.Jobs); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				mu.Lock()
				running++
				status("started " + it.job.Name)
				mu.Unlock()
				rt := Runtime{Out: filepath.Join(s.Dir, it.job.Name), Threads: s.Threads, Force: it.state == New, Resume: it.state == Interrupted,
					CheckpointEvery: s.CheckpointEvery, CheckpointInterval: s.CheckpointInterval}
				err := runner.Run(ctx, s.Dir, it.index, it.job, rt)
				mu.Lock()
				running--
				var le *LockedError
				switch {
				case err == nil:
					done++
					finishedHere++
					status("finished " + it.job.Name)
				case errors.As(err, &le) || errors.Is(err, errLocked):
					elsewhere++
					status(fmt.Sprintf("%s taken by another process: %v", it.job.Name, err))
				case ctx.Err() != nil:
				default:
					status(fmt.Sprintf("FAILED %s: %v", it.job.Name, err))
					failed = append(failed, fmt.Errorf("%s: %w", it.job.Name, err))
				}
				mu.Unlock()
			}
		}()
	}
	mu.Lock()
	status(fmt.Sprintf("%d runs in the sweep", total))
	mu.Unlock()
feed:
	for _, it := range todo {
		select {
		case work <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d runs failed (each run's log.txt says why); first: %w", len(failed), total, failed[0])
	}
	return nil
}

// errLocked is what a subprocess runner reports for a run whose folder
// another process holds (the child's exit status ExitLocked).
var errLocked = errors.New("the run folder is locked by another process")
