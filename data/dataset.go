package data

import (
	"fmt"
	"math"
)

// Example is one image, CHW with values in [0, 1] (after Normalize, in
// standard units), and its label.
type Example struct {
	Image   []float32
	C, H, W int
	Label   int
	spare   []float32 // scratch for transforms that change the size
}

// resize makes ex.Image hold c*h*w values, reusing its buffer.
func (ex *Example) resize(c, h, w int) {
	ex.C, ex.H, ex.W = c, h, w
	ex.Image = grow(ex.Image, c*h*w)
}

// swap exchanges Image and the scratch buffer, sized c x h x w: transforms
// read the old image from spare and write the new one in Image.
func (ex *Example) swap(c, h, w int) {
	ex.Image, ex.spare = ex.spare, ex.Image
	ex.resize(c, h, w)
}

func grow(b []float32, n int) []float32 {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]float32, n)
}

// Dataset is an indexed set of labelled images.
type Dataset interface {
	// Len is the number of examples.
	Len() int
	// Classes is the number of classes; labels lie in [0, Classes).
	Classes() int
	// Label returns the label of example i without decoding its image.
	Label(i int) int
	// Get decodes example i into ex, reusing its buffers.
	Get(i int, ex *Example) error
}

// FormatError reports bad input data: the file and, where known, the record
// and byte offset.
type FormatError struct {
	File   string
	Record int   // -1 when not about one record
	Offset int64 // -1 when unknown
	Msg    string
}

func (e *FormatError) Error() string {
	s := "data: " + e.File
	if e.Record >= 0 {
		s += fmt.Sprintf(": record %d", e.Record)
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (offset %d)", e.Offset)
	}
	return s + ": " + e.Msg
}

func formatErr(file string, record int, offset int64, format string, a ...any) *FormatError {
	return &FormatError{File: file, Record: record, Offset: offset, Msg: fmt.Sprintf(format, a...)}
}

// Stats are per-channel statistics of images in [0, 1].
type Stats struct {
	Mean, Std []float64
	Images    int
}

// ChannelStats computes the per-channel mean and standard deviation over the
// pixels of the given examples (all of them when indices is nil).
func ChannelStats(ds Dataset, indices []int) (Stats, error) {
	if indices == nil {
		indices = make([]int, ds.Len())
		for i := range indices {
			indices[i] = i
		}
	}
	var sum, sq []float64
	var count float64
	var ex Example
	for _, i := range indices {
		if err := ds.Get(i, &ex); err != nil {
			return Stats{}, err
		}
		if sum == nil {
			sum, sq = make([]float64, ex.C), make([]float64, ex.C)
		}
		if ex.C != len(sum) {
			return Stats{}, fmt.Errorf("data: example %d has %d channels, earlier ones %d", i, ex.C, len(sum))
		}
		hw := ex.H * ex.W
		for c := 0; c < ex.C; c++ {
			for _, v := range ex.Image[c*hw : (c+1)*hw] {
				sum[c] += float64(v)
				sq[c] += float64(v) * float64(v)
			}
		}
		count += float64(hw)
	}
	s := Stats{Images: len(indices)}
	for c := range sum {
		m := sum[c] / count
		s.Mean = append(s.Mean, m)
		s.Std = append(s.Std, math.Sqrt(max(sq[c]/count-m*m, 0)))
	}
	return s, nil
}

// Subset is the examples of a dataset at the given indices.
type Subset struct {
	Dataset
	Indices []int
}

// Len is the number of indices.
func (s Subset) Len() int { return len(s.Indices) }

// Label returns the label of the subset's example i.
func (s Subset) Label(i int) int { return s.Dataset.Label(s.Indices[i]) }

// Get decodes the subset's example i.
func (s Subset) Get(i int, ex *Example) error { return s.Dataset.Get(s.Indices[i], ex) }

// Limit returns n examples of ds spread evenly over it, i*Len/n for
// i < n (all of them if n <= 0 or n >= Len): datasets stored class by
// class, like image folders, keep every class.
func Limit(ds Dataset, n int) Dataset {
	if n <= 0 || n >= ds.Len() {
		return ds
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = int(int64(i) * int64(ds.Len()) / int64(n))
	}
	return Subset{ds, idx}
}
