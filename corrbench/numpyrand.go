package corrbench

// mt19937 is NumPy's legacy generator (RandomState: MT19937 seeded by an
// integer) and the two uses the official splits make of it, permutation and
// shuffle, so that a seed picks the rows the official code picks.
type mt19937 struct {
	state [624]uint32
	pos   int
}

// newMT19937 is RandomState(seed) (mt19937_seed: Knuth's initialisation).
func newMT19937(seed uint32) *mt19937 {
	m := &mt19937{pos: 624}
	m.state[0] = seed
	for i := 1; i < 624; i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return m
}

func (m *mt19937) uint32() uint32 {
	if m.pos == 624 {
		const upper, lower = 0x80000000, 0x7fffffff
		for i := 0; i < 624; i++ {
			y := m.state[i]&upper | m.state[(i+1)%624]&lower
			v := m.state[(i+397)%624] ^ y>>1
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			m.state[i] = v
		}
		m.pos = 0
	}
	y := m.state[m.pos]
	m.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// interval is NumPy's random_interval: uniform on [0, max] by masked
// rejection (max below 2³²).
func (m *mt19937) interval(max uint32) uint32 {
	if max == 0 {
		return 0
	}
	mask := max
	for s := uint(1); s <= 16; s <<= 1 {
		mask |= mask >> s
	}
	for {
		if v := m.uint32() & mask; v <= max {
			return v
		}
	}
}

// shuffle is RandomState.shuffle of a 1-d array (Fisher-Yates from the end).
func (m *mt19937) shuffle(a []int) {
	for i := len(a) - 1; i > 0; i-- {
		j := m.interval(uint32(i))
		a[i], a[j] = a[j], a[i]
	}
}

// permutation is RandomState.permutation(n).
func (m *mt19937) permutation(n int) []int {
	a := make([]int, n)
	for i := range a {
		a[i] = i
	}
	m.shuffle(a)
	return a
}

// trainTestSplit is scikit-learn's train_test_split(rows, test_size=frac,
// random_state=seed) on row indices: ceil(frac n) test rows, the rest train,
// both in the permutation's order.
func trainTestSplit(rows []int, frac float64, seed uint32) (train, test []int) {
	n := len(rows)
	nTest := int(ceilFloat(frac * float64(n)))
	perm := newMT19937(seed).permutation(n)
	for _, p := range perm[nTest:] {
		train = append(train, rows[p])
	}
	for _, p := range perm[:nTest] {
		test = append(test, rows[p])
	}
	return train, test
}

func ceilFloat(v float64) float64 {
	c := float64(int(v))
	if c < v {
		c++
	}
	return c
}
