package kernels

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
	m := CSR[T]{Rows: rows, Cols: cols, RowPtr: make([]int32, rows+1)}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			k := i*cols + j
			if (keep == nil && a[k] != 0) || (keep != nil && keep[k] != 0) {
				m.ColIdx = append(m.ColIdx, int32(j))
				m.Val = append(m.Val, a[k])
			}
		}
		m.RowPtr[i+1] = int32(len(m.Val))
	}
	return m
}

// MulDense sets c (rows x n, row-major) = m * b for b (cols x n, row-major):
//
//	c[i, :] = sum over nonzeros (i, k, v) of v * b[k, :]
//
// Rows are shared among the threads.
func (m CSR[T]) MulDense(b []T, n int, c []T) {
	ParallelFor(m.Rows, n*max(1, len(m.Val)/max(1, m.Rows)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := c[i*n : (i+1)*n]
			clear(row)
			for p := m.RowPtr[i]; p < m.RowPtr[i+1]; p++ {
				v, br := m.Val[p], b[int(m.ColIdx[p])*n:][:n]
				for j, x := range br {
					row[j] += v * x
				}
			}
		}
	})
}
