package experiment

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/winnow-ml/winnow/internal/kernels"
)

// Provenance records what produced a run and where: the source revision,
// the command, the machine.
type Provenance struct {
	Revision string   `json:"revision,omitempty"` // git commit of the source
	Dirty    bool     `json:"dirty,omitempty"`    // uncommitted changes in the source
	Source   string   `json:"revision_from,omitempty"`
	Version  string   `json:"version,omitempty"` // the module version, for a released build
	Go       string   `json:"go"`
	BLAS     string   `json:"blas"`
	Command  []string `json:"command,omitempty"`
	Host     string   `json:"host"`
	CPU      string   `json:"cpu"`
	CPUs     int      `json:"cpus"`
	Job      string   `json:"slurm_job,omitempty"`
}

// NewProvenance describes this process. The revision comes from the
// binary's build information (go build stamps it), else from the checkout
// the binary was compiled from (go run does not stamp it), with a dirty
// flag either way.
func NewProvenance(command []string) Provenance {
	p := Provenance{Go: runtime.Version(), BLAS: kernels.BLAS(), Command: command, CPU: cpuModel(), CPUs: runtime.NumCPU(), Job: slurmJob()}
	p.Host, _ = os.Hostname()
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			p.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				p.Revision, p.Source = s.Value, "build information"
			case "vcs.modified":
				p.Dirty = s.Value == "true"
			}
		}
	}
	if p.Revision == "" {
		p.Revision, p.Dirty = checkoutRevision()
		if p.Revision != "" {
			p.Source = "the source checkout at run time"
		}
	}
	return p
}

// checkoutRevision asks git for the revision of the checkout this file was
// compiled from, if it is still there.
func checkoutRevision() (string, bool) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", false
	}
	dir := filepath.Dir(file)
	rev, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", false
	}
	status, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output()
	return strings.TrimSpace(string(rev)), err == nil && len(strings.TrimSpace(string(status))) > 0
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
