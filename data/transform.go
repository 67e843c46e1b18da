package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// A Transform changes an example in place; rng is the example's own
// generator, seeded from the loader's seed, the epoch and the index.
type Transform interface {
	Apply(ex *Example, rng *rand.Rand) error
}

// Compose applies transforms in order.
type Compose []Transform

// Apply runs each transform.
func (c Compose) Apply(ex *Example, rng *rand.Rand) error {
	for _, t := range c {
		if err := t.Apply(ex, rng); err != nil {
			return err
		}
	}
	return nil
}

// Normalize maps each channel c to (x - Mean[c]) / Std[c].
type Normalize struct{ Mean, Std []float32 }

// Apply normalises ex.
func (n Normalize) Apply(ex *Example, _ *rand.Rand) error {
	if len(n.Mean) != ex.C || len(n.Std) != ex.C {
		return fmt.Errorf("data: Normalize has %d channel statistics for an image of %d channels", len(n.Mean), ex.C)
	}
	hw := ex.H * ex.W
	for c := 0; c < ex.C; c++ {
		m, inv := n.Mean[c], 1/n.Std[c]
		p := ex.Image[c*hw : (c+1)*hw]
		for i, v := range p {
			p[i] = (v - m) * inv
		}
	}
	return nil
}

// RandomCrop pads the image with Padding zeros on every side and crops a
// Size x Size window at a uniformly random position (torchvision's
// RandomCrop(size, padding)).
type RandomCrop struct{ Size, Padding int }

// Apply crops ex.
func (t RandomCrop) Apply(ex *Example, rng *rand.Rand) error {
	ph, pw := ex.H+2*t.Padding, ex.W+2*t.Padding
	if ph < t.Size || pw < t.Size {
		return fmt.Errorf("data: RandomCrop(%d) of a %dx%d image with padding %d", t.Size, ex.H, ex.W, t.Padding)
	}
	top := rng.IntN(ph-t.Size+1) - t.Padding
	left := rng.IntN(pw-t.Size+1) - t.Padding
	cropInto(ex, top, left, t.Size, t.Size)
	return nil
}

// cropInto replaces ex by the h x w window at (top, left), zero outside.
func cropInto(ex *Example, top, left, h, w int) {
	c, sh, sw := ex.C, ex.H, ex.W
	ex.swap(c, h, w)
	src := ex.spare
	for ch := 0; ch < c; ch++ {
		for y := 0; y < h; y++ {
			row := ex.Image[(ch*h+y)*w : (ch*h+y+1)*w]
			sy := top + y
			if sy < 0 || sy >= sh {
				clear(row)
				continue
			}
			srow := src[(ch*sh+sy)*sw : (ch*sh+sy+1)*sw]
			for x := range row {
				sx := left + x
				if sx < 0 || sx >= sw {
					row[x] = 0
				} else {
					row[x] = srow[sx]
				}
			}
		}
	}
}

// HorizontalFlip mirrors the image left to right with probability 1/2.
type HorizontalFlip struct{}

// Apply flips ex or not.
func (HorizontalFlip) Apply(ex *Example, rng *rand.Rand) error {
	if rng.IntN(2) == 0 {
		return nil
	}
	for r := 0; r < ex.C*ex.H; r++ {
		row := ex.Image[r*ex.W : (r+1)*ex.W]
		for i, j := 0, len(row)-1; i < j; i, j = i+1, j-1 {
			row[i], row[j] = row[j], row[i]
		}
	}
	return nil
}

// RandomResizedCrop takes a window of random area (Scale of the image) and
// aspect ratio (log-uniform in Ratio), resized to Size x Size, as
// torchvision's RandomResizedCrop: ten tries, then the central crop.
type RandomResizedCrop struct {
	Size         int
	Scale, Ratio [2]float64
}

// NewRandomResizedCrop has torchvision's defaults: scale (0.08, 1), ratio (3/4, 4/3).
func NewRandomResizedCrop(size int) RandomResizedCrop {
	return RandomResizedCrop{size, [2]float64{0.08, 1}, [2]float64{3.0 / 4, 4.0 / 3}}
}

