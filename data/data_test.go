package data

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func idx(dims []int, data []byte) []byte {
	b := []byte{0, 0, 8, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func checkImage(t *testing.T, ex Example, c, h, w int, want []byte) {
	t.Helper()
	if ex.C != c || ex.H != h || ex.W != w {
		t.Fatalf("image %dx%dx%d, want %dx%dx%d", ex.C, ex.H, ex.W, c, h, w)
	}
	for i, v := range want {
		if ex.Image[i] != float32(v)/255 {
			t.Fatalf("pixel %d = %v, want %v/255", i, ex.Image[i], v)
		}
	}
}

func TestMNISTFiles(t *testing.T) {
	for _, zip := range []bool{false, true} {
		dir := t.TempDir()
		pixels := []byte{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255}
		img, lab := idx([]int{2, 2, 3}, pixels), idx([]int{2}, []byte{7, 3})
		suffix := ""
		if zip {
			img, lab, suffix = gz(img), gz(lab), ".gz"
		}
		write(t, filepath.Join(dir, "t10k-images-idx3-ubyte"+suffix), img)
		write(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"+suffix), lab)
		ds, err := OpenMNIST(dir, Test)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != 2 || ds.Classes() != 10 || ds.Label(1) != 3 {
			t.Fatalf("len %d classes %d label %d", ds.Len(), ds.Classes(), ds.Label(1))
		}
		var ex Example
		if err := ds.Get(1, &ex); err != nil {
			t.Fatal(err)
		}
		checkImage(t, ex, 1, 2, 3, pixels[6:])
		if ex.Label != 3 {
			t.Errorf("label %d", ex.Label)
		}
	}
}

func TestMNISTErrors(t *testing.T) {
	good := idx([]int{2, 2, 2}, make([]byte, 8))
	cases := []struct {
		name, want string
		images     []byte
		labels     []byte
	}{
		{"wrong magic", "magic", append([]byte{1, 2}, good[2:]...), idx([]int{2}, []byte{1, 2})},
		{"truncated", "truncated", good[:len(good)-3], idx([]int{2}, []byte{1, 2})},
		{"label out of range", "label 10", good, idx([]int{2}, []byte{1, 10})},
		{"count mismatch", "for 2 images", good, idx([]int{3}, []byte{1, 2, 3})},
		{"bomb claim", "claim more than", idx([]int{1 << 20, 1 << 10, 1 << 10}, nil), idx([]int{1}, []byte{1})},
		{"trailing bytes", "trailing", append(append([]byte{}, good...), 9), idx([]int{2}, []byte{1, 2})},
		{"bad gzip", "gzip", []byte{0x1f, 0x8b, 0, 0}, idx([]int{2}, []byte{1, 2})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "train-images-idx3-ubyte"), c.images)
			write(t, filepath.Join(dir, "train-labels-idx1-ubyte"), c.labels)
			_, err := OpenMNIST(dir, Train)
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("err = %v, want a FormatError naming the file and saying %q", err, c.want)
			}
		})
	}
	if _, err := OpenMNIST(t.TempDir(), Train); err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte") {
		t.Errorf("missing files: err = %v", err)
	}
}

func TestEmbeddedMNIST(t *testing.T) {
	for _, c := range []struct {
		split Split
		n     int
		first []int
	}{{Train, 60000, []int{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}}, {Test, 10000, []int{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}}} {
		ds, err := Open("mnist", "", c.split)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != c.n {
			t.Errorf("%s: %d examples, want %d", c.split, ds.Len(), c.n)
		}
		for i, l := range c.first {
			if ds.Label(i) != l {
				t.Errorf("%s label %d = %d, want %d", c.split, i, ds.Label(i), l)
			}
		}
	}
}

func cifarRecord(kind CIFARKind, labels []byte, seed byte) []byte {
	rec := append([]byte{}, labels...)
	for i := 0; i < cifarPixels; i++ {
		rec = append(rec, byte(i)+seed)
	}
	return rec
}

