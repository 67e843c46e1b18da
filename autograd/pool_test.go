package autograd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMaxPool2x2 checks the 2 x 2, stride 2 forward rule against the
// general one on planes with ties, NaNs and odd sizes: the same maxima and
// the same chosen positions (first maximum, last NaN).
func TestMaxPool2x2(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	for _, hw := range [][2]int{{4, 6}, {5, 7}} {
		h, w := hw[0], hw[1]
		x := make([]float64, 3*h*w)
		for i := range x {
			switch r := rng.IntN(10); {
			case r == 0:
				x[i] = math.NaN()
			case r < 4:
				x[i] = 1 // ties
			default:
				x[i] = rng.NormFloat64()
			}
		}
		fast := NewTape[float64](NoGrad())
		yf := MaxPool2d(fast, fast.Input(x, 1, 3, h, w), 2, 2, 0)
		// The general loop's rule, written out.
		oh, ow := h/2, w/2
		for pl := 0; pl < 3; pl++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					best, bi := math.Inf(-1), -1
					for i := 0; i < 2; i++ {
						for j := 0; j < 2; j++ {
							k := (2*oy+i)*w + 2*ox + j
							v := x[pl*h*w+k]
							if v > best || bi < 0 || v != v {
								best, bi = v, k
							}
						}
					}
					o := (pl*oh+oy)*ow + ox
					got := yf.Value[o]
					if got != best && !(got != got && best != best) {
						t.Fatalf("%dx%d plane %d (%d,%d): %v, want %v", h, w, pl, oy, ox, got, best)
					}
					if a := fast.ints.bufs[0][o]; int(a) != bi {
						t.Fatalf("%dx%d plane %d (%d,%d): position %d, want %d", h, w, pl, oy, ox, a, bi)
					}
				}
			}
		}
	}
}
