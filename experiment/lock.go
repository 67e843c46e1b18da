package experiment

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockFile is the name of a run folder's lock.
const LockFile = "lock"

// Heartbeat is how often a lock's holder touches it; a lock on another
// host untouched for StaleAfter is taken over (its holder is gone).
const (
	Heartbeat  = 30 * time.Second
	StaleAfter = 3 * Heartbeat
)

// lockInfo is the content of a lock file.
type lockInfo struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
	Job     string    `json:"job,omitempty"` // the Slurm job (and array task), when there is one
}

// LockedError reports a run folder held by another process.
type LockedError struct {
	Dir  string
	Info lockInfo
}

func (e *LockedError) Error() string {
	job := ""
	if e.Info.Job != "" {
		job = ", Slurm job " + e.Info.Job
	}
	return fmt.Sprintf("%s is in use by process %d on %s (since %s%s): two processes must not write one run; "+
		"wait for it, or remove %s if that process is gone", e.Dir, e.Info.PID, e.Info.Host, e.Info.Started.Format(time.RFC3339), job,
		filepath.Join(e.Dir, LockFile))
}

// Lock holds a run folder for one process.
type Lock struct {
	path string
	stop chan struct{}
	done chan struct{}
}

// slurmJob names the Slurm job this process runs in, if any.
func slurmJob() string {
	if a, t := os.Getenv("SLURM_ARRAY_JOB_ID"), os.Getenv("SLURM_ARRAY_TASK_ID"); a != "" && t != "" {
		return a + "_" + t
	}
	return os.Getenv("SLURM_JOB_ID")
}

// LockDir takes dir's lock: a file naming this process, host, start time
// and Slurm job, touched every Heartbeat while held. A lock whose holder is
// gone (a dead process on this host, or on another host a lock untouched
// for StaleAfter) is taken over; a live one is a *LockedError.
func LockDir(dir string) (*Lock, error) {
	host, _ := os.Hostname()
	me := lockInfo{PID: os.Getpid(), Host: host, Started: time.Now().UTC().Truncate(time.Second), Job: slurmJob()}
	body, _ := json.Marshal(me)
	path := filepath.Join(dir, LockFile)
	for attempt := 0; attempt < 3; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.Write(append(body, '\n'))
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("locking %s: %w", dir, werr)
			}
			l := &Lock{path: path, stop: make(chan struct{}), done: make(chan struct{})}
			go l.beat()
			return l, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("locking %s: %w", dir, err)
		}
		held, raw, err := readLock(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // released meanwhile
			}
			return nil, err
		}
		if !stale(held, path, host) {
			return nil, &LockedError{Dir: dir, Info: held}
		}
		// Take over only the lock judged stale, not one taken meanwhile.
		if _, again, err := readLock(path); err == nil && string(again) == string(raw) {
			os.Remove(path)
		}
	}
	return nil, fmt.Errorf("locking %s: another process keeps taking its lock", dir)
}

func readLock(path string) (lockInfo, []byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return lockInfo{}, nil, err
	}
	var li lockInfo
	if err := json.Unmarshal(raw, &li); err != nil {
		// A lock being written, or garbage: judged by its age alone.
		li = lockInfo{PID: -1}
	}
	return li, raw, nil
}

// stale reports whether a lock's holder is gone.
func stale(li lockInfo, path, host string) bool {
	if li.Host == host && li.PID > 0 {
		return !alive(li.PID)
	}
	st, err := os.Stat(path)
	return err == nil && time.Since(st.ModTime()) > StaleAfter
}

// alive reports whether a process of this host exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func (l *Lock) beat() {
	defer close(l.done)
	t := time.NewTicker(Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case now := <-t.C:
			os.Chtimes(l.path, now, now)
		}
	}
}

// Unlock releases the folder.
func (l *Lock) Unlock() {
	close(l.stop)
	<-l.done
	os.Remove(l.path)
}

// Holder describes the live holder of dir's lock, or returns "" when
// the folder is free (or its lock stale).
func Holder(dir string) string {
	path := filepath.Join(dir, LockFile)
	li, _, err := readLock(path)
	if err != nil {
		return ""
	}
	host, _ := os.Hostname()
	if stale(li, path, host) {
		return ""
	}
	s := fmt.Sprintf("process %d on %s", li.PID, li.Host)
	if li.Job != "" {
		s += ", Slurm job " + li.Job
	}
	return s
}
