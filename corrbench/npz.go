package corrbench

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Array is a float array read from a NumPy .npy member: its shape and its
// values in C order.
type Array struct {
	Shape []int
	Data  []float64
}

// maxNPYElements bounds an array read from a file (2²⁵ values: a
// covariance of 5,792 test points, more than twice the largest official
// test set, naval's 2,387): anything larger is refused before allocation.
const maxNPYElements = 1 << 25

// ReadNPZ reads the float arrays of a NumPy .npz archive (np.savez or
// np.savez_compressed): little-endian float64 or float32, C order, at most
// two dimensions. Any other member, or a header that does not agree with
// the member's size, is an error naming the file and member.
func ReadNPZ(path string) (map[string]Array, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a NumPy .npz archive: %w", path, err)
	}
	defer zr.Close()
	out := map[string]Array{}
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, f.Name, err)
		}
		a, err := readNPY(rc, f.UncompressedSize64)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, f.Name, err)
		}
		out[name] = a
	}
	return out, nil
}

var (
	npyDescr = regexp.MustCompile(`'descr':\s*'([<>|=]?[a-z]\d+)'`)
	npyOrder = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	npyShape = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// readNPY reads one .npy stream of size bytes (format versions 1 to 3).
func readNPY(r io.Reader, size uint64) (Array, error) {
	var magic [8]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil || string(magic[:6]) != "\x93NUMPY" {
		return Array{}, fmt.Errorf("not a .npy array")
	}
	var headerLen uint64
	prefix := uint64(10)
	switch magic[6] {
	case 1:
		var n uint16
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return Array{}, err
		}
		headerLen = uint64(n)
	case 2, 3:
		var n uint32
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return Array{}, err
		}
		headerLen, prefix = uint64(n), 12
	default:
		return Array{}, fmt.Errorf(".npy format version %d", magic[6])
	}
	if prefix+headerLen > size || headerLen > 1<<16 {
		return Array{}, fmt.Errorf("a header of %d bytes in a member of %d", headerLen, size)
	}
	header := make([]byte, headerLen)
	if _, err := io.ReadFull(r, header); err != nil {
		return Array{}, fmt.Errorf("header: %w", err)
	}
	h := string(header)
	descr, order, shapeText := npyDescr.FindStringSubmatch(h), npyOrder.FindStringSubmatch(h), npyShape.FindStringSubmatch(h)
	if descr == nil || order == nil || shapeText == nil {
		return Array{}, fmt.Errorf("header %q lacks descr, fortran_order or shape", strings.TrimSpace(h))
	}
	var width uint64
	switch descr[1] {
	case "<f8":
		width = 8
	case "<f4":
		width = 4
	default:
		return Array{}, fmt.Errorf("dtype %s: want little-endian float64 or float32", descr[1])
	}
	if order[1] == "True" {
		return Array{}, fmt.Errorf("Fortran order: want C order")
	}
	var shape []int
	count := uint64(1)
	for _, part := range strings.Split(shapeText[1], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := strconv.ParseUint(part, 10, 31)
		if err != nil {
			return Array{}, fmt.Errorf("shape %q", shapeText[1])
		}
		shape = append(shape, int(d))
		count *= d
		if count > maxNPYElements {
			return Array{}, fmt.Errorf("shape (%s): more than %d values", shapeText[1], maxNPYElements)
		}
	}
	if len(shape) > 2 {
		return Array{}, fmt.Errorf("shape (%s): at most two dimensions", shapeText[1])
	}
	if want := prefix + headerLen + count*width; size != want {
		return Array{}, fmt.Errorf("shape (%s) of %s needs %d bytes, the member has %d", shapeText[1], descr[1], want, size)
	}
	raw := make([]byte, count*width)
	if _, err := io.ReadFull(r, raw); err != nil {
		return Array{}, fmt.Errorf("values: %w", err)
	}
	data := make([]float64, count)
	for i := range data {
		if width == 8 {
			data[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		} else {
			data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		}
	}
	return Array{Shape: shape, Data: data}, nil
}

// OfficialPredictionFile is where the official regression task
// (tasks/regression.py) saves a model's test predictions of one seed, at
// its best validation epoch, in its results/regression/<dataset>_<method>/.
func OfficialPredictionFile(dir string, seed int) string {
	return filepath.Join(dir, fmt.Sprintf("test_mean_cov_seed%d.npz", seed))
}

// LoadOfficialPredictions reads a model's test predictions saved by the
// official code: `mean` (the latent mean, in the standardised targets' units)
// and `cov` (the covariance of the targets, noise included), over nTest test
// points. The Predictive carries the targets' covariance with Noise 0,
// which is what XLL, RMSE and the log-likelihood read; its points are the
// official split's test points in order, so the seeds must be the official
// split's (NewSplit).
func LoadOfficialPredictions(dir string, seed, nTest int) (Predictive, error) {
	path := OfficialPredictionFile(dir, seed)
	arrays, err := ReadNPZ(path)
	if err != nil {
		return Predictive{}, err
	}
	mean, ok1 := arrays["mean"]
	cov, ok2 := arrays["cov"]
	if !ok1 || !ok2 {
		return Predictive{}, fmt.Errorf("%s: want arrays mean and cov (np.savez(file, mean=mean, cov=cov))", path)
	}
	if len(mean.Data) != nTest || len(cov.Shape) != 2 || cov.Shape[0] != nTest || cov.Shape[1] != nTest {
		return Predictive{}, fmt.Errorf("%s: mean of shape %v and cov of %v; this split has %d test points", path, mean.Shape, cov.Shape, nTest)
	}
	sym := mat.NewSymDense(nTest, nil)
	for i := 0; i < nTest; i++ {
		for j := i; j < nTest; j++ {
			a, b := cov.Data[i*nTest+j], cov.Data[j*nTest+i]
			if math.IsNaN(a) || math.Abs(a-b) > 1e-6*(math.Abs(a)+math.Abs(b))+1e-12 {
				return Predictive{}, fmt.Errorf("%s: cov[%d, %d] = %v and cov[%d, %d] = %v: not a covariance", path, i, j, a, j, i, b)
			}
			sym.SetSym(i, j, (a+b)/2)
		}
		if !(sym.At(i, i) > 0) {
			return Predictive{}, fmt.Errorf("%s: the variance of test point %d is %v", path, i, sym.At(i, i))
		}
	}
	for i, v := range mean.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Predictive{}, fmt.Errorf("%s: mean[%d] = %v", path, i, v)
		}
	}
	return Predictive{Mean: mean.Data, Cov: sym, Noise: 0}, nil
}
