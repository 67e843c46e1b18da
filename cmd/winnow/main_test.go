package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/winnow-ml/winnow/experiment"
	"github.com/winnow-ml/winnow/internal/kernels"
	"github.com/winnow-ml/winnow/safetensors"
)

func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	ctx := context.Background()
	err := root.ExecuteContext(ctx)
	if err != nil {
		out.WriteString(err.Error())
	}
	return out.String(), exitCode(ctx, err)
}

func TestModels(t *testing.T) {
	out, code := run(t, "models")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := map[string]string{"vgg19": "20024000", "resnet32": "1855584", "lenet300": "266200", "lenet5": "430500"}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if w, ok := want[f[0]]; ok {
			if f[1] != w {
				t.Errorf("%s: %s prunable weights, want %s", f[0], f[1], w)
			}
			delete(want, f[0])
		}
	}
	if len(want) != 0 {
		t.Errorf("models missing from the listing: %v\n%s", want, out)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{{"models", "--no-such-flag"}, {"no-such-command"}, {"models", "extra"}} {
		if out, code := run(t, args...); code != 2 {
			t.Errorf("winnow %v: exit %d, want 2 (%s)", args, code, out)
		}
	}
}

func TestDataMNIST(t *testing.T) {
	out, code := run(t, "data", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{`"examples":60000`, `"examples":10000`, `"classes":10`, `"checked":70000`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s: %s", want, out)
		}
	}
	out, _ = run(t, "data", "--sample", "100")
	if !strings.Contains(out, "training normalises with mean [0.1307], std [0.3081] (the dataset's conventional values)") {
		t.Errorf("winnow data does not say what training normalises with:\n%s", out)
	}
	if _, code := run(t, "data", "--dataset", "nope"); code != 2 {
		t.Errorf("unknown dataset: exit %d, want 2", code)
	}
	if out, code := run(t, "data", "--dataset", "cifar10", "--data-dir", t.TempDir()); code != 1 || !strings.Contains(out, "data_batch_1.bin") {
		t.Errorf("empty folder: exit %d: %s", code, out)
	}
}

func TestPruneWritesMasksAndDump(t *testing.T) {
	dir := t.TempDir()
	mask, dump := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "d.safetensors")
	out, code := run(t, "prune", "--model", "lenet300", "--sparsity", "0.9", "--out", mask, "--dump", dump, "--limit-train", "2000", "--samples-per-class", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if !strings.Contains(out, "fc1") || !strings.Contains(out, "total") {
		t.Errorf("no report:\n%s", out)
	}
	f, err := safetensors.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"param/fc1.weight", "param/fc1.bias", "scoring_param/fc1.weight", "input/0", "input/1", "label/1", "score/fc3.weight", "mask/fc2.weight"} {
		if _, ok := f.Get(name); !ok {
			t.Errorf("dump lacks %s", name)
		}
	}
	if f.Metadata["temperature"] != "200" || f.Metadata["method"] != "grasp" {
		t.Errorf("metadata %v", f.Metadata)
	}
	for _, bad := range [][]string{
		{"prune", "--sparsity", "1"}, {"prune", "--sparsity", "-0.5"}, {"prune", "--prune", "obd"},
		{"prune", "--model", "vgg7"}, {"prune", "--scope", "galactic"}, {"prune", "--sparsity", "abc"},
	} {
		if out, code := run(t, bad...); code != 2 {
			t.Errorf("winnow %v: exit %d, want 2: %s", bad, code, out)
		}
	}
}

func TestTrainResumeAndRefuseOverwrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--model", "lenet5", "--prune", "snip", "--sparsity", "0.9", "--epochs", "2",
		"--limit-train", "1000", "--limit-test", "500", "--samples-per-class", "2", "--batch-size", "32", "--lr", "0.05", "--out", dir, "--quiet"}
	out, code := run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, f := range []string{"config.json", "metrics.csv", "mask.safetensors", "checkpoint.safetensors", "final.safetensors", "summary.json", "prune-report.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	var sum struct {
		FinalTestAcc float64 `json:"final_test_acc"`
		WeightsKept  int     `json:"weights_kept"`
		WeightsTotal int     `json:"weights_total"`
		BestNote     string  `json:"best_note"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.WeightsTotal != 430500 || sum.WeightsKept != 430500-387450 || sum.FinalTestAcc < 0.3 || sum.BestNote == "" {
		t.Errorf("summary %+v", sum)
	}
	if out, code := run(t, args...); code != 2 || !strings.Contains(out, "--resume") {
		t.Errorf("second run into the same folder: exit %d: %s", code, out)
	}
	// More epochs under the step schedule would change the rates of the
	// epochs done: refused, naming the schedule.
	more := append(append([]string{}, args...), "--resume", "--epochs", "3")
	if out, code := run(t, more...); code != 2 || !strings.Contains(out, "schedule step") {
		t.Errorf("resume with more epochs of a step schedule: exit %d: %s", code, out)
	}
	// Under a schedule of fixed epochs, a finished run continues.
	fixed := filepath.Join(t.TempDir(), "fixed")
	args = append(args[:len(args)-3], "--schedule", "epochs:1", "--out", fixed, "--quiet")
	if out, code := run(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	more = append(append([]string{}, args...), "--resume", "--epochs", "3")
	if out, code := run(t, more...); code != 0 || !strings.Contains(out, "final test accuracy") {
		t.Errorf("resume: exit %d: %s", code, out)
	}
	csv, _ := os.ReadFile(filepath.Join(fixed, "metrics.csv"))
	if n := strings.Count(string(csv), "\n"); n != 4 {
		t.Errorf("metrics.csv has %d lines, want a header and 3 epochs:\n%s", n, csv)
	}
	var rec experiment.Record
	b, _ = os.ReadFile(filepath.Join(fixed, "config.json"))
	if err := json.Unmarshal(b, &rec); err != nil || len(rec.Resumes) != 1 || rec.Resumes[0].Changes[0] != "epochs: 2 -> 3" || rec.Settings.Epochs != 3 {
		t.Errorf("config.json records the resume as %+v (%v)", rec.Resumes, err)
	}
}

// TestSweepAndReport builds winnow, sweeps two methods x two sparsities x two
// seeds plus dense on a slice of MNIST, interrupts nothing, reruns the sweep
// (which must skip every run), and reports.
func TestSweepAndReport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "winnow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sweep := filepath.Join(dir, "sweep")
	args := []string{"sweep", "--model", "lenet300", "--methods", "magnitude,random,dense", "--sparsity", "0.5,0.9", "--seeds", "1,2",
		"--epochs", "1", "--limit-train", "600", "--limit-test", "200", "--batch-size", "32", "--lr", "0.05", "--out", sweep, "--jobs", "2"}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("sweep: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "10 done, 0 running, 0 left") {
		t.Errorf("progress lines:\n%s", out)
	}
	out, err = exec.Command(bin, args...).CombinedOutput()
	if err != nil || strings.Contains(string(out), "started") || !strings.Contains(string(out), "10 done") {
		t.Errorf("second sweep did not skip the finished runs: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "report", sweep).CombinedOutput()
	if err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	for _, want := range []string{"| lenet300 | mnist | magnitude | 50% | 2 |", "| lenet300 | mnist | dense | 0% | 2 |", "report.md"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"report.md", "report.csv", "acc_vs_sparsity_lenet300.png", "layer_density_lenet300.png", "curves_lenet300.png"} {
		if st, err := os.Stat(filepath.Join(sweep, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestPresets(t *testing.T) {
	out, code := run(t, "train", "--preset", "cifar100-resnet32-95", "--epochs", "7", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var s experiment.Settings
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := experiment.Settings{Model: "resnet32", Dataset: "cifar100", Sparsity: 0.95, WeightDecay: 1e-4, SamplesPerClass: 5, ScoringIters: 2,
		LR: 0.1, BatchSize: 128, Epochs: 7, Momentum: 0.9, Prune: "grasp", Schedule: "step", Preset: "cifar100-resnet32-95"}
	got := experiment.Settings{Model: s.Model, Dataset: s.Dataset, Sparsity: s.Sparsity, WeightDecay: s.WeightDecay, SamplesPerClass: s.SamplesPerClass,
		ScoringIters: s.ScoringIters, LR: s.LR, BatchSize: s.BatchSize, Epochs: s.Epochs, Momentum: s.Momentum, Prune: s.Prune, Schedule: s.Schedule, Preset: s.Preset}
	if d := experiment.Diff(want, got); len(d) > 0 || got.Preset != want.Preset || got.Epochs != 7 {
		t.Errorf("preset applied: %v (epochs %d)", d, got.Epochs)
	}
	if out, code := run(t, "train", "--preset", "cifar10-vgg7"); code != 2 {
		t.Errorf("unknown preset: exit %d: %s", code, out)
	}
}

// TestBench: the bench trains the network it says (the density of the
// pruned one is exactly what the sparsity leaves), runs the steps asked
// for, and reports the BLAS this build has.
func TestBench(t *testing.T) {
	out, code := run(t, "bench", "--model", "lenet5", "--steps", "2", "--warmup", "1", "--grasp")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var r experiment.BenchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Density != 1 || r.Steps != 2 || r.BLAS != kernels.BLAS() || r.Model != "lenet5" || !(r.TrainImgS > 0) || !(r.InferImgS > 0) || !(r.GraSPScoreS > 0) {
		t.Errorf("dense bench %+v", r)
	}
	if runtime.GOOS == "linux" && !(r.GraSPPeakRSSMB > 0 && r.PeakRSSMB > 0) { // where the peak can be reset for GraSP's own
		t.Errorf("peaks %+v", r)
	}
	// Pruned first, by each data-free method, to exactly the density asked.
	for _, m := range []string{"random", "magnitude", "synflow"} {
		out, code := run(t, "bench", "--model", "lenet5", "--steps", "1", "--warmup", "0", "--sparsity", "0.9", "--prune", m)
		var r experiment.BenchResult
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Density != float64(430500-387450)/430500 || r.Prune != m {
			t.Errorf("--prune %s: exit %d: %s", m, code, out)
		}
	}
	for _, args := range [][]string{{"--sparsity", "1.5"}, {"--sparsity", "0.9", "--prune", "grasp"}} {
		if out, code := run(t, append([]string{"bench", "--model", "lenet5"}, args...)...); code != 2 {
			t.Errorf("%v: exit %d: %s", args, code, out)
		}
	}
}

func TestScoringMemoryRefused(t *testing.T) {
	out, code := run(t, "prune", "--model", "lenet5", "--samples-per-class", "100000")
	if code != 1 || !strings.Contains(out, "needs about") || !strings.Contains(out, "--samples-per-class") {
		t.Errorf("exit %d: %s", code, out)
	}
}

// TestEigenDamage trains lenet300 briefly, prunes it in two rounds, and
// loads the pruned network with winnow eval: fewer weights and FLOPs, the
// factored layers rebuilt from the file, the accuracy eval reports equal to
// the summary's final one.
func TestEigenDamage(t *testing.T) {
	dir := t.TempDir()
	common := []string{"--model", "lenet300", "--limit-train", "2000", "--limit-test", "500"}
	if out, code := run(t, append([]string{"train", "--prune", "none", "--epochs", "1", "--quiet", "--out", filepath.Join(dir, "dense")}, common...)...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, out)
	}
	ed := filepath.Join(dir, "ed")
	args := append([]string{"eigendamage", "--checkpoint", filepath.Join(dir, "dense", "checkpoint.safetensors"),
		"--ratio", "0.7", "--iterative", "2", "--limit", "0.9", "--finetune-epochs", "1", "--quiet", "--out", ed}, common...)
	out, code := run(t, args...)
	if code != 0 {
		t.Fatalf("eigendamage: exit %d: %s", code, out)
	}
	var s struct {
		Before, Final struct {
			Weights int     `json:"conv_linear_weights"`
			FLOPs   int64   `json:"flops"`
			TestAcc float64 `json:"test_acc"`
		}
	}
	b, err := os.ReadFile(filepath.Join(ed, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if !(s.Final.Weights < s.Before.Weights/2 && s.Final.FLOPs < s.Before.FLOPs/2) {
		t.Errorf("weights %d -> %d, FLOPs %d -> %d: want both more than halved by two rounds of 0.7", s.Before.Weights, s.Final.Weights, s.Before.FLOPs, s.Final.FLOPs)
	}
	if s.Final.TestAcc < s.Before.TestAcc-0.1 {
		t.Errorf("final accuracy %v after fine-tuning, %v before pruning", s.Final.TestAcc, s.Before.TestAcc)
	}
	table, _ := os.ReadFile(filepath.Join(ed, "layers.txt"))
	if !strings.Contains(string(table), "round 2 of 2") || !strings.Contains(string(table), "fc2") {
		t.Errorf("layers.txt lacks round 2 or fc2:\n%s", table)
	}
	out, code = run(t, append([]string{"eval", "--checkpoint", filepath.Join(ed, "pruned.safetensors")}, common...)...)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, out)
	}
	if want := fmt.Sprintf("accuracy %.4f", s.Final.TestAcc); !strings.Contains(out, want) {
		t.Errorf("eval printed %q, want %s", out, want)
	}
	// The unpruned model's shape cannot take the pruned file without the
	// rebuild, and a wrong model is a clear error.
	out, code = run(t, "eval", "--model", "lenet5", "--checkpoint", filepath.Join(ed, "pruned.safetensors"))
	if code != 1 || !strings.Contains(out, "--model") {
		t.Errorf("eval with the wrong model: exit %d: %s", code, out)
	}
	// A filter-pruning baseline on the same network, loaded back by eval.
	kron := filepath.Join(dir, "kron")
	out, code = run(t, append([]string{"eigendamage", "--method", "kron-obs", "--checkpoint", filepath.Join(dir, "dense", "final.safetensors"),
		"--ratio", "0.5", "--finetune-epochs", "0", "--quiet", "--out", kron}, common...)...)
	if code != 0 {
		t.Fatalf("eigendamage --method kron-obs: exit %d: %s", code, out)
	}
	if out, code = run(t, append([]string{"eval", "--checkpoint", filepath.Join(kron, "pruned.safetensors")}, common...)...); code != 0 {
		t.Fatalf("eval of the slimmed network: exit %d: %s", code, out)
	}
	// C-OBS, its statistics over the first 512 training images.
	cobs := filepath.Join(dir, "cobs")
	if out, code = run(t, append([]string{"eigendamage", "--method", "c-obs", "--checkpoint", filepath.Join(dir, "dense", "final.safetensors"),
		"--ratio", "0.5", "--fisher-examples", "512", "--finetune-epochs", "0", "--quiet", "--out", cobs}, common...)...); code != 0 || !strings.Contains(out, "interleaved pairs") {
		t.Fatalf("eigendamage --method c-obs: exit %d: %s", code, out)
	}
	// A FLOPs target instead of a ratio: the least ratio that keeps no more.
	for _, method := range []string{"kron-obs", "eigendamage"} {
		target := filepath.Join(dir, "target-"+method)
		if out, code = run(t, append([]string{"eigendamage", "--method", method, "--checkpoint", filepath.Join(dir, "dense", "final.safetensors"),
			"--flops-target", "0.3", "--fisher-examples", "512", "--finetune-epochs", "0", "--quiet", "--out", target}, common...)...); code != 0 {
			t.Fatalf("eigendamage --flops-target: exit %d: %s", code, out)
		}
		var ts struct {
			Ratio float64 `json:"ratio"`
			Kept  float64 `json:"flops_kept_official"`
		}
		b, _ := os.ReadFile(filepath.Join(target, "summary.json"))
		if err := json.Unmarshal(b, &ts); err != nil || !(ts.Kept <= 0.3 && ts.Kept > 0.25) || !(ts.Ratio > 0 && ts.Ratio < 1) {
			t.Errorf("%s --flops-target 0.3: ratio %v keeps %v of the FLOPs (%v)", method, ts.Ratio, ts.Kept, err)
		}
	}
	if out, code := run(t, "eigendamage", "--method", "c-obd", "--damping", "0.1", "--checkpoint", "x"); code != 2 || !strings.Contains(out, "damping") {
		t.Errorf("--damping with c-obd: exit %d, want 2: %s", code, out)
	}
	// winnow train fine-tunes the factored network further (--init), and
	// resumes it after an interruption.
	ft := filepath.Join(dir, "finetune")
	fineTune := func(epochs string, extra ...string) []string {
		args := []string{"train", "--init", filepath.Join(ed, "pruned.safetensors"), "--prune", "none", "--lr", "0.001",
			"--epochs", epochs, "--quiet", "--out", ft}
		return append(append(args, extra...), common...)
	}
	if out, code := run(t, fineTune("1")...); code != 0 {
		t.Fatalf("train --init pruned.safetensors: exit %d: %s", code, out)
	}
	if out, code := run(t, fineTune("2", "--resume")...); code != 0 {
		t.Fatalf("train --resume of a factored network: exit %d: %s", code, out)
	}
	// winnow report tabulates the folder's eigendamage runs.
	out, code = run(t, "report", dir)
	if code != 0 || !strings.Contains(out, "| lenet300 | eigendamage | 2 x 0.7 |") || !strings.Contains(out, "| lenet300 | kron-obs | 1 x 0.5 |") {
		t.Errorf("report: exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "acc_vs_flops.png")); err != nil {
		t.Errorf("report drew no plot: %v", err)
	}
	if out, code := run(t, "eigendamage", "--ratio", "1.5", "--checkpoint", "x"); code != 2 {
		t.Errorf("--ratio 1.5: exit %d, want 2: %s", code, out)
	}
}

// TestCorrBench runs the toy study with the oracle's kernel and an RBF GP,
// and checks that winnow report rebuilds the report from results.json.
func TestCorrBench(t *testing.T) {
	dir := t.TempDir()
	out, code := run(t, "corrbench", "--toy", "2", "--seeds", "2", "--models", "nngp,gp", "--quiet", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if !strings.Contains(out, "| nngp | 1.000 ± 0.000 | 1.000 ± 0.000 |") {
		t.Errorf("the oracle's kernel should reach meta-correlation 1:\n%s", out)
	}
	if !strings.Contains(out, "| nngp | batchmig |") {
		t.Errorf("no toy active-learning row:\n%s", out)
	}
	for _, f := range []string{"toy_xll.png", "toy_tal.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("toy plot: %v", err)
		}
	}
	again, code := run(t, "report", dir)
	if code != 0 || !strings.Contains(again, "| gp |") {
		t.Errorf("report: exit %d: %s", code, again)
	}
	for _, args := range [][]string{{"corrbench"}, {"corrbench", "--toy", "2", "--data", "x"}, {"corrbench", "--toy", "2", "--models", "svm"}} {
		if out, code := run(t, args...); code != 2 {
			t.Errorf("winnow %v: exit %d, want 2: %s", args, code, out)
		}
	}
	if out, code := run(t, "corrbench", "--toy", "2", "--official", "nodir"); code != 2 || !strings.Contains(out, "NAME=DIR") {
		t.Errorf("--official without a folder: exit %d: %s", code, out)
	}
	if out, code := run(t, "corrbench", "--toy", "2", "--official", "bbb="+dir); code != 2 || !strings.Contains(out, "toy") {
		t.Errorf("--official with --toy: exit %d: %s", code, out)
	}
	if out, code := run(t, "corrbench", "--data", filepath.Join(dir, "missing.csv")); code != 1 || !strings.Contains(out, "missing.csv") {
		t.Errorf("a missing file: exit %d: %s", code, out)
	}
}

// TestEigenDamageResidual prunes a ResNet-20's filters by the union rule
// (residual writers included) and loads the slimmed network, its blocks
// joined, back with winnow eval: the same accuracy as the summary's.
func TestEigenDamageResidual(t *testing.T) {
	dir := t.TempDir()
	common := []string{"--model", "resnet20", "--width", "1", "--limit-train", "512", "--limit-test", "200", "--batch-size", "64"}
	if out, code := run(t, append([]string{"train", "--prune", "none", "--epochs", "1", "--quiet", "--out", filepath.Join(dir, "dense")}, common...)...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, out)
	}
	out := filepath.Join(dir, "kron-obd")
	if o, code := run(t, append([]string{"eigendamage", "--method", "kron-obd", "--checkpoint", filepath.Join(dir, "dense", "final.safetensors"),
		"--ratio", "0.4", "--finetune-epochs", "0", "--quiet", "--out", out}, common...)...); code != 0 {
		t.Fatalf("eigendamage: exit %d: %s", code, o)
	}
	table, _ := os.ReadFile(filepath.Join(out, "layers.txt"))
	if !strings.Contains(string(table), "layer1.0.conv2") || !strings.Contains(string(table), "layer2.0.shortcut.0") {
		t.Errorf("layers.txt lacks the residual writers:\n%s", table)
	}
	var s struct {
		Final struct {
			TestAcc float64 `json:"test_acc"`
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil || json.Unmarshal(b, &s) != nil {
		t.Fatalf("summary.json: %v", err)
	}
	o, code := run(t, append([]string{"eval", "--checkpoint", filepath.Join(out, "pruned.safetensors")}, common...)...)
	if code != 0 || !strings.Contains(o, fmt.Sprintf("accuracy %.4f", s.Final.TestAcc)) {
		t.Errorf("eval: exit %d: %s (summary: %.4f)", code, o, s.Final.TestAcc)
	}
	f, err := safetensors.ReadFile(filepath.Join(out, "pruned.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	joins := 0
	for _, tn := range f.Tensors {
		if strings.HasSuffix(tn.Name, ".join.branch") {
			joins++
		}
	}
	if joins == 0 {
		t.Error("no block of the pruned network is joined by the union rule")
	}
}
