package micro

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The transforms' matrices (Lavin and Gray), for the reference: a tile
// d (a x a, a = m+2) to Bᵀ d B, a product M (a x a) to Aᵀ M A (m x m),
// and the adjoint dY (m x m) to A dY Aᵀ, for F(2x2, 3x3) and F(4x4, 3x3).
type winoMatrices struct {
	m      int
	bT, aT [][]float64
}

var (
	wino2 = winoMatrices{m: 2,
		bT: [][]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
		aT: [][]float64{{1, 1, 1, 0}, {0, 1, -1, -1}},
	}
	wino4 = winoMatrices{m: 4,
		bT: [][]float64{
			{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
			{0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1},
		},
		aT: [][]float64{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}},
	}
)

// winoPlanes is the reference layout: plane xi of tile (i, j) at
// xi*stride + i*(w/m) + j. With first > 0, rows of tiles jump on by jump
// values after the first first rows and every run rows after that.
type winoPlanes struct {
	winoMatrices
	h, w, stride, first, run, jump int
}

func (p winoPlanes) at(xi, i, j int) int {
	at := xi*p.stride + i*(p.w/p.m) + j
	if p.first > 0 && i >= p.first {
		at += p.jump * (1 + (i-p.first)/p.run)
	}
	return at
}

func refInput(p winoPlanes, src []float64) map[int]float64 {
	out := map[int]float64{}
	px := func(y, x int) float64 {
		if y < 0 || y >= p.h || x < 0 || x >= p.w {
			return 0
		}
		return src[y*p.w+x]
	}
	n := p.m + 2
	for i := range p.h / p.m {
		for j := range p.w / p.m {
			for a := range n {
				for b := range n {
					var s float64
					for r := range n {
						for c := range n {
							s += p.bT[a][r] * px(p.m*i-1+r, p.m*j-1+c) * p.bT[b][c]
						}
					}
					out[p.at(n*a+b, i, j)] = s
				}
			}
		}
	}
	return out
}

func refOutput(p winoPlanes, planes []float64) []float64 {
	y := make([]float64, p.h*p.w)
	n := p.m + 2
	for i := range p.h / p.m {
		for j := range p.w / p.m {
			for r := range p.m {
				for c := range p.m {
					var s float64
					for a := range n {
						for b := range n {
							s += p.aT[r][a] * planes[p.at(n*a+b, i, j)] * p.aT[c][b]
						}
					}
					y[(p.m*i+r)*p.w+p.m*j+c] = s
				}
			}
		}
	}
	return y
}

func refOutputAdjoint(p winoPlanes, dy []float64) map[int]float64 {
	out := map[int]float64{}
	n := p.m + 2
	for i := range p.h / p.m {
		for j := range p.w / p.m {
			for a := range n {
				for b := range n {
					var s float64
					for r := range p.m {
						for c := range p.m {
							s += p.aT[r][a] * dy[(p.m*i+r)*p.w+p.m*j+c] * p.aT[c][b]
						}
					}
					out[p.at(n*a+b, i, j)] = s
				}
			}
		}
	}
	return out
}

// winoKernels are the transforms of one tile size and precision.
type winoKernels struct {
	input           func(dst, src []float64, h, w, stride, first, run, jump int)
	output, adjoint func(dst, src []float64, h, w, stride int)
	outputAdd       func(dst, src []float64, h, w, stride int)
}

// on32 runs a float32 kernel on float64 slices, dst's values kept.
func on32(f func(d, s *float32)) func(dst, src []float64) {
	return func(dst, src []float64) {
		d, s := to32(dst), to32(src)
		f(&d[0], &s[0])
		for i, v := range d {
			dst[i] = float64(v)
		}
	}
}

