//go:build !linux

package mem

// Zeroed allocates n zeroed elements.
func Zeroed[E any](n int) []E { return make([]E, n) }
