// Package dist is the communication of data-parallel runs: the processes
// of one run (ranks), their rank and number, and the sums of gradients and
// statistics over them.
//
// Built with the mpi tag (cgo against OpenMPI, Debian's libopenmpi-dev),
// World joins the processes an MPI launcher started (mpirun -np 4 winnow
// ..., or srun in a Slurm allocation); without a launcher, and in the
// default pure-Go build, World is a single process and every sum is the
// value itself. MPI is called from one goroutine locked to its thread
// (MPI_THREAD_FUNNELED): Comm's methods may be called from any goroutine,
// and run one at a time.
package dist
