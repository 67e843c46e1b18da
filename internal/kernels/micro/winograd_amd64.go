//go:build amd64 && !purego

package micro

// The tile transforms of Winograd's F(2x2, 3x3) convolution, one plane of
// h x w values per call (h and w even, w at most 32 float32 or 16 float64
// values: a row's tiles in one vector), on the 16 planes of transforms stride values apart,
// the w/2 tiles of tile row i at offset i*w/2 in each.

// WinogradInputS writes V = Bᵀ d B of the 4x4 window (padding 1) of every
// 2x2 tile of the plane src to the 16 planes at dst. After the first first
// rows of tiles, and then every run rows, the rows of tiles go on jump
// values further (the panels of a packed product); first 0: never.
//
//go:noescape
func WinogradInputS(dst, src *float32, h, w, stride, first, run, jump int)

// WinogradOutputS sets the plane dst to Y = Aᵀ M A of the 16 planes at src.
//
//go:noescape
func WinogradOutputS(dst, src *float32, h, w, stride int)

// WinogradOutputAddS adds Y = Aᵀ M A of the 16 planes at src to dst.
//
//go:noescape
func WinogradOutputAddS(dst, src *float32, h, w, stride int)

// WinogradOutputAdjointS writes dM = A dY Aᵀ of every 2x2 tile of the
// plane src to the 16 planes at dst.
//
//go:noescape
func WinogradOutputAdjointS(dst, src *float32, h, w, stride int)

// WinogradInputD is WinogradInputS in float64.
//
//go:noescape
func WinogradInputD(dst, src *float64, h, w, stride, first, run, jump int)

// WinogradOutputD is WinogradOutputS in float64.
//
//go:noescape
func WinogradOutputD(dst, src *float64, h, w, stride int)

// WinogradOutputAddD is WinogradOutputAddS in float64.
//
//go:noescape
func WinogradOutputAddD(dst, src *float64, h, w, stride int)

// WinogradOutputAdjointD is WinogradOutputAdjointS in float64.
//
//go:noescape
func WinogradOutputAdjointD(dst, src *float64, h, w, stride int)

// The transforms of F(4x4, 3x3): the same, for h and w multiples of 4 (w
// at most 32 float32 or 16 float64 values), a row's w/4 tiles of 6x6 (in)
// or 4x4 (out) values in a vector, 36 planes stride values apart.

// WinogradInput4S writes V = Bᵀ d B of the 6x6 window (padding 1) of every
// 4x4 tile of the plane src to the 36 planes at dst, rows of tiles jumping
// as WinogradInputS's do.
//
//go:noescape
func WinogradInput4S(dst, src *float32, h, w, stride, first, run, jump int)

// WinogradOutput4S sets the plane dst to Y = Aᵀ M A of the 36 planes at src.
//
//go:noescape
func WinogradOutput4S(dst, src *float32, h, w, stride int)

// WinogradOutputAdd4S adds Y = Aᵀ M A of the 36 planes at src to dst.
//
//go:noescape
func WinogradOutputAdd4S(dst, src *float32, h, w, stride int)

// WinogradOutputAdjoint4S writes dM = A dY Aᵀ of every 4x4 tile of the
// plane src to the 36 planes at dst.
//
//go:noescape
func WinogradOutputAdjoint4S(dst, src *float32, h, w, stride int)

// WinogradInput4D is WinogradInput4S in float64.
//
//go:noescape
func WinogradInput4D(dst, src *float64, h, w, stride, first, run, jump int)

// WinogradOutput4D is WinogradOutput4S in float64.
//
//go:noescape
func WinogradOutput4D(dst, src *float64, h, w, stride int)

// WinogradOutputAdd4D is WinogradOutputAdd4S in float64.
//
//go:noescape
func WinogradOutputAdd4D(dst, src *float64, h, w, stride int)

// WinogradOutputAdjoint4D is WinogradOutputAdjoint4S in float64.
//
//go:noescape
func WinogradOutputAdjoint4D(dst, src *float64, h, w, stride int)

// The transforms of F(4x4, 3x3) for rows of up to four vectors (64 float32
// or 32 float64 values; h and w multiples of 4), one row of tiles at a
// time: as WinogradInput4S and its kin otherwise. The output transforms
// take segs (1, 2 or 4; h/4 a multiple) rows of tiles at a time, their
// rows side by side as one of four vectors: segs 2 for rows of two
// vectors (32 float32 or 16 float64 values), 4 for rows of one, 1 for
// rows of up to four.

// WinogradInput4WS is WinogradInput4S for rows of up to 64 values.
//
//go:noescape
func WinogradInput4WS(dst, src *float32, h, w, stride, first, run, jump int)

// WinogradOutput4WS is WinogradOutput4S for rows of up to 64 values.
//
//go:noescape
func WinogradOutput4WS(dst, src *float32, h, w, stride, segs int)

// WinogradOutputAdd4WS is WinogradOutputAdd4S for rows of up to 64 values.
//
//go:noescape
func WinogradOutputAdd4WS(dst, src *float32, h, w, stride, segs int)

// WinogradOutputAdjoint4WS is WinogradOutputAdjoint4S for rows of up to 64
// values.
//
//go:noescape
func WinogradOutputAdjoint4WS(dst, src *float32, h, w, stride, segs int)

// WinogradInput4WD is WinogradInput4WS in float64 (rows of up to 32).
//
//go:noescape
func WinogradInput4WD(dst, src *float64, h, w, stride, first, run, jump int)

// WinogradOutput4WD is WinogradOutput4WS in float64.
//
//go:noescape
func WinogradOutput4WD(dst, src *float64, h, w, stride, segs int)

// WinogradOutputAdd4WD is WinogradOutputAdd4WS in float64.
//
//go:noescape
func WinogradOutputAdd4WD(dst, src *float64, h, w, stride, segs int)

// WinogradOutputAdjoint4WD is WinogradOutputAdjoint4WS in float64.
//
//go:noescape
func WinogradOutputAdjoint4WD(dst, src *float64, h, w, stride, segs int)

// WinogradInput16S is WinogradInput4S for a whole 16x16 plane, its 16
// tiles (four rows of four) in one vector: the 36 planes at dst, stride
// values apart, get 16 values each.
//
//go:noescape
func WinogradInput16S(dst, src *float32, stride int)
