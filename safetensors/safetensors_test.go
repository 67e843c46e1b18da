package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func encode(t testing.TB, tensors []Tensor, meta map[string]string) []byte {
	var b bytes.Buffer
	if err := Encode(&b, tensors, meta); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	in := []Tensor{
		FromFloats("a.weight", F32, []int{2, 3}, []float32{1, 2, 3, 4, 5, -6}),
		FromFloats("b", F64, []int{2}, []float64{0.5, 1e-300}),
		FromInt64s("n", []int{}, []int64{42}),
		FromBytes("mask", []int{3}, []byte{1, 0, 1}),
	}
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := WriteFile(path, in, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["k"] != "v" || len(f.Tensors) != 4 {
		t.Fatalf("got %d tensors, metadata %v", len(f.Tensors), f.Metadata)
	}
	a, _ := f.Get("a.weight")
	got := make([]float32, 6)
	if err := ToFloats(a, got); err != nil || got[5] != -6 || a.Shape[1] != 3 {
		t.Errorf("a.weight: %v %v %v", got, a.Shape, err)
	}
	n, _ := f.Get("n")
	if v, err := n.Int64s(); err != nil || v[0] != 42 {
		t.Errorf("n: %v %v", v, err)
	}
	// The header length is a multiple of 8 and the data follow it.
	raw, _ := os.ReadFile(path)
	if h := binary.LittleEndian.Uint64(raw); h%8 != 0 {
		t.Errorf("header length %d not aligned", h)
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files in the folder, want 1", len(entries))
	}
}

func withHeader(h string, data []byte) []byte {
	b := make([]byte, 8, 8+len(h)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(h)))
	return append(append(b, h...), data...)
}

func TestHostileFiles(t *testing.T) {
	huge := make([]byte, 8)
	binary.LittleEndian.PutUint64(huge, 1<<40)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"terabyte header", huge, "more than"},
		{"header past end", withHeader(`{}`, nil)[:9], "file has"},
		{"not json", withHeader(`nope`, nil), "JSON"},
		{"offsets past end", withHeader(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 8)), "outside"},
		{"shape vs bytes", withHeader(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), "needs"},
		{"overflowing shape", withHeader(`{"a":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}`, make([]byte, 8)), "too large"},
		{"negative dim", withHeader(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), "invalid"},
		{"overlap", withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "overlap"},
		{"bad dtype", withHeader(`{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), "dtype"},
		{"negative offset", withHeader(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`, make([]byte, 1)), "outside"},
		// The format's rules, strictly: case matters, no key twice, no
		// holes or trailing bytes, no unknown keys, names not empty.
		{"case-mixed keys", withHeader(`{"a":{"dtype":"F32","DTYPE":"I32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "unknown key"},
		{"entry key twice", withHeader(`{"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "twice"},
		{"tensor twice", withHeader(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)), "twice"},
		{"hole", withHeader(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}`, make([]byte, 3)), "hole"},
		{"trailing bytes", withHeader(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 5)), "trailing"},
		{"missing key", withHeader(`{"a":{"dtype":"U8","data_offsets":[0,1]}}`, make([]byte, 1)), "shape"},
		{"empty name", withHeader(`{"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), "without a name"},
		{"fractional dim", withHeader(`{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}`, make([]byte, 1)), "integers"},
		{"metadata key twice", withHeader(`{"__metadata__":{"k":"a","k":"b"}}`, nil), "twice"},
		{"metadata not strings", withHeader(`{"__metadata__":{"k":1}}`, nil), "not a string"},
		{"garbage after object", withHeader(`{}xx`, nil), "padding"},
		{"not an object", withHeader(`[1]`, nil), "beginning with"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(c.file), int64(len(c.file)), "hostile.safetensors")
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FormatError", err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "hostile.safetensors") {
				t.Errorf("err = %q, want it to name the file and say %q", err, c.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(f, []Tensor{FromFloats("w", F32, []int{2, 2}, []float32{1, 2, 3, 4})}, map[string]string{"m": "x"}))
	f.Add(encode(f, []Tensor{FromInt64s("n", []int{}, []int64{1}), FromBytes("b", []int{0}, nil)}, nil))
	f.Add(withHeader(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Decode(bytes.NewReader(b), int64(len(b)), "fuzz")
		if err != nil {
			if file != nil {
				t.Fatal("file and error both returned")
			}
			return
		}
		// What decodes re-encodes and decodes to the same tensors.
		again, err := Decode(bytes.NewReader(encode(t, file.Tensors, file.Metadata)), int64(len(encode(t, file.Tensors, file.Metadata))), "again")
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if len(again.Tensors) != len(file.Tensors) {
			t.Fatalf("%d tensors, then %d", len(file.Tensors), len(again.Tensors))
		}
		for i, x := range file.Tensors {
			if !bytes.Equal(x.Data, again.Tensors[i].Data) {
				t.Fatalf("tensor %q changed", x.Name)
			}
		}
	})
}

func TestReadMetadataReadsTheHeaderOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := WriteFile(path, []Tensor{FromBytes("m", []int{4}, []byte{1, 0, 1, 1})}, map[string]string{"epoch": "3"}); err != nil {
		t.Fatal(err)
	}
	meta, err := ReadMetadata(path)
	if err != nil || meta["epoch"] != "3" {
		t.Fatalf("%v, %v", meta, err)
	}
	// A file whose data are cut off still fails, from its header's claims.
	raw, _ := os.ReadFile(path)
	os.WriteFile(path, raw[:len(raw)-2], 0o644)
	if _, err := ReadMetadata(path); err == nil {
		t.Error("truncated data: no error")
	}
}

func TestBool(t *testing.T) {
	b := withHeader(`{"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}`+"   ", []byte{1, 0, 1})
	f, err := Decode(bytes.NewReader(b), int64(len(b)), "bool")
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 3)
	if err := ToFloats(f.Tensors[0], got); err != nil || got[0] != 1 || got[1] != 0 {
		t.Errorf("%v %v", got, err)
	}
	f.Tensors[0].Data[1] = 7
	if err := ToFloats(f.Tensors[0], got); err == nil {
		t.Error("BOOL 7: no error")
	}
}
