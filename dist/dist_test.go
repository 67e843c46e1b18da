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
	r := c.Rank()
	x := []float32{float32(r), 1}
	y := []float64{float64(r) / 2, 2}
	if err := c.SumFloat32(x); err != nil || x[0] != 3 || x[1] != 3 {
		t.Fatalf("rank %d: float32 sums %v, %v", r, x, err)
	}
	if err := c.SumFloat64(y); err != nil || y[0] != 1.5 || y[1] != 6 {
		t.Fatalf("rank %d: float64 sums %v, %v", r, y, err)
	}
	b := []byte{byte(r), byte(r)}
	if err := c.Broadcast(b, 2); err != nil || b[0] != 2 {
		t.Fatalf("rank %d: broadcast %v, %v", r, b, err)
	}
	var mine error
	if r == 1 {
		mine = errors.New("rank 1 failed")
	}
	if err := Agree(c, mine); err == nil {
		t.Fatalf("rank %d: Agree did not see rank 1's failure", r)
	}
	fmt.Printf("rank %d of %d: ok\n", r, c.Size())
}
