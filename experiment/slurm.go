package experiment

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/winnow-ml/winnow/internal/fsutil"
)

// SlurmOptions are a sweep's job array: what each array task asks of
// Slurm, and the winnow binary it runs.
type SlurmOptions struct {
	Binary       string        // the winnow executable, at a path every node sees
	Partition    string        // "": the cluster's default
	Time         string        // a task's time limit, as sbatch takes it (HH:MM:SS); "": the partition's
	CPUsPerTask  int           // threads of each process of a run (0: 1)
	Tasks        int           // processes of each run (srun --mpi=pmix; an mpi build); 0: 1
	Mem          string        // memory per task, as sbatch takes it (8G); "": the default
	MaxParallel  int           // array tasks at once (0: no limit)
	SignalBefore time.Duration // USR1 this long before the time limit (0: 120 s)
	SbatchArgs   []string      // more sbatch options, one #SBATCH line each
	// CheckpointEvery and CheckpointInterval are each run's checkpoints
	// within epochs (against a node lost without a signal).
	CheckpointEvery    int
	CheckpointInterval time.Duration
}

// SlurmDir is the folder of a sweep's Slurm files: the script, the tasks'
// logs, the job ids submitted.
const SlurmDir = "slurm"

// SlurmScript writes dir/slurm/sweep.sbatch, the job array of the runs of
// the plan in dir at the given indices (one array task a run; logs in
// dir/slurm/%A_%a.out), and returns its path. With Tasks > 1 each run is
// data-parallel: srun starts its processes, wired by PMIx. Each task runs `winnow sweep
// run DIR --index $SLURM_ARRAY_TASK_ID`, which resumes its run from a
// checkpoint and does nothing for a run done. Slurm signals USR1 before the
// time limit (--signal=B:USR1@...): the script passes it on, the run
// checkpoints at its next step and exits, and the task is requeued
// (--requeue, scontrol requeue) to resume where it stopped. A requeue or
// preemption (SIGTERM to the task) checkpoints the same way.
func SlurmScript(dir string, indices []int, o SlurmOptions) (string, error) {
	if len(indices) == 0 {
		return "", errors.New("experiment: a job array of no runs")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if o.Binary == "" {
		if o.Binary, err = os.Executable(); err != nil {
			return "", err
		}
	}
	if o.CPUsPerTask < 1 {
		o.CPUsPerTask = 1
	}
	if o.Tasks < 1 {
		o.Tasks = 1
	}
	if o.SignalBefore <= 0 {
		o.SignalBefore = 120 * time.Second
	}
	for _, a := range o.SbatchArgs {
		if strings.ContainsAny(a, "\n\r") {
			return "", bad("sbatch-arg", a, "one option per --sbatch-arg, without newlines")
		}
	}
	array := arraySpec(indices)
	if o.MaxParallel > 0 {
		array += "%" + strconv.Itoa(o.MaxParallel)
	}
	var b bytes.Buffer
	err = slurmTemplate.Execute(&b, map[string]any{
		"Name": "winnow-" + filepath.Base(abs), "Array": array, "Logs": filepath.Join(abs, SlurmDir),
		"CPUs": o.CPUsPerTask, "Tasks": o.Tasks, "Time": o.Time, "Mem": o.Mem, "Partition": o.Partition,
		"Signal": int(o.SignalBefore.Seconds()), "Extra": o.SbatchArgs,
		"Binary": shellQuote(o.Binary), "Dir": shellQuote(abs), "Checkpoint": checkpointFlag(o.CheckpointEvery, o.CheckpointInterval),
	})
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, SlurmDir), 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, SlurmDir, "sweep.sbatch")
	if err := fsutil.WriteFile(path, b.Bytes()); err != nil {
		return "", err
	}
	return path, os.Chmod(path, 0o755)
}

var slurmTemplate = template.Must(template.New("sbatch").Parse(`#!/bin/bash
#SBATCH --job-name={{.Name}}
#SBATCH --array={{.Array}}
#SBATCH --output={{.Logs}}/%A_%a.out
#SBATCH --open-mode=append
#SBATCH --cpus-per-task={{.CPUs}}
#SBATCH --ntasks={{.Tasks}}
{{- if .Time}}
#SBATCH --time={{.Time}}{{end}}
{{- if .Mem}}
#SBATCH --mem={{.Mem}}{{end}}
{{- if .Partition}}
#SBATCH --partition={{.Partition}}{{end}}
#SBATCH --signal=B:USR1@{{.Signal}}
#SBATCH --requeue
{{- range .Extra}}
#SBATCH {{.}}{{end}}

# Written by winnow sweep --slurm: each array task runs one run of the
# sweep's plan (sweep.json) by its index. Near the time limit Slurm sends
# USR1 to this script: the run checkpoints at its next step and exits, and
# the task is requeued, to resume from the checkpoint.
set -u
task="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
requeue() {
	kill -USR1 "$pid" 2>/dev/null
	wait "$pid"
	echo "winnow: $task checkpointed before the time limit; requeued"
	scontrol requeue "$task"
	exit 0
}
trap requeue USR1
{{if gt .Tasks 1}}srun --mpi=pmix {{end}}{{.Binary}} sweep run {{.Dir}} --index "$SLURM_ARRAY_TASK_ID" --threads "${SLURM_CPUS_PER_TASK:-1}" --log-interval 1m{{if .Checkpoint}} --checkpoint-every {{.Checkpoint}}{{end}} &
pid=$!
wait "$pid"
`))

