package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/winnow-ml/winnow/internal/kernels/micro"
)

// naiveConv3x3 is the 3x3 stride-1 "same" cross-correlation of m images x
// [C, H, W] with w [out, C, 3, 3], and its weight gradient dw += dy x, by
// definition.
func naiveConv3x3(c, h, wd, out, m int, w, x []float64) []float64 {
	y := make([]float64, m*out*h*wd)
	for n := range m {
		for k := range out {
			for oy := range h {
				for ox := range wd {
					var s float64
					for ci := range c {
						for a := range 3 {
							for b := range 3 {
								iy, ix := oy+a-1, ox+b-1
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								s += w[((k*c+ci)*3+a)*3+b] * x[((n*c+ci)*h+iy)*wd+ix]
							}
						}
					}
					y[((n*out+k)*h+oy)*wd+ox] = s
				}
			}
		}
	}
	return y
}

func naiveWeightGrad3x3(c, h, wd, out, m int, dy, x []float64) []float64 {
	dw := make([]float64, out*c*9)
	for n := range m {
		for k := range out {
			for ci := range c {
				for a := range 3 {
					for b := range 3 {
						var s float64
						for oy := range h {
							for ox := range wd {
								iy, ix := oy+a-1, ox+b-1
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								s += dy[((n*out+k)*h+oy)*wd+ox] * x[((n*c+ci)*h+iy)*wd+ix]
							}
						}
						dw[((k*c+ci)*3+a)*3+b] += s
					}
				}
			}
		}
	}
	return dw
}

func TestWinograd(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, tc := range []struct{ c, h, w, out, m int }{
		{3, 2, 2, 5, 2}, {7, 4, 6, 9, 3}, {16, 8, 8, 12, 2}, {5, 10, 4, 3, 4},
		{200, 8, 8, 300, 5}, // blocks of fewer images than a thread's share
		// Rows wider than a vector of tiles: the transforms in Go (float64
		// past 16 columns, float32 past 32) but by F(4x4, 3x3) where the
		// sides are multiples of 4 (rows of up to four vectors); narrower
		// ones on the micro-kernels where there are any.
		{4, 4, 20, 3, 2}, {3, 6, 34, 2, 2}, {6, 4, 32, 5, 2}, {3, 6, 20, 4, 2},
		{3, 8, 64, 4, 2}, {5, 12, 40, 3, 3},
		// Rows of tiles not in pairs, one at a time.
		{4, 12, 12, 6, 3}, {3, 20, 16, 5, 2},
		{64, 32, 32, 192, 2}, // a weight-gradient block per image
		// F(4x4, 3x3): panels of several images, and rows of 3 tiles
		// (not dividing a panel).
		{9, 16, 16, 10, 3}, {5, 8, 12, 7, 3}, {6, 24, 4, 5, 2},
	} {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			g := NewConvGeom(tc.c, tc.h, tc.w, 3, 3, 1, 1, 1, 1)
			x, w := randSlice(rng, tc.m*tc.c*tc.h*tc.w), randSlice(rng, tc.out*tc.c*9)
			dy := randSlice(rng, tc.m*tc.out*tc.h*tc.w)
			want := naiveConv3x3(tc.c, tc.h, tc.w, tc.out, tc.m, w, x)
			wantDW := naiveWeightGrad3x3(tc.c, tc.h, tc.w, tc.out, tc.m, dy, x)
			nu, nv, np := WinogradBufLen[float64](g, tc.out, tc.m)
			u, v, prod := make([]float64, nu), make([]float64, nv), make([]float64, np)

			y := randSlice(rng, len(want))
			WinogradConv(g, tc.out, tc.m, w, x, y, false, u, v, prod)
			assertClose(t, "WinogradConv", y, want)
			base := randSlice(rng, len(want))
			y = append([]float64(nil), base...)
			WinogradConv(g, tc.out, tc.m, w, x, y, true, u, v, prod)
			for i := range base {
				base[i] += want[i]
			}
			assertClose(t, "WinogradConv add", y, base)

			dw0 := randSlice(rng, len(wantDW))
			dw := append([]float64(nil), dw0...)
			WinogradWeightGrad(g, tc.out, tc.m, dy, x, dw, v, prod, u)
			for i := range dw0 {
				wantDW[i] += dw0[i]
			}
			assertClose(t, "WinogradWeightGrad", dw, wantDW)

			// A convolution and its tangent at once: y = W x, y' = W' x + W x'.
			wt, xt := randSlice(rng, len(w)), randSlice(rng, len(x))
			ut := make([]float64, nu)
			WinogradWeights(g, tc.out, w, u)
			WinogradWeights(g, tc.out, wt, ut)
			y, yt := randSlice(rng, len(want)), randSlice(rng, len(want))
			base = append([]float64(nil), yt...)
			WinogradConvTangent(g, tc.out, tc.m, u, ut, x, xt, y, yt, false, true, v, prod)
			assertClose(t, "WinogradConvTangent y", y, want)
			wantT := naiveConv3x3(tc.c, tc.h, tc.w, tc.out, tc.m, wt, x)
			for i, q := range naiveConv3x3(tc.c, tc.h, tc.w, tc.out, tc.m, w, xt) {
				wantT[i] += q + base[i]
			}
			assertClose(t, "WinogradConvTangent y'", yt, wantT)

			// float32 agrees to its rounding: F(4x4, 3x3)'s transforms
			// scale values by up to 100 (errors measured up to 3.3e-5 of
			// sqrt(C*9), F(2x2, 3x3)'s 1.3e-6).
			tol := 1e-5
			if winogradTile[float32](g) == 4 {
				tol = 1e-4
			}
			y32 := make([]float32, len(want))
			nu, nv, np = WinogradBufLen[float32](g, tc.out, tc.m)
			u32, v32, p32 := make([]float32, nu), make([]float32, nv), make([]float32, np)
			WinogradConv(g, tc.out, tc.m, to32(w), to32(x), y32, false, u32, v32, p32)
			for i, v := range y32 {
				if math.Abs(float64(v)-want[i]) > tol*(1+math.Abs(want[i]))*math.Sqrt(float64(tc.c*9)) {
					t.Fatalf("float32 y[%d] = %v, want %v", i, v, want[i])
				}
			}
		})
	}
}

