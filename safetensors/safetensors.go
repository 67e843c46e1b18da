// Package safetensors reads and writes the safetensors format: an 8-byte
// little-endian header length N, N bytes of JSON describing each tensor's
// dtype, shape and byte range, then the raw little-endian data. It is the
// format PyTorch users load with safetensors.torch.load_file.
//
// Reading validates everything before allocating: a header length beyond
// MaxHeader or the file, byte ranges past the end, overlapping tensors, a
// shape whose size overflows or disagrees with its byte range, and unknown
// dtypes are errors that name the file and the tensor.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// MaxHeader bounds the JSON header (100 MiB, as the reference implementation).
const MaxHeader = 100 << 20

// DType is a tensor element type, named as in the format.
type DType string

// The element types winnow writes and reads.
const (
	F32 DType = "F32"
	F64 DType = "F64"
	I64 DType = "I64"
	I32 DType = "I32"
	U8  DType = "U8"
)

// Size is the number of bytes of one element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F32, I32:
		return 4
	case F64, I64:
		return 8
	case U8:
		return 1
	}
	return 0
}

// Tensor is one named array; Data holds its little-endian bytes.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// File is the decoded content of a safetensors file, tensors in file order.
type File struct {
	Tensors  []Tensor
	Metadata map[string]string
}

// Get returns the named tensor.
func (f *File) Get(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// FormatError reports a malformed file.
type FormatError struct {
	File   string
	Tensor string // empty when the problem is not one tensor's
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Tensor != "" {
		return fmt.Sprintf("safetensors: %s: tensor %q: %s", e.File, e.Tensor, e.Msg)
	}
	return fmt.Sprintf("safetensors: %s: %s", e.File, e.Msg)
}

type entry struct {
	DType   DType    `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// Encode writes the tensors, in the given order, and the metadata.
func Encode(w io.Writer, tensors []Tensor, meta map[string]string) error {
	header := make(map[string]any, len(tensors)+1)
	if len(meta) > 0 {
		header["__metadata__"] = meta
	}
	var off int64
	for _, t := range tensors {
		if t.Name == "__metadata__" || t.Name == "" {
			return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if _, dup := header[t.Name]; dup {
			return fmt.Errorf("safetensors: tensor %q written twice", t.Name)
		}
		n, ok := byteSize(t.DType, t.Shape)
		if !ok || n != int64(len(t.Data)) {
			return fmt.Errorf("safetensors: tensor %q: %d bytes for %s%v", t.Name, len(t.Data), t.DType, t.Shape)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = entry{t.DType, shape, [2]int64{off, off + n}}
		off += n
	}
	js, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes the file atomically: to a temporary file in the same
// folder, synced, then renamed over path. A crash leaves the old file or the
// new one, never a torn one.
func WriteFile(path string, tensors []Tensor, meta map[string]string) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename this fails harmlessly
	w := bufioWriter(f)
	if err := Encode(w, tensors, meta); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("safetensors: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("safetensors: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("safetensors: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("safetensors: writing %s: %w", path, err)
	}
	return nil
}

// ReadFile reads and validates a whole file.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Decode(f, st.Size(), path)
}

// Decode reads a file of the given size from r; name labels errors.
// Nothing is allocated for a tensor before its header entry is validated
// against size.
func Decode(r io.ReaderAt, size int64, name string) (*File, error) {
	bad := func(tensor, format string, a ...any) error {
		return &FormatError{File: name, Tensor: tensor, Msg: fmt.Sprintf(format, a...)}
	}
	if size < 8 {
		return nil, bad("", "%d bytes: too short for the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, bad("", "reading header length: %v", err)
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen > MaxHeader {
		return nil, bad("", "header claims %d bytes, more than the %d allowed", hlen, MaxHeader)
	}
	if int64(hlen) > size-8 {
		return nil, bad("", "header claims %d bytes but the file has %d after the length", hlen, size-8)
	}
	hdr := make([]byte, hlen)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, bad("", "reading header: %v", err)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if err := dec.Decode(&raw); err != nil {
		return nil, bad("", "header is not a JSON object: %v", err)
	}
	dataSize := size - 8 - int64(hlen)
	out := &File{}
	type span struct {
		name       string
		begin, end int64
	}
	var spans []span
	entries := map[string]entry{}
	for k, v := range raw {
		if k == "__metadata__" {
			if err := json.Unmarshal(v, &out.Metadata); err != nil {
				return nil, bad("", "metadata is not a map of strings: %v", err)
			}
			continue
		}
		var e entry
		d := json.NewDecoder(bytes.NewReader(v))
		d.DisallowUnknownFields()
		if err := d.Decode(&e); err != nil {
			return nil, bad(k, "bad header entry: %v", err)
		}
		if e.DType.Size() == 0 {
			return nil, bad(k, "unsupported dtype %q", e.DType)
		}
		n, ok := byteSize(e.DType, e.Shape)
		if !ok {
			return nil, bad(k, "shape %v is invalid or too large", e.Shape)
		}
		b, en := e.Offsets[0], e.Offsets[1]
		if b < 0 || en < b || en > dataSize {
			return nil, bad(k, "byte range [%d, %d) outside the %d data bytes", b, en, dataSize)
		}
		if en-b != n {
			return nil, bad(k, "byte range [%d, %d) holds %d bytes, but %s%v needs %d", b, en, en-b, e.DType, e.Shape, n)
		}
		entries[k] = e
		spans = append(spans, span{k, b, en})
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].name < spans[j].name
	})
	for i := 1; i < len(spans); i++ {
		if spans[i].begin < spans[i-1].end {
			return nil, bad(spans[i].name, "bytes overlap tensor %q", spans[i-1].name)
		}
	}
	for _, s := range spans {
		e := entries[s.name]
		data := make([]byte, s.end-s.begin)
		if len(data) == 0 {
			// Nothing to read; ReadAt at the end of the file reports EOF.
		} else if _, err := r.ReadAt(data, 8+int64(hlen)+s.begin); err != nil {
			return nil, bad(s.name, "reading data: %v", err)
		}
		out.Tensors = append(out.Tensors, Tensor{Name: s.name, DType: e.DType, Shape: e.Shape, Data: data})
	}
	return out, nil
}

// byteSize is the byte length of a tensor, with overflow checks.
func byteSize(d DType, shape []int) (int64, bool) {
	n := int64(d.Size())
	if n == 0 {
		return 0, false
	}
	for _, s := range shape {
		if s < 0 {
			return 0, false
		}
		if s != 0 && n > math.MaxInt64/int64(s) {
			return 0, false
		}
		n *= int64(s)
	}
	return n, true
}

// ErrDType is returned when a tensor cannot be converted to the asked type.
var ErrDType = errors.New("safetensors: unsupported dtype for conversion")
