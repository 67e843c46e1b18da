package mem

import "testing"

// TestZeroed checks that buffers below and above the populating threshold,
// in one part or several of uneven size, come back zeroed, whole and
// writable.
func TestZeroed(t *testing.T) {
	for _, n := range []int{0, 1, 1000, populateMin/8 - 1, populateMin / 8, 3*populateMin/8 + 12345} {
		b := Zeroed[float64](n)
		if len(b) != n {
			t.Fatalf("Zeroed(%d): length %d", n, len(b))
		}
		for i, v := range b {
			if v != 0 {
				t.Fatalf("Zeroed(%d)[%d] = %v", n, i, v)
			}
			b[i] = float64(i)
		}
		for i, v := range b {
			if v != float64(i) {
				t.Fatalf("Zeroed(%d)[%d] = %v after writing %d", n, i, v, i)
			}
		}
	}
}
