package dist

import (
	"fmt"
	"os"
	"strconv"
)

// launchedAs is the number of processes a launcher says it started with
// this one, and the variable saying so (1 and "" for none): mpirun's
// OMPI_COMM_WORLD_SIZE, PMI's PMI_SIZE, or the tasks of a Slurm step
// (srun -n N), which has them whether or not MPI's wiring (--mpi=pmix)
// was asked for.
func launchedAs() (int, string) {
	for _, v := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"} {
		if n, err := strconv.Atoi(os.Getenv(v)); err == nil && n > 1 {
			return n, v
		}
	}
	return 1, ""
}

// notJoined is the error of a process started as one of several that
// cannot join the others: each would run alone, and all would race for
// one run folder.
func notJoined(why string) error {
	n, v := launchedAs()
	return fmt.Errorf("started as one of %d processes (%s=%d) that cannot work together: %s", n, v, n, why)
}
