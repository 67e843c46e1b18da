package dist

import (
	"errors"
	"fmt"
)

// Comm is the processes of one run.
type Comm interface {
	// Rank is this process's number, 0 to Size()-1; rank 0 writes the
	// run's files.
	Rank() int
	Size() int
	// SumFloat32 and SumFloat64 replace x, on every process, by the sum of
	// the processes' x (an all-reduce). Every process calls them in the
	// same order with slices of the same length.
	SumFloat32(x []float32) error
	SumFloat64(x []float64) error
	// Broadcast replaces x on every process by rank root's.
	Broadcast(x []byte, root int) error
	// Close ends the communication (MPI_Finalize).
	Close() error
}

// Single is a run of one process: sums are the values themselves.
type Single struct{}

// Rank implements Comm.
func (Single) Rank() int { return 0 }

// Size implements Comm.
func (Single) Size() int { return 1 }

// SumFloat32 implements Comm.
func (Single) SumFloat32([]float32) error { return nil }

// SumFloat64 implements Comm.
func (Single) SumFloat64([]float64) error { return nil }

// Broadcast implements Comm.
func (Single) Broadcast([]byte, int) error { return nil }

// Close implements Comm.
func (Single) Close() error { return nil }

// Abort ends every process of c's run with the exit code, where c can (an
// MPI run); it returns when c cannot, as with Single.
func Abort(c Comm, code int) {
	if a, ok := c.(interface{ Abort(int) }); ok && c.Size() > 1 {
		a.Abort(code)
	}
}

// Or returns c, or Single when c is nil.
func Or(c Comm) Comm {
	if c == nil {
		return Single{}
	}
	return c
}

// Agree makes every process see a failure of any: each passes its own
// error (nil when it succeeded) and every one returns an error if any
// failed, so that none waits in a sum another never calls. Agreed
// reports the errors it returns.
func Agree(c Comm, err error) error {
	c = Or(c)
	if c.Size() == 1 {
		return err
	}
	flag := []float64{0}
	if err != nil {
		flag[0] = 1
	}
	if serr := c.SumFloat64(flag); serr != nil {
		return errors.Join(err, serr)
	}
	switch {
	case err != nil:
		return agreed{err}
	case flag[0] > 0:
		return agreed{fmt.Errorf("%w: %d of %d processes failed (their output says why)", ErrOtherProcess, int(flag[0]), c.Size())}
	}
	return nil
}

// ErrOtherProcess is what Agree returns to a process that did not fail
// itself.
var ErrOtherProcess = errors.New("dist: another process failed")

// agreed is an error every process of the run returns.
type agreed struct{ error }

func (a agreed) Unwrap() error { return a.error }

// Agreed reports whether err came from Agree, so that every process of the
// run stopped with it and none waits for another.
func Agreed(err error) bool {
	var a agreed
	return errors.As(err, &a)
}

// Shard is rank's contiguous share of n items split over size processes:
// items lo to hi-1, the shares differing by at most one.
func Shard(n, rank, size int) (lo, hi int) {
	return rank * n / size, (rank + 1) * n / size
}
