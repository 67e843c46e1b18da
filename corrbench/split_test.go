package corrbench

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestMT19937: the reference MT19937's first outputs for seed 5489 (as
// NumPy's RandomState(5489) gives them).
func TestMT19937(t *testing.T) {
	m := newMT19937(5489)
	for i, want := range []uint32{3499211612, 581869302, 3890346734} {
		if got := m.uint32(); got != want {
			t.Errorf("output %d = %d, want %d", i, got, want)
		}
	}
}

// TestOfficialSplit: the rows of each part as the official
// fetch_active_learning_dataset picks them, computed by NumPy 1.24 and
// scikit-learn 1.2 (Debian 12) on a table whose target is the row index:
// sizes, the first rows of train, pool and test, and the pool's last rows
// (the fixed validation part, the same for every seed).
func TestOfficialSplit(t *testing.T) {
	for _, c := range []struct {
		n                     int
		seed                  uint64
		nTrain, nPool, nTest  int
		train, pool, poolTail []int
		test                  []int
	}{
		{308, 1, 61, 185, 62, []int{296, 49, 255, 10, 194, 222, 259, 18}, []int{96, 51, 138, 203, 177, 235, 213, 113}, []int{67, 277, 117, 282}, []int{304, 152, 208, 121, 144, 236, 293, 298}},
		{308, 2, 61, 185, 62, []int{279, 64, 126, 262, 150, 145, 59, 201}, []int{154, 107, 151, 229, 82, 199, 206, 237}, []int{67, 277, 117, 282}, []int{170, 301, 286, 113, 190, 233, 238, 147}},
		{1030, 7, 206, 618, 206, []int{171, 1, 288, 753, 336, 416, 774, 364}, []int{0, 60, 97, 500, 138, 622, 220, 274}, []int{951, 452, 363, 776}, []int{231, 180, 957, 402, 405, 404, 417, 464}},
	} {
		tab := &Table{X: mat.NewDense(c.n, 1, nil), Y: make([]float64, c.n)}
		for i := 0; i < c.n; i++ {
			tab.X.Set(i, 0, float64(i%17))
			tab.Y[i] = float64(i)
		}
		s, err := NewSplit(tab, 0.2, 0.2, c.seed)
		if err != nil {
			t.Fatal(err)
		}
		rows := func(y []float64) []int {
			out := make([]int, len(y))
			for i, v := range y {
				out[i] = int(math.Round(v*s.YStd + s.YMean))
			}
			return out
		}
		train, pool, test := rows(s.TrainY), rows(s.PoolY), rows(s.TestY)
		if len(train) != c.nTrain || len(pool) != c.nPool || len(test) != c.nTest {
			t.Errorf("n %d seed %d: %d, %d, %d rows, want %d, %d, %d", c.n, c.seed, len(train), len(pool), len(test), c.nTrain, c.nPool, c.nTest)
			continue
		}
		if !slices.Equal(train[:8], c.train) || !slices.Equal(pool[:8], c.pool) || !slices.Equal(pool[len(pool)-4:], c.poolTail) || !slices.Equal(test[:8], c.test) {
			t.Errorf("n %d seed %d: train %v, pool %v ... %v, test %v; want %v, %v ... %v, %v", c.n, c.seed,
				train[:8], pool[:8], pool[len(pool)-4:], test[:8], c.train, c.pool, c.poolTail, c.test)
		}
	}
}
