package autograd

import (
	"fmt"
	"math"

	"github.com/winnow-ml/winnow/internal/kernels"
)

// BatchNormStats are the running statistics of a batch normalisation layer,
// updated in training mode as PyTorch does:
//
//	mean <- (1-momentum) mean + momentum mu
//	var  <- (1-momentum) var  + momentum sigma^2 * m/(m-1)   (unbiased)
//
// with m = N*H*W values per channel. Tracked, if not nil, holds one element
// that counts the updates (PyTorch's num_batches_tracked).
type BatchNormStats[T Float] struct {
	Mean, Var []T
	Tracked   []T
	Momentum  T
	// Reduce, when not nil, sums its argument over the processes of a
	// data-parallel run, in place: training mode then normalises by the
	// statistics of the whole batch, every process's shard of it
	// (synchronised BatchNorm): per channel the sums of x and x² (and the
	// count) in the forward pass, of dy and dy xh in the backward pass, so
	// that the processes compute what one process computes on the whole
	// batch. Plain tapes only (not HVP).
	Reduce func(x []float64)
}

// BatchNorm normalises x [N, C, H, W] (or [N, C]) per channel and applies the
// affine map gamma xh + beta (gamma, beta [C]; nil for none).
//
// In training mode it uses the batch's statistics and, unless the tape keeps
// running statistics, updates stats (which may be nil). With mu = mean(x),
// sigma^2 = mean((x-mu)^2), s = sqrt(sigma^2 + eps), xh = (x - mu)/s, means
// over the m = N*H*W values of a channel:
//
//	forward:          y  = gamma xh + beta
//	tangent-forward:  s' = mean(xh x');  xh' = (x' - mean(x') - xh s')/s;
//	                  y' = gamma' xh + gamma xh' + beta'
//	backward:         dbeta += sum dy;  dgamma += sum dy xh;  dxh = gamma dy;
//	                  dx += (dxh - mean(dxh) - xh mean(dxh xh))/s
//	tangent-backward: R{dbeta} += sum R{dy};  R{dgamma} += sum(R{dy} xh + dy xh');
//	                  R{dxh} = gamma' dy + gamma R{dy};
//	                  R{dx} += -(s'/s) dx_op + (R{dxh} - mean(R{dxh}) - xh' mean(dxh xh)
//	                           - xh mean(R{dxh} xh + dxh xh'))/s
//
// where dx_op is this op's own contribution to dx. In evaluation mode
// (train false) it is the per-channel affine map with the running statistics,
// xh = (x - mean)/sqrt(var + eps), whose rules are those of a linear map.
func BatchNorm[T Float](t *Tape[T], x, gamma, beta *Var[T], stats *BatchNormStats[T], train bool, eps T) *Var[T] {
	return batchNorm(t, x, gamma, beta, stats, train, eps, false)
}

// BatchNormReLU is ReLU(BatchNorm(x, ...)) as one op: the same values,
// derivatives and operation records, with one output instead of two (a
// buffer of values, adjoints and tangents less) and one pass less each way.
// With the mask m = [y > 0]:
//
//	y = max(bn(x), 0);  y' = m bn'(x);  backward: bn's rules with dy <- m dy,
//	R{dy} <- m R{dy}
//
// The backward rule leaves y.Grad (and y.RGrad) masked.
func BatchNormReLU[T Float](t *Tape[T], x, gamma, beta *Var[T], stats *BatchNormStats[T], train bool, eps T) *Var[T] {
	return batchNorm(t, x, gamma, beta, stats, train, eps, true)
}

