package micro

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedAssembly regenerates the assembly with asmgen into a
// temporary folder and compares it with the checked-in files: an edit of
// the generator without go generate, or of a .s file by hand, fails here.
func TestGeneratedAssembly(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipped: no go command to run the generator")
	}
	dir := t.TempDir()
	if out, err := exec.Command(gobin, "run", "./asmgen", "-dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("go run ./asmgen: %v\n%s", err, out)
	}
	for _, f := range []string{"gemm_amd64.s", "elementwise_amd64.s", "winograd_amd64.s"} {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what asmgen writes: run go generate ./internal/kernels/micro", f)
		}
	}
}
