//go:build !linux

package experiment

import "syscall"

func childAttr() *syscall.SysProcAttr { return nil }
