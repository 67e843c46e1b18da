//go:build openblas

package kernels

// #cgo LDFLAGS: -lopenblas
import "C"

import "gonum.org/v1/netlib/blas/netlib"

// blasImpl is OpenBLAS through cgo (build with -tags openblas; needs
// Debian's libopenblas-dev).
var blasImpl netlib.Implementation

const blasName = "openblas"
