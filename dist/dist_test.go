package dist

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestShard(t *testing.T) {
	for _, c := range []struct{ n, size int }{{128, 2}, {127, 2}, {10, 3}, {3, 4}, {0, 2}} {
		at := 0
		for r := 0; r < c.size; r++ {
			lo, hi := Shard(c.n, r, c.size)
			if lo != at || hi < lo || hi-lo > c.n/c.size+1 {
				t.Fatalf("Shard(%d, %d, %d) = %d, %d", c.n, r, c.size, lo, hi)
			}
			at = hi
		}
		if at != c.n {
			t.Errorf("shards of %d over %d cover %d", c.n, c.size, at)
		}
	}
}

func TestSingle(t *testing.T) {
	x := []float32{1, 2}
	if err := Or(nil).SumFloat32(x); err != nil || x[1] != 2 || Or(nil).Size() != 1 {
		t.Errorf("single sums %v %v", x, err)
	}
	if err := Agree(nil, errors.New("x")); err == nil {
		t.Error("Agree lost the error")
	}
}

// TestMPI runs this test binary under mpirun on 3 processes (the mpi
// build): each checks the sums, the broadcast and Agree, and says so.
func TestMPI(t *testing.T) {
	if os.Getenv("WINNOW_MPI_WORKER") != "" {
		mpiWorker(t)
		return
	}
	mpirun, err := exec.LookPath("mpirun")
	switch {
	case !Built:
		t.Skip("skipped: built without the mpi tag")
	case err != nil:
		if os.Getenv("WINNOW_REQUIRE_CLUSTER") != "" {
			t.Fatal("mpirun is not here, and WINNOW_REQUIRE_CLUSTER is set")
		}
		t.Skip("skipped: no mpirun here (Debian's openmpi-bin)")
	}
	cmd := exec.Command(mpirun, "--oversubscribe", "--allow-run-as-root", "-np", "3", "-x", "WINNOW_MPI_WORKER=1", os.Args[0], "-test.run", "^TestMPI$", "-test.v")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mpirun: %v\n%s", err, out)
	}
	for r := 0; r < 3; r++ {
		if !strings.Contains(string(out), fmt.Sprintf("rank %d of 3: ok", r)) {
			t.Errorf("rank %d did not report:\n%s", r, out)
		}
	}
}

func mpiWorker(t *testing.T) {
	c, err := World()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := checkComm(c); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("rank %d of %d: ok\n", c.Rank(), c.Size())
}

// checkComm checks, on each of 3 ranks, the sums, the broadcast and Agree.
func checkComm(c Comm) error {
	r := c.Rank()
	x := []float32{float32(r), 1}
	y := []float64{float64(r) / 2, 2}
	if err := c.SumFloat32(x); err != nil || x[0] != 3 || x[1] != 3 {
		return fmt.Errorf("rank %d: float32 sums %v, %v", r, x, err)
	}
	if err := c.SumFloat64(y); err != nil || y[0] != 1.5 || y[1] != 6 {
		return fmt.Errorf("rank %d: float64 sums %v, %v", r, y, err)
	}
	b := []byte{byte(r), byte(r)}
	if err := c.Broadcast(b, 2); err != nil || b[0] != 2 {
		return fmt.Errorf("rank %d: broadcast %v, %v", r, b, err)
	}
	var mine error
	if r == 1 {
		mine = errors.New("rank 1 failed")
	}
	err := Agree(c, mine)
	switch {
	case err == nil:
		return fmt.Errorf("rank %d: Agree did not see rank 1's failure", r)
	case !Agreed(err):
		return fmt.Errorf("rank %d: Agree's error %v is not Agreed", r, err)
	case r == 1 && !errors.Is(err, mine), r != 1 && !errors.Is(err, ErrOtherProcess):
		return fmt.Errorf("rank %d: Agree returned %v", r, err)
	}
	if err := Agree(c, nil); err != nil {
		return fmt.Errorf("rank %d: Agree with no failure: %v", r, err)
	}
	return nil
}

// onRanks runs f on every rank of a loopback run, each on its own
// goroutine, and returns their errors.
func onRanks(n int, f func(c Comm) error) []error {
	errs := make([]error, n)
	done := make(chan struct{})
	for i, c := range Loopback(n) {
		go func() {
			defer func() { done <- struct{}{} }()
			errs[i] = f(c)
		}()
	}
	for range n {
		<-done
	}
	return errs
}

func TestLoopback(t *testing.T) {
	for _, err := range onRanks(3, checkComm) {
		if err != nil {
			t.Error(err)
		}
	}
	// Many calls in a row: none may take another's values.
	for _, err := range onRanks(4, func(c Comm) error {
		for i := range 200 {
			x := []float64{float64(i * (c.Rank() + 1))}
			if err := c.SumFloat64(x); err != nil || x[0] != float64(i*10) {
				return fmt.Errorf("rank %d, call %d: %v %v", c.Rank(), i, x, err)
			}
		}
		return nil
	}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Sums of different lengths fail on every rank.
	for r, err := range onRanks(2, func(c Comm) error { return c.SumFloat32(make([]float32, 1+c.Rank())) }) {
		if err == nil {
			t.Errorf("rank %d: a sum of different lengths succeeded", r)
		}
	}
}

// Two goroutines play the processes of a run: each sums its value.
func ExampleLoopback() {
	ranks := Loopback(2)
	sums := make([][]float64, 2)
	done := make(chan bool)
	for r, c := range ranks {
		go func() {
			x := []float64{float64(r + 1), 10}
			if err := c.SumFloat64(x); err != nil {
				panic(err)
			}
			sums[r] = x
			done <- true
		}()
	}
	<-done
	<-done
	fmt.Println(sums[0], sums[1])
	// Output: [3 20] [3 20]
}