func TestCIFAR10Layouts(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "cifar-10-batches-bin")
	for b := 1; b <= 5; b++ {
		write(t, filepath.Join(bin, "data_batch_"+string(rune('0'+b))+".bin"), append(cifarRecord(CIFAR10, []byte{byte(b)}, byte(b)), cifarRecord(CIFAR10, []byte{9}, 100)...))
	}
	write(t, filepath.Join(bin, "test_batch.bin"), cifarRecord(CIFAR10, []byte{4}, 7))
	for _, dir := range []string{root, bin} {
		ds, err := Open("cifar10", dir, Train)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != 10 || ds.Label(2) != 2 || ds.Label(3) != 9 {
			t.Fatalf("len %d labels %d %d", ds.Len(), ds.Label(2), ds.Label(3))
		}
		var ex Example
		ds.Get(2, &ex)
		want := cifarRecord(CIFAR10, nil, 2)
		checkImage(t, ex, 3, 32, 32, want)
		// Planar: the red plane first, then green, then blue.
		if ex.Image[1024] != float32(byte(1024%256+2))/255 {
			t.Error("green plane misplaced")
		}
	}
	ts, err := Open("cifar10", root, Test)
	if err != nil || ts.Len() != 1 || ts.Label(0) != 4 {
		t.Fatalf("test split: %v", err)
	}
}

func TestCIFAR100Labels(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cifar-100-binary")
	write(t, filepath.Join(dir, "test.bin"), append(cifarRecord(CIFAR100Fine, []byte{3, 77}, 0), cifarRecord(CIFAR100Fine, []byte{19, 99}, 1)...))
	fine, err := Open("cifar100", dir, Test)
	if err != nil {
		t.Fatal(err)
	}
	coarse, err := Open("cifar100-coarse", dir, Test)
	if err != nil {
		t.Fatal(err)
	}
	if fine.Label(0) != 77 || fine.Label(1) != 99 || coarse.Label(0) != 3 || coarse.Label(1) != 19 || fine.Classes() != 100 || coarse.Classes() != 20 {
		t.Errorf("fine %d %d coarse %d %d", fine.Label(0), fine.Label(1), coarse.Label(0), coarse.Label(1))
	}
	var ex Example
	fine.Get(1, &ex)
	checkImage(t, ex, 3, 32, 32, cifarRecord(CIFAR100Fine, nil, 1))
}

func TestCIFARErrors(t *testing.T) {
	dir := t.TempDir()
	rec := cifarRecord(CIFAR10, []byte{1}, 0)
	write(t, filepath.Join(dir, "trunc.bin"), append(append([]byte{}, rec...), rec[:100]...))
	_, err := ReadCIFARFile(filepath.Join(dir, "trunc.bin"), CIFAR10)
	if err == nil || !strings.Contains(err.Error(), "record 1") || !strings.Contains(err.Error(), "trunc.bin") {
		t.Errorf("truncated: %v", err)
	}
	write(t, filepath.Join(dir, "label.bin"), append(append([]byte{}, rec...), cifarRecord(CIFAR10, []byte{10}, 0)...))
	_, err = ReadCIFARFile(filepath.Join(dir, "label.bin"), CIFAR10)
	if err == nil || !strings.Contains(err.Error(), "record 1") || !strings.Contains(err.Error(), "label 10") {
		t.Errorf("label: %v", err)
	}
	if _, err := Open("cifar10", dir, Train); err == nil || !strings.Contains(err.Error(), "data_batch_1.bin") {
		t.Errorf("missing: %v", err)
	}
}

const shared = "../../shared/data"

func needShared(t *testing.T, path string) string {
	p := filepath.Join(shared, path)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipped: %s is absent (the shared data folder is not beside this checkout)", p)
	}
	return p
}

