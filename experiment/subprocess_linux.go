package experiment

import "syscall"

// childAttr ends a sweep's child when the sweep dies, even by SIGKILL.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
