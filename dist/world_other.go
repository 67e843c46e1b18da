//go:build !mpi

package dist

// World is the processes of this run: without the mpi build tag, this
// process alone. Started by a launcher as one of several, it fails.
func World() (Comm, error) {
	if n, _ := launchedAs(); n > 1 {
		return nil, notJoined("this winnow is built without MPI (go build -tags mpi)")
	}
	return Single{}, nil
}

// Built reports whether this binary can join MPI runs.
const Built = false
