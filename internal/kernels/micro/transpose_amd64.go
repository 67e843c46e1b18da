//go:build amd64 && !purego

package micro

// TransposeS transposes n blocks of 16 x 16 values: block b takes the 16
// rows of src (ldsrc apart) at columns 16b .. 16b+15 to rows 16b .. 16b+15
// of dst (lddst apart), dst[(16b+l)*lddst + j] = src[j*ldsrc + 16b + l]
// (packing a transposed operand into panels).
//
//go:noescape
func TransposeS(dst, src *float32, lddst, ldsrc, n int)

// TransposeD is TransposeS in float64, blocks of 8 x 8.
//
//go:noescape
func TransposeD(dst, src *float64, lddst, ldsrc, n int)
