package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/winnow-ml/winnow/experiment"
)

// needCluster skips a test of a real engine that is not here, unless CI
// said it must be (WINNOW_REQUIRE_CLUSTER=1): there a skip is a failure.
func needCluster(t *testing.T, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("WINNOW_REQUIRE_CLUSTER") != "" {
		t.Fatalf("%s is not running here, and WINNOW_REQUIRE_CLUSTER is set", what)
	}
	t.Skipf("skipped: %s is not running here (.ci/cluster start makes a one-node Slurm; mpirun comes with openmpi-bin)", what)
}

func needSlurm(t *testing.T) {
	_, err := exec.LookPath("sbatch")
	up := err == nil && exec.Command("sinfo", "-h").Run() == nil
	needCluster(t, "a Slurm cluster", up)
}

// waitJob waits until Slurm no longer lists job id.
func waitJob(t *testing.T, id string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		out, err := exec.Command("squeue", "-h", "-j", id).Output()
		if err == nil && strings.TrimSpace(string(out)) == "" {
			return
		}
		if time.Now().After(deadline) {
			exec.Command("scancel", id).Run()
			t.Fatalf("job %s still queued after %v:\n%s", id, limit, out)
		}
		time.Sleep(time.Second)
	}
}

func submitted(t *testing.T, out []byte) string {
	t.Helper()
	f := strings.Fields(string(out))
	if len(f) < 3 || f[0] != "submitted" {
		t.Fatalf("not submitted: %s", out)
	}
	return strings.TrimSuffix(f[2], ":")
}

// sameFinals compares the final weights of the runs of two sweep folders
// byte for byte.
func sameFinals(t *testing.T, a, b string, names ...string) {
	t.Helper()
	for _, n := range names {
		x, err1 := os.ReadFile(filepath.Join(a, n, "final.safetensors"))
		y, err2 := os.ReadFile(filepath.Join(b, n, "final.safetensors"))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", n, err1, err2)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s: final weights differ between %s and %s", n, a, b)
		}
	}
}