func batchNorm[T Float](t *Tape[T], x, gamma, beta *Var[T], stats *BatchNormStats[T], train bool, eps T, relu bool) *Var[T] {
	if len(x.Shape) != 4 && len(x.Shape) != 2 {
		panic(fmt.Sprintf("autograd: BatchNorm: x %v, want [N C H W] or [N C]", x.Shape))
	}
	c := x.Shape[1]
	for _, p := range []*Var[T]{gamma, beta} {
		if p != nil && (len(p.Shape) != 1 || p.Shape[0] != c) {
			panic(fmt.Sprintf("autograd: BatchNorm: x %v, parameter %v", x.Shape, p.Shape))
		}
	}
	if !train && (stats == nil || len(stats.Mean) != c || len(stats.Var) != c) {
		panic("autograd: BatchNorm: evaluation mode needs running statistics of the right size")
	}
	n, hw := x.Shape[0], 1
	if len(x.Shape) == 4 {
		hw = x.Shape[2] * x.Shape[3]
	}
	// On a Recompute tape, a BatchNormReLU output in training mode is
	// recomputed from x when needed again (the mask and the next op's
	// backward): by apply below, the forward pass's own arithmetic.
	y := t.newOutput(append([]int(nil), x.Shape...), relu && train, x, gamma, beta)
	t.record("batchnorm", y.Shape, int64(2*numel(y.Shape)), gamma, beta) // from the shape: a shapes-only tape has no values
	if relu {
		t.record("relu", y.Shape, int64(numel(y.Shape)), nil)
	}
	if t.cfg.shapesOnly {
		return y
	}
	m := n * hw
	mus := t.alloc(c) // per channel: the mean used (batch or running); xh is recomputed from it
	inv := t.alloc(c) // 1/s per channel
	// Training mode with a tangent: mean(x') and s' per channel, from
	// which backward recomputes xh' = (x' - mean(x') - xh s') is.
	var mts, ds []T
	if y.Tangent != nil {
		mts, ds = t.alloc(c), t.alloc(c)
	}
	g := func(ch int) T {
		if gamma == nil {
			return 1
		}
		return gamma.Value[ch]
	}
	gt := func(ch int) T {
		if gamma == nil || gamma.Tangent == nil {
			return 0
		}
		return gamma.Tangent[ch]
	}
	bt := func(ch int) T {
		if beta == nil || beta.Tangent == nil {
			return 0
		}
		return beta.Tangent[ch]
	}
	// each calls f(start) for the start of every run of hw values of channel ch.
	each := func(ch int, f func(off int)) {
		for i := 0; i < n; i++ {
			f((i*c + ch) * hw)
		}
	}
	update := train && stats != nil && !t.cfg.keepStats
	// Synchronised: the sums over every process's shard first, then m the
	// whole batch's count.
	var global []float64
	if train && stats != nil && stats.Reduce != nil {
		if y.Tangent != nil {
			panic("autograd: BatchNorm: synchronised statistics on a tape with tangents")
		}
		global = make([]float64, 2*c+1)
		kernels.ParallelFor(c, n*hw, func(lo, hi int) {
			for ch := lo; ch < hi; ch++ {
				global[2*ch], global[2*ch+1] = channelSums(x.Value, n, c, hw, ch)
			}
		})
		global[2*c] = float64(m)
		stats.Reduce(global)
		m = int(global[2*c])
	}
	// statistics sets channel ch's mean and 1/s (updating the running
	// statistics) and, with a tangent, mean(x') and s'.
	statistics := func(ch int) {
		var mu, sd T
		if train {
			mean, variance := channelMoments(x.Value, n, c, hw, ch)
			if global != nil {
				mean, variance = momentsOf(global[2*ch], global[2*ch+1], float64(m))
			}
			mu, sd = T(mean), T(math.Sqrt(variance+float64(eps)))
			if update {
				mom := stats.Momentum
				stats.Mean[ch] = (1-mom)*stats.Mean[ch] + mom*mu
				unbiased := variance
				if m > 1 {
					unbiased = variance * float64(m) / float64(m-1)
				}
				stats.Var[ch] = (1-mom)*stats.Var[ch] + mom*T(unbiased)
			}
		} else {
			mu, sd = stats.Mean[ch], T(math.Sqrt(float64(stats.Var[ch]+eps)))
		}
		is := 1 / sd
		inv[ch], mus[ch] = is, mu
		if y.Tangent == nil {
			return
		}
		var mt, st T // mean(x'), s' (training mode only)
		if train && x.Tangent != nil {
			var a, b T
			each(ch, func(off int) {
				xv := x.Value[off : off+hw]
				for j, v := range x.Tangent[off : off+hw] {
					a += v
					b += (xv[j] - mu) * is * v
				}
			})
			mt, st = a/T(m), b/T(m)
		}
		mts[ch], ds[ch] = mt, st
	}
	// apply writes channel ch of y and y' from the statistics.
	// affine is channel ch's y = gc (x - mu) is + bc = scale x + shift, from
	// the statistics: apply and the rule's mask both compute y by it.
	affine := func(ch int) (scale, shift T) {
		var bc T
		if beta != nil {
			bc = beta.Value[ch]
		}
		scale = g(ch) * inv[ch]
		return scale, bc - mus[ch]*scale
	}
	apply := func(ch int) {
		is, mu := inv[ch], mus[ch]
		gc := g(ch)
		scale, shift := affine(ch)
		each(ch, func(off int) {
			kernels.ScaleShift(y.Value[off:off+hw], x.Value[off:off+hw], scale, shift, relu)
		})
		if y.Tangent == nil {
			return
		}
		mt, st := mts[ch], ds[ch]
		gtc, btc := gt(ch), bt(ch)
		each(ch, func(off int) {
			xv, yt := x.Value[off:off+hw], y.Tangent[off:off+hw]
			if x.Tangent == nil {
				for j, v := range xv {
					yt[j] = gtc*(v-mu)*is + btc
				}
				return
			}
			for j, v := range x.Tangent[off : off+hw] {
				xh := (xv[j] - mu) * is
				h := (v - mt - xh*st) * is
				yt[j] = gtc*xh + gc*h + btc
			}
		})
		if relu {
			each(ch, func(off int) {
				kernels.ReLUMask(y.Tangent[off:off+hw], y.Tangent[off:off+hw], y.Value[off:off+hw], false)
			})
		}
	}
	kernels.ParallelFor(c, n*hw, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			statistics(ch)
			apply(ch)
		}
	})
	if y.remat != nil {
		y.remat.ruleFree = true // the rule below recomputes the mask itself
		y.remat.recompute = func() {
			kernels.ParallelFor(c, n*hw, func(lo, hi int) {
				for ch := lo; ch < hi; ch++ {
					apply(ch)
				}
			})
		}
	}
	if update && len(stats.Tracked) == 1 {
		stats.Tracked[0]++
	}
	t.pushSetting(y, func() {
		t.accumulate(gamma)
		t.accumulate(beta)
		// The plain rule writes dx over pending zeros; the HVP rule adds.
		setDX := false
		if y.RGrad == nil && x.RGrad == nil {
			setDX = t.overwrite(x)
		} else {
			t.accumulate(x)
		}
		switch { // ReLU's backward rule, in place
		case relu && y.Value != nil:
			for _, d := range [][]T{y.Grad, y.RGrad} {
				if d != nil {
					kernels.ParallelFor(len(d), 1, func(lo, hi int) {
						kernels.ReLUMask(d[lo:hi], d[lo:hi], y.Value[lo:hi], false)
					})
				}
			}
		case relu: // y evicted: its mask a plane at a time, as apply writes y
			kernels.ParallelFor(n*c, hw, func(lo, hi int) {
				plane := make([]T, hw)
				for i := lo; i < hi; i++ {
					ch, off := i%c, i*hw
					scale, shift := affine(ch)
					kernels.ScaleShift(plane, x.Value[off:off+hw], scale, shift, true)
					for _, d := range [][]T{y.Grad, y.RGrad} {
						if d != nil {
							kernels.ReLUMask(d[off:off+hw], d[off:off+hw], plane, false)
						}
					}
				}
			})
		}
		// Synchronised: the whole batch's sum dy and sum dy (x - mu) per
		// channel, for dx; the parameters' gradients take this shard's
		// (the run sums them over the processes with the others').
		var sums []float64
		if global != nil {
			if y.RGrad != nil || x.RGrad != nil {
				panic("autograd: BatchNorm: synchronised statistics on an HVP tape")
			}
			sums = make([]float64, 2*c)
			kernels.ParallelFor(c, n*hw, func(lo, hi int) {
				for ch := lo; ch < hi; ch++ {
					a, b := channelCenteredSums(x.Value, y.Grad, n, c, hw, ch, mus[ch])
					sums[2*ch], sums[2*ch+1] = float64(a), float64(b)
				}
			})
			stats.Reduce(sums)
		}
		kernels.ParallelFor(c, n*hw, func(lo, hi int) {
			for ch := lo; ch < hi; ch++ {
				gc, gtc, is, mu := g(ch), gt(ch), inv[ch], mus[ch]
				if y.RGrad == nil && x.RGrad == nil {
					var whole *wholeBatch[T]
					if sums != nil {
						whole = &wholeBatch[T]{sdy: T(sums[2*ch]), sdyx: T(sums[2*ch+1]), m: T(m)}
					}
					batchNormBackward(x.Value, x.Grad, y.Grad, valueOf(gamma), gradOf(gamma), gradOf(beta), n, c, hw, ch, mu, is, train, setDX, whole)
					continue
				}
				// Sums over the channel: sum dy, sum dy xh, the same of
				// R{dy}, and sum dy xh' = (sum dy x' - mean(x') sum dy - s'
				// sum dy xh)/s.
				var sdy, sdyx, srdy, srdyx, sdyxt T
				tangent := mts != nil && x.Tangent != nil
				each(ch, func(off int) {
					xv, gy := x.Value[off:off+hw], y.Grad[off:off+hw]
					a, b := kernels.CenteredSums(gy, xv, mu)
					sdy, sdyx = sdy+a, sdyx+b
					if y.RGrad == nil {
						return
					}
					a, b = kernels.CenteredSums(y.RGrad[off:off+hw], xv, mu)
					srdy, srdyx = srdy+a, srdyx+b
					if tangent {
						_, b = kernels.CenteredSums(gy, x.Tangent[off:off+hw], 0)
						sdyxt += b
					}
				})
				sdyxh, srdyxh := sdyx*is, srdyx*is
				var sdyxht T
				if tangent {
					sdyxht = (sdyxt - mts[ch]*sdy - ds[ch]*sdyxh) * is
				}
				if beta != nil && beta.Grad != nil {
					beta.Grad[ch] += sdy
					if beta.RGrad != nil {
						beta.RGrad[ch] += srdy
					}
				}
				if gamma != nil && gamma.Grad != nil {
					gamma.Grad[ch] += sdyxh
					if gamma.RGrad != nil {
						gamma.RGrad[ch] += srdyxh + sdyxht
					}
				}
				if x.Grad == nil {
					continue
				}
				if !train {
					// y = gamma (x - mean)/sd + beta: dx = gamma dy/sd;
					// R{dx} = (gamma R{dy} + gamma' dy)/sd.
					each(ch, func(off int) {
						gy, gx := y.Grad[off:off+hw], x.Grad[off:off+hw]
						for j, v := range gy {
							gx[j] += gc * v * is
						}
						if x.RGrad != nil {
							rx := x.RGrad[off : off+hw]
							for j, v := range y.RGrad[off : off+hw] {
								rx[j] += (gc*v + gtc*gy[j]) * is
							}
						}
					})
					continue
				}
				mf := T(m)
				a := gc * sdy / mf   // mean(dxh)
				b := gc * sdyxh / mf // mean(dxh xh)
				var ra, rb, mt, st T
				if x.RGrad != nil {
					ra = (gtc*sdy + gc*srdy) / mf                 // mean(R{dxh})
					rb = (gtc*sdyxh + gc*srdyxh + gc*sdyxht) / mf // mean(R{dxh} xh + dxh xh')
					if ds != nil {
						mt, st = mts[ch], ds[ch]
					}
				}
				// dx += (gc dy - a - xh b)/s and R{dx} += -(s'/s) dx_op +
				// (gtc dy + gc R{dy} - ra - xh rb - xh' b)/s, with xh and xh'
				// linear in x and x': affine maps of (dy, x) and (R{dy}, x').
				is2 := is * is
				cxh := 2*st*b*is2 - rb*is // R{dx}'s coefficient of xh
				each(ch, func(off int) {
					xv, gy, gx := x.Value[off:off+hw], y.Grad[off:off+hw], x.Grad[off:off+hw]
					kernels.Affine(gx, gy, xv, gc*is, -b*is2, (mu*b*is-a)*is, true)
					if x.RGrad == nil {
						return
					}
					ry, rx := y.RGrad[off:off+hw], x.RGrad[off:off+hw]
					kernels.Affine(rx, gy, xv, gtc*is-st*gc*is2, cxh*is, st*a*is2-ra*is+b*is2*mt-cxh*is*mu, true)
					if tangent {
						kernels.Affine(rx, ry, x.Tangent[off:off+hw], gc*is, -b*is2, 0, true)
					} else {
						kernels.Affine(rx, ry, ry, gc*is, 0, 0, true)
					}
				})
			}
		})
	})
	return y
}

