package data

// byteImages is a dataset held in memory as bytes, one c*h*w block per
// example (planar CHW), with labels already validated.
type byteImages struct {
	pixels  []byte
	labels  []uint8
	c, h, w int
	classes int
	names   []string // class names, when known
}

func (b *byteImages) Len() int        { return len(b.labels) }
func (b *byteImages) Classes() int    { return b.classes }
func (b *byteImages) Label(i int) int { return int(b.labels[i]) }

// Get converts example i to floats in [0, 1] (torchvision's ToTensor).
func (b *byteImages) Get(i int, ex *Example) error {
	n := b.c * b.h * b.w
	ex.resize(b.c, b.h, b.w)
	for j, v := range b.pixels[i*n : (i+1)*n] {
		ex.Image[j] = float32(v) / 255 // as ToTensor: a division, not a product
	}
	ex.Label = int(b.labels[i])
	return nil
}

// concat joins byte datasets of one geometry.
func concat(parts []*byteImages) *byteImages {
	out := &byteImages{c: parts[0].c, h: parts[0].h, w: parts[0].w, classes: parts[0].classes}
	for _, p := range parts {
		out.pixels = append(out.pixels, p.pixels...)
		out.labels = append(out.labels, p.labels...)
	}
	return out
}