// TestSlurmSweep submits a sweep of four runs as a job array to a real
// Slurm, waits for it, reports it, and compares every run's final weights
// with the same sweep run here, byte for byte.
func TestSlurmSweep(t *testing.T) {
	needSlurm(t)
	bin := buildWinnow(t)
	root := t.TempDir()
	args := []string{"sweep", "--model", "lenet300", "--methods", "magnitude,random", "--sparsity", "0.5,0.9", "--seeds", "1",
		"--epochs", "1", "--limit-train", "600", "--limit-test", "200", "--batch-size", "50"}
	out, err := exec.Command(bin, append(args, "--slurm", "--out", filepath.Join(root, "slurm"))...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	waitJob(t, submitted(t, out), 5*time.Minute)
	status, _ := exec.Command(bin, "sweep", "status", filepath.Join(root, "slurm")).CombinedOutput()
	if !strings.Contains(string(status), "4 runs: 4 done") {
		t.Fatalf("status:\n%s", status)
	}
	if out, err := exec.Command(bin, "report", filepath.Join(root, "slurm")).CombinedOutput(); err != nil || !strings.Contains(string(out), "| lenet300 | mnist | random | 90% |") {
		t.Errorf("report: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, append(args, "--in-process", "--threads", "1", "--out", filepath.Join(root, "local"))...).CombinedOutput(); err != nil {
		t.Fatalf("local sweep: %v: %s", err, out)
	}
	sameFinals(t, filepath.Join(root, "slurm"), filepath.Join(root, "local"), "magnitude-0.5-s1", "magnitude-0.9-s1", "random-0.5-s1", "random-0.9-s1")
	// Submitted again, nothing is left to run.
	if out, err := exec.Command(bin, append(args, "--slurm", "--out", filepath.Join(root, "slurm"))...).CombinedOutput(); err != nil || !strings.Contains(string(out), "nothing to submit") {
		t.Errorf("second submission: %v: %s", err, out)
	}
}

// TestSlurmRequeue requeues an array task in the middle of its run
// (scontrol requeue: SIGTERM, then the task queued again): the run
// checkpoints at its next step, resumes there, and ends with the same
// final weights, byte for byte, as a run never stopped.
func TestSlurmRequeue(t *testing.T) {
	requeueTest(t, func(task string) []string { return []string{"scontrol", "requeue", task} }, "", 1)
}

// TestSlurmTimeLimitSignal sends the USR1 that --signal=B:USR1@120 sends
// before a time limit: the job script passes it on, the run checkpoints and
// the script requeues its task, which resumes and ends as a run never
// stopped.
func TestSlurmTimeLimitSignal(t *testing.T) {
	requeueTest(t, func(task string) []string { return []string{"scancel", "--batch", "--signal=USR1", task} }, "checkpointed before the time limit; requeued", 1)
}

// TestSlurmDataParallelTimeLimitSignal: the same with each run two
// processes (--ntasks 2: srun --mpi=pmix in the task), which srun passes
// USR1 to; the run ends as a two-process run never stopped.
func TestSlurmDataParallelTimeLimitSignal(t *testing.T) {
	requeueTest(t, func(task string) []string { return []string{"scancel", "--batch", "--signal=USR1", task} }, "checkpointed before the time limit; requeued", 2)
}

// requeueTest interrupts an array task within its run by the command of
// stop, lets the task run again at once, and compares the run's final
// weights with a run never stopped; the task's log must say logged.
func requeueTest(t *testing.T, stop func(task string) []string, logged string, tasks int) {
	needSlurm(t)
	var bin string
	if tasks > 1 {
		bin = needMPI(t)
	} else {
		bin = buildWinnow(t)
	}
	root := t.TempDir()
	args := []string{"sweep", "--model", "lenet5", "--methods", "magnitude", "--sparsity", "0.5", "--seeds", "1",
		"--epochs", "3", "--limit-train", "6000", "--limit-test", "300", "--batch-size", "16", "--lr", "0.02"}
	dir := filepath.Join(root, "slurm")
	out, err := exec.Command(bin, append(args, "--slurm", "--ntasks", strconv.Itoa(tasks), "--out", dir)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	id := submitted(t, out)
	task := id + "_0"
	waitFor(t, filepath.Join(dir, "magnitude-0.5-s1", "metrics.csv")) // an epoch done
	time.Sleep(time.Second)                                           // and a third of the next (2.8 s an epoch here)
	cmd := stop(task)
	if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v: %s", cmd, err, out)
	}
	// A requeued task waits for its begin time (two minutes): now.
	deadline := time.Now().Add(time.Minute)
	for {
		st, _ := exec.Command("squeue", "-h", "-j", task, "-o", "%T").Output()
		if strings.TrimSpace(string(st)) == "PENDING" {
			// slurmd refuses credentials issued in the second it revoked
			// the task's old one ("Job credential revoked").
			time.Sleep(2 * time.Second)
			if out, err := exec.Command("scontrol", "update", "JobId="+task, "StartTime=now").CombinedOutput(); err != nil {
				t.Fatalf("scontrol update: %v: %s", err, out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s not pending after %v: %s", task, cmd, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	waitJob(t, id, 5*time.Minute)
	rec, err := experiment.ReadRecord(filepath.Join(dir, "magnitude-0.5-s1"))
	if err != nil || len(rec.Resumes) != 1 || rec.Resumes[0].Step == 0 || rec.Resumes[0].Provenance.Job != task {
		b, _ := os.ReadFile(filepath.Join(dir, "slurm", task+".out"))
		t.Fatalf("the run was not resumed within an epoch by task %s: %+v (%v); its log:\n%s", task, rec.Resumes, err, b)
	}
	if logged != "" {
		b, _ := os.ReadFile(filepath.Join(dir, "slurm", task+".out"))
		if !strings.Contains(string(b), logged) {
			t.Errorf("the task's log lacks %q:\n%s", logged, b)
		}
	}
	local := filepath.Join(root, "local")
	if tasks == 1 {
		if out, err := exec.Command(bin, append(args, "--in-process", "--threads", "1", "--out", local)...).CombinedOutput(); err != nil {
			t.Fatalf("local sweep: %v: %s", err, out)
		}
	} else {
		if out, err := exec.Command(bin, append(args, "--dry-run", "--out", local)...).CombinedOutput(); err != nil {
			t.Fatalf("local plan: %v: %s", err, out)
		}
		if out, err := mpirun(bin, tasks, "sweep", "run", local, "--index", "0", "--threads", "1").CombinedOutput(); err != nil {
			t.Fatalf("local run under mpirun: %v: %s", err, out)
		}
	}
	sameFinals(t, dir, local, "magnitude-0.5-s1")
	if rec.Runtime.Processes != tasks {
		t.Errorf("the run's record says %d processes, want %d", rec.Runtime.Processes, tasks)
	}
}
