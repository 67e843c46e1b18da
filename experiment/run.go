package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/internal/fsutil"
	"github.com/winnow-ml/winnow/internal/mem"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/safetensors"
	"github.com/winnow-ml/winnow/train"
	"github.com/winnow-ml/winnow/train/tensorboard"
)

// The files of a run folder.
const (
	ConfigFile      = "config.json"
	PruneReportFile = "prune-report.json"
	MaskFile        = "mask.safetensors"
	SummaryFile     = "summary.json"
	// ErrorFile holds why a run failed, until it starts again.
	ErrorFile = "error.txt"
)

// runFiles are the files a run writes, removed when it starts over.
var runFiles = []string{ConfigFile, PruneReportFile, MaskFile, train.CheckpointFile, train.MetricsFile, train.FinalFile, SummaryFile}

// Runtime are the settings of a run that do not change its result: they
// may differ on resume, and are recorded.
type Runtime struct {
	Out     string // the run folder (default runs/<Settings.RunName>)
	Resume  bool   // continue the run in Out from its checkpoint
	Force   bool   // start the run in Out over
	Threads int    // compute threads (0: as GOMAXPROCS is)
	Workers int    // data-loading goroutines (0: 2)

	// Log receives the pruning report, notes and progress lines (nil:
	// none); Progress, when set, receives the trainer's events instead of
	// the line progress LogEvery and LogInterval configure.
	Log         io.Writer
	Progress    train.Progress
	LogEvery    int
	LogInterval time.Duration

	CheckpointEvery    int           // steps between checkpoints within an epoch (0: none)
	CheckpointInterval time.Duration // time between them (0: none)

	impDir string // an IMP round's: the IMP run's folder

	// TensorBoard also writes TensorBoard event files to Out/tensorboard
	// (TensorBoardDir): the trainer's metrics, the settings as hparams.
	TensorBoard bool

	// Comm, with more than one process, makes the run data-parallel (see
	// train.Trainer): rank 0 locks the folder and writes the files, every
	// process trains on its share of each batch. BN is "sync" (BatchNorm
	// over the whole batch: the processes compute what one process
	// computes) or "local" (each process's shard, as PyTorch's DDP by
	// default; rank 0's running statistics are the run's).
	Comm dist.Comm
	BN   string

	Command []string // the command line, recorded in config.json
}

func (rt *Runtime) record() RuntimeRecord {
	r := RuntimeRecord{Threads: rt.Threads, Workers: rt.Workers, CheckpointEvery: rt.CheckpointEvery, Processes: dist.Or(rt.Comm).Size()}
	if r.Processes > 1 {
		r.BN = rt.BN
	}
	if rt.CheckpointInterval > 0 {
		r.CheckpointInterval = rt.CheckpointInterval.String()
	}
	return r
}

// progress is what receives a trainer's events.
func (rt *Runtime) progress() train.Progress {
	switch {
	case rt.Progress != nil:
		return rt.Progress
	case rt.Log != nil:
		return &train.LineProgress{W: rt.Log, Every: rt.LogEvery, Interval: rt.LogInterval}
	}
	return nil
}

func (rt *Runtime) logf(format string, a ...any) {
	if rt.Log != nil {
		fmt.Fprintf(rt.Log, format+"\n", a...)
	}
}

// Record is a run's config.json: its settings, and what ran it where.
type Record struct {
	Settings   Settings      `json:"settings"`
	Runtime    RuntimeRecord `json:"runtime"`
	Provenance Provenance    `json:"provenance"`
	Input      models.Input  `json:"input"`
	Data       DataRecord    `json:"data"`
	Notes      []string      `json:"notes,omitempty"`
	Resumes    []Resumed     `json:"resumes,omitempty"`
}

// RuntimeRecord is what config.json keeps of a Runtime.
type RuntimeRecord struct {
	Threads            int    `json:"threads"`
	Workers            int    `json:"workers"`
	CheckpointEvery    int    `json:"checkpoint_every,omitempty"`
	CheckpointInterval string `json:"checkpoint_interval,omitempty"`
	Processes          int    `json:"processes"`    // of a data-parallel run (1: one)
	BN                 string `json:"bn,omitempty"` // sync or local, with several processes
}

// DataRecord describes the data a run read: enough to check a resume
// against, and for PyTorch to normalise as the run did.
type DataRecord struct {
	Dir       string    `json:"dir"`
	Classes   int       `json:"classes"`
	Train     int       `json:"train_examples"` // after limit_train
	Test      int       `json:"test_examples"`
	Mean      []float32 `json:"mean"`
	Std       []float32 `json:"std"`
	StatsFrom string    `json:"mean_std_from,omitempty"`
	Crop      int       `json:"crop,omitempty"`
}

