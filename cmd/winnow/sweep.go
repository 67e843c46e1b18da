package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/dist"

	"github.com/winnow-ml/winnow/experiment"
	"github.com/winnow-ml/winnow/prune"
)

type sweepOptions struct {
	methods, sparsities, seeds string
	out                        string
	jobs, threads              int
	force, inProcess, dryRun   bool
	slurm                      bool
	sl                         experiment.SlurmOptions
	checkpointEvery            string
}

func newSweepCommand() *cobra.Command {
	s := experiment.DefaultSettings()
	var o sweepOptions
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Train every combination of methods, sparsities and seeds, each in its own folder",
		Long: `Run a training run for every method x sparsity x seed in DIR/<method>-<sparsity>-s<seed>
("dense" trains without pruning, once per seed). Every train flag applies to
every run. The plan, each run with its full settings, is written to
DIR/sweep.json.

Running the sweep again skips runs finished with the same settings and
resumes interrupted ones; a folder holding a run of other settings is an
error naming the differences (--force starts every run over). Runs in use
by another process (another sweep, a cluster job) are left to it.
--jobs runs several at once, each with threads/jobs threads, each as its own
process (winnow sweep run DIR --index I) that ends with the sweep. A progress
line tells how many runs are done, running and left, with an estimate of the
time left.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyPreset(cmd, &s); err != nil {
				return err
			}
			return runSweep(cmd.Context(), cmd.OutOrStdout(), s, o)
		},
	}
	f := cmd.Flags()
	addDataFlags(f, &s)
	addPruneFlags(f, &s, false)
	addTrainFlags(f, &s)
	f.StringVar(&o.methods, "methods", "grasp,snip,synflow,magnitude,random,dense", "methods, comma-separated ("+strings.Join(prune.Methods, ", ")+", dense)")
	f.StringVar(&o.sparsities, "sparsity", "0.9,0.95,0.98,0.99", "sparsities, comma-separated")
	f.StringVar(&o.seeds, "seeds", "1,2", "seeds, comma-separated")
	f.StringVar(&o.out, "out", "", "the sweep folder (required)")
	f.IntVar(&o.jobs, "jobs", 1, "runs at once")
	f.IntVar(&o.threads, "threads", runtime.GOMAXPROCS(0), "threads in all (each run gets threads/jobs)")
	f.BoolVar(&o.force, "force", false, "start every run of the sweep over")
	f.BoolVar(&o.inProcess, "in-process", false, "run the runs in this process, one at a time, instead of as child processes")
	f.BoolVar(&o.dryRun, "dry-run", false, "write the plan (DIR/sweep.json), and with --slurm the job script, and run nothing")
	f.StringVar(&o.checkpointEvery, "checkpoint-every", "", "each run also checkpoints within epochs: every N steps, or a duration such as 10m")
	f.BoolVar(&o.slurm, "slurm", false, "submit the runs to Slurm as a job array (DIR/slurm/sweep.sbatch) instead of running them here")
	f.StringVar(&o.sl.Partition, "partition", "", "with --slurm: the partition")
	f.StringVar(&o.sl.Time, "time", "", "with --slurm: each task's time limit (HH:MM:SS); runs longer checkpoint and are requeued")
	f.IntVar(&o.sl.CPUsPerTask, "cpus-per-task", 1, "with --slurm: cores of each process of a run (its threads)")
	f.IntVar(&o.sl.Tasks, "ntasks", 1, "with --slurm: processes of each run, data-parallel (srun --mpi=pmix; the winnow binary an mpi build)")
	f.StringVar(&o.sl.Mem, "mem", "", "with --slurm: memory of each task (e.g. 8G)")
	f.IntVar(&o.sl.MaxParallel, "max-parallel", 0, "with --slurm: most tasks at once (0: no limit)")
	f.StringArrayVar(&o.sl.SbatchArgs, "sbatch-arg", nil, "with --slurm: another sbatch option for the script (repeat for more), e.g. --sbatch-arg=--account=lab")
	f.StringVar(&o.sl.Binary, "winnow", "", "with --slurm: the winnow binary the tasks run, at a path every node sees (default: this one)")
	cmd.AddCommand(newSweepRunCommand(), newSweepStatusCommand())
	return cmd
}

// sweepPlan builds the plan of the flags.
func sweepPlan(s experiment.Settings, o sweepOptions) (*experiment.Plan, error) {
	if o.out == "" {
		return nil, usageError{fmt.Errorf("--out is required: the sweep's folder")}
	}
	if o.jobs < 1 || o.threads < 1 {
		return nil, usageError{fmt.Errorf("--jobs and --threads must be at least 1")}
	}
	return experiment.PlanFromLists(s, o.methods, o.sparsities, o.seeds)
}

func runSweep(ctx context.Context, w io.Writer, s experiment.Settings, o sweepOptions) error {
	plan, err := sweepPlan(s, o)
	if err != nil {
		return err
	}
	steps, interval, err := parseCheckpointEvery(o.checkpointEvery)
	if err != nil {
		return err
	}
	o.sl.CheckpointEvery, o.sl.CheckpointInterval = steps, interval
	if o.slurm {
		if o.sl.Tasks > 1 && o.sl.Binary == "" && !dist.Built {
			return usageError{fmt.Errorf("--ntasks %d: this winnow is built without MPI; build one with -tags mpi and name it with --winnow", o.sl.Tasks)}
		}
		return submitSlurm(ctx, w, plan, o)
	}
	if o.dryRun {
		if err := plan.Write(o.out); err != nil {
			return err
		}
		fmt.Fprintf(w, "%d runs planned in %s\n", len(plan.Jobs), filepath.Join(o.out, experiment.PlanFile))
		return nil
	}
	sw := &experiment.Sweep{Dir: o.out, Plan: plan, Jobs: o.jobs, Threads: max(1, o.threads/o.jobs), Force: o.force, Log: w,
		CheckpointEvery: steps, CheckpointInterval: interval}
	if !o.inProcess {
		bin, err := os.Executable()
		if err != nil {
			return err
		}
		sw.Runner = experiment.Subprocess{Binary: bin}
	}
	if err := sw.Run(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "sweep done: winnow report %s\n", filepath.Clean(o.out))
	return nil
}

func newSweepRunCommand() *cobra.Command {
	var index int
	var o runtimeOptions
	cmd := &cobra.Command{
		Annotations: map[string]string{dataParallel: "yes"},
		Use:         "run DIR --index I",
		Short:       "Run one run of a sweep's plan (DIR/sweep.json) by its index, resuming it if it was interrupted",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("winnow sweep run takes the sweep folder, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSweepRun(cmd, args[0], index, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&index, "index", -1, "the run's index in the plan (0-based; a Slurm array's task id)")
	f.BoolVar(&o.force, "force", false, "start the run over")
	o.addComputeFlags(f)
	f.BoolVar(&o.quiet, "quiet", false, "print only the summary")
	f.IntVar(&o.logEvery, "log-every", 0, "a progress line every N steps (0: by --log-interval)")
	f.DurationVar(&o.logInterval, "log-interval", 0, "a progress line at least this often within an epoch (0: none)")
	f.StringVar(&o.checkpointEvery, "checkpoint-every", "", "also checkpoint within epochs: every N steps, or a duration such as 10m")
	f.BoolVar(&o.tensorboard, "tensorboard", false, "also write TensorBoard event files to the run's tensorboard folder")
	return cmd
}

func runSweepRun(cmd *cobra.Command, dir string, index int, o runtimeOptions) error {
	plan, err := experiment.ReadPlan(dir)
	if err != nil {
		return err
	}
	if index < 0 || index >= len(plan.Jobs) {
		return usageError{fmt.Errorf("--index %d: the plan in %s has runs 0 to %d", index, dir, len(plan.Jobs)-1)}
	}
	j := plan.Jobs[index]
	st := experiment.Inspect(dir, j)
	o.out = filepath.Join(dir, j.Name)
	o.resume = !o.force && st.State == experiment.Interrupted
	if !o.force && st.State == experiment.Finished && len(st.Conflict) == 0 {
		if world(cmd.Context()).Rank() == 0 {
			fmt.Fprintf(cmd.OutOrStdout(), "%s is done already\n", o.out)
		}
		return nil
	}
	rt, err := o.runtime(cmd)
	if err != nil {
		return err
	}
	return runTrain(cmd.Context(), cmd.OutOrStdout(), j.Settings, rt)
}

// submitSlurm writes the job array of the runs not done and submits it.
func submitSlurm(ctx context.Context, w io.Writer, plan *experiment.Plan, o sweepOptions) error {
	todo, err := experiment.PrepareSlurm(o.out, plan, o.force)
	if err != nil {
		return err
	}
	if len(todo) == 0 {
		fmt.Fprintf(w, "every run of %s is done or running: nothing to submit\n", o.out)
		return nil
	}
	script, err := experiment.SlurmScript(o.out, todo, o.sl)
	if err != nil {
		return err
	}
	if o.dryRun {
		fmt.Fprintf(w, "%d of %d runs in %s; not submitted (sbatch %s)\n", len(todo), len(plan.Jobs), script, script)
		return nil
	}
	id, err := experiment.SubmitSlurm(ctx, o.out, script)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "submitted job %s: %d of %d runs (%s); winnow sweep status %s\n", id, len(todo), len(plan.Jobs), script, o.out)
	return nil
}

func newSweepStatusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status DIR",
		Short: "Where every run of a sweep stands: pending, queued, running, interrupted, failed or done, its epochs and last accuracy",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("winnow sweep status takes the sweep folder, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rows, err := experiment.SweepStatus(args[0])
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "index\trun\tstate\tepochs\ttest acc\t")
			counts := map[string]int{}
			for _, r := range rows {
				acc := ""
				if r.Epochs > 0 {
					acc = fmt.Sprintf("%.4f", r.TestAcc)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d/%d\t%s\t%s\n", r.Index, r.Name, r.State, r.Epochs, r.Of, acc, r.Detail)
				counts[r.State]++
			}
			tw.Flush()
			var parts []string
			for _, st := range []string{"done", "running", "queued", "interrupted", "failed", "pending", "other settings"} {
				if counts[st] > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d runs: %s\n", len(rows), strings.Join(parts, ", "))
			return nil
		},
	}
}
