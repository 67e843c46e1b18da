package micro

// Available reports whether the kernels run as AVX-512 assembly here (the
// CPU has AVX-512F and the operating system saves its registers): callers
// choose the paths that are fast with them. Without, every kernel still
// runs, as its Go loop.
var Available = hasAVX512

// useAVX512 chooses the assembly; the tests turn it off to hold the Go
// loops to the same sums.
var useAVX512 = hasAVX512
