package nn

import (
	"bytes"
	"fmt"
	"io"
	"math"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/safetensors"
)

// StateTensors returns m's state as safetensors tensors under PyTorch's
// state_dict names: float parameters and buffers as F32 (dtype F64 on
// request), counters as I64 scalars.
func StateTensors[T Float](m Module[T], dtype safetensors.DType) []safetensors.Tensor {
	var out []safetensors.Tensor
	for _, p := range AllParams(m) {
		if p.Kind == Counter || p.Kind == Index {
			v := make([]int64, len(p.Data))
			for i, x := range p.Data {
				v[i] = int64(x)
			}
			out = append(out, safetensors.FromInt64s(p.Name, p.Shape, v))
			continue
		}
		out = append(out, safetensors.FromFloats(p.Name, dtype, p.Shape, p.Data))
	}
	return out
}

// SaveState writes m's state to path atomically, as float32 safetensors that
// load into the equivalent PyTorch model (load_state_dict).
func SaveState[T Float](path string, m Module[T], meta map[string]string) error {
	if err := safetensors.WriteFile(path, StateTensors(m, safetensors.F32), meta); err != nil {
		return fmt.Errorf("nn: saving state: %w", err)
	}
	return nil
}

// LoadState reads a state file written by SaveState (or by PyTorch's
// safetensors.torch.save_file) into m. Every tensor of m must be present
// with its shape; extra tensors are an error too.
func LoadState[T Float](path string, m Module[T]) (map[string]string, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nn: loading state: %w", err)
	}
	if err := SetState(m, f.Tensors); err != nil {
		return nil, fmt.Errorf("nn: loading state from %s: %w", path, err)
	}
	return f.Metadata, nil
}

// SetState copies tensors into m's parameters by name, checking that the
// names and shapes match exactly.
func SetState[T Float](m Module[T], tensors []safetensors.Tensor) error {
	byName := make(map[string]safetensors.Tensor, len(tensors))
	for _, t := range tensors {
		byName[t.Name] = t
	}
	params := AllParams(m)
	for _, p := range params {
		t, ok := byName[p.Name]
		if !ok {
			return fmt.Errorf("tensor %q is missing", p.Name)
		}
		delete(byName, p.Name)
		if !sameShape(t.Shape, p.Shape) {
			return fmt.Errorf("tensor %q has shape %v, the model wants %v", p.Name, t.Shape, p.Shape)
		}
		if p.Kind == Counter || p.Kind == Index {
			if t.DType != safetensors.I64 && t.DType != safetensors.I32 {
				return fmt.Errorf("tensor %q is %s, the model wants an integer (I64)", p.Name, t.DType)
			}
		} else if !t.IsFloat() {
			return fmt.Errorf("tensor %q is %s, the model wants floating-point values (F32 or F64)", p.Name, t.DType)
		}
		if err := safetensors.ToFloats(t, p.Data); err != nil {
			return err
		}
		for i, v := range p.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("tensor %q holds a non-finite value at index %d", p.Name, i)
			}
		}
	}
	for name := range byName {
		return fmt.Errorf("tensor %q is not part of the model", name)
	}
	return checkJoins(m)
}

// CopyState copies every parameter and buffer of src into dst, converting
// the element type: the way to make a float64 twin of a float32 network.
// Masks are copied too. The two must have the same architecture.
func CopyState[D, S Float](dst Module[D], src Module[S]) {
	dp, sp := AllParams(dst), AllParams(src)
	if len(dp) != len(sp) {
		panic(fmt.Sprintf("nn: CopyState: %d parameters vs %d", len(dp), len(sp)))
	}
	for i, d := range dp {
		s := sp[i]
		if d.Name != s.Name || !sameShape(d.Shape, s.Shape) {
			panic(fmt.Sprintf("nn: CopyState: %s%v vs %s%v", d.Name, d.Shape, s.Name, s.Shape))
		}
		for j, v := range s.Data {
			d.Data[j] = D(v)
		}
		d.Mask = nil
		if s.Mask != nil {
			d.Mask = make([]D, len(s.Mask))
			for j, v := range s.Mask {
				d.Mask[j] = D(v)
			}
		}
	}
}

func sameShape(a, b []int) bool { return autograd.SameShape(a, b) }

// WriteState writes m's state to w as a safetensors file (float32, PyTorch's
// state_dict names) with the metadata.
func WriteState[T Float](w io.Writer, m Module[T], meta map[string]string) error {
	return safetensors.Encode(w, StateTensors(m, safetensors.F32), meta)
}

// ReadState reads a safetensors state from r (as WriteState writes it, or
// PyTorch's safetensors.torch.save_file) into m and returns its metadata.
// The whole file is read before anything is set.
func ReadState[T Float](r io.Reader, m Module[T]) (map[string]string, error) {
	f, err := decodeAll(r)
	if err != nil {
		return nil, err
	}
	if err := SetState(m, f.Tensors); err != nil {
		return nil, fmt.Errorf("nn: reading state: %w", err)
	}
	return f.Metadata, nil
}

// decodeAll reads a whole safetensors file from r, bounded by the header's
// claims before any tensor is allocated.
func decodeAll(r io.Reader) (*safetensors.File, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return safetensors.Decode(bytes.NewReader(b), int64(len(b)), "the stream")
}
