package experiment

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

// ExitLocked is the exit status of winnow when the run folder it was given
// is held by another process (as restic's 11 for a locked repository).
const ExitLocked = 11

// Subprocess runs each run of a sweep as its own process of a winnow
// binary (winnow sweep run DIR --index I), its output in the run's
// log.txt. A child ends with its sweep: interrupted with it, and killed if
// the sweep is killed (on Linux, by the parent-death signal).
type Subprocess struct {
	Binary string
}

// Run implements Runner.
func (p Subprocess) Run(ctx context.Context, sweepDir string, index int, j Job, rt Runtime) error {
	if err := os.MkdirAll(rt.Out, 0o755); err != nil {
		return err
	}
	args := []string{"sweep", "run", sweepDir, "--index", strconv.Itoa(index), "--threads", strconv.Itoa(max(1, rt.Threads))}
	if rt.Force {
		args = append(args, "--force")
	}
	if c := checkpointFlag(rt.CheckpointEvery, rt.CheckpointInterval); c != "" {
		args = append(args, "--checkpoint-every", c)
	}
	logf, err := os.OpenFile(filepath.Join(rt.Out, "log.txt"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "[%s] %s %v\n", time.Now().Format(time.RFC3339), p.Binary, args)
	// The parent-death signal follows the thread that started the child:
	// this goroutine keeps its thread until the child is done.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.CommandContext(ctx, p.Binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 60 * time.Second
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == ExitLocked {
		return errLocked
	}
	if err != nil {
		return fmt.Errorf("%w (see %s)", err, filepath.Join(rt.Out, "log.txt"))
	}
	return nil
}

// checkpointFlag is --checkpoint-every's value for steps or an interval
// ("": none).
func checkpointFlag(steps int, interval time.Duration) string {
	switch {
	case steps > 0:
		return strconv.Itoa(steps)
	case interval > 0:
		return interval.String()
	}
	return ""
}
