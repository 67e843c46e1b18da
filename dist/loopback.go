package dist

import (
	"fmt"
	"sync"
)

// Loopback returns the n ranks of a run within this process, one Comm
// each, for goroutines that play the processes (tests, examples). Their
// sums add the ranks' values in rank order. Like MPI's, every collective
// call blocks until all n ranks have made it; calls with slices of
// different lengths are refused with an error on every rank.
func Loopback(n int) []Comm {
	if n < 1 {
		panic(fmt.Sprintf("dist: Loopback(%d)", n))
	}
	g := &group{n: n, slots: make([]any, n)}
	g.cond = sync.NewCond(&g.mu)
	out := make([]Comm, n)
	for r := range out {
		out[r] = &loopback{g: g, rank: r}
	}
	return out
}

// group is the meeting point of a loopback run's ranks: each collective
// call deposits its argument, the last to arrive combines them, and all
// leave with the result before the next call begins.
type group struct {
	mu      sync.Mutex
	cond    *sync.Cond
	n       int
	slots   []any
	arrived int
	leaving int
	result  any
	err     error
	gen     int
}

// meet deposits in for rank and returns combine's result over every
// rank's deposit.
func (g *group) meet(rank int, in any, combine func(slots []any) (any, error)) (any, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.leaving > 0 { // the previous call's ranks are still leaving
		g.cond.Wait()
	}
	gen := g.gen
	g.slots[rank] = in
	if g.arrived++; g.arrived == g.n {
		g.result, g.err = combine(g.slots)
		g.arrived, g.leaving = 0, g.n
		g.gen++
		g.cond.Broadcast()
	}
	for g.gen == gen {
		g.cond.Wait()
	}
	res, err := g.result, g.err
	if g.leaving--; g.leaving == 0 {
		clear(g.slots)
		g.cond.Broadcast()
	}
	return res, err
}

type loopback struct {
	g    *group
	rank int
}

func (c *loopback) Rank() int { return c.rank }
func (c *loopback) Size() int { return c.g.n }

func (c *loopback) SumFloat32(x []float32) error { return sumInto(c, x) }
func (c *loopback) SumFloat64(x []float64) error { return sumInto(c, x) }

func sumInto[T float32 | float64](c *loopback, x []T) error {
	res, err := c.g.meet(c.rank, x, func(slots []any) (any, error) {
		sum := make([]T, len(x))
		for r, s := range slots {
			v := s.([]T)
			if len(v) != len(sum) {
				return nil, fmt.Errorf("dist: a sum of %d values on rank 0, %d on rank %d", len(sum), len(v), r)
			}
			for i, a := range v {
				sum[i] += a
			}
		}
		return sum, nil
	})
	if err != nil {
		return err
	}
	copy(x, res.([]T))
	return nil
}

func (c *loopback) Broadcast(x []byte, root int) error {
	res, err := c.g.meet(c.rank, x, func(slots []any) (any, error) {
		if root < 0 || root >= len(slots) {
			return nil, fmt.Errorf("dist: broadcast from rank %d of %d", root, len(slots))
		}
		src := slots[root].([]byte)
		for r, s := range slots {
			if len(s.([]byte)) != len(src) {
				return nil, fmt.Errorf("dist: a broadcast of %d bytes from rank %d, %d on rank %d", len(src), root, len(s.([]byte)), r)
			}
		}
		return append([]byte(nil), src...), nil
	})
	if err != nil {
		return err
	}
	copy(x, res.([]byte))
	return nil
}

func (c *loopback) Close() error { return nil }
