// Command winnow trains sparse networks pruned at initialisation.
//
// Exit status: 0 on success, 1 on a failure of the run, 2 on bad usage
// (unknown command or flag, invalid value, a folder holding another run),
// 11 when the run folder is in use by another process, 130 when
// interrupted (SIGINT, SIGTERM, or SIGUSR1 as Slurm sends before a time
// limit: a checkpoint is written at the next step boundary).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/experiment"
)

// usageError marks errors caused by how winnow was called.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// gcPercent is the collector's GOGC unless the environment sets one. The
// heap is mostly large pointer-free tensors, cheap to collect; the default
// 100 lets a training run's small per-step garbage grow the heap to twice
// its live size between collections.
const gcPercent = 25

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(runMain())
}

func runMain() int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1)
	defer cancel()
	comm, err := dist.World()
	if err != nil {
		fmt.Fprintln(os.Stderr, "winnow: joining the MPI run:", err)
		return 2
	}
	err = newRootCommand().ExecuteContext(withWorld(ctx, comm))
	code := exitCode(ctx, err)
	// Errors every process stops with: those Agree shares, interruptions
	// (the processes stop at one step), bad usage (the same flags on every
	// process). Any other may leave the others waiting in a sum.
	shared := dist.Agreed(err) || errors.Is(err, context.Canceled) || code == 2
	switch {
	case code == 0:
	case comm.Size() == 1:
		fmt.Fprintln(os.Stderr, "winnow:", err)
	case comm.Rank() == 0: // rank 0 speaks for the run
		fmt.Fprintln(os.Stderr, "winnow:", err)
		if !shared {
			dist.Abort(comm, code)
		}
	case shared && !errors.Is(err, dist.ErrOtherProcess) && dist.Agreed(err):
		// its own failure, which rank 0 only counts
		fmt.Fprintf(os.Stderr, "winnow: process %d of %d: %v\n", comm.Rank(), comm.Size(), err)
	case shared:
		// rank 0 says it
	default:
		fmt.Fprintf(os.Stderr, "winnow: process %d of %d: %v\n", comm.Rank(), comm.Size(), err)
		dist.Abort(comm, code)
	}
	if err := comm.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "winnow:", err)
	}
	return code
}

// exitCode maps an error to the exit status.
func exitCode(ctx context.Context, err error) int {
	var u usageError
	var se *experiment.SettingError
	var ue *experiment.UsageError
	var le *experiment.LockedError
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return 130
	case errors.As(err, &le):
		return experiment.ExitLocked
	case errors.As(err, &u), errors.As(err, &se), errors.As(err, &ue):
		return 2
	}
	return 1
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "winnow",
		Short:         "Train sparse networks pruned at initialisation (GraSP, SNIP, SynFlow, ...)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("unknown command %q (see winnow --help)", args[0])}
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if c := world(cmd.Context()); c.Size() > 1 && cmd.Annotations[dataParallel] == "" {
			return usageError{fmt.Errorf("%s does not run as %d processes (mpirun, srun): only train, prune, bench and sweep run do", cmd.CommandPath(), c.Size())}
		}
		return nil
	}
	root.AddCommand(newModelsCommand(), newDataCommand(), newPruneCommand(), newTrainCommand(), newSweepCommand(), newReportCommand(),
		newBenchCommand(), newEigenDamageCommand(), newEvalCommand(), newCorrBenchCommand())
	return root
}

// dataParallel annotates the commands that run as the processes of one
// data-parallel run under mpirun or srun.
const dataParallel = "data-parallel"

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}

type worldKey struct{}

// withWorld gives the commands the processes of this run: those an MPI
// launcher started (the mpi build), else this one.
func withWorld(ctx context.Context, c dist.Comm) context.Context {
	return context.WithValue(ctx, worldKey{}, c)
}

// world is the processes of this run, as main joined them.
func world(ctx context.Context) dist.Comm {
	c, _ := ctx.Value(worldKey{}).(dist.Comm)
	return dist.Or(c)
}

// commandLine is the command line, for the records of a run.
func commandLine() []string { return append([]string(nil), os.Args...) }