// Resumed records one resumption of a run.
type Resumed struct {
	Time       time.Time     `json:"time"`
	Epoch      int           `json:"epochs_done"`
	Step       int           `json:"step,omitempty"`
	Changes    []string      `json:"changes,omitempty"`
	Runtime    RuntimeRecord `json:"runtime"`
	Provenance Provenance    `json:"provenance"`
}

// ReadRecord reads a run folder's config.json.
func ReadRecord(dir string) (*Record, error) {
	var r Record
	if err := readJSON(filepath.Join(dir, ConfigFile), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Outcome is a finished training run.
type Outcome struct {
	Dir     string
	Summary train.Summary
	Report  *prune.Report // nil for a dense network
}

// InterruptedError is a run stopped by its context, with where it stands.
type InterruptedError struct {
	Dir   string
	Where string // the checkpoint kept, or that there is none
	Err   error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted: %s; winnow train --resume --out %s continues the run", e.Where, e.Dir)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// UsageError marks errors in how a run was asked for (a folder holding a
// run already, a resume with other settings), as opposed to failures of
// the run.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usage(format string, a ...any) error { return &UsageError{fmt.Errorf(format, a...)} }

// Train runs a training run in its folder: prunes the fresh network at
// initialisation (or trains it dense, or with given masks), trains it, and
// writes config.json, prune-report.json, mask.safetensors,
// checkpoint.safetensors, metrics.csv, final.safetensors and summary.json.
//
// The folder is locked while the run works in it (LockDir). A folder that
// holds a run already needs rt.Resume (the same Settings: the error lists
// the differences) or rt.Force. A run stopped anywhere (ctx cancelled:
// a checkpoint at the next step boundary; killed: the last checkpoint)
// and resumed ends with the same weights, bit for bit, as one never
// stopped.
func Train(ctx context.Context, s Settings, rt Runtime) (_ *Outcome, retErr error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.Prune == "none" {
		s.Sparsity = 0
	}
	if rt.Out == "" {
		rt.Out = filepath.Join("runs", s.RunName())
	}
	if s.Prune == "imp" && rt.impDir == "" {
		return trainIMP(ctx, s, rt)
	}
	if rt.Workers <= 0 {
		rt.Workers = 2
	}
	if rt.Threads <= 0 {
		rt.Threads = runtime.GOMAXPROCS(0)
	}
	if rt.BN == "" {
		rt.BN = "sync"
	}
	if rt.BN != "sync" && rt.BN != "local" {
		return nil, bad("bn", rt.BN, "want sync or local")
	}
	runtime.GOMAXPROCS(rt.Threads)
	comm := dist.Or(rt.Comm)
	root := comm.Rank() == 0 // the process that writes the run's files
	if !root {
		rt.Log, rt.Progress = nil, nil
	}

	// The run folder: rank 0 locks it, checks what it holds, and tells the
	// others whether the run resumes.
	ckpt := filepath.Join(rt.Out, train.CheckpointFile)
	var old *Record
	var changes []string
	var resuming bool
	if root {
		f, err := openFolder(s, &rt)
		if err == nil {
			defer f.lock.Unlock()
			defer func() { recordFailure(rt.Out, retErr) }()
			old, changes, resuming = f.old, f.changes, f.resuming
		}
		if err := dist.Agree(comm, err); err != nil {
			return nil, err
		}
	} else if err := dist.Agree(comm, nil); err != nil {
		return nil, err
	}
	flag := []byte{0}
	if resuming {
		flag[0] = 1
	}
	if err := comm.Broadcast(flag, 0); err != nil {
		return nil, err
	}
	resuming = flag[0] == 1

	st, err := Open(ctx, s)
	if err == nil {
		err = CheckTrainingMemory(st, mem.Available())
	}
	if err == nil {
		err = checkShards(st, comm.Size())
	}
	if err := dist.Agree(comm, err); err != nil {
		return nil, err
	}
	for _, n := range st.Notes {
		rt.logf("note: %s", n)
	}
	trainL, testL := st.Loaders(rt.Workers)
	if comm.Size() > 1 {
		trainL.Shard, trainL.Shards = comm.Rank(), comm.Size()
		testL.Shard, testL.Shards = comm.Rank(), comm.Size()
	}
	meta := map[string]string{"model": s.Model, "dataset": s.Dataset, "prune": s.Prune, "sparsity": strconv.FormatFloat(s.Sparsity, 'g', -1, 64), "seed": strconv.FormatUint(s.Seed, 10)}
	t := &train.Trainer{Model: st.Model, Train: trainL, Test: testL, Config: s.TrainConfig(), Meta: meta, Comm: comm, SyncBatchNorm: rt.BN == "sync",
		CheckpointEvery: rt.CheckpointEvery, CheckpointInterval: rt.CheckpointInterval}
	if root {
		t.Out = rt.Out
	}
	t.Progress = rt.progress()
	if root && rt.TensorBoard {
		tb, err := openTensorBoard(filepath.Join(rt.Out, TensorBoardDir), s, t.Progress)
		if err != nil {
			return nil, err
		}
		t.Progress = tb
		defer func() {
			status := 1 // success
			if retErr != nil {
				status = 2
				if errors.Is(retErr, context.Canceled) {
					status = 3 // to be resumed
				}
			}
			if err := tb.W.SessionEnd(status); err == nil {
				err = tb.Err()
			}
			if err := errors.Join(tb.Err(), tb.W.Close()); err != nil && retErr == nil {
				retErr = err
			}
		}()
	}
	record := newRecord(s, &rt, st)
	var report *prune.Report
	if resuming {
		err := func() error {
			if root {
				if err := checkSameData(old, record); err != nil {
					return &UsageError{fmt.Errorf("--resume %s: %w", rt.Out, err)}
				}
			}
			if err := train.ShapeLikeCheckpoint(ckpt, st.Model); err != nil {
				return err
			}
			return t.Resume(ckpt)
		}()
		if err := dist.Agree(comm, err); err != nil {
			return nil, err
		}
		epochs, steps := t.Position()
		where := fmt.Sprintf("after epoch %d of %d", epochs, s.Epochs)
		if steps > 0 {
			where = fmt.Sprintf("in epoch %d of %d, after step %d of %d", epochs+1, s.Epochs, steps, trainL.NumBatches())
		}
		rt.logf("resuming %s %s", rt.Out, where)
		if root {
			old.Settings, old.Runtime = s, rt.record()
			old.Resumes = append(old.Resumes, Resumed{Time: time.Now().UTC().Truncate(time.Second), Epoch: epochs, Step: steps,
				Changes: changes, Runtime: rt.record(), Provenance: record.Provenance})
			old.Data.Dir = record.Data.Dir
			record = old
			if err := train.WriteJSON(filepath.Join(rt.Out, ConfigFile), record); err != nil {
				return nil, err
			}
		}
	} else {
		// The record comes first: a run stopped while pruning can be
		// resumed (it starts afresh) with its settings checked.
		if root {
			if err := train.WriteJSON(filepath.Join(rt.Out, ConfigFile), record); err != nil {
				return nil, err
			}
		}
		if s.Prune == "imp" {
			report, err = prepareIMPRound(st, &rt)
		} else {
			report, err = prepare(ctx, st, &rt, comm)
		}
		if err := dist.Agree(comm, err); err != nil {
			if ctx.Err() != nil {
				return nil, &InterruptedError{Dir: rt.Out, Where: "stopped before training began, no checkpoint", Err: err}
			}
			return nil, err
		}
		if root {
			if len(st.Notes) > len(record.Notes) { // a warning of the pruning's
				record.Notes = st.Notes
				if err := train.WriteJSON(filepath.Join(rt.Out, ConfigFile), record); err != nil {
					return nil, err
				}
			}
			if report != nil {
				if err := train.WriteJSON(filepath.Join(rt.Out, PruneReportFile), report); err != nil {
					return nil, err
				}
			}
			if err := nn.SaveMasks(filepath.Join(rt.Out, MaskFile), st.Model, meta); err != nil {
				return nil, err
			}
		}
	}
	if s.Prune == "imp" {
		impHooks(t, s, &rt, !resuming)
	}
	if err := t.Run(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, &InterruptedError{Dir: rt.Out, Where: t.LastCheckpoint(), Err: err}
		}
		return nil, err
	}
	sum := t.Summarize(st.InputCHW())
	if root {
		if err := train.WriteJSON(filepath.Join(rt.Out, SummaryFile), sum); err != nil {
			return nil, err
		}
	}
	if report == nil && resuming {
		var rep prune.Report
		if readJSON(filepath.Join(rt.Out, PruneReportFile), &rep) == nil {
			report = &rep
		}
	}
	return &Outcome{Dir: rt.Out, Summary: sum, Report: report}, nil
}

// runFolder is a run folder opened for a run: locked, with the run it
// holds.
type runFolder struct {
	lock     *Lock
	old      *Record  // the run's record when resuming
	changes  []string // what the resume changes
	resuming bool     // a checkpoint to resume from
}

// openFolder locks the run folder and checks what it holds against the
// runtime's resume or force.
func openFolder(s Settings, rt *Runtime) (*runFolder, error) {
	if err := os.MkdirAll(rt.Out, 0o755); err != nil {
		return nil, err
	}
	lock, err := LockDir(rt.Out)
	if err != nil {
		return nil, err
	}
	f := &runFolder{lock: lock}
	fail := func(err error) (*runFolder, error) {
		lock.Unlock()
		return nil, err
	}
	os.Remove(filepath.Join(rt.Out, ErrorFile))
	if removed, err := fsutil.CleanTemp(rt.Out); err != nil {
		return fail(err)
	} else if len(removed) > 0 {
		rt.logf("removed %d temporary files a killed run left in %s", len(removed), rt.Out)
	}
	ckpt := filepath.Join(rt.Out, train.CheckpointFile)
	_, statErr := os.Stat(ckpt)
	hasCheckpoint := statErr == nil
	old, recErr := ReadRecord(rt.Out)
	_, cfgErr := os.Stat(filepath.Join(rt.Out, ConfigFile))
	started := cfgErr == nil
	switch {
	case rt.Force:
		if err := clearRun(rt.Out); err != nil {
			return fail(err)
		}
		hasCheckpoint, started, old = false, false, nil
	case rt.Resume && !started && !hasCheckpoint:
		return fail(usage("--resume: %s holds no run (no %s)", rt.Out, ConfigFile))
	case rt.Resume && recErr != nil:
		return fail(fmt.Errorf("--resume: %w", recErr))
	case !rt.Resume && (hasCheckpoint || started):
		return fail(usage("%s holds a run already: --resume to continue it, --force to start over", rt.Out))
	}
	f.old, f.resuming = old, rt.Resume && hasCheckpoint
	if rt.Resume {
		epochs, _ := checkpointEpochs(ckpt)
		if f.changes, err = ResumeChanges(old.Settings, s, epochs); err != nil {
			return fail(&UsageError{fmt.Errorf("--resume %s: %w", rt.Out, err)})
		}
		if !hasCheckpoint {
			rt.logf("%s holds no checkpoint: the run stopped before its first one; starting it afresh", rt.Out)
		}
	}
	return f, nil
}

// checkShards refuses a data-parallel run whose batches some process would
// get none of: every process needs an example of every step.
func checkShards(st *Setup, ranks int) error {
	if ranks == 1 {
		return nil
	}
	b, n := st.Settings.BatchSize, st.Train.Len()
	if b < ranks {
		return bad("batch-size", b, "smaller than the %d processes of the run: each takes a share of every batch", ranks)
	}
	if r := n % b; r != 0 && r < ranks {
		return bad("batch-size", b, "leaves a last batch of %d examples for %d processes: choose a batch size or --limit-train that leaves at least one example each", r, ranks)
	}
	return nil
}

// recordFailure writes why a run failed to its folder (not for
// interruptions or bad usage, which the run did not cause).
func recordFailure(dir string, err error) {
	var ie *InterruptedError
	var ue *UsageError
	var se *SettingError
	if err == nil || errors.As(err, &ie) || errors.As(err, &ue) || errors.As(err, &se) {
		return
	}
	fsutil.WriteFile(filepath.Join(dir, ErrorFile), []byte(err.Error()+"\n"))
}

// prepare gives a fresh run's network its starting point: the --init
// network (masks kept), the --mask masks, or the masks of pruning at
// initialisation. It returns the per-layer report of a masked network.
func prepare(ctx context.Context, st *Setup, rt *Runtime, comm dist.Comm) (*prune.Report, error) {
	s := st.Settings
	masked := false
	if s.Init != "" {
		var err error
		if masked, err = st.LoadNetwork(s.Init); err != nil {
			return nil, fmt.Errorf("--init: %w (is --model %s the network the file holds?)", err, s.Model)
		}
		if masked && s.Prune != "none" {
			return nil, bad("prune", s.Prune, "the --init network %s carries masks: give --prune none to train it with them", s.Init)
		}
	}
	if s.Mask != "" {
		if err := LoadMasks(s.Mask, st.Model); err != nil {
			return nil, fmt.Errorf("--mask: %w", err)
		}
		masked = true
	}
	if s.Prune == "none" {
		if !masked {
			return nil, nil
		}
		if err := checkCollapse(st, rt); err != nil {
			return nil, err
		}
		method := "mask"
		if s.Mask == "" {
			method = "init"
		}
		kept, total := nn.Density(st.Model)
		r := prune.NewReport(st.Model, st.InputCHW(), method, 1-float64(kept)/float64(total))
		if rt.Log != nil {
			rt.logf("training with the masks of %s", s.Mask+s.Init)
			r.WriteTable(rt.Log)
		}
		return &r, nil
	}
	if s.PreEpochs > 0 {
		report, err := pruneEarly(ctx, st, rt, comm)
		if err != nil {
			return nil, err
		}
		if err := checkCollapse(st, rt); err != nil {
			return nil, err
		}
		if rt.Log != nil {
			rt.logf("%s pruning after %d epochs of training, at sparsity %g", s.Prune, s.PreEpochs, s.Sparsity)
			report.WriteTable(rt.Log)
		}
		return report, nil
	}
	start := time.Now()
	p, err := pruneAtInit(ctx, st, comm)
	if err != nil {
		return nil, err
	}
	if err := checkCollapse(st, rt); err != nil {
		return nil, err
	}
	if rt.Log != nil {
		rt.logf("%s pruning at sparsity %g took %.1f s", s.Prune, s.Sparsity, time.Since(start).Seconds())
		p.Report.WriteTable(rt.Log)
	}
	return &p.Report, nil
}

// LoadMasks puts the masks of a file on m: winnow's mask.safetensors,
// a checkpoint's mask/ tensors, or tensors named <layer>.weight_mask as
// torch.nn.utils.prune saves them.
func LoadMasks(path string, m nn.Module[float32]) error {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return err
	}
	var masks []safetensors.Tensor
	for _, t := range f.Tensors {
		switch {
		case strings.HasPrefix(t.Name, "mask/"):
			t.Name = t.Name[len("mask/"):]
		case strings.HasSuffix(t.Name, ".weight_mask"):
			t.Name = strings.TrimSuffix(t.Name, "_mask")
		case strings.Contains(t.Name, "/"), strings.HasSuffix(t.Name, "_orig"):
			continue // a checkpoint's or torch's other tensors
		}
		masks = append(masks, t)
	}
	if len(masks) == 0 {
		return fmt.Errorf("%s holds no masks", path)
	}
	if err := nn.SetMasks(m, masks); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func newRecord(s Settings, rt *Runtime, st *Setup) *Record {
	return &Record{Settings: s, Runtime: rt.record(), Provenance: NewProvenance(rt.Command), Input: st.Input,
		Data: DataRecord{Dir: st.Data.Dir, Classes: st.Input.Classes, Train: st.Train.Len(), Test: st.Test.Len(),
			Mean: st.Info.Mean, Std: st.Info.Std, StatsFrom: st.Info.StatsFrom, Crop: st.Info.Crop},
		Notes: st.Notes}
}

// checkSameData refuses a resume on other data than the run's.
func checkSameData(old, now *Record) error {
	a, b := old.Data, now.Data
	if a.Classes != b.Classes || a.Train != b.Train || a.Test != b.Test {
		return fmt.Errorf("the data differ from the run's: %d classes, %d training and %d test examples in %s, the run had %d, %d and %d from %s",
			b.Classes, b.Train, b.Test, b.Dir, a.Classes, a.Train, a.Test, a.Dir)
	}
	if !slices.Equal(a.Mean, b.Mean) || !slices.Equal(a.Std, b.Std) {
		return fmt.Errorf("the normalisation differs from the run's: mean %v std %v, the run had %v and %v", b.Mean, b.Std, a.Mean, a.Std)
	}
	return nil
}

// checkpointEpochs reads the epochs a checkpoint has done from its header.
func checkpointEpochs(path string) (int, error) {
	meta, err := safetensors.ReadMetadata(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(meta["epoch"])
}

// TensorBoardDir is the folder of a run's TensorBoard event files.
const TensorBoardDir = "tensorboard"

// openTensorBoard starts a new event file in dir with the settings as the
// session's hparams (numbers, strings and bools; lists as text).
func openTensorBoard(dir string, s Settings, next train.Progress) (*tensorboard.Progress, error) {
	w, err := tensorboard.Create(dir)
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(s)
	var all map[string]any
	json.Unmarshal(b, &all)
	hp := map[string]tensorboard.HParam{}
	for k, v := range all {
		switch v.(type) {
		case string, float64, bool:
			hp[k] = v
		default:
			hp[k] = fmt.Sprint(v)
		}
	}
	if err := w.SessionStart(hp, ""); err != nil {
		w.Close()
		return nil, err
	}
	return &tensorboard.Progress{W: w, Next: next}, nil
}
