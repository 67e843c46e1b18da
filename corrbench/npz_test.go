package corrbench

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadOfficialPredictions reads predictions written by NumPy 1.24's
// np.savez (float64) and np.savez_compressed (float32) as the official
// regression task writes them; the values are NumPy's.
func TestLoadOfficialPredictions(t *testing.T) {
	wantMean := []float64{-1.0237851399264681, -0.7129932001120494, 0.6252449661628293, -0.1605133631869239}
	wantRow := []float64{1.2790746051104702, 0.08566684720671912, 0.6302401142567938, 0.17485322550936636}
	for dir, tol := range map[string]float64{"testdata/official/f8": 0, "testdata/official/f4": 1e-6} {
		p, err := LoadOfficialPredictions(dir, 1, 4)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for i := range wantMean {
			if math.Abs(p.Mean[i]-wantMean[i]) > tol*2 || math.Abs(p.Cov.At(0, i)-wantRow[i]) > tol*2 {
				t.Errorf("%s: mean[%d] %v, cov[0, %d] %v; want %v, %v", dir, i, p.Mean[i], i, p.Cov.At(0, i), wantMean[i], wantRow[i])
			}
		}
		if p.Noise != 0 {
			t.Errorf("%s: noise %v, want 0 (the file's covariance is the targets')", dir, p.Noise)
		}
	}
	if _, err := LoadOfficialPredictions("testdata/official/f8", 1, 5); err == nil || !strings.Contains(err.Error(), "5 test points") {
		t.Errorf("a split of 5 test points: %v", err)
	}
	if _, err := LoadOfficialPredictions("testdata/official/f8", 2, 4); err == nil || !strings.Contains(err.Error(), "test_mean_cov_seed2.npz") {
		t.Errorf("a missing seed: %v", err)
	}
}

// npzWith writes an archive of one member with the given .npy bytes.
func npzWith(t *testing.T, member string, body []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: member, Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	zw.Close()
	path := filepath.Join(t.TempDir(), "a.npz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// npyOf is a .npy member of float64 values of the given shape.
func npyOf(shape string, values []float64) []byte {
	b := npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': ("+shape+"), }", 0)
	for _, v := range values {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// TestOfficialModelsJoinXLL: predictions saved in the official format that
// are the GP's own (fitted on the same official split) score as the GP does:
// the same RMSE, log-likelihood and XLL against every reference.
func TestOfficialModelsJoinXLL(t *testing.T) {
	tab := readYacht(t)
	s, err := NewSplit(tab, 0.2, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGP(1)
	if err := g.Fit(context.Background(), s.TrainX, s.TrainY); err != nil {
		t.Fatal(err)
	}
	p, err := g.Predict(s.TestX)
	if err != nil {
		t.Fatal(err)
	}
	n := len(s.TestY)
	cov := TargetCov(p)
	var flat []float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			flat = append(flat, cov.At(i, j))
		}
	}
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string][]byte{"mean.npy": npyOf(fmt.Sprintf("%d,", n), p.Mean), "cov.npy": npyOf(fmt.Sprintf("%d, %d", n, n), flat)} {
		w, _ := zw.Create(name)
		w.Write(body)
	}
	zw.Close()
	if err := os.WriteFile(OfficialPredictionFile(dir, 1), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c := Config{Models: []string{"gp", "nngp"}, Seeds: 1, TestFrac: 0.2, TrainFrac: 0.2, Net: DefaultNetConfig(),
		Official: []OfficialModel{{Name: "saved-gp", Dir: dir}}}
	res, err := Run(context.Background(), tab, c)
	if err != nil {
		t.Fatal(err)
	}
	a, b := res.Seeds[0]["gp"], res.Seeds[0]["saved-gp"]
	if len(res.Models) != 3 || math.Abs(a.RMSE-b.RMSE) > 1e-9 || math.Abs(a.LL-b.LL) > 1e-9 || len(b.XLL) != 3 {
		t.Fatalf("gp %+v, saved %+v (models %v)", a, b, res.Models)
	}
	for r := range a.XLL {
		if math.Abs(a.XLL[r]-b.XLL[r]) > 1e-9 {
			t.Errorf("XLL against %s: gp %v, saved %v", res.Models[r], a.XLL[r], b.XLL[r])
		}
	}
	c.Official[0].Name = "gp"
	if _, err := Run(context.Background(), tab, c); err == nil {
		t.Error("official predictions named as a model compared: no error")
	}
}

func npyBytes(header string, values int) []byte {
	h := []byte(header)
	for (10+len(h)+1)%64 != 0 {
		h = append(h, ' ')
	}
	h = append(h, '\n')
	b := append([]byte("\x93NUMPY\x01\x00"), 0, 0)
	binary.LittleEndian.PutUint16(b[8:], uint16(len(h)))
	b = append(b, h...)
	return append(b, make([]byte, 8*values)...)
}

// TestReadNPZRefuses: hostile or unsupported members are errors naming the
// file, member and cause, before their values are allocated.
func TestReadNPZRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		body []byte
		want string
	}{
		"huge shape":    {npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }", 4), "more than"},
		"short values":  {npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), }", 4), "needs"},
		"big endian":    {npyBytes("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", 2), "dtype >f8"},
		"integers":      {npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 2), "dtype <i8"},
		"fortran order": {npyBytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", 4), "Fortran"},
		"three dims":    {npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 2), }", 2), "two dimensions"},
		"not npy":       {[]byte("hello, world"), "not a .npy"},
	} {
		path := npzWith(t, "cov.npy", c.body)
		_, err := ReadNPZ(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "cov.npy") {
			t.Errorf("%s: %v, want an error naming cov.npy and %q", name, err, c.want)
		}
	}
	path := filepath.Join(t.TempDir(), "x.npz")
	os.WriteFile(path, []byte("not a zip"), 0o644)
	if _, err := ReadNPZ(path); err == nil || !strings.Contains(err.Error(), "x.npz") {
		t.Errorf("not a zip: %v", err)
	}
	good := npzWith(t, "mean.npy", npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 2))
	if a, err := ReadNPZ(good); err != nil || len(a["mean"].Data) != 2 {
		t.Errorf("a well-formed member: %v, %v", a, err)
	}
}
