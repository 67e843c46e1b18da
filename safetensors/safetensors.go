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
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/winnow-ml/winnow/internal/fsutil"
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
	// BOOL is one byte an element, 0 or 1 (PyTorch's torch.bool).
	BOOL DType = "BOOL"
)

// Size is the number of bytes of one element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F32, I32:
		return 4
	case F64, I64:
		return 8
	case U8, BOOL:
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

// WriteFile writes the file atomically and durably: to a temporary file in
// the same folder, synced, then renamed over path (mode 0644). A crash leaves
// the old file or the new one, never a torn one.
func WriteFile(path string, tensors []Tensor, meta map[string]string) error {
	err := fsutil.WriteAtomic(path, func(w io.Writer) error { return Encode(w, tensors, meta) })
	if err != nil {
		return fmt.Errorf("safetensors: writing %s: %w", path, err)
	}
	return nil
}

// ReadFile reads and validates a whole file.
func ReadFile(path string) (*File, error) {
	var out *File
	err := withFile(path, func(f *os.File, size int64) (err error) {
		out, err = Decode(f, size, path)
		return err
	})
	return out, err
}

// ReadMetadata reads the metadata of a file from its header alone.
func ReadMetadata(path string) (map[string]string, error) {
	var meta map[string]string
	err := withFile(path, func(f *os.File, size int64) error {
		h, err := decodeHeader(f, size, path)
		if err == nil {
			meta = h.meta
		}
		return err
	})
	return meta, err
}

// withFile hands an open file and its size to read.
func withFile(path string, read func(f *os.File, size int64) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return read(f, st.Size())
}

// Decode reads a file of the given size from r; name labels errors.
// Nothing is allocated for a tensor before its header entry is validated
// against size.
//
// The format's rules are followed strictly: the header is one JSON object
// beginning with '{', padded with spaces only; no key twice; each entry
// has exactly "dtype", "shape" and "data_offsets" (case matters); names
// are not empty; the tensors' bytes tile the data exactly, without holes,
// overlaps or trailing bytes. Whatever decodes encodes back to the same
// file content.
func Decode(r io.ReaderAt, size int64, name string) (*File, error) {
	h, err := decodeHeader(r, size, name)
	if err != nil {
		return nil, err
	}
	out := &File{Metadata: h.meta}
	for _, s := range h.spans {
		data := make([]byte, s.end-s.begin)
		if len(data) > 0 {
			if _, err := r.ReadAt(data, h.dataStart+s.begin); err != nil {
				return nil, &FormatError{File: name, Tensor: s.name, Msg: fmt.Sprintf("reading data: %v", err)}
			}
		}
		out.Tensors = append(out.Tensors, Tensor{Name: s.name, DType: s.dtype, Shape: s.shape, Data: data})
	}
	return out, nil
}

type span struct {
	name       string
	dtype      DType
	shape      []int
	begin, end int64
}

type header struct {
	meta      map[string]string
	spans     []span // in data order
	dataStart int64
}

