package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/winnow-ml/winnow/experiment"
)

// perRunFlags are train's flags a sweep sets per run, or that say how a
// run runs rather than what it computes (--bn: how processes under mpirun
// share BatchNorm; a sweep's runs are one process each).
var perRunFlags = map[string]bool{"bn": true, "prune": true, "sparsity": true, "seed": true, "out": true, "resume": true, "force": true, "quiet": true,
	"threads": true, "workers": true, "log-every": true, "log-interval": true, "checkpoint-every": true, "dry-run": true, "tensorboard": true}

// flagValue is a valid value other than the default for each flag.
func flagValue(f *pflag.Flag) string {
	switch f.Name {
	case "model":
		return "vgg11"
	case "dataset":
		return "fashion-mnist"
	case "schedule":
		return "cosine"
	case "scope":
		return "local"
	case "mean":
		return "0.25"
	case "std":
		return "0.5"
	case "preset":
		return ""
	case "crop", "image-size":
		return "" // valid only with their datasets: checked apart
	case "min-layer-density":
		return "0.005"
	case "momentum":
		return "0.5"
	case "optimizer":
		return "adam"
	case "pre-epochs", "rounds", "rewind":
		return "" // valid only with a pruning method (imp's): checked apart
	}
	switch f.Value.Type() {
	case "bool":
		v, _ := strconv.ParseBool(f.DefValue)
		return strconv.FormatBool(!v)
	case "int", "uint64":
		v, _ := strconv.Atoi(f.DefValue)
		return strconv.Itoa(v + 3)
	case "float64":
		v, _ := strconv.ParseFloat(f.DefValue, 64)
		return strconv.FormatFloat(v*0.5+0.125, 'g', -1, 64)
	case "string":
		return "/some/file.safetensors"
	}
	return ""
}

// TestEveryTrainFlagRoundTripsThroughSweep: each of train's flags, given to
// winnow sweep, reaches every run of the plan with the value train would
// take (--mean and --std once arrived as "[0.130700]").
func TestEveryTrainFlagRoundTripsThroughSweep(t *testing.T) {
	sweepFlags := newSweepCommand().Flags()
	checked := 0
	newTrainCommand().Flags().VisitAll(func(f *pflag.Flag) {
		if perRunFlags[f.Name] {
			return
		}
		if sweepFlags.Lookup(f.Name) == nil {
			t.Errorf("--%s is a train flag that sweep does not take", f.Name)
			return
		}
		v := flagValue(f)
		if v == "" {
			return
		}
		extra := []string{"--" + f.Name + "=" + v}
		switch f.Name {
		case "mean":
			extra = append(extra, "--std=0.5")
		case "std":
			extra = append(extra, "--mean=0.25")
		case "mask":
			// with --prune none, which dense is
		}
		trainOut, code := run(t, append([]string{"train", "--prune", "none", "--seed", "1", "--dry-run"}, extra...)...)
		if code != 0 {
			t.Errorf("train --%s=%s: exit %d: %s", f.Name, v, code, trainOut)
			return
		}
		var want experiment.Settings
		if err := json.Unmarshal([]byte(trainOut), &want); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		out, code := run(t, append([]string{"sweep", "--methods", "dense", "--seeds", "1", "--out", dir, "--dry-run"}, extra...)...)
		if code != 0 {
			t.Errorf("sweep --%s=%s: exit %d: %s", f.Name, v, code, out)
			return
		}
		plan, err := experiment.ReadPlan(dir)
		if err != nil {
			t.Fatal(err)
		}
		got := plan.Jobs[0].Settings
		if d := experiment.Diff(want, got); len(d) > 0 || got.Epochs != want.Epochs || got.DataDir != want.DataDir {
			t.Errorf("--%s=%s: the sweep's run differs from train's: %v", f.Name, v, d)
		}
		checked++
	})
	t.Logf("%d flags checked", checked)
	if checked < 20 {
		t.Errorf("only %d flags checked", checked)
	}
}