func TestWinogradWorth(t *testing.T) {
	for _, tc := range []struct {
		g        ConvGeom
		out      int
		f64, f32 bool
	}{
		{NewConvGeom(256, 8, 8, 3, 3, 1, 1, 1, 1), 256, true, true},
		{NewConvGeom(512, 4, 4, 3, 3, 1, 1, 1, 1), 512, true, false},
		{NewConvGeom(128, 8, 8, 3, 3, 1, 1, 1, 1), 128, true, true},
		{NewConvGeom(128, 8, 8, 3, 3, 1, 1, 1, 1), 256, true, true},
		{NewConvGeom(256, 8, 8, 3, 3, 1, 1, 1, 1), 128, true, true},
		{NewConvGeom(128, 16, 16, 3, 3, 1, 1, 1, 1), 256, true, true},
		{NewConvGeom(64, 16, 16, 3, 3, 1, 1, 1, 1), 128, true, true},
		{NewConvGeom(64, 16, 16, 3, 3, 1, 1, 1, 1), 64, true, true},   // by F(4x4, 3x3)
		{NewConvGeom(64, 10, 10, 3, 3, 1, 1, 1, 1), 64, false, true},  // by F(2x2, 3x3)
		{NewConvGeom(64, 10, 10, 3, 3, 1, 1, 1, 1), 128, true, true},  // by F(2x2, 3x3)
		{NewConvGeom(64, 12, 12, 3, 3, 1, 1, 1, 1), 64, true, true},   // by F(4x4, 3x3), one row of tiles at a time
		{NewConvGeom(16, 8, 8, 3, 3, 1, 1, 1, 1), 16, false, false},   // too few channels
		{NewConvGeom(128, 4, 4, 3, 3, 1, 1, 1, 1), 128, false, false}, // too few for 4x4 maps
		{NewConvGeom(256, 32, 32, 3, 3, 1, 1, 1, 1), 256, true, true}, // float64 rows of four vectors
		{NewConvGeom(64, 30, 30, 3, 3, 1, 1, 1, 1), 64, false, true},  // and not of multiples of 4
		{NewConvGeom(64, 34, 34, 3, 3, 1, 1, 1, 1), 64, false, false}, // and for float32
		{NewConvGeom(256, 4, 4, 3, 3, 1, 1, 1, 1), 512, true, false},
		{NewConvGeom(512, 2, 2, 3, 3, 1, 1, 1, 1), 512, false, false}, // one tile per image
		{NewConvGeom(64, 32, 32, 3, 3, 1, 1, 1, 1), 64, true, true},
		{NewConvGeom(64, 64, 64, 3, 3, 1, 1, 1, 1), 64, false, true},  // float32 rows of four vectors
		{NewConvGeom(64, 68, 68, 3, 3, 1, 1, 1, 1), 64, false, false}, // rows of more
		{NewConvGeom(256, 8, 8, 3, 3, 2, 2, 1, 1), 256, false, false}, // stride 2
		{NewConvGeom(256, 6, 6, 3, 3, 1, 1, 1, 1), 256, true, false},
		{NewConvGeom(256, 7, 7, 3, 3, 1, 1, 1, 1), 256, false, false}, // odd map
		{NewConvGeom(256, 8, 8, 5, 5, 1, 1, 2, 2), 256, false, false}, // 5x5
		{NewConvGeom(256, 8, 8, 3, 3, 1, 1, 0, 0), 256, false, false}, // not "same"
	} {
		if got := winogradPays[float64](tc.g, tc.out, 100); got != tc.f64 {
			t.Errorf("winogradPays[float64](%+v, %d, 100) = %v, want %v", tc.g, tc.out, got, tc.f64)
		}
		if got := winogradPays[float32](tc.g, tc.out, 100); got != tc.f32 {
			t.Errorf("winogradPays[float32](%+v, %d, 100) = %v, want %v", tc.g, tc.out, got, tc.f32)
		}
		// Chosen only where the transforms run on vectors.
		if got := WinogradWorth[float64](tc.g, tc.out, 100); got != (tc.f64 && micro.Available) {
			t.Errorf("WinogradWorth[float64](%+v, %d, 100) = %v", tc.g, tc.out, got)
		}
		// Too few tiles: the weights' transforms cost more than they save.
		if few := 127 / max(1, tc.g.H/2*(tc.g.W/2)); few > 0 && (winogradPays[float64](tc.g, tc.out, few) || winogradPays[float32](tc.g, tc.out, few)) {
			t.Errorf("winogradPays(%+v, %d, %d) = true, want false", tc.g, tc.out, few)
		}
	}
}