func TestSharedCIFARPrefixes(t *testing.T) {
	p := needShared(t, "cifar10/test_batch.first20.bin")
	ds, err := ReadCIFARFile(p, CIFAR10)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8, 5, 7, 8, 6}
	for i, l := range want {
		if ds.Label(i) != l {
			t.Errorf("label %d = %d, want %d", i, ds.Label(i), l)
		}
	}
	var ex Example
	ds.Get(0, &ex)
	for i, v := range []byte{158, 159, 165, 166} {
		if ex.Image[i] != float32(v)/255 {
			t.Errorf("red %d = %v, want %d/255", i, ex.Image[i]*255, v)
		}
	}
	tr, err := ReadCIFARFile(filepath.Join(shared, "cifar10/data_batch_1.first200.bin"), CIFAR10)
	if err != nil || tr.Len() != 200 || tr.Label(0) != 6 {
		t.Fatalf("train prefix: %v", err)
	}
	tr.Get(0, &ex)
	for i, v := range []byte{59, 43, 50, 68} {
		if ex.Image[i] != float32(v)/255 {
			t.Errorf("train red %d = %v, want %d", i, ex.Image[i]*255, v)
		}
	}
	c100, err := ReadCIFARFile(filepath.Join(shared, "cifar100/test.first20.bin"), CIFAR100Fine)
	if err != nil || c100.Len() != 20 {
		t.Fatalf("cifar100 prefix: %v", err)
	}
}

func pngBytes(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func rgbImage(w, h int, seed uint8) (*image.NRGBA, []byte) {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	chw := make([]byte, 3*w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{seed + uint8(x), seed + uint8(2*y), seed + uint8(x*y), 255}
			img.SetNRGBA(x, y, c)
			chw[y*w+x], chw[w*h+y*w+x], chw[2*w*h+y*w+x] = c.R, c.G, c.B
		}
	}
	return img, chw
}

func TestImageFolder(t *testing.T) {
	root := t.TempDir()
	img0, chw0 := rgbImage(4, 3, 10)
	img1, chw1 := rgbImage(4, 3, 50)
	write(t, filepath.Join(root, "zebra", "a.png"), pngBytes(t, img0))
	write(t, filepath.Join(root, "ant", "b.PNG"), pngBytes(t, img1))
	write(t, filepath.Join(root, "ant", "notes.txt"), []byte("not an image"))
	gray := image.NewGray(image.Rect(0, 0, 2, 2))
	gray.Pix = []byte{0, 85, 170, 255}
	write(t, filepath.Join(root, "ant", "c.png"), pngBytes(t, gray))
	ds, err := OpenImageFolder(root)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 3 || ds.Classes() != 2 || ds.Label(0) != 0 || ds.Label(2) != 1 {
		t.Fatalf("len %d classes %d labels %d %d", ds.Len(), ds.Classes(), ds.Label(0), ds.Label(2))
	}
	if names := ClassNames(ds); !slices.Equal(names, []string{"ant", "zebra"}) {
		t.Errorf("classes %v", names)
	}
	var ex Example
	ds.Get(0, &ex)
	checkImage(t, ex, 3, 3, 4, chw1)
	ds.Get(2, &ex)
	checkImage(t, ex, 3, 3, 4, chw0)
	ds.Get(1, &ex) // grey: replicated to three channels
	checkImage(t, ex, 3, 2, 2, []byte{0, 85, 170, 255, 0, 85, 170, 255, 0, 85, 170, 255})

	write(t, filepath.Join(root, "zebra", "bad.jpg"), []byte("garbage"))
	ds, _ = OpenImageFolder(root)
	err = ds.Get(3, &ex)
	if err == nil || !strings.Contains(err.Error(), "bad.jpg") {
		t.Errorf("unreadable image: %v", err)
	}
}

