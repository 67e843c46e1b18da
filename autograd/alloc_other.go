//go:build !linux

package autograd

// makeBuffer allocates n zeroed elements.
func makeBuffer[E any](n int) []E { return make([]E, n) }
