package data

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decoders registered for image.Decode
	_ "image/png"
	"io"
	"os"
)

// MaxPixels bounds the size of an image (PIL's decompression-bomb limit):
// larger images are refused from their header, before decoding.
const MaxPixels = 89478485

// bytesPerPixel is about what decoding takes a pixel: the decoded image (up
// to 4 bytes) and its three float32 planes.
const bytesPerPixel = 16

// PixelBudget bounds the pixels of one image when the network's input is
// h x w (0: unknown): 256 times the input's pixels, at least 4 megapixels,
// at most MaxPixels. A 9000x9000 PNG of a few hundred kilobytes would
// otherwise decode to 1.3 GB per loader worker; at 224x224 the budget is
// 12.8 megapixels (about 200 MB decoded).
func PixelBudget(h, w int) int64 {
	if h <= 0 || w <= 0 {
		return MaxPixels
	}
	return min(MaxPixels, max(4<<20, 256*int64(h)*int64(w)))
}

// decodeImageFile decodes a JPEG or PNG file into ex as RGB (grey images are
// replicated over three channels, as PIL's convert("RGB")), values in [0, 1].
// Images of more than limit pixels are refused from their header.
func decodeImageFile(path string, ex *Example, limit int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return decodeImage(bufio.NewReader(f), path, ex, limit)
}

type peekReader interface {
	io.Reader
	Peek(int) ([]byte, error)
}

// imageHeader reads an image's header: its size and format.
func imageHeader(r io.Reader, name string) (image.Config, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return cfg, formatErr(name, -1, -1, "unreadable image: %v", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return cfg, formatErr(name, -1, -1, "image of %dx%d pixels", cfg.Width, cfg.Height)
	}
	return cfg, nil
}

// headerOf reads the header of an image file.
func headerOf(path string) (image.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return image.Config{}, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return imageHeader(bufio.NewReader(f), path)
}

func checkPixels(cfg image.Config, name string, limit int64) error {
	if limit <= 0 {
		limit = MaxPixels
	}
	if n := int64(cfg.Width) * int64(cfg.Height); n > limit {
		return formatErr(name, -1, -1, "image of %dx%d pixels refused: it would take %.1f GB to decode, and images for this input may have at most %.1f megapixels (resize the file)",
			cfg.Width, cfg.Height, float64(n*bytesPerPixel)/1e9, float64(limit)/1e6)
	}
	return nil
}

func decodeImage(r peekReader, name string, ex *Example, limit int64) error {
	// Read the header first: refuse image bombs before allocating pixels.
	head, _ := r.Peek(64 << 10)
	cfg, err := imageHeader(bytes.NewReader(head), name)
	if err != nil {
		return err
	}
	if err := checkPixels(cfg, name, limit); err != nil {
		return err
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return formatErr(name, -1, -1, "unreadable image: %v", err)
	}
	toCHW(img, ex)
	return nil
}

// toCHW writes img as planar RGB floats in [0, 1], v/255 as ToTensor.
func toCHW(img image.Image, ex *Example) {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	ex.resize(3, h, w)
	hw := h * w
	r, g, bl := ex.Image[:hw], ex.Image[hw:2*hw], ex.Image[2*hw:]
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				rr, gg, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				k := y*w + x
				r[k], g[k], bl[k] = float32(rr)/255, float32(gg)/255, float32(bb)/255
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				k := y*w + x
				f := float32(v) / 255
				r[k], g[k], bl[k] = f, f, f
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				k := y*w + x
				r[k], g[k], bl[k] = float32(row[4*x])/255, float32(row[4*x+1])/255, float32(row[4*x+2])/255
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				k := y*w + x
				r[k], g[k], bl[k] = float32(row[4*x])/255, float32(row[4*x+1])/255, float32(row[4*x+2])/255
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				k := y*w + x
				r[k], g[k], bl[k] = float32(c.R)/255, float32(c.G)/255, float32(c.B)/255
			}
		}
	}
}

// imageList is a dataset of image files with labels.
type imageList struct {
	paths     []string
	labels    []int
	classes   int
	names     []string // class names
	maxPixels int64    // images larger are refused (0: MaxPixels)
	size      [2]int   // width and height every image has, when fixed
}

func (l *imageList) Len() int        { return len(l.paths) }
func (l *imageList) Classes() int    { return l.classes }
func (l *imageList) Label(i int) int { return l.labels[i] }

func (l *imageList) Get(i int, ex *Example) error {
	if err := decodeImageFile(l.paths[i], ex, l.maxPixels); err != nil {
		return fmt.Errorf("example %d: %w", i, err)
	}
	ex.Label = l.labels[i]
	return nil
}

// ClassNames returns the class names in label order, for datasets that have
// them.
func ClassNames(ds Dataset) []string {
	switch d := ds.(type) {
	case *imageList:
		return d.names
	case *byteImages:
		return d.names
	}
	return nil
}
