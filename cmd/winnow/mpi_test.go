package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/winnow-ml/winnow/experiment"
	"github.com/winnow-ml/winnow/safetensors"
)

// needMPI builds winnow with -tags mpi (cgo against OpenMPI) and returns
// it, skipping where OpenMPI is not installed.
func needMPI(t *testing.T) string {
	t.Helper()
	_, err := exec.LookPath("mpirun")
	ok := err == nil && exec.Command("pkg-config", "--exists", "ompi-c").Run() == nil
	needCluster(t, "OpenMPI (mpirun and libopenmpi-dev)", ok)
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "winnow-mpi")
	if out, err := exec.Command("go", "build", "-tags", "mpi", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags mpi: %v\n%s", err, out)
	}
	return bin
}

// mpirun runs bin under mpirun with np processes of one thread each.
func mpirun(bin string, np int, args ...string) *exec.Cmd {
	a := append([]string{"--oversubscribe", "--allow-run-as-root", "-np", strconv.Itoa(np), "--bind-to", "none", bin}, args...)
	return exec.Command("mpirun", a...)
}

// readTensors reads every tensor of a safetensors file as float64s.
func readTensors(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, x := range f.Tensors {
		v := make([]float64, x.Numel())
		if x.IsFloat() {
			if err := safetensors.ToFloats(x, v); err != nil {
				t.Fatal(err)
			}
		} else if x.DType == safetensors.I64 {
			ints, err := x.Int64s()
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range ints {
				v[i] = float64(n)
			}
		} else {
			for i, b := range x.Data { // BOOL masks
				v[i] = float64(b)
			}
		}
		out[x.Name] = v
	}
	return out
}

// relDiff is the norm of the difference of two files' tensors relative to
// the norm of a's, all tensors together (a tensor of near-zero values, as a
// BatchNorm bias after a few steps, would make a per-tensor ratio
// rounding's), and the tensor contributing most to it.
func relDiff(t *testing.T, a, b string) (float64, string) {
	t.Helper()
	x, y := readTensors(t, a), readTensors(t, b)
	if len(x) != len(y) {
		t.Fatalf("%s holds %d tensors, %s %d", a, len(x), b, len(y))
	}
	var diff, norm, worst float64
	where := ""
	for name, u := range x {
		v, ok := y[name]
		if !ok || len(v) != len(u) {
			t.Fatalf("%s: %s missing or of another size in %s", a, name, b)
		}
		d := 0.0
		for i := range u {
			d += (u[i] - v[i]) * (u[i] - v[i])
			norm += u[i] * u[i]
		}
		if diff += d; d > worst {
			worst, where = d, name
		}
	}
	return math.Sqrt(diff / norm), where
}

// sameTensors requires two files to hold the same tensors, bit for bit.
func sameTensors(t *testing.T, a, b string) {
	t.Helper()
	x, y := readTensors(t, a), readTensors(t, b)
	for name, u := range x {
		v := y[name]
		if len(v) != len(u) {
			t.Fatalf("%s: %s missing or of another size in %s", a, name, b)
		}
		for i := range u {
			if u[i] != v[i] {
				t.Fatalf("%s differs between %s and %s at %d: %v and %v", name, a, b, i, u[i], v[i])
			}
		}
	}
}

// metricsRow is the last row of a run's metrics.csv, by column.
func metricsRow(t *testing.T, dir string) map[string]float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s/metrics.csv: %v", dir, err)
	}
	out := map[string]float64{}
	for i, h := range rows[0] {
		out[h], _ = strconv.ParseFloat(rows[len(rows)-1][i], 64)
	}
	return out
}