// TestSweepRefusesOtherSettings: a sweep into a folder holding runs of
// other settings names them instead of reporting them done; --force starts
// them over.
func TestSweepRefusesOtherSettings(t *testing.T) {
	dir := t.TempDir()
	args := []string{"sweep", "--model", "lenet300", "--methods", "magnitude", "--sparsity", "0.5", "--seeds", "1", "--epochs", "1",
		"--limit-train", "200", "--limit-test", "100", "--batch-size", "50", "--out", dir, "--in-process"}
	if out, code := run(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	other := append(append([]string{}, args...), "--lr", "0.05")
	out, code := run(t, other...)
	if code != 2 || !strings.Contains(out, "magnitude-0.5-s1") || !strings.Contains(out, "lr: 0.1 -> 0.05") {
		t.Errorf("a sweep with another --lr: exit %d: %s", code, out)
	}
	out, code = run(t, append(other, "--force")...)
	if code != 0 || !strings.Contains(out, "finished magnitude-0.5-s1") {
		t.Errorf("--force: exit %d: %s", code, out)
	}
	rec, err := experiment.ReadRecord(filepath.Join(dir, "magnitude-0.5-s1"))
	if err != nil || rec.Settings.LR != 0.05 {
		t.Errorf("after --force the run has lr %v (%v)", rec.Settings.LR, err)
	}
	// The same sweep again: done, nothing started.
	out, code = run(t, append(other, "--force=false")...)
	if code != 0 || strings.Contains(out, "started") {
		t.Errorf("rerun: exit %d: %s", code, out)
	}
}

// buildWinnow builds the binary once per test that needs it.
func buildWinnow(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "winnow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestOneRunFolderOneProcess: a second process on a run folder in use is
// refused (exit 11) naming the holder; a sweep killed with SIGKILL takes
// its child with it, and the child's lock is then taken over.
func TestOneRunFolderOneProcess(t *testing.T) {
	bin := buildWinnow(t)
	dir := filepath.Join(t.TempDir(), "run")
	long := []string{"train", "--model", "lenet300", "--prune", "none", "--epochs", "50", "--limit-train", "2000", "--batch-size", "10", "--out", dir}
	first := exec.Command(bin, long...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	waitFor(t, filepath.Join(dir, experiment.LockFile))
	out, err := exec.Command(bin, append(long, "--force")...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != experiment.ExitLocked || !strings.Contains(string(out), "in use by process "+strconv.Itoa(first.Process.Pid)) {
		t.Errorf("second train: %v: %s", err, out)
	}
	first.Process.Kill()
	first.Wait()

	sweep := filepath.Join(t.TempDir(), "sweep")
	s := exec.Command(bin, "sweep", "--model", "lenet300", "--methods", "dense", "--seeds", "1", "--epochs", "50", "--limit-train", "2000",
		"--batch-size", "10", "--out", sweep)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(sweep, "dense-0-s1", experiment.LockFile)
	waitFor(t, lock)
	b, _ := os.ReadFile(lock)
	var held struct{ PID int }
	json.Unmarshal(b, &held)
	s.Process.Kill()
	s.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for syscall.Kill(held.PID, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(held.PID, syscall.SIGKILL)
			t.Fatalf("the child %d outlived its SIGKILLed sweep", held.PID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Its folder is free again: a stale lock (a dead process) is taken over.
	if h := experiment.Holder(filepath.Dir(lock)); h != "" {
		t.Errorf("folder still held by %s", h)
	}
}

func waitFor(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSweepCheckpointEvery: --checkpoint-every reaches every run of a
// sweep, run as a child process, and the job script of --slurm.
func TestSweepCheckpointEvery(t *testing.T) {
	bin := buildWinnow(t)
	dir := t.TempDir()
	args := []string{"sweep", "--model", "lenet300", "--methods", "magnitude", "--sparsity", "0.5", "--seeds", "1", "--epochs", "1",
		"--limit-train", "200", "--limit-test", "100", "--batch-size", "50", "--checkpoint-every", "3", "--out", dir}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	rec, err := experiment.ReadRecord(filepath.Join(dir, "magnitude-0.5-s1"))
	if err != nil || rec.Runtime.CheckpointEvery != 3 {
		t.Errorf("the run's record: checkpoint every %d steps (%v), want 3", rec.Runtime.CheckpointEvery, err)
	}
	slurm := t.TempDir()
	if out, err := exec.Command(bin, append(args, "--slurm", "--dry-run", "--out", slurm)...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(slurm, "slurm", "sweep.sbatch")); !strings.Contains(string(b), "--checkpoint-every 3 ") {
		t.Errorf("the job script does not pass --checkpoint-every:\n%s", b)
	}
}

// TestSweepTakesPreEpochs: --pre-epochs, valid only with a pruning method,
// reaches a sweep's runs.
func TestSweepTakesPreEpochs(t *testing.T) {
	dir := t.TempDir()
	out, code := run(t, "sweep", "--methods", "grasp", "--sparsity", "0.9", "--seeds", "1", "--pre-epochs", "2", "--shots", "3", "--out", dir, "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	plan, err := experiment.ReadPlan(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s := plan.Jobs[0].Settings; s.PreEpochs != 2 || s.Shots != 3 {
		t.Errorf("the run's pre-epochs %d, shots %d", s.PreEpochs, s.Shots)
	}
}
