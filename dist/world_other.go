//go:build !mpi

package dist

// World is the processes of this run: without the mpi build tag, this
// process alone.
func World() (Comm, error) { return Single{}, nil }

// Built reports whether this binary can join MPI runs.
const Built = false
