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

// splitGemm: Gemm splits large products over GOMAXPROCS goroutines, each
// calling a single-threaded OpenBLAS. OpenBLAS's own threads would spin
// between calls, taking the cores from the Go code (im2col, BatchNorm)
// that runs there: a third of all CPU time in a ResNet-32 step.
const splitGemm = true

func init() { C.openblas_set_num_threads(1) }
