package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/winnow-ml/winnow/experiment"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/safetensors"
)

var tiny = []string{"--model", "lenet300", "--epochs", "1", "--limit-train", "200", "--limit-test", "100", "--batch-size", "50", "--samples-per-class", "1", "--quiet"}

// TestRecords: config.json records the data (with the normalisation and
// where it came from), the provenance (revision, command, host, CPU), and
// every run file is readable by others; temporary files a kill left are
// removed when the run starts.
func TestRecords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, ".checkpoint.safetensors.tmp123"), make([]byte, 1000), 0o600)
	if out, code := run(t, append([]string{"train", "--prune", "snip", "--sparsity", "0.5", "--out", dir}, tiny...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, ".checkpoint.safetensors.tmp123")); err == nil {
		t.Error("a temporary file a killed run left is still there")
	}
	rec, err := experiment.ReadRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := rec.Provenance
	if p.Go == "" || p.Host == "" || p.CPU == "" || p.CPUs == 0 || len(p.Command) == 0 {
		t.Errorf("provenance %+v", p)
	}
	if p.Revision == "" || p.Source == "" {
		t.Errorf("no source revision in %+v (this test runs in a git checkout)", p)
	}
	d := rec.Data
	if d.Classes != 10 || d.Train != 200 || d.Test != 100 || len(d.Mean) != 1 || d.Mean[0] != 0.1307 || d.Std[0] != 0.3081 {
		t.Errorf("data record %+v", d)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, _ := e.Info()
		if e.Name() != experiment.LockFile && info.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", e.Name(), info.Mode().Perm())
		}
	}
}

// TestFolderNormalisationRecorded: a folder dataset's mean and std, and
// the images they came from, are in config.json, and eval normalises the
// same way (or by --mean/--std).
func TestFolderNormalisationRecorded(t *testing.T) {
	data := folderData(t, map[string]map[string]int{"train": {"a": 20, "b": 20}, "test": {"a": 5, "b": 5}})
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--dataset", "folder", "--data-dir", data, "--model", "lenet300", "--prune", "none", "--epochs", "1", "--batch-size", "8", "--quiet", "--out", dir}
	if out, code := run(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	rec, _ := experiment.ReadRecord(dir)
	if len(rec.Data.Mean) != 3 || rec.Data.StatsFrom != "all 40 training images" {
		t.Errorf("data record %+v", rec.Data)
	}
	out, code := run(t, "eval", "--dataset", "folder", "--data-dir", data, "--model", "lenet300", "--checkpoint", filepath.Join(dir, "final.safetensors"), "--json")
	var ev experiment.Evaluation
	if code != 0 || json.Unmarshal([]byte(out), &ev) != nil {
		t.Fatalf("eval: exit %d: %s", code, out)
	}
	if fmt.Sprint(ev.Mean) != fmt.Sprint(rec.Data.Mean) || ev.Stage.TestExamples != 10 {
		t.Errorf("eval normalised with %v, training with %v", ev.Mean, rec.Data.Mean)
	}
	out, code = run(t, "eval", "--dataset", "folder", "--data-dir", data, "--model", "lenet300", "--checkpoint", filepath.Join(dir, "final.safetensors"), "--json",
		"--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25")
	json.Unmarshal([]byte(out), &ev)
	if code != 0 || ev.Mean[0] != 0.5 || ev.Std[2] != 0.25 {
		t.Errorf("eval --mean/--std: exit %d: %s", code, out)
	}
}

// TestEvalPredictions writes per-example probabilities (CSV) and logits
// (safetensors) that agree with the accuracy eval reports.
func TestEvalPredictions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if out, code := run(t, append([]string{"train", "--prune", "none", "--out", dir}, tiny...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	preds := filepath.Join(t.TempDir(), "p.csv")
	out, code := run(t, "eval", "--model", "lenet300", "--limit-test", "100", "--checkpoint", filepath.Join(dir, "final.safetensors"), "--predictions", preds, "--json")
	var ev experiment.Evaluation
	if code != 0 || json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &ev) != nil {
		t.Fatalf("exit %d: %s", code, out)
	}
	f, _ := os.Open(preds)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 101 || len(rows[0]) != 13 {
		t.Fatalf("%d rows of %d columns: %v", len(rows), len(rows[0]), err)
	}
	correct := 0
	for _, r := range rows[1:] {
		if r[1] == r[2] {
			correct++
		}
	}
	if acc := float64(correct) / 100; acc != ev.Stage.TestAcc {
		t.Errorf("predictions give accuracy %v, eval %v", acc, ev.Stage.TestAcc)
	}
	st := filepath.Join(t.TempDir(), "p.safetensors")
	if _, code := run(t, "eval", "--model", "lenet300", "--limit-test", "100", "--checkpoint", filepath.Join(dir, "final.safetensors"), "--predictions", st); code != 0 {
		t.Fatal("safetensors predictions")
	}
	sf, err := safetensors.ReadFile(st)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := sf.Get("logits"); !ok || l.Shape[0] != 100 || l.Shape[1] != 10 {
		t.Errorf("logits %v", l.Shape)
	}
}

// TestMasksBothWays: --mask trains with a given mask, winnow's or named as
// torch.nn.utils.prune names them, and --init of a pruned network keeps its
// masks (it trained them back to dense).
func TestMasksBothWays(t *testing.T) {
	_, _, in, _ := models.Describe("lenet300")
	m, _ := models.New[float32]("lenet300", in, models.Options{}, 1)
	var torchStyle []safetensors.Tensor
	for _, p := range nn.Prunable(m) {
		b := make([]float32, p.Len())
		for i := range b {
			if i%4 == 0 {
				b[i] = 1
			}
		}
		torchStyle = append(torchStyle, safetensors.FromFloats(p.Name+"_mask", safetensors.F32, p.Shape, b))
	}
	maskFile := filepath.Join(t.TempDir(), "torch_masks.safetensors")
	if err := safetensors.WriteFile(maskFile, torchStyle, nil); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "masked")
	out, code := run(t, append([]string{"train", "--prune", "none", "--mask", maskFile, "--out", dir}, tiny...)...)
	if code != 0 || !strings.Contains(out, "weights kept 66550 of 266200 (25.00%)") {
		t.Fatalf("--mask: exit %d: %s", code, out)
	}
	// --init of that pruned network keeps its masks.
	again := filepath.Join(t.TempDir(), "again")
	for _, f := range []string{"checkpoint.safetensors", "final.safetensors"} { // final's masks: the run's mask.safetensors
		out, code = run(t, append([]string{"train", "--prune", "none", "--init", filepath.Join(dir, f), "--out", again, "--force"}, tiny...)...)
		if code != 0 || !strings.Contains(out, "(25.00%)") {
			t.Errorf("--init of a pruned %s: exit %d: %s", f, code, out)
		}
	}
	// A pruned network with a method on top is refused.
	out, code = run(t, append([]string{"train", "--prune", "snip", "--init", filepath.Join(dir, "checkpoint.safetensors"), "--out", again, "--force"}, tiny...)...)
	if code != 2 || !strings.Contains(out, "carries masks") {
		t.Errorf("--init pruned with --prune snip: exit %d: %s", code, out)
	}
}

