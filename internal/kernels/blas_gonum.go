//go:build !openblas

package kernels

import "gonum.org/v1/gonum/blas/gonum"

// blasImpl is gonum's pure-Go BLAS: no cgo, parallel over blocks.
var blasImpl gonum.Implementation

const blasName = "gonum"

// splitGemm: gonum splits products over goroutines itself.
const splitGemm = false