// TestMPITrainMatchesOneProcess trains under mpirun and in one process
// from the same settings: the masks are the same bit for bit, and the
// losses, accuracies and final weights agree to float32 rounding (sums in
// another order). Three processes split a batch of 64 unevenly, so a
// gradient weighted by anything but each shard's share of the batch shows.
// ResNet-20's BatchNorm over the whole batch (--bn sync) must agree as
// well; over each process's shard (--bn local) it must not. ResNet-20 runs
// 4 steps at lr 0.001: at 0.1 its first steps are chaotic (one process,
// half its initial weights moved by one ulp: running variances 20% apart
// after 8 steps), and rounding alone would tell the runs apart.
func TestMPITrainMatchesOneProcess(t *testing.T) {
	bin := needMPI(t)
	cases := []struct {
		model   string
		np      int
		bn      string
		tol     float64 // largest relative difference of the final weights (relDiff)
		farther bool    // must differ by more than tol instead
		extra   []string
	}{
		{"lenet5", 3, "sync", 1e-6, false, []string{"--limit-train", "1024"}},
		{"resnet20", 2, "sync", 1e-5, false, []string{"--limit-train", "256", "--lr", "0.001"}},
		{"resnet20", 2, "local", 1e-4, true, []string{"--limit-train", "256", "--lr", "0.001"}},
	}
	root := t.TempDir()
	ones := map[string]string{}
	for _, c := range cases {
		args := []string{"train", "--model", c.model, "--prune", "grasp", "--sparsity", "0.9", "--epochs", "1",
			"--limit-test", "256", "--batch-size", "64", "--seed", "3", "--threads", "1", "--quiet"}
		args = append(args, c.extra...)
		one, ok := ones[c.model]
		if !ok {
			one = filepath.Join(root, c.model+"-1")
			if out, err := exec.Command(bin, append(args, "--out", one)...).CombinedOutput(); err != nil {
				t.Fatalf("one process: %v: %s", err, out)
			}
			ones[c.model] = one
		}
		many := filepath.Join(root, c.model+"-"+strconv.Itoa(c.np)+"-"+c.bn)
		if out, err := mpirun(bin, c.np, append(args, "--bn", c.bn, "--out", many)...).CombinedOutput(); err != nil {
			t.Fatalf("mpirun -np %d: %v: %s", c.np, err, out)
		}
		rec, err := experiment.ReadRecord(many)
		if err != nil || rec.Runtime.Processes != c.np || rec.Runtime.BN != c.bn {
			t.Errorf("%s: the record says %d processes, BN %q (%v)", many, rec.Runtime.Processes, rec.Runtime.BN, err)
		}
		sameTensors(t, filepath.Join(one, experiment.MaskFile), filepath.Join(many, experiment.MaskFile))
		d, where := relDiff(t, filepath.Join(one, "final.safetensors"), filepath.Join(many, "final.safetensors"))
		t.Logf("%s, %d processes, BN %s: final weights differ by %.2g (relative norm; most in %s)", c.model, c.np, c.bn, d, where)
		if c.farther {
			if d < c.tol {
				t.Errorf("%s with --bn %s: final weights within %.2g of one process's; BatchNorm per shard changes them", c.model, c.bn, d)
			}
			continue
		}
		if d > c.tol {
			t.Errorf("%s, %d processes: final weights differ by %.2g from one process's (at %s)", c.model, c.np, d, where)
		}
		m1, mn := metricsRow(t, one), metricsRow(t, many)
		for _, k := range []string{"train_loss", "train_acc", "test_loss", "test_acc"} {
			if math.Abs(m1[k]-mn[k]) > 1e-4*math.Max(1, math.Abs(m1[k])) {
				t.Errorf("%s, %d processes: %s %v, one process %v", c.model, c.np, k, mn[k], m1[k])
			}
		}
	}
}

