package micro

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The transforms' matrices (Lavin and Gray), for the reference: a tile
// d (4x4) to Bᵀ d B, a product M (4x4) to Aᵀ M A (2x2), and the adjoint
// dY (2x2) to A dY Aᵀ.
var (
	winoBT = [4][4]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	winoAT = [2][4]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}
)

// winoPlanes is the reference layout: plane xi (0..15) of tile (i, j) at
// xi*stride + i*tw + j.
// With first > 0, rows of tiles jump on by jump values after the first
// first rows and every run rows after that.
type winoPlanes struct{ h, w, stride, first, run, jump int }

func (p winoPlanes) at(xi, i, j int) int {
	at := xi*p.stride + i*(p.w/2) + j
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
	for i := range p.h / 2 {
		for j := range p.w / 2 {
			for a := range 4 {
				for b := range 4 {
					var s float64
					for r := range 4 {
						for c := range 4 {
							s += winoBT[a][r] * px(2*i-1+r, 2*j-1+c) * winoBT[b][c]
						}
					}
					out[p.at(4*a+b, i, j)] = s
				}
			}
		}
	}
	return out
}

func refOutput(p winoPlanes, planes []float64) []float64 {
	y := make([]float64, p.h*p.w)
	for i := range p.h / 2 {
		for j := range p.w / 2 {
			for r := range 2 {
				for c := range 2 {
					var s float64
					for a := range 4 {
						for b := range 4 {
							s += winoAT[r][a] * planes[p.at(4*a+b, i, j)] * winoAT[c][b]
						}
					}
					y[(2*i+r)*p.w+2*j+c] = s
				}
			}
		}
	}
	return y
}

func refOutputAdjoint(p winoPlanes, dy []float64) map[int]float64 {
	out := map[int]float64{}
	for i := range p.h / 2 {
		for j := range p.w / 2 {
			for a := range 4 {
				for b := range 4 {
					var s float64
					for r := range 2 {
						for c := range 2 {
							s += winoAT[r][a] * dy[(2*i+r)*p.w+2*j+c] * winoAT[c][b]
						}
					}
					out[p.at(4*a+b, i, j)] = s
				}
			}
		}
	}
	return out
}

// TestWinogradTransforms checks the transforms of both precisions against
// the matrices, on every even width up to a vector's worth of tiles and
// several heights, with sentinels around what each may write.
func TestWinogradTransforms(t *testing.T) {
	if !Available {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(3, 1))
	const sentinel = 12345
	for _, maxW := range []int{32, 16} {
		f32 := maxW == 32
		tol := 1e-13
		if f32 {
			tol = 1e-5
		}
		for w := 2; w <= maxW; w += 2 {
			for _, h := range []int{2, 4, 6, 8} {
				p := winoPlanes{h: h, w: w, stride: h*w/4 + 5}
				name := fmt.Sprintf("f32=%v/%dx%d", f32, h, w)
				src := make([]float64, h*w)
				for i := range src {
					src[i] = rng.NormFloat64()
				}
				planesLen := 16 * p.stride
				// Input and output adjoint: write the planes' tiles, nothing else.
				for _, kind := range []string{"input", "adjoint", "panels"} {
					p := p
					if kind == "panels" {
						p.first, p.run, p.jump = 1, 2, 3
						p.stride += 3 * h
					}
					planesLen := 16 * p.stride
					want := refInput(p, src)
					if kind == "adjoint" {
						want = refOutputAdjoint(p, src)
					}
					got := make([]float64, planesLen)
					if f32 {
						s, d := to32(src), fill32(planesLen, sentinel)
						if kind != "adjoint" {
							WinogradInputS(&d[0], &s[0], h, w, p.stride, p.first, p.run, p.jump)
						} else {
							WinogradOutputAdjointS(&d[0], &s[0], h, w, p.stride)
						}
						got = to64(d)
					} else {
						d := fill64(planesLen, sentinel)
						if kind != "adjoint" {
							WinogradInputD(&d[0], &src[0], h, w, p.stride, p.first, p.run, p.jump)
						} else {
							WinogradOutputAdjointD(&d[0], &src[0], h, w, p.stride)
						}
						got = d
					}
					for k, g := range got {
						wv, ok := want[k]
						if !ok {
							wv = sentinel
						}
						if math.Abs(g-wv) > tol*(1+math.Abs(wv)) {
							t.Fatalf("%s %s: element %d = %v, want %v", name, kind, k, g, wv)
						}
					}
				}
				// Output: set and add, the plane's values only.
				planes := make([]float64, planesLen)
				for i := range planes {
					planes[i] = rng.NormFloat64()
				}
				want := refOutput(p, planes)
				for _, add := range []bool{false, true} {
					base := rng.NormFloat64()
					var got []float64
					if f32 {
						d := fill32(h*w+1, float32(base))
						s := to32(planes)
						if add {
							WinogradOutputAddS(&d[0], &s[0], h, w, p.stride)
						} else {
							WinogradOutputS(&d[0], &s[0], h, w, p.stride)
						}
						got = to64(d)
					} else {
						got = fill64(h*w+1, base)
						if add {
							WinogradOutputAddD(&got[0], &planes[0], h, w, p.stride)
						} else {
							WinogradOutputD(&got[0], &planes[0], h, w, p.stride)
						}
					}
					for k, g := range got {
						wv := base // past the plane: untouched
						if k < h*w {
							wv = want[k]
							if add {
								wv += base
							}
						}
						if math.Abs(g-wv) > tol*(1+math.Abs(wv)) {
							t.Fatalf("%s output add=%v: element %d = %v, want %v", name, add, k, g, wv)
						}
					}
				}
			}
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
	if !Available {
		t.Skip("no AVX-512")
	}
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
}