func TestWinogradTile(t *testing.T) {
	for _, tc := range []struct {
		h, w     int
		f64, f32 int
	}{
		{32, 32, 4, 4}, // float64 rows of four vectors (winogradWide)
		{12, 32, 4, 4}, // rows of tiles not in pairs: one at a time
		{12, 30, 2, 2}, // not multiples of 4: F(2x2, 3x3)
		{10, 36, 2, 2}, // float32 past two vectors, not of multiples of 4: in Go
		{64, 64, 2, 4},
		{16, 16, 4, 4},
		{8, 8, 4, 4},
		{8, 12, 4, 4},
		{12, 12, 4, 4}, // rows of tiles not in pairs: one at a time
		{4, 4, 2, 2},
		{8, 6, 2, 2},
		{8, 20, 4, 4},
		{6, 20, 2, 2},
	} {
		g := NewConvGeom(16, tc.h, tc.w, 3, 3, 1, 1, 1, 1)
		if got := winogradTile[float64](g); got != tc.f64 {
			t.Errorf("winogradTile[float64](%dx%d) = %d, want %d", tc.h, tc.w, got, tc.f64)
		}
		if got := winogradTile[float32](g); got != tc.f32 {
			t.Errorf("winogradTile[float32](%dx%d) = %d, want %d", tc.h, tc.w, got, tc.f32)
		}
	}
}
