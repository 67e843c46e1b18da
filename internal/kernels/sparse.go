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

// sparseStrip is the most columns a sparse-row kernel computes at once.
const sparseStrip = 128

// SparseGemmGrid computes c = w*col + beta*c for a sparse w (m x
// G.Rows()), where col [G.Rows(), Q] is the column matrix on the grid and c
// is m x Q. Its work is proportional to the nonzeros of w: each adds a
// scaled shifted plane to its row of c, a strip of columns at a time, the
// strip's planes staying in cache over all rows. It needs the
// micro-kernels.
func SparseGemmGrid[T Float](w CSR[T], gr Grid[T], beta T, c []T, ldc int) {
	q := gr.Cols()
	scaleRows(w.Rows, q, beta, c, ldc)
	offs := gr.windowOffsets(w.ColIdx)
	strip, kernel := sparseKernel[T]()
	strips := (q + strip - 1) / strip
	ParallelFor(strips, strip*max(1, len(offs)), func(lo, hi int) {
		var tile [sparseStrip]T
		for s := lo; s < hi; s++ {
			q0 := s * strip
			b := &gr.Data[q0]
			width := min(strip, q-q0)
			for o := 0; o < w.Rows; o++ {
				p0, p1 := w.RowPtr[o], w.RowPtr[o+1]
				if p0 == p1 {
					continue
				}
				if width == strip {
					kernel(int(p1-p0), &w.Val[p0], &offs[p0], b, &c[o*ldc+q0])
					continue
				}
				clear(tile[:strip])
				kernel(int(p1-p0), &w.Val[p0], &offs[p0], b, &tile[0])
				row := c[o*ldc+q0:][:width]
				for j, v := range tile[:width] {
					row[j] += v
				}
			}
		}
	})
}

// sparseKernel is the sparse-row micro-kernel for T and its strip width.
func sparseKernel[T Float]() (int, func(n int, vals *T, offs *int, b, c *T)) {
	return sparseStrip * 4 / sizeOf[T](), forType[T, func(n int, vals *T, offs *int, b, c *T)](micro.SparseSRow, micro.SparseDRow)
}

// SparseGemmGridT adds, at the nonzeros of pattern (m x G.Rows(); its
// values are ignored), the entries of A col^T to dst (row stride ldd):
//
//	dst[o, w] += sum_q a[o, q] col[w, q]   for (o, w) in the pattern
//
// where col [G.Rows(), Q] is the column matrix on the grid and A [m, Q] is
// zero at grid positions that are not output pixels (as Pad leaves it): the
// weight gradient of a pruned convolution, computed where weights remain.
// It needs the micro-kernels.
func SparseGemmGridT[T Float](pattern CSR[T], a []T, lda int, gr Grid[T], dst []T, ldd int) {
	q := gr.Cols()
	offs := gr.windowOffsets(pattern.ColIdx)
	strip, lanes, kernel := sparseDotKernel[T]()
	// Each group of rows keeps its partial sums (lanes per nonzero) while
	// the strips of its rows stream past, the strips' planes staying in
	// cache over the group's rows; then it adds them up into dst.
	const group = 8
	groups := (pattern.Rows + group - 1) / group
	ParallelFor(groups, q*max(1, len(offs)/groups), func(lo, hi int) {
		var tile [sparseStrip]T
		var acc []T
		for gi := lo; gi < hi; gi++ {
			r0, r1 := gi*group, min(pattern.Rows, (gi+1)*group)
			g0, g1 := int(pattern.RowPtr[r0]), int(pattern.RowPtr[r1])
			acc = grow(acc, (g1-g0)*lanes)
			clear(acc)
			for q0 := 0; q0 < q; q0 += strip {
				b := &gr.Data[q0]
				for o := r0; o < r1; o++ {
					p0, p1 := int(pattern.RowPtr[o]), int(pattern.RowPtr[o+1])
					if p0 == p1 {
						continue
					}
					ao := a[o*lda+q0:]
					if q0+strip > q { // ragged: zeros past Q
						clear(tile[:strip])
						copy(tile[:], ao[:q-q0])
						ao = tile[:]
					}
					kernel(p1-p0, &offs[p0], &ao[0], b, &acc[(p0-g0)*lanes])
				}
			}
			for o := r0; o < r1; o++ {
				for i := int(pattern.RowPtr[o]); i < int(pattern.RowPtr[o+1]); i++ {
					var s T
					for _, v := range acc[(i-g0)*lanes:][:lanes] {
						s += v
					}
					dst[o*ldd+int(pattern.ColIdx[i])] += s
				}
			}
		}
	})
}

// sparseDotKernel is the sparse dot-product micro-kernel for T, its strip
// width and its partial sums per nonzero (one vector).
func sparseDotKernel[T Float]() (strip, lanes int, kernel func(n int, offs *int, a, b, acc *T)) {
	return sparseStrip * 4 / sizeOf[T](), 64 / sizeOf[T](), forType[T, func(n int, offs *int, a, b, acc *T)](micro.SparseSDot, micro.SparseDDot)
}
