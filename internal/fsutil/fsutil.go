// Package fsutil writes the files of a run so that a crash or a power cut
// leaves either the old file or the new one, never a torn one: each is
// written to a temporary file in the same folder, synced, renamed over its
// path, and the folder synced so that the rename itself survives.
package fsutil

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Perm is the mode of the files written: readable by others, as the files
// of a research run are shared.
const Perm = 0o644

// tempPattern names the temporary files of WriteAtomic, ".<name>.tmp<N>":
// CleanTemp removes those a killed process left.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".tmp*" }

// WriteAtomic writes path through write, atomically and durably.
func WriteAtomic(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPattern(path))
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly after the rename
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(Perm); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return SyncDir(dir)
}

// WriteFile writes data to path atomically and durably.
func WriteFile(path string, data []byte) error {
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// SyncDir flushes a folder's entries (new names, renames) to disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isUnsupported(err) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// isUnsupported reports the errors of file systems that cannot sync a
// folder (some network and FUSE file systems): the rename stands anyway.
func isUnsupported(err error) bool {
	s := err.Error()
	return strings.Contains(s, "invalid argument") || strings.Contains(s, "not supported")
}

// CleanTemp removes the temporary files WriteAtomic leaves in dir when its
// process is killed between creating and renaming them, and returns their
// names. Only the owner of dir may call it: a temporary file of a writer
// still running would be removed too.
func CleanTemp(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, ".") || !strings.Contains(n, ".tmp") {
			continue
		}
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !os.IsNotExist(err) {
			return removed, err
		}
		removed = append(removed, n)
	}
	return removed, nil
}
