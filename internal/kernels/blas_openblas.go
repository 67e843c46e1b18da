//go:build openblas

package kernels

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
import "C"

import "gonum.org/v1/netlib/blas/netlib"

// blasImpl is OpenBLAS through cgo (build with -tags openblas; needs
// Debian's libopenblas-dev).
var blasImpl netlib.Implementation

const blasName = "openblas"

// SetThreads sets the threads of OpenBLAS (Go code follows GOMAXPROCS).
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