func kernelsOf(m int, f32, wide bool, segs int) winoKernels {
	type plane = func(d, s *float32, h, w, stride int)
	type planeD = func(d, s *float64, h, w, stride int)
	pick := func(s plane, d planeD) func(dst, src []float64, h, w, stride int) {
		return func(dst, src []float64, h, w, stride int) {
			if f32 {
				on32(func(x, y *float32) { s(x, y, h, w, stride) })(dst, src)
			} else {
				d(&dst[0], &src[0], h, w, stride)
			}
		}
	}
	inS, inD := WinogradInputS, WinogradInputD
	k := winoKernels{
		output:    pick(WinogradOutputS, WinogradOutputD),
		outputAdd: pick(WinogradOutputAddS, WinogradOutputAddD),
		adjoint:   pick(WinogradOutputAdjointS, WinogradOutputAdjointD),
	}
	switch {
	case m == 4 && wide:
		inS, inD = WinogradInput4WS, WinogradInput4WD
		type segS = func(d, s *float32, h, w, stride, segs int)
		type segD = func(d, s *float64, h, w, stride, segs int)
		bySegs := func(s segS, d segD) func(dst, src []float64, h, w, stride int) {
			return pick(func(x, y *float32, h, w, stride int) { s(x, y, h, w, stride, segs) },
				func(x, y *float64, h, w, stride int) { d(x, y, h, w, stride, segs) })
		}
		k = winoKernels{
			output:    bySegs(WinogradOutput4WS, WinogradOutput4WD),
			outputAdd: bySegs(WinogradOutputAdd4WS, WinogradOutputAdd4WD),
			adjoint:   bySegs(WinogradOutputAdjoint4WS, WinogradOutputAdjoint4WD),
		}
	case m == 4:
		inS, inD = WinogradInput4S, WinogradInput4D
		k = winoKernels{
			output:    pick(WinogradOutput4S, WinogradOutput4D),
			outputAdd: pick(WinogradOutputAdd4S, WinogradOutputAdd4D),
			adjoint:   pick(WinogradOutputAdjoint4S, WinogradOutputAdjoint4D),
		}
	}
	k.input = func(dst, src []float64, h, w, stride, first, run, jump int) {
		if f32 {
			on32(func(x, y *float32) { inS(x, y, h, w, stride, first, run, jump) })(dst, src)
		} else {
			inD(&dst[0], &src[0], h, w, stride, first, run, jump)
		}
	}
	return k
}