// Apply crops and resizes ex.
func (t RandomResizedCrop) Apply(ex *Example, rng *rand.Rand) error {
	area := float64(ex.H * ex.W)
	lr0, lr1 := math.Log(t.Ratio[0]), math.Log(t.Ratio[1])
	for try := 0; try < 10; try++ {
		target := area * (t.Scale[0] + rng.Float64()*(t.Scale[1]-t.Scale[0]))
		ratio := math.Exp(lr0 + rng.Float64()*(lr1-lr0))
		w := int(math.Round(math.Sqrt(target * ratio)))
		h := int(math.Round(math.Sqrt(target / ratio)))
		if w > 0 && h > 0 && w <= ex.W && h <= ex.H {
			top, left := rng.IntN(ex.H-h+1), rng.IntN(ex.W-w+1)
			cropInto(ex, top, left, h, w)
			resizeInto(ex, t.Size, t.Size)
			return nil
		}
	}
	// Fallback: the whole image clamped to the ratio range, centred.
	in := float64(ex.W) / float64(ex.H)
	w, h := ex.W, ex.H
	if in < t.Ratio[0] {
		h = int(math.Round(float64(w) / t.Ratio[0]))
	} else if in > t.Ratio[1] {
		w = int(math.Round(float64(h) * t.Ratio[1]))
	}
	cropInto(ex, (ex.H-h)/2, (ex.W-w)/2, h, w)
	resizeInto(ex, t.Size, t.Size)
	return nil
}

// Resize scales the image so that its shorter side is Size (torchvision's
// Resize(int)), with antialiased bilinear interpolation as PIL.
type Resize struct{ Size int }

// Apply resizes ex.
func (t Resize) Apply(ex *Example, _ *rand.Rand) error {
	h, w := t.Size, t.Size
	if ex.H < ex.W {
		w = int(float64(t.Size) * float64(ex.W) / float64(ex.H))
	} else {
		h = int(float64(t.Size) * float64(ex.H) / float64(ex.W))
	}
	resizeInto(ex, h, w)
	return nil
}

// CenterCrop takes the central Size x Size window.
type CenterCrop struct{ Size int }

// Apply crops ex (padding with zeros if the image is smaller).
func (t CenterCrop) Apply(ex *Example, _ *rand.Rand) error {
	top := int(math.Round(float64(ex.H-t.Size) / 2))
	left := int(math.Round(float64(ex.W-t.Size) / 2))
	cropInto(ex, top, left, t.Size, t.Size)
	return nil
}

// resizeInto resamples ex to h x w with a triangle filter whose support
// widens when shrinking (PIL's antialiased BILINEAR), separably.
func resizeInto(ex *Example, h, w int) {
	if ex.H == h && ex.W == w {
		return
	}
	c, sh, sw := ex.C, ex.H, ex.W
	// Horizontal pass into a temporary c x sh x w, then vertical into ex.
	tmp := make([]float32, c*sh*w)
	wx := filterWeights(sw, w)
	for r := 0; r < c*sh; r++ {
		src := ex.Image[r*sw : (r+1)*sw]
		dst := tmp[r*w : (r+1)*w]
		for x := range dst {
			var s float32
			for _, k := range wx[x] {
				s += k.w * src[k.i]
			}
			dst[x] = s
		}
	}
	wy := filterWeights(sh, h)
	ex.resize(c, h, w)
	for ch := 0; ch < c; ch++ {
		for y := 0; y < h; y++ {
			dst := ex.Image[(ch*h+y)*w : (ch*h+y+1)*w]
			clear(dst)
			for _, k := range wy[y] {
				src := tmp[(ch*sh+k.i)*w : (ch*sh+k.i+1)*w]
				for x := range dst {
					dst[x] += k.w * src[x]
				}
			}
		}
	}
}

type tap struct {
	i int
	w float32
}

// filterWeights gives, for each output position, the input taps of a
// triangle filter scaled by max(1, in/out), normalised to sum 1.
func filterWeights(in, out int) [][]tap {
	scale := float64(in) / float64(out)
	support := max(scale, 1)
	taps := make([][]tap, out)
	for o := range taps {
		center := (float64(o) + 0.5) * scale
		lo := max(int(math.Floor(center-support)), 0)
		hi := min(int(math.Ceil(center+support)), in)
		var sum float64
		for i := lo; i < hi; i++ {
			d := math.Abs((float64(i) + 0.5 - center) / support)
			if d < 1 {
				taps[o] = append(taps[o], tap{i, float32(1 - d)})
				sum += 1 - d
			}
		}
		for k := range taps[o] {
			taps[o][k].w = float32(float64(taps[o][k].w) / sum)
		}
	}
	return taps
}