// TestImageBomb refuses a PNG whose header claims 10^10 pixels.
func TestImageBomb(t *testing.T) {
	b := pngBytes(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	// IHDR data starts at byte 16: width, height; its CRC follows the 13 bytes.
	binary.BigEndian.PutUint32(b[16:], 100000)
	binary.BigEndian.PutUint32(b[20:], 100000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	path := filepath.Join(t.TempDir(), "bomb.png")
	write(t, path, b)
	var ex Example
	err := decodeImageFile(path, &ex, 0)
	if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "bomb.png") {
		t.Errorf("err = %v", err)
	}
}

func TestTinyImageNet(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "wnids.txt"), []byte("n02\nn01\n"))
	img, chw := rgbImage(3, 2, 5)
	write(t, filepath.Join(root, "train", "n01", "images", "n01_0.JPEG"), pngBytes(t, img))
	write(t, filepath.Join(root, "train", "n02", "images", "n02_0.JPEG"), pngBytes(t, img))
	write(t, filepath.Join(root, "val", "images", "val_0.JPEG"), pngBytes(t, img))
	write(t, filepath.Join(root, "val", "images", "val_1.JPEG"), pngBytes(t, img))
	write(t, filepath.Join(root, "val", "val_annotations.txt"), []byte("val_0.JPEG\tn02\t0\t0\t1\t1\nval_1.JPEG\tn01\t0\t0\t1\t1\n"))
	tr, err := Open("tiny-imagenet", root, Train)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 2 || tr.Label(0) != 0 || tr.Label(1) != 1 {
		t.Errorf("train labels %d %d", tr.Label(0), tr.Label(1))
	}
	val, err := Open("tiny-imagenet", root, Test)
	if err != nil {
		t.Fatal(err)
	}
	if val.Len() != 2 || val.Label(0) != 1 || val.Label(1) != 0 {
		t.Errorf("val labels %d %d: want them from val_annotations.txt", val.Label(0), val.Label(1))
	}
	var ex Example
	val.Get(0, &ex)
	checkImage(t, ex, 3, 2, 3, chw)
	write(t, filepath.Join(root, "val", "val_annotations.txt"), []byte("val_0.JPEG\tn09\t0\t0\t1\t1\n"))
	if _, err := Open("tiny-imagenet", root, Test); err == nil || !strings.Contains(err.Error(), "n09") {
		t.Errorf("unknown class: %v", err)
	}
}

func TestSharedTinyImageNet(t *testing.T) {
	root := needShared(t, "tiny-imagenet-200-mini")
	tr, err := Open("tiny-imagenet", root, Train)
	if err != nil {
		t.Fatal(err)
	}
	val, err := Open("tiny-imagenet", root, Test)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Classes() != 200 || tr.Len() != 2000 || val.Len() != 1000 {
		t.Errorf("classes %d train %d val %d", tr.Classes(), tr.Len(), val.Len())
	}
	// Every image decodes to 3x64x64, the grayscale ones included.
	var ex Example
	for i := 0; i < val.Len(); i++ {
		if err := val.Get(i, &ex); err != nil {
			t.Fatal(err)
		}
		if ex.C != 3 || ex.H != 64 || ex.W != 64 {
			t.Fatalf("val %d is %dx%dx%d", i, ex.C, ex.H, ex.W)
		}
	}
}

