package nn

import (
	"fmt"
	"io"

	"github.com/winnow-ml/winnow/safetensors"
)

// MaskTensors returns the masks of m's parameters as U8 tensors (1 kept,
// 0 pruned) named as the parameters.
func MaskTensors[T Float](m Module[T]) []safetensors.Tensor {
	var out []safetensors.Tensor
	for _, p := range AllParams(m) {
		if p.Mask == nil {
			continue
		}
		b := make([]byte, len(p.Mask))
		for i, v := range p.Mask {
			if v != 0 {
				b[i] = 1
			}
		}
		out = append(out, safetensors.FromBytes(p.Name, p.Shape, b))
	}
	return out
}

// SaveMasks writes m's masks to path atomically.
func SaveMasks[T Float](path string, m Module[T], meta map[string]string) error {
	if err := safetensors.WriteFile(path, MaskTensors(m), meta); err != nil {
		return fmt.Errorf("nn: saving masks: %w", err)
	}
	return nil
}

// SetMasks puts masks on m's parameters by name (any numeric dtype, values
// 0 for pruned and 1 for kept) and zeroes the pruned weights. Parameters
// not named keep no mask.
func SetMasks[T Float](m Module[T], tensors []safetensors.Tensor) error {
	byName := map[string]*Param[T]{}
	for _, p := range AllParams(m) {
		byName[p.Name] = p
		p.Mask = nil
	}
	for _, t := range tensors {
		p, ok := byName[t.Name]
		if !ok {
			return fmt.Errorf("mask %q names no parameter of the model", t.Name)
		}
		if !p.Trainable() {
			return fmt.Errorf("mask %q is on a buffer", t.Name)
		}
		if !sameShape(t.Shape, p.Shape) {
			return fmt.Errorf("mask %q has shape %v, the parameter %v", t.Name, t.Shape, p.Shape)
		}
		mask := make([]T, p.Len())
		if err := safetensors.ToFloats(t, mask); err != nil {
			return err
		}
		for i, v := range mask {
			if v != 0 && v != 1 {
				return fmt.Errorf("mask %q holds %v at index %d: a mask is 0 (pruned) or 1 (kept)", t.Name, v, i)
			}
		}
		p.Mask = mask
		p.ApplyMask()
	}
	return nil
}

// LoadMasks reads masks written by SaveMasks into m.
func LoadMasks[T Float](path string, m Module[T]) (map[string]string, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nn: loading masks: %w", err)
	}
	if err := SetMasks(m, f.Tensors); err != nil {
		return nil, fmt.Errorf("nn: loading masks from %s: %w", path, err)
	}
	return f.Metadata, nil
}

// Density returns the kept and total counts over the prunable weights.
func Density[T Float](m Module[T]) (kept, total int) {
	for _, p := range Prunable(m) {
		kept += p.Kept()
		total += p.Len()
	}
	return kept, total
}

// CheckMasks verifies that every masked weight is exactly zero, naming the
// first that is not.
func CheckMasks[T Float](m Module[T]) error {
	for _, p := range AllParams(m) {
		for i, v := range p.Mask {
			if v == 0 && p.Data[i] != 0 {
				return fmt.Errorf("nn: pruned weight %s[%d] is %v, not 0", p.Name, i, p.Data[i])
			}
		}
	}
	return nil
}

// WriteMasks writes m's masks to w as a safetensors file of U8 tensors.
func WriteMasks[T Float](w io.Writer, m Module[T], meta map[string]string) error {
	return safetensors.Encode(w, MaskTensors(m), meta)
}

// ReadMasks reads masks from r (as WriteMasks writes them) onto m.
func ReadMasks[T Float](r io.Reader, m Module[T]) (map[string]string, error) {
	f, err := decodeAll(r)
	if err != nil {
		return nil, err
	}
	if err := SetMasks(m, f.Tensors); err != nil {
		return nil, fmt.Errorf("nn: reading masks: %w", err)
	}
	return f.Metadata, nil
}
