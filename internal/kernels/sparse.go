package kernels

import (
	"math"

	"github.com/winnow-ml/winnow/internal/kernels/micro"
)

// CSR is a sparse row-major matrix in compressed sparse row form: the
// nonzeros of row i are Val[RowPtr[i]:RowPtr[i+1]] in columns
// ColIdx[RowPtr[i]:RowPtr[i+1]].
type CSR[T Float] struct {
	Rows, Cols int
	RowPtr     []int32
	ColIdx     []int32
	Val        []T
}

// NewCSR compresses the rows x cols matrix a, keeping the entries where
// keep is nonzero (keep nil: the nonzero entries of a).
func NewCSR[T Float](rows, cols int, a, keep []T) CSR[T] {
	pattern := keep
	if pattern == nil {
		pattern = a
	}
	m := CSR[T]{Rows: rows, Cols: cols, RowPtr: make([]int32, rows+1)}
	for i := 0; i < rows; i++ {
		m.RowPtr[i+1] = m.RowPtr[i] + int32(countNonzero(pattern[i*cols:(i+1)*cols]))
	}
	nnz := int(m.RowPtr[rows])
	// One slot of slack: every entry is written, the next one's position
	// advancing only past the kept ones (no branch to mispredict).
	m.ColIdx, m.Val = make([]int32, nnz+1), make([]T, nnz+1)
	p := 0
	for k, v := range pattern[:rows*cols] {
		m.ColIdx[p], m.Val[p] = int32(k%cols), a[k]
		p += nonzero(v)
	}
	m.ColIdx, m.Val = m.ColIdx[:nnz], m.Val[:nnz]
	return m
}

// nonzero is 1 for v != 0 (either zero's sign), else 0, without a branch.
func nonzero[T Float](v T) int {
	switch x := any(v).(type) {
	case float32:
		b := math.Float32bits(x) << 1
		return int((b | -b) >> 31)
	default:
		b := math.Float64bits(any(v).(float64)) << 1
		return int((b | -b) >> 63)
	}
}

// countNonzero counts the nonzero values of w.
func countNonzero[T Float](w []T) int {
	switch x := any(w).(type) {
	case []float32:
		n := 0
		for _, v := range x {
			b := math.Float32bits(v) << 1
			n += int((b | -b) >> 31)
		}
		return n
	default:
		n := 0
		for _, v := range any(w).([]float64) {
			b := math.Float64bits(v) << 1
			n += int((b | -b) >> 63)
		}
		return n
	}
}

// MulDense sets c (rows x n, row-major) = m * b for b (cols x n, row-major):
//
//	c[i, :] = sum over nonzeros (i, k, v) of v * b[k, :]
//
// Rows are shared among the threads. With the micro-kernels each row adds
// its scaled rows of b a strip of columns at a time in registers.
func (m CSR[T]) MulDense(b []T, n int, c []T) {
	strip, kernel := sparseKernel[T]()
	offs := make([]int, len(m.ColIdx))
	for i, k := range m.ColIdx {
		offs[i] = int(k) * n
	}
	ParallelFor(m.Rows, n*max(1, len(m.Val)/max(1, m.Rows)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := c[i*n : (i+1)*n]
			clear(row)
			p0, p1 := m.RowPtr[i], m.RowPtr[i+1]
			j0 := 0
			if micro.Available && p1 > p0 {
				for ; j0+strip <= n; j0 += strip {
					kernel(int(p1-p0), &m.Val[p0], &offs[p0], &b[j0], &row[j0])
				}
			}
			for p := p0; p < p1; p++ { // the columns past the last strip
				v, br := m.Val[p], b[offs[p]:][:n]
				for j := j0; j < n; j++ {
					row[j] += v * br[j]
				}
			}
		}
	})
}