func TestTransforms(t *testing.T) {
	ex := Example{C: 1, H: 3, W: 3, Image: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}}
	rng := rand.New(rand.NewPCG(1, 1))
	// A 3x3 crop of the image padded by 1 is a shift with zeros coming in.
	seen := map[[2]float32]bool{}
	for i := 0; i < 200; i++ {
		e := Example{C: 1, H: 3, W: 3, Image: slices.Clone(ex.Image)}
		RandomCrop{Size: 3, Padding: 1}.Apply(&e, rng)
		// find the shift: the position of value 5 (the centre)
		at := slices.Index(e.Image, 5)
		dy, dx := at/3-1, at%3-1
		for y := 0; y < 3; y++ {
			for x := 0; x < 3; x++ {
				sy, sx := y-dy, x-dx
				want := float32(0)
				if sy >= 0 && sy < 3 && sx >= 0 && sx < 3 {
					want = ex.Image[sy*3+sx]
				}
				if e.Image[y*3+x] != want {
					t.Fatalf("crop shifted by (%d, %d): %v", dy, dx, e.Image)
				}
			}
		}
		seen[[2]float32{float32(dy), float32(dx)}] = true
	}
	if len(seen) != 9 {
		t.Errorf("%d of 9 crop positions seen", len(seen))
	}
	flips := 0
	for i := 0; i < 100; i++ {
		e := Example{C: 1, H: 1, W: 3, Image: []float32{1, 2, 3}}
		HorizontalFlip{}.Apply(&e, rng)
		if e.Image[0] == 3 && e.Image[2] == 1 {
			flips++
		} else if e.Image[0] != 1 {
			t.Fatalf("flip gave %v", e.Image)
		}
	}
	if flips < 30 || flips > 70 {
		t.Errorf("%d flips of 100", flips)
	}
	n := Example{C: 2, H: 1, W: 2, Image: []float32{0.5, 1, 0, 0.2}}
	Normalize{Mean: []float32{0.5, 0.1}, Std: []float32{0.5, 0.1}}.Apply(&n, nil)
	if n.Image[0] != 0 || n.Image[1] != 1 || n.Image[2] != -1 || abs32(n.Image[3]-1) > 1e-6 {
		t.Errorf("normalize: %v", n.Image)
	}
	// Resizing a constant image keeps it constant; shorter side becomes Size.
	c := Example{C: 3, H: 40, W: 60, Image: make([]float32, 3*40*60)}
	for i := range c.Image {
		c.Image[i] = 0.25
	}
	Resize{20}.Apply(&c, nil)
	if c.H != 20 || c.W != 30 {
		t.Fatalf("resize to %dx%d", c.H, c.W)
	}
	for _, v := range c.Image {
		if abs32(v-0.25) > 1e-6 {
			t.Fatalf("resize of a constant image gave %v", v)
		}
	}
	CenterCrop{10}.Apply(&c, nil)
	if c.H != 10 || c.W != 10 || len(c.Image) != 300 {
		t.Errorf("center crop %dx%d", c.H, c.W)
	}
	r := Example{C: 3, H: 50, W: 70, Image: make([]float32, 3*50*70)}
	NewRandomResizedCrop(24).Apply(&r, rng)
	if r.H != 24 || r.W != 24 {
		t.Errorf("RandomResizedCrop gave %dx%d", r.H, r.W)
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// synthetic is a dataset of n small images whose pixels encode the index.
type synthetic struct{ n, classes int }

func (s synthetic) Len() int        { return s.n }
func (s synthetic) Classes() int    { return s.classes }
func (s synthetic) Label(i int) int { return i % s.classes }
func (s synthetic) Get(i int, ex *Example) error {
	ex.resize(3, 8, 8)
	for j := range ex.Image {
		ex.Image[j] = float32(i) + float32(j)/1000
	}
	ex.Label = i % s.classes
	return nil
}

func collect(t *testing.T, l *Loader, epoch int) ([]float32, []int) {
	var xs []float32
	var idx []int
	for b, err := range l.Batches(context.Background(), epoch) {
		if err != nil {
			t.Fatal(err)
		}
		xs = append(xs, b.X...)
		idx = append(idx, b.Indices...)
	}
	return xs, idx
}

// TestLoaderDeterminism: the same seed and epoch give the same batches,
// augmentation included, whatever the number of workers.
func TestLoaderDeterminism(t *testing.T) {
	ds := synthetic{n: 103, classes: 10}
	tf := Compose{RandomCrop{Size: 8, Padding: 2}, HorizontalFlip{}}
	base := Loader{Dataset: ds, Transform: tf, BatchSize: 10, Shuffle: true, Seed: 7, Workers: 1}
	x1, i1 := collect(t, &base, 3)
	for _, w := range []int{2, 3, 8} {
		l := base
		l.Workers = w
		x2, i2 := collect(t, &l, 3)
		if !slices.Equal(i1, i2) || !slices.Equal(x1, x2) {
			t.Errorf("%d workers: batches differ from 1 worker", w)
		}
	}
	sorted := slices.Clone(i1)
	slices.Sort(sorted)
	for i, v := range sorted {
		if v != i {
			t.Fatalf("epoch does not visit every example once: %v", sorted)
		}
	}
	_, other := collect(t, &base, 4)
	if slices.Equal(i1, other) {
		t.Error("epochs 3 and 4 have the same order")
	}
	drop := base
	drop.DropLast = true
	_, id := collect(t, &drop, 3)
	if len(id) != 100 || drop.NumBatches() != 10 || base.NumBatches() != 11 {
		t.Errorf("drop-last: %d examples, %d batches", len(id), drop.NumBatches())
	}
}

func TestLoaderStopsEarly(t *testing.T) {
	l := Loader{Dataset: synthetic{n: 1000, classes: 10}, BatchSize: 10, Workers: 3}
	n := 0
	for _, err := range l.Batches(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range l.Batches(ctx, 0) {
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	}
}

func TestBalancedSample(t *testing.T) {
	ds := synthetic{n: 95, classes: 10}
	s, err := BalancedSample(ds, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 30 {
		t.Fatalf("%d examples", len(s))
	}
	for i, j := range s {
		if ds.Label(j) != i/3 {
			t.Errorf("example %d (index %d) has label %d, want class %d", i, j, ds.Label(j), i/3)
		}
	}
	again, _ := BalancedSample(ds, 3, 1)
	other, _ := BalancedSample(ds, 3, 2)
	if !slices.Equal(s, again) || slices.Equal(s, other) {
		t.Error("sample is not a function of the seed")
	}
	if _, err := BalancedSample(ds, 10, 1); err == nil {
		t.Error("asked 10 of a class with 9: no error")
	}
}

func FuzzDecodeIDX(f *testing.F) {
	f.Add(idx([]int{2, 2, 2}, make([]byte, 8)))
	f.Add(gz(idx([]int{3}, []byte{1, 2, 3})))
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		dims, data, err := DecodeIDX(bytes.NewReader(b), "fuzz")
		if err != nil {
			if dims != nil || data != nil {
				t.Fatal("data returned with an error")
			}
			return
		}
		n := 1
		for _, d := range dims {
			n *= d
		}
		if n != len(data) {
			t.Fatalf("dims %v but %d bytes", dims, len(data))
		}
	})
}

func FuzzDecodeCIFAR(f *testing.F) {
	f.Add(cifarRecord(CIFAR10, []byte{3}, 0), uint8(0))
	f.Add(cifarRecord(CIFAR100Fine, []byte{3, 99}, 0), uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, k uint8) {
		kind := CIFARKind(k % 3)
		ds, err := DecodeCIFAR(bytes.NewReader(b), int64(len(b)), "fuzz", kind)
		if err != nil {
			if ds != nil {
				t.Fatal("data returned with an error")
			}
			return
		}
		_, _, classes := kind.layout()
		for i := 0; i < ds.Len(); i++ {
			if ds.Label(i) >= classes {
				t.Fatalf("label %d", ds.Label(i))
			}
		}
	})
}