// channelMoments returns the mean and (biased) variance of channel ch of x
// [N, C, HW], from sums accumulated in float64.
func channelMoments[T Float](x []T, n, c, hw, ch int) (mean, variance float64) {
	sum, sumsq := channelSums(x, n, c, hw, ch)
	return momentsOf(sum, sumsq, float64(n*hw))
}

// channelSums returns sum x and sum x² over channel ch of x [N, C, HW].
func channelSums[T Float](x []T, n, c, hw, ch int) (sum, sumsq float64) {
	for i := 0; i < n; i++ {
		s, q := kernels.Moments(x[(i*c+ch)*hw:][:hw])
		sum, sumsq = sum+s, sumsq+q
	}
	return sum, sumsq
}

// momentsOf is the mean and biased variance of m values from their sums.
func momentsOf(sum, sumsq, m float64) (mean, variance float64) {
	mean = sum / m
	return mean, max(0, sumsq/m-mean*mean)
}

// channelCenteredSums returns sum dy and sum dy (x - mu) over channel ch.
func channelCenteredSums[T Float](x, dy []T, n, c, hw, ch int, mu T) (sdy, sdyx T) {
	for i := 0; i < n; i++ {
		off := (i*c + ch) * hw
		a, b := kernels.CenteredSums(dy[off:][:hw], x[off:][:hw], mu)
		sdy, sdyx = sdy+a, sdyx+b
	}
	return sdy, sdyx
}