// TestWinogradTransforms checks the transforms of both tile sizes and
// precisions against the matrices, on every width (a multiple of the
// tile) up to a vector's worth of tiles (F(4x4, 3x3)'s wide kernels: rows
// of up to four vectors) and several heights, with sentinels around what
// each may write.
func TestWinogradTransforms(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 1))
		const sentinel = 12345
		for _, tc := range []struct {
			mats winoMatrices
			wide bool
			segs int // the wide output transforms' rows of tiles at a time
		}{{wino2, false, 1}, {wino4, false, 1}, {wino4, true, 1}, {wino4, true, 2}, {wino4, true, 4}} {
			mats, wide := tc.mats, tc.wide
			planeCount := (mats.m + 2) * (mats.m + 2)
			for _, maxW := range []int{32, 16} {
				f32 := maxW == 32
				k := kernelsOf(mats.m, f32, wide, tc.segs)
				minW := mats.m
				if wide {
					maxW *= 2
				}
				if tc.segs > 1 { // rows of exactly 4/segs vectors
					minW, maxW = maxW/tc.segs, maxW/tc.segs
				}
				tol := 1e-13
				if f32 {
					tol = 1e-5 // F(4x4, 3x3): sums of 36 values weighted up to 64
					if mats.m == 4 {
						tol = 1e-4
					}
				}
				for w := minW; w <= maxW; w += mats.m {
					for _, th := range []int{1, 2, 3, 4, 8} {
						if th%tc.segs != 0 {
							continue
						}
						h := th * mats.m
						p := winoPlanes{winoMatrices: mats, h: h, w: w, stride: h*w/(mats.m*mats.m) + 5}
						name := fmt.Sprintf("F(%d)/wide=%v/segs=%d/f32=%v/%dx%d", mats.m, wide, tc.segs, f32, h, w)
						src := make([]float64, h*w)
						for i := range src {
							src[i] = rng.NormFloat64()
						}
						// Input and output adjoint: write the planes' tiles, nothing else.
						for _, kind := range []string{"input", "adjoint", "panels"} {
							p := p
							if kind != "adjoint" && tc.segs > 1 {
								continue // the input transform takes no segs
							}
							if kind == "panels" && mats.m == 4 && !wide && th%2 != 0 {
								continue // F(4x4, 3x3)'s input jumps between pairs of rows of tiles
							}
							if kind == "panels" {
								p.first, p.run, p.jump = 1, 2, 3
								if mats.m == 4 && !wide {
									p.first, p.run = 2, 2*th/2
								}
								p.stride += 3 * h
							}
							want := refInput(p, src)
							if kind == "adjoint" {
								want = refOutputAdjoint(p, src)
							}
							got := fill64(planeCount*p.stride, sentinel)
							if kind != "adjoint" {
								k.input(got, src, h, w, p.stride, p.first, p.run, p.jump)
							} else {
								k.adjoint(got, src, h, w, p.stride)
							}
							for i, g := range got {
								wv, ok := want[i]
								if !ok {
									wv = sentinel
								}
								if math.Abs(g-wv) > tol*(1+math.Abs(wv)) {
									t.Fatalf("%s %s: element %d = %v, want %v", name, kind, i, g, wv)
								}
							}
						}
						// Output: set and add, the plane's values only.
						planes := make([]float64, planeCount*p.stride)
						for i := range planes {
							planes[i] = rng.NormFloat64()
						}
						want := refOutput(p, planes)
						for _, add := range []bool{false, true} {
							base := rng.NormFloat64()
							got := fill64(h*w+1, base)
							if add {
								k.outputAdd(got, planes, h, w, p.stride)
							} else {
								k.output(got, planes, h, w, p.stride)
							}
							for i, g := range got {
								wv := base // past the plane: untouched
								if i < h*w {
									wv = want[i]
									if add {
										wv += base
									}
								}
								if math.Abs(g-wv) > tol*(1+math.Abs(wv)) {
									t.Fatalf("%s output add=%v: element %d = %v, want %v", name, add, i, g, wv)
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestWinogradInput16 checks the whole-plane input transform of 16x16
// float32 planes against the matrices, with sentinels past each plane's 16
// values.
func TestWinogradInput16(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 2))
		const sentinel = 12345
		p := winoPlanes{winoMatrices: wino4, h: 16, w: 16, stride: 16 + 7}
		src := make([]float64, 256)
		for i := range src {
			src[i] = rng.NormFloat64()
		}
		want := refInput(p, src)
		got := fill64(36*p.stride, sentinel)
		on32(func(d, s *float32) { WinogradInput16S(d, s, p.stride) })(got, src)
		for i, g := range got {
			wv, ok := want[i]
			if !ok {
				wv = sentinel
			}
			if math.Abs(g-wv) > 1e-4*(1+math.Abs(wv)) {
				t.Fatalf("element %d = %v, want %v", i, g, wv)
			}
		}
	})
}

// TestWinograd4Identity checks F(4x4, 3x3)'s matrices themselves: in one
// dimension, Aᵀ [(G g) ⊙ (Bᵀ d)] is the correlation of d with g.
func TestWinograd4Identity(t *testing.T) {
	g := [][]float64{{1. / 4, 0, 0}, {-1. / 6, -1. / 6, -1. / 6}, {-1. / 6, 1. / 6, -1. / 6}, {1. / 24, 1. / 12, 1. / 6}, {1. / 24, -1. / 12, 1. / 6}, {0, 0, 1}}
	rng := rand.New(rand.NewPCG(5, 5))
	var d [6]float64
	var w [3]float64
	for i := range d {
		d[i] = rng.NormFloat64()
	}
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	for r := range 4 {
		var got, want float64
		for a := range 6 {
			var gw, bd float64
			for k := range 3 {
				gw += g[a][k] * w[k]
			}
			for k := range 6 {
				bd += wino4.bT[a][k] * d[k]
			}
			got += wino4.aT[r][a] * gw * bd
		}
		for k := range 3 {
			want += w[k] * d[r+k]
		}
		if math.Abs(got-want) > 1e-13 {
			t.Errorf("y[%d] = %v, want %v", r, got, want)
		}
	}
}

func fill32(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func fill64(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// TestTranspose checks the transposing kernels on several blocks with
// strides wider than a block, and that nothing past the blocks is written.
func TestTranspose(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, lanes := range []int{16, 8} {
			const n, ldsrc, lddst = 3, 53, 37
			src := make([]float64, lanes*ldsrc)
			for i := range src {
				src[i] = float64(i)
			}
			var got []float64
			if lanes == 16 {
				d := fill32(n*lanes*lddst, -1)
				s := to32(src)
				TransposeS(&d[0], &s[0], lddst, ldsrc, n)
				got = to64(d)
			} else {
				got = fill64(n*lanes*lddst, -1)
				TransposeD(&got[0], &src[0], lddst, ldsrc, n)
			}
			for r := range n * lanes {
				for c := range lddst {
					want := -1.0
					if c < lanes {
						want = src[c*ldsrc+r]
					}
					if g := got[r*lddst+c]; g != want {
						t.Fatalf("lanes %d: dst[%d][%d] = %v, want %v", lanes, r, c, g, want)
					}
				}
			}
		}
	})
}