// TestMPIGraSPMasks: GraSP's masks of VGG-19 and ResNet-32, scored by two
// processes each taking half of every scoring batch, are those of one
// process, bit for bit.
func TestMPIGraSPMasks(t *testing.T) {
	bin := needMPI(t)
	dir := t.TempDir()
	for _, model := range []string{"resnet32", "vgg19"} {
		args := []string{"prune", "--model", model, "--sparsity", "0.98", "--threads", "1"}
		one, two := filepath.Join(dir, model+"-1.safetensors"), filepath.Join(dir, model+"-2.safetensors")
		if out, err := exec.Command(bin, append(args, "--out", one)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if out, err := mpirun(bin, 2, append(args, "--out", two)...).CombinedOutput(); err != nil {
			t.Fatalf("mpirun: %v: %s", err, out)
		}
		sameTensors(t, one, two)
	}
}

// TestMPIRefusesEmptyShards: a batch smaller than the processes is refused
// by every process with one message, and mpirun exits with the usage
// status instead of waiting.
func TestMPIRefusesEmptyShards(t *testing.T) {
	bin := needMPI(t)
	out, err := mpirun(bin, 3, "train", "--model", "lenet300", "--epochs", "1", "--limit-train", "100", "--batch-size", "2",
		"--out", filepath.Join(t.TempDir(), "run")).CombinedOutput()
	var ee *exec.ExitError
	if err == nil || !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("want exit 2, got %v: %s", err, out)
	}
	if !strings.Contains(string(out), "batch") {
		t.Errorf("the error does not name the batch size:\n%s", out)
	}
}