// wholeBatch are a channel's sums over the whole batch of a data-parallel
// run (synchronised BatchNorm) and its count.
type wholeBatch[T Float] struct{ sdy, sdyx, m T }

// batchNormBackward is the backward rule of BatchNorm on a plain tape for
// channel ch (x, dx, dy [N, C, HW]; gamma, dgamma, dbeta [C], each may be
// nil), with the mean mu and 1/s is the forward pass used (set: dx is
// written, not added to):
//
//	dbeta += sum dy;  dgamma += sum dy xh;
//	dx += gamma (dy - mean(dy) - xh mean(dy xh)) is   (training)
//	dx += gamma dy is                                   (evaluation)
//
// With whole, dx takes the whole batch's sums and count instead of this
// shard's (synchronised BatchNorm); dgamma and dbeta this shard's.
func batchNormBackward[T Float](x, dx, dy, gamma, dgamma, dbeta []T, n, c, hw, ch int, mu, is T, train, set bool, whole *wholeBatch[T]) {
	gc := T(1)
	if gamma != nil {
		gc = gamma[ch]
	}
	var sdy, sdyx T // sum dy, sum dy (x - mu)
	if train || dgamma != nil || dbeta != nil {
		sdy, sdyx = channelCenteredSums(x, dy, n, c, hw, ch, mu)
	}
	sdyxh := sdyx * is
	if dbeta != nil {
		dbeta[ch] += sdy
	}
	if dgamma != nil {
		dgamma[ch] += sdyxh
	}
	if dx == nil {
		return
	}
	// dx += a dy + b x + d, per channel constants.
	a, b, d := gc*is, T(0), T(0)
	if train {
		m := T(n * hw)
		if whole != nil {
			sdy, sdyxh, m = whole.sdy, whole.sdyx*is, whole.m
		}
		b = -gc * sdyxh / m * is * is
		d = -gc*sdy/m*is - mu*b
	}
	for i := 0; i < n; i++ {
		off := (i*c + ch) * hw
		kernels.Affine(dx[off:][:hw], dy[off:][:hw], x[off:][:hw], a, b, d, !set)
	}
}
