//go:build !linux

package experiment

import (
	"runtime"
	"syscall"
)

// peakRSSMB is the process's peak resident set in MiB (rusage's Maxrss:
// bytes on Darwin, KiB elsewhere).
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return float64(ru.Maxrss) / (1 << 20)
	}
	return float64(ru.Maxrss) / 1024
}

// resetPeakRSS cannot reset the peak here.
func resetPeakRSS() bool { return false }