// TestMPIInterruptAndResume stops a two-process run with SIGTERM to
// mpirun within its training: the processes stop at the same step, rank 0
// writes the checkpoint, and the run resumes there under mpirun, ending
// bit for bit as a two-process run never stopped. Resumed in one process
// instead, it continues from the same step. (Against a one-process run the
// weights drift 5% apart over these 1125 steps, as any rounding grows along
// an SGD trajectory: one process started from weights one ulp apart drifts
// 10 to 30%.)
func TestMPIInterruptAndResume(t *testing.T) {
	bin := needMPI(t)
	root := t.TempDir()
	args := []string{"train", "--model", "lenet5", "--prune", "magnitude", "--sparsity", "0.5", "--epochs", "2", "--limit-train", "16000",
		"--limit-test", "300", "--batch-size", "16", "--lr", "0.02", "--threads", "1", "--log-interval", "0"}
	dir := filepath.Join(root, "two")
	cmd := mpirun(bin, 2, append(args, "--out", dir)...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Epochs take seconds (1000 steps): the signal lands within the second.
	waitFor(t, filepath.Join(dir, "metrics.csv")) // an epoch done
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err == nil {
		t.Fatalf("mpirun exited 0 after SIGTERM:\n%s", log.String())
	}
	if n := strings.Count(log.String(), "interrupted"); n != 1 {
		t.Errorf("want one interruption message (rank 0's), got %d:\n%s", n, log.String())
	}
	if !strings.Contains(log.String(), "the last checkpoint (epoch 2, after step") {
		t.Fatalf("not checkpointed within epoch 2:\n%s", log.String())
	}
	one := filepath.Join(root, "resumed-in-one")
	if out, err := exec.Command("cp", "-r", dir, one).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	if out, err := mpirun(bin, 2, append(args, "--resume", "--out", dir)...).CombinedOutput(); err != nil {
		t.Fatalf("resume under mpirun: %v: %s", err, out)
	}
	never := filepath.Join(root, "never-stopped")
	if out, err := mpirun(bin, 2, append(args, "--out", never)...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	sameTensors(t, filepath.Join(never, "final.safetensors"), filepath.Join(dir, "final.safetensors"))
	if out, err := exec.Command(bin, append(args, "--resume", "--out", one)...).CombinedOutput(); err != nil {
		t.Fatalf("resume in one process: %v: %s", err, out)
	}
	for d, processes := range map[string]int{dir: 2, one: 1} {
		rec, err := experiment.ReadRecord(d)
		if err != nil || len(rec.Resumes) != 1 || rec.Resumes[0].Step == 0 || rec.Resumes[0].Runtime.Processes != processes {
			t.Fatalf("%s: not resumed within an epoch by %d processes: %+v (%v)", d, processes, rec.Resumes, err)
		}
	}
}

// TestMPIBench: winnow bench under mpirun prints one line, rank 0's, for
// the processes together, with the gradient's sum timed.
func TestMPIBench(t *testing.T) {
	bin := needMPI(t)
	out, err := mpirun(bin, 2, "bench", "--model", "resnet20", "--batch-size", "8", "--steps", "1", "--warmup", "0", "--threads", "1").Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var r experiment.BenchResult
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &r) != nil {
		t.Fatalf("want one JSON line:\n%s", out)
	}
	if r.Processes != 2 || r.AllreduceS <= 0 || r.AllreduceMBs <= 0 || r.TrainImgS <= 0 {
		t.Errorf("processes %d, allreduce %v s (%v MB/s), %v img/s", r.Processes, r.AllreduceS, r.AllreduceMBs, r.TrainImgS)
	}
}

// TestSlurmSrunMPI launches a data-parallel run the way a cluster does,
// srun --mpi=pmix inside Slurm: it ends bit for bit as under mpirun (two
// processes sum in one order). Without --mpi=pmix the tasks cannot work
// together and are refused, instead of each training alone.
func TestSlurmSrunMPI(t *testing.T) {
	needSlurm(t)
	bin := needMPI(t)
	root := t.TempDir()
	args := []string{"train", "--model", "lenet5", "--prune", "grasp", "--sparsity", "0.9", "--epochs", "1", "--limit-train", "1024",
		"--limit-test", "256", "--batch-size", "64", "--threads", "1", "--quiet"}
	viaSrun, viaMpirun := filepath.Join(root, "srun"), filepath.Join(root, "mpirun")
	srun := exec.Command("srun", append([]string{"--mpi=pmix", "-n", "2", "--cpus-per-task", "1", bin}, append(args, "--out", viaSrun)...)...)
	if out, err := srun.CombinedOutput(); err != nil {
		t.Fatalf("srun: %v: %s", err, out)
	}
	if out, err := mpirun(bin, 2, append(args, "--out", viaMpirun)...).CombinedOutput(); err != nil {
		t.Fatalf("mpirun: %v: %s", err, out)
	}
	sameTensors(t, filepath.Join(viaMpirun, "final.safetensors"), filepath.Join(viaSrun, "final.safetensors"))
	if rec, err := experiment.ReadRecord(viaSrun); err != nil || rec.Runtime.Processes != 2 {
		t.Errorf("the record of the srun run: %+v (%v)", rec.Runtime, err)
	}
	out, err := exec.Command("srun", append([]string{"-n", "2", bin}, append(args, "--out", filepath.Join(root, "bare"))...)...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--mpi=pmix") {
		t.Errorf("srun -n 2 without MPI's wiring: %v: %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "bare")); err == nil {
		t.Errorf("srun -n 2 without MPI's wiring made a run folder")
	}
}

// TestMPIRefusesWhatCannotRunTogether: the default build under mpirun
// cannot join the others, and commands other than train, prune and bench
// do not run as several processes: each says so, with the usage status,
// rather than every process running alone.
func TestMPIRefusesWhatCannotRunTogether(t *testing.T) {
	mpiBin := needMPI(t)
	plain := buildWinnow(t)
	for _, c := range []struct {
		bin  string
		args []string
		want string
	}{
		{plain, []string{"train", "--epochs", "1", "--out", filepath.Join(t.TempDir(), "run")}, "built without MPI"},
		{mpiBin, []string{"sweep", "--methods", "dense", "--seeds", "1", "--out", filepath.Join(t.TempDir(), "sweep")}, "only train, prune, bench and sweep run"},
	} {
		out, err := mpirun(c.bin, 2, c.args...).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), c.want) {
			t.Errorf("%s under mpirun: %v, want exit 2 saying %q:\n%s", c.args[0], err, c.want, out)
		}
	}
}