// BenchmarkCIFARPipeline measures images per second delivered by the CIFAR
// training pipeline (crop with padding, flip, normalise) through the loader.
func BenchmarkCIFARPipeline(b *testing.B) {
	n := 10000
	ds := &byteImages{pixels: make([]byte, n*cifarPixels), labels: make([]uint8, n), c: 3, h: 32, w: 32, classes: 10}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range ds.pixels {
		ds.pixels[i] = byte(rng.Uint32())
	}
	tf, _ := Pipeline("cifar10", true)
	l := Loader{Dataset: ds, Transform: tf, BatchSize: 128, Shuffle: true, Seed: 1}
	b.SetBytes(int64(cifarPixels * 4))
	b.ResetTimer()
	images := 0
	for epoch := 0; images < b.N; epoch++ {
		for batch, err := range l.Batches(context.Background(), epoch) {
			if err != nil {
				b.Fatal(err)
			}
			images += batch.N
			if images >= b.N {
				break
			}
		}
	}
	b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
}

func TestFolderDataset(t *testing.T) {
	root := t.TempDir()
	var want [][]byte
	for i, class := range []string{"cat", "airplane"} {
		for k := 0; k < 2; k++ {
			img, chw := rgbImage(5, 4, uint8(40*i+10*k))
			write(t, filepath.Join(root, "train", class, fmt.Sprintf("%d.png", k)), pngBytes(t, img))
			if class == "airplane" {
				want = append(want, chw)
			}
		}
	}
	img, _ := rgbImage(5, 4, 0)
	write(t, filepath.Join(root, "val", "airplane", "0.png"), pngBytes(t, img))
	write(t, filepath.Join(root, "val", "cat", "0.png"), pngBytes(t, img))
	tr, err := Open("folder", root, Train)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.(*byteImages); !ok {
		t.Errorf("a small folder of one image size is not cached: %T", tr)
	}
	if tr.Len() != 4 || tr.Classes() != 2 || !slices.Equal(ClassNames(tr), []string{"airplane", "cat"}) {
		t.Fatalf("len %d classes %v", tr.Len(), ClassNames(tr))
	}
	var ex Example
	for k := 0; k < 2; k++ {
		tr.Get(k, &ex)
		checkImage(t, ex, 3, 4, 5, want[k])
		if ex.Label != 0 {
			t.Errorf("airplane labelled %d", ex.Label)
		}
	}
	te, err := Open("folder", root, Test)
	if err != nil || te.Len() != 2 {
		t.Fatalf("val split: %v", err)
	}
	in, err := Describe("folder", tr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Classes != 2 || in.Height != 4 || in.Width != 5 || len(in.Mean) != 3 || in.Mean[0] <= 0 {
		t.Errorf("described as %+v", in)
	}
	if _, err := Open("folder", t.TempDir(), Train); err == nil {
		t.Error("a folder without train/: no error")
	}
}

// TestSharedCIFARJPEG reads a few files of the CIFAR-10 JPEG folders and
// compares test/cat/0000.jpg with record 0 of the binary test batch, of
// which it is a lossy re-encoding (mean absolute difference about 7.4/255).
func TestSharedCIFARJPEG(t *testing.T) {
	src := needShared(t, "cifar10-jpeg")
	bin := needShared(t, "cifar10/test_batch.first20.bin")
	root := t.TempDir()
	classes := []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
	for _, split := range []string{"train", "test"} {
		for _, c := range classes {
			for _, f := range []string{"0000.jpg", "0001.jpg"} {
				b, err := os.ReadFile(filepath.Join(src, split, c, f))
				if err != nil {
					t.Fatal(err)
				}
				write(t, filepath.Join(root, split, c, f), b)
			}
		}
	}
	te, err := Open("folder", root, Test)
	if err != nil {
		t.Fatal(err)
	}
	if te.Len() != 20 || te.Classes() != 10 || te.Label(6) != 3 {
		t.Fatalf("len %d classes %d label %d", te.Len(), te.Classes(), te.Label(6))
	}
	var jpg, rec Example
	te.Get(6, &jpg) // test/cat/0000.jpg
	ref, err := ReadCIFARFile(bin, CIFAR10)
	if err != nil {
		t.Fatal(err)
	}
	ref.Get(0, &rec)
	if jpg.C != 3 || jpg.H != 32 || jpg.W != 32 || rec.Label != 3 {
		t.Fatalf("%dx%dx%d, record label %d", jpg.C, jpg.H, jpg.W, rec.Label)
	}
	var diff float64
	for i := range jpg.Image {
		diff += math.Abs(float64(jpg.Image[i] - rec.Image[i]))
	}
	if mad := diff / float64(len(jpg.Image)) * 255; mad > 10 {
		t.Errorf("mean absolute difference %.2f/255 from the binary record, want about 7.4", mad)
	} else {
		t.Logf("mean absolute difference from the binary record: %.2f/255", mad)
	}
}

// TestLoaderShards: the shards of three processes are, in order, the
// batches one process takes, with the same augmentation.
func TestLoaderShards(t *testing.T) {
	ds, err := Open("mnist", "", Train)
	if err != nil {
		t.Fatal(err)
	}
	ds = Limit(ds, 200)
	tf := Compose{RandomCrop{Size: 28, Padding: 2}, HorizontalFlip{}}
	one := &Loader{Dataset: ds, Transform: tf, BatchSize: 64, Shuffle: true, Seed: 3, Workers: 2}
	var whole []*Batch
	for b, err := range one.Batches(context.Background(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		whole = append(whole, b)
	}
	parts := make([][]*Batch, 3)
	for r := range parts {
		l := *one
		l.Shard, l.Shards = r, 3
		for b, err := range l.Batches(context.Background(), 1) {
			if err != nil {
				t.Fatal(err)
			}
			parts[r] = append(parts[r], b)
		}
	}
	for i, w := range whole {
		var x []float32
		var idx []int
		for r := range parts {
			x = append(x, parts[r][i].X...)
			idx = append(idx, parts[r][i].Indices...)
		}
		if !slices.Equal(idx, w.Indices) || !slices.Equal(x, w.X) {
			t.Fatalf("batch %d: the shards are not the batch", i)
		}
	}
}
