//go:build mpi

package dist

// #cgo pkg-config: ompi-c
// #include <mpi.h>
// #include <stdlib.h>
//
// static int init_funneled(int *provided) { return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, provided); }
// static int comm_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
// static int comm_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
// static int sum_float(float *x, int n) { return MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); }
// static int sum_double(double *x, int n) { return MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD); }
// static int bcast(void *x, int n, int root) { return MPI_Bcast(x, n, MPI_BYTE, root, MPI_COMM_WORLD); }
// static int finalize(void) { return MPI_Finalize(); }
// static void abort_world(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"
)

// Built reports whether this binary can join MPI runs.
const Built = true

// launched reports whether an MPI launcher (mpirun, srun) started this
// process: only then is MPI initialised (a singleton MPI_Init would start
// OpenMPI's runtime for nothing).
func launched() bool {
	for _, v := range []string{"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}

// mpiComm funnels every MPI call through one goroutine locked to its
// thread.
type mpiComm struct {
	rank, size int
	calls      chan func()
}

// World joins the processes an MPI launcher started, or is this process
// alone when none did.
func World() (Comm, error) {
	if !launched() {
		if n, _ := launchedAs(); n > 1 { // srun -n N without --mpi=pmix
			return nil, notJoined("the launcher gave them no MPI wiring (srun --mpi=pmix)")
		}
		return Single{}, nil
	}
	c := &mpiComm{calls: make(chan func())}
	ready := make(chan error)
	go func() {
		runtime.LockOSThread() // MPI_THREAD_FUNNELED: every call from this thread
		var provided C.int
		if rc := C.init_funneled(&provided); rc != 0 {
			ready <- fmt.Errorf("dist: MPI_Init_thread failed (%d)", rc)
			return
		}
		var r, s C.int
		C.comm_rank(&r)
		C.comm_size(&s)
		c.rank, c.size = int(r), int(s)
		ready <- nil
		for f := range c.calls {
			f()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return c, nil
}

func (c *mpiComm) do(f func() C.int) error {
	done := make(chan C.int)
	c.calls <- func() { done <- f() }
	if rc := <-done; rc != 0 {
		return fmt.Errorf("dist: MPI call failed (%d)", rc)
	}
	return nil
}

func (c *mpiComm) Rank() int { return c.rank }
func (c *mpiComm) Size() int { return c.size }

// maxCount is the most elements one MPI call takes (its count is an int).
const maxCount = 1 << 30

func (c *mpiComm) SumFloat32(x []float32) error {
	for len(x) > 0 {
		n := min(len(x), maxCount)
		p := x[:n]
		if err := c.do(func() C.int { return C.sum_float((*C.float)(unsafe.Pointer(&p[0])), C.int(n)) }); err != nil {
			return err
		}
		x = x[n:]
	}
	return nil
}

func (c *mpiComm) SumFloat64(x []float64) error {
	for len(x) > 0 {
		n := min(len(x), maxCount)
		p := x[:n]
		if err := c.do(func() C.int { return C.sum_double((*C.double)(unsafe.Pointer(&p[0])), C.int(n)) }); err != nil {
			return err
		}
		x = x[n:]
	}
	return nil
}

func (c *mpiComm) Broadcast(x []byte, root int) error {
	if len(x) == 0 {
		return nil
	}
	return c.do(func() C.int { return C.bcast(unsafe.Pointer(&x[0]), C.int(len(x)), C.int(root)) })
}

func (c *mpiComm) Close() error {
	err := c.do(func() C.int { return C.finalize() })
	close(c.calls)
	return err
}

// Abort ends every process of the run with code (MPI_Abort): a process that
// fails outside an Agree would leave the others waiting in a sum.
func (c *mpiComm) Abort(code int) {
	c.calls <- func() { C.abort_world(C.int(code)) }
	select {} // MPI_Abort does not return
}