// TestInterruptedBeforeTheFirstCheckpoint: a run stopped before its first
// checkpoint resumes by starting afresh, with its settings checked.
func TestInterruptedBeforeTheFirstCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	args := append([]string{"train", "--prune", "snip", "--sparsity", "0.5", "--out", dir}, tiny...)
	if out, code := run(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	// What a kill during pruning leaves: config.json alone.
	for _, f := range []string{"checkpoint.safetensors", "metrics.csv", "summary.json", "final.safetensors", "mask.safetensors", "prune-report.json"} {
		os.Remove(filepath.Join(dir, f))
	}
	out, code := run(t, append(append([]string{}, args...), "--resume")...)
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, out)
	}
	out, code = run(t, append(append([]string{}, args...), "--resume", "--quiet=false")...)
	if code != 0 || !strings.Contains(out, "resuming") {
		t.Errorf("second resume: exit %d: %s", code, out)
	}
}

// TestProgressWithinEpochs: a piped log gets a line every --log-every steps.
func TestProgressWithinEpochs(t *testing.T) {
	out, code := run(t, "train", "--model", "lenet300", "--prune", "none", "--epochs", "1", "--limit-train", "400", "--limit-test", "100",
		"--batch-size", "20", "--log-every", "5", "--out", filepath.Join(t.TempDir(), "run"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if n := strings.Count(out, "epoch 1/1 step "); n != 3 || !strings.Contains(out, "step 15/20") {
		t.Errorf("%d step lines, want 3 (steps 5, 10, 15 of 20):\n%s", n, out)
	}
}

// TestTrainingMemoryRefused: a batch too large for the memory is refused
// before training, naming the batch size.
func TestTrainingMemoryRefused(t *testing.T) {
	out, code := run(t, "train", "--model", "vgg19", "--dataset", "folder", "--data-dir", folderData(t, map[string]map[string]int{"train": {"a": 2, "b": 2}, "test": {"a": 1}}),
		"--image-size", "32", "--prune", "none", "--batch-size", "2000000", "--out", filepath.Join(t.TempDir(), "run"))
	if code != 1 || !strings.Contains(out, "--batch-size 2000000") || !strings.Contains(out, "needs about") {
		t.Errorf("exit %d: %s", code, out)
	}
}

// TestBadDataFoundBeforePruning: a validation image listed but missing
// fails in a second, before pruning writes anything.
func TestBadDataFoundBeforePruning(t *testing.T) {
	root := t.TempDir()
	var wnids []string
	for c := 0; c < 3; c++ {
		w := fmt.Sprintf("n%02d", c)
		wnids = append(wnids, w)
		for k := 0; k < 3; k++ {
			writeFile(t, filepath.Join(root, "train", w, "images", fmt.Sprintf("%s_%d.JPEG", w, k)), pngOf(t, 64, 64, uint8(k)))
		}
	}
	writeFile(t, filepath.Join(root, "wnids.txt"), []byte(strings.Join(wnids, "\n")))
	writeFile(t, filepath.Join(root, "val", "images", "val_0.JPEG"), pngOf(t, 64, 64, 1))
	writeFile(t, filepath.Join(root, "val", "val_annotations.txt"), []byte("val_0.JPEG\tn00\t0 0 1 1\nval_1.JPEG\tn01\t0 0 1 1\n"))
	dir := filepath.Join(t.TempDir(), "run")
	out, code := run(t, "train", "--dataset", "tiny-imagenet", "--data-dir", root, "--model", "vgg11", "--samples-per-class", "1", "--out", dir)
	if code != 1 || !strings.Contains(out, "val_1.JPEG") {
		t.Errorf("exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "prune-report.json")); err == nil {
		t.Error("pruning ran before the data were checked")
	}
}