// decodeHeader reads and validates the header of a file of the given size.
func decodeHeader(r io.ReaderAt, size int64, name string) (*header, error) {
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
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, bad("", "header is not a JSON object beginning with '{'")
	}
	if !utf8.Valid(hdr) {
		return nil, bad("", "header is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	h := &header{dataStart: 8 + int64(hlen)}
	dataSize := size - h.dataStart
	seen := map[string]bool{}
	err := readObject(dec, func(key string, raw json.RawMessage) error {
		if seen[key] {
			return bad(key, "appears twice in the header")
		}
		seen[key] = true
		if key == "__metadata__" {
			meta := map[string]string{}
			err := readObject(json.NewDecoder(bytes.NewReader(raw)), func(k string, v json.RawMessage) error {
				if _, dup := meta[k]; dup {
					return bad("", "metadata key %q appears twice", k)
				}
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					return bad("", "metadata %q is not a string", k)
				}
				meta[k] = s
				return nil
			})
			if err != nil {
				return asFormat(err, name, "", "metadata")
			}
			h.meta = meta
			return nil
		}
		if key == "" {
			return bad("", "a tensor without a name")
		}
		sp, err := readEntry(raw)
		if err != nil {
			return bad(key, "bad header entry: %v", err)
		}
		sp.name = key
		if sp.dtype.Size() == 0 {
			return bad(key, "unsupported dtype %q", sp.dtype)
		}
		n, ok := byteSize(sp.dtype, sp.shape)
		if !ok {
			return bad(key, "shape %v is invalid or too large", sp.shape)
		}
		if sp.begin < 0 || sp.end < sp.begin || sp.end > dataSize {
			return bad(key, "byte range [%d, %d) outside the %d data bytes", sp.begin, sp.end, dataSize)
		}
		if sp.end-sp.begin != n {
			return bad(key, "byte range [%d, %d) holds %d bytes, but %s%v needs %d", sp.begin, sp.end, sp.end-sp.begin, sp.dtype, sp.shape, n)
		}
		h.spans = append(h.spans, sp)
		return nil
	})
	if err != nil {
		return nil, asFormat(err, name, "", "header")
	}
	if rest := hdr[dec.InputOffset():]; len(bytes.Trim(rest, " ")) > 0 {
		return nil, bad("", "header has %d bytes after its JSON object that are not space padding", len(rest))
	}
	sort.Slice(h.spans, func(i, j int) bool {
		if h.spans[i].begin != h.spans[j].begin {
			return h.spans[i].begin < h.spans[j].begin
		}
		return h.spans[i].end < h.spans[j].end
	})
	var at int64
	for i, s := range h.spans {
		if s.begin < at {
			return nil, bad(s.name, "bytes overlap tensor %q", h.spans[i-1].name)
		}
		if s.begin > at {
			return nil, bad(s.name, "a hole of %d bytes before its data at offset %d: the data must be tiled by the tensors", s.begin-at, s.begin)
		}
		at = s.end
	}
	if at != dataSize {
		return nil, bad("", "%d trailing bytes after the tensors' data", dataSize-at)
	}
	return h, nil
}

// asFormat turns a JSON syntax error into a FormatError of the file.
func asFormat(err error, file, tensor, what string) error {
	var fe *FormatError
	if errors.As(err, &fe) {
		return err
	}
	return &FormatError{File: file, Tensor: tensor, Msg: fmt.Sprintf("%s is not a valid JSON object: %v", what, err)}
}

// readObject reads one JSON object from dec, handing each key and its raw
// value to f in order (keys may repeat: f decides).
func readObject(dec *json.Decoder, f func(key string, raw json.RawMessage) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want an object, got %v", tok)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("want a key, got %v", tok)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if err := f(key, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return err
	}
	return nil
}

// readEntry reads a tensor's entry: exactly the keys "dtype", "shape" and
// "data_offsets", each once.
func readEntry(raw json.RawMessage) (span, error) {
	var sp span
	got := map[string]bool{}
	err := readObject(json.NewDecoder(bytes.NewReader(raw)), func(key string, v json.RawMessage) error {
		if got[key] {
			return fmt.Errorf("key %q twice", key)
		}
		got[key] = true
		switch key {
		case "dtype":
			var d string
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("dtype is not a string")
			}
			sp.dtype = DType(d)
		case "shape":
			var shape []int
			if err := strictInts(v, &shape); err != nil || shape == nil {
				return fmt.Errorf("shape is not a list of integers")
			}
			sp.shape = shape
		case "data_offsets":
			var off []int64
			if err := strictInts(v, &off); err != nil || len(off) != 2 {
				return fmt.Errorf("data_offsets is not two integers")
			}
			sp.begin, sp.end = off[0], off[1]
		default:
			return fmt.Errorf("unknown key %q (keys are dtype, shape, data_offsets)", key)
		}
		return nil
	})
	if err != nil {
		return sp, err
	}
	for _, k := range []string{"dtype", "shape", "data_offsets"} {
		if !got[k] {
			return sp, fmt.Errorf("no %q", k)
		}
	}
	return sp, nil
}

// strictInts decodes a JSON list of integers (no fractions, no exponents).
func strictInts[T int | int64](raw json.RawMessage, dst *[]T) error {
	var nums []json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&nums); err != nil {
		return err
	}
	out := make([]T, 0, len(nums))
	for _, n := range nums {
		v, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			return err
		}
		out = append(out, T(v))
	}
	*dst = out
	return nil
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