// arraySpec writes indices as sbatch's --array list: 0-3,7,9-12.
func arraySpec(indices []int) string {
	var parts []string
	for i := 0; i < len(indices); {
		j := i
		for j+1 < len(indices) && indices[j+1] == indices[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(indices[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", indices[i], indices[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// SubmitSlurm submits a job array script with sbatch and returns the job
// id, recorded in dir/slurm/jobs for winnow sweep status.
func SubmitSlurm(ctx context.Context, dir, script string) (string, error) {
	out, err := exec.CommandContext(ctx, "sbatch", "--parsable", script).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("sbatch %s: %w: %s", script, err, strings.TrimSpace(string(out)))
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	f, err := os.OpenFile(filepath.Join(dir, SlurmDir, "jobs"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return id, err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s %s\n", id, time.Now().UTC().Format(time.RFC3339))
	return id, err
}

// PrepareSlurm readies a sweep folder for submission: it writes the plan,
// refuses runs of other settings (or with force clears them), and returns
// the indices of the runs to submit: those neither done nor being run.
func PrepareSlurm(dir string, plan *Plan, force bool) ([]int, error) {
	if err := plan.Write(dir); err != nil {
		return nil, err
	}
	var todo []int
	var conflicts []string
	for i, j := range plan.Jobs {
		st := Inspect(dir, j)
		switch {
		case st.Holder != "":
			continue // running (elsewhere)
		case force:
			if err := clearRun(filepath.Join(dir, j.Name)); err != nil {
				return nil, err
			}
			todo = append(todo, i)
		case len(st.Conflict) > 0:
			conflicts = append(conflicts, fmt.Sprintf("%s (%s)", j.Name, strings.Join(st.Conflict, "; ")))
		case st.State != Finished:
			todo = append(todo, i)
		}
	}
	if len(conflicts) > 0 {
		return nil, usage("%s holds runs of other settings than this sweep's: %s. Sweep into another --out, or --force to start every run over",
			dir, strings.Join(conflicts, ", "))
	}
	return todo, nil
}

// clearRun removes a run's files, its folder kept.
func clearRun(dir string) error {
	for _, f := range append(runFiles, ErrorFile) {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	pre, _ := filepath.Glob(filepath.Join(dir, "pre-*")) // --pre-epochs' training
	for _, d := range pre {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	return nil
}

// slurmTasks asks squeue for the state of the array tasks of the jobs
// submitted from dir, by index: PENDING, RUNNING, and so on. It returns
// nil where Slurm cannot be asked.
func slurmTasks(dir string) map[int]string {
	f, err := os.Open(filepath.Join(dir, SlurmDir, "jobs"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id, _, _ := strings.Cut(sc.Text(), " "); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	out, err := exec.Command("squeue", "-h", "-r", "-j", strings.Join(ids, ","), "-o", "%i|%T").Output()
	if err != nil {
		return nil
	}
	states := map[int]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		id, state, ok := strings.Cut(line, "|")
		_, task, ok2 := strings.Cut(id, "_")
		if !ok || !ok2 {
			continue
		}
		if i, err := strconv.Atoi(task); err == nil {
			states[i] = state
		}
	}
	return states
}

// RunStatus is where a run of a sweep stands, for winnow sweep status.
type RunStatus struct {
	Index   int
	Name    string
	State   string // pending, queued, running, interrupted, failed, done
	Epochs  int    // done
	Of      int    // asked for
	TestAcc float64
	Detail  string // the process holding it, the Slurm state, the error
}

// SweepStatus reports every run of the sweep in dir: from its folder
// (done, interrupted, failed with its error, running with its holder) and,
// where the sweep was submitted to Slurm, from squeue (queued, running).
func SweepStatus(dir string) ([]RunStatus, error) {
	plan, err := ReadPlan(dir)
	if err != nil {
		return nil, err
	}
	tasks := slurmTasks(dir)
	var out []RunStatus
	for i, j := range plan.Jobs {
		d := filepath.Join(dir, j.Name)
		st := Inspect(dir, j)
		r := RunStatus{Index: i, Name: j.Name, Of: j.Settings.Epochs, State: "pending", Epochs: st.Epochs}
		if hist, err := readMetrics(filepath.Join(d, "metrics.csv")); err == nil && len(hist) > 0 {
			r.Epochs, r.TestAcc = len(hist), hist[len(hist)-1].TestAcc
		}
		msg, ferr := os.ReadFile(filepath.Join(d, ErrorFile))
		switch {
		case st.Holder != "":
			r.State, r.Detail = "running", st.Holder
		case st.State == Finished && len(st.Conflict) == 0:
			r.State = "done"
		case len(st.Conflict) > 0:
			r.State, r.Detail = "other settings", strings.Join(st.Conflict, "; ")
		case ferr == nil:
			r.State, r.Detail = "failed", strings.TrimSpace(string(msg))
		case st.State == Interrupted:
			r.State = "interrupted"
		}
		if t, ok := tasks[i]; ok && r.State != "running" && r.State != "done" {
			r.Detail = "Slurm: " + t
			if t == "PENDING" || t == "REQUEUED" {
				r.State = "queued"
			}
		}
		out = append(out, r)
	}
	return out, nil
}
