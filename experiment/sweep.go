package experiment

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Job is one training run of a sweep.
type Job struct {
	Method   string // "dense" trains without pruning
	Sparsity float64
	Seed     uint64
}

// Name is the run's folder name, <method>-<sparsity>-s<seed>.
func (j Job) Name() string {
	return fmt.Sprintf("%s-%s-s%d", j.Method, strconv.FormatFloat(j.Sparsity, 'g', -1, 64), j.Seed)
}

// Plan lists the jobs of every combination; "dense" runs once per seed.
func Plan(methods []string, sparsities []float64, seeds []uint64) []Job {
	var jobs []Job
	for _, m := range methods {
		for _, s := range sparsities {
			for _, seed := range seeds {
				if m == "dense" {
					s = 0
				}
				jobs = append(jobs, Job{m, s, seed})
			}
			if m == "dense" {
				break
			}
		}
	}
	return jobs
}

// State is how far a run folder got.
type State int

const (
	New         State = iota // nothing yet
	Interrupted              // a checkpoint but no summary: resume
	Finished                 // summary.json exists: skip
)

// StateOf inspects a run folder.
func StateOf(dir string) State {
	if _, err := os.Stat(filepath.Join(dir, "summary.json")); err == nil {
		return Finished
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); err == nil {
		return Interrupted
	}
	return New
}

// Sweep runs jobs as separate processes of a winnow binary, Jobs at a time.
type Sweep struct {
	Binary  string   // the winnow executable
	Out     string   // the sweep folder
	Args    []string // train flags shared by every run
	Jobs    int
	Threads int // threads of each run
	Log     io.Writer
}

// Run executes the jobs not finished yet (resuming interrupted ones) and
// prints a progress line whenever a run starts or ends.
func (s *Sweep) Run(ctx context.Context, jobs []Job) error {
	if err := os.MkdirAll(s.Out, 0o755); err != nil {
		return err
	}
	var todo []Job
	done := 0
	for _, j := range jobs {
		if StateOf(filepath.Join(s.Out, j.Name())) == Finished {
			done++
		} else {
			todo = append(todo, j)
		}
	}
	var mu sync.Mutex
	running := 0
	start := time.Now()
	finishedHere := 0
	status := func(event string) {
		left := len(jobs) - done - running
		eta := "unknown"
		if finishedHere > 0 {
			per := time.Since(start) / time.Duration(finishedHere)
			eta = (per * time.Duration(left+running) / time.Duration(max(1, s.Jobs))).Round(time.Second).String()
		}
		fmt.Fprintf(s.Log, "[%s] %d done, %d running, %d left, about %s to go: %s\n",
			time.Now().Format("15:04:05"), done, running, left, eta, event)
	}
	work := make(chan Job)
	errs := make(chan error, len(todo))
	var wg sync.WaitGroup
	for w := 0; w < max(1, s.Jobs); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				mu.Lock()
				running++
				status("started " + j.Name())
				mu.Unlock()
				err := s.runOne(ctx, j)
				mu.Lock()
				running--
				if err == nil {
					done++
					finishedHere++
					status("finished " + j.Name())
				} else {
					status(fmt.Sprintf("FAILED %s: %v", j.Name(), err))
					errs <- fmt.Errorf("%s: %w", j.Name(), err)
				}
				mu.Unlock()
			}
		}()
	}
	mu.Lock()
	status(fmt.Sprintf("%d runs in the sweep", len(jobs)))
	mu.Unlock()
feed:
	for _, j := range todo {
		select {
		case work <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := ctx.Err(); err != nil {
		return err
	}
	var failed []error
	for e := range errs {
		failed = append(failed, e)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d runs failed (logs in each run's log.txt); first: %w", len(failed), len(jobs), failed[0])
	}
	return nil
}

func (s *Sweep) runOne(ctx context.Context, j Job) error {
	dir := filepath.Join(s.Out, j.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	method := j.Method
	if method == "dense" {
		method = "none"
	}
	args := append([]string{"train"}, s.Args...)
	args = append(args, "--prune", method, "--sparsity", strconv.FormatFloat(j.Sparsity, 'g', -1, 64),
		"--seed", strconv.FormatUint(j.Seed, 10), "--out", dir, "--threads", strconv.Itoa(s.Threads))
	switch StateOf(dir) {
	case Interrupted:
		args = append(args, "--resume")
	case New:
		args = append(args, "--force") // a folder with a config but no checkpoint starts over
	}
	logf, err := os.OpenFile(filepath.Join(dir, "log.txt"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, s.Binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	return cmd.Run()
}
