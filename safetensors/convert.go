package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Float is the set of float types tensors convert to and from.
type Float interface{ float32 | float64 }

// FromFloats encodes values as a tensor of dtype F32 or F64.
func FromFloats[T Float](name string, dtype DType, shape []int, values []T) Tensor {
	t := Tensor{Name: name, DType: dtype, Shape: append([]int{}, shape...)}
	switch dtype {
	case F32:
		t.Data = make([]byte, 4*len(values))
		for i, v := range values {
			binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(float32(v)))
		}
	case F64:
		t.Data = make([]byte, 8*len(values))
		for i, v := range values {
			binary.LittleEndian.PutUint64(t.Data[8*i:], math.Float64bits(float64(v)))
		}
	default:
		panic("safetensors: FromFloats: dtype " + string(dtype))
	}
	return t
}

// FromInt64s encodes values as an I64 tensor.
func FromInt64s(name string, shape []int, values []int64) Tensor {
	t := Tensor{Name: name, DType: I64, Shape: append([]int{}, shape...), Data: make([]byte, 8*len(values))}
	for i, v := range values {
		binary.LittleEndian.PutUint64(t.Data[8*i:], uint64(v))
	}
	return t
}

// FromBytes makes a U8 tensor.
func FromBytes(name string, shape []int, values []byte) Tensor {
	return Tensor{Name: name, DType: U8, Shape: append([]int{}, shape...), Data: append([]byte{}, values...)}
}

// Numel is the number of elements.
func (t Tensor) Numel() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// IsFloat reports whether the tensor holds floating-point values.
func (t Tensor) IsFloat() bool { return t.DType == F32 || t.DType == F64 }

// ToFloats decodes a numeric tensor into dst (len(dst) must be Numel).
func ToFloats[T Float](t Tensor, dst []T) error {
	if len(dst) != t.Numel() {
		return fmt.Errorf("safetensors: tensor %q has %d elements, want %d", t.Name, t.Numel(), len(dst))
	}
	for i := range dst {
		switch t.DType {
		case F32:
			dst[i] = T(math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:])))
		case F64:
			dst[i] = T(math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:])))
		case I64:
			dst[i] = T(int64(binary.LittleEndian.Uint64(t.Data[8*i:])))
		case I32:
			dst[i] = T(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		case U8:
			dst[i] = T(t.Data[i])
		case BOOL:
			if t.Data[i] > 1 {
				return fmt.Errorf("safetensors: tensor %q: BOOL element %d is %d, not 0 or 1", t.Name, i, t.Data[i])
			}
			dst[i] = T(t.Data[i])
		default:
			return fmt.Errorf("%w: %q is %s", ErrDType, t.Name, t.DType)
		}
	}
	return nil
}

// Int64s decodes an integer tensor.
func (t Tensor) Int64s() ([]int64, error) {
	out := make([]int64, t.Numel())
	for i := range out {
		switch t.DType {
		case I64:
			out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
		case I32:
			out[i] = int64(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		case U8:
			out[i] = int64(t.Data[i])
		default:
			return nil, fmt.Errorf("%w: %q is %s, want an integer type", ErrDType, t.Name, t.DType)
		}
	}
	return out, nil
}
