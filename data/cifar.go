package data

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Split names a part of a dataset.
type Split string

// The splits winnow reads.
const (
	Train Split = "train"
	Test  Split = "test"
)

// CIFARKind is CIFAR-10 or CIFAR-100 (fine or coarse labels).
type CIFARKind int

const (
	CIFAR10 CIFARKind = iota
	CIFAR100Fine
	CIFAR100Coarse
)

// record layout of each kind: label bytes before the 3072 pixel bytes, the
// label's position among them, and the number of classes.
func (k CIFARKind) layout() (labelBytes, labelAt, classes int) {
	switch k {
	case CIFAR100Fine:
		return 2, 1, 100
	case CIFAR100Coarse:
		return 2, 0, 20
	}
	return 1, 0, 10
}

const cifarPixels = 3 * 32 * 32

// MaxCIFARFile bounds one CIFAR binary file (the originals are 30 MB and
// 150 MB): a larger file is refused before it is read.
const MaxCIFARFile = 1 << 30

// DecodeCIFAR reads CIFAR binary records from r (size bytes; name labels
// errors): per record the label byte(s), then 1024 red, 1024 green and 1024
// blue bytes, row-major.
func DecodeCIFAR(r io.Reader, size int64, name string, kind CIFARKind) (*byteImages, error) {
	lb, at, classes := kind.layout()
	rec := int64(lb + cifarPixels)
	if size > MaxCIFARFile {
		return nil, formatErr(name, -1, -1, "%d bytes: more than %d", size, MaxCIFARFile)
	}
	if size == 0 {
		return nil, formatErr(name, -1, 0, "empty file: no records")
	}
	if size%rec != 0 {
		n := size / rec
		return nil, formatErr(name, int(n), n*rec, "truncated record: the file has %d bytes, not a multiple of the %d-byte record", size, rec)
	}
	n := int(size / rec)
	out := &byteImages{pixels: make([]byte, n*cifarPixels), labels: make([]uint8, n), c: 3, h: 32, w: 32, classes: classes}
	buf := make([]byte, rec)
	for i := 0; i < n; i++ {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, formatErr(name, i, int64(i)*rec, "reading record: %v", eof(err))
		}
		l := buf[at]
		if int(l) >= classes {
			return nil, formatErr(name, i, int64(i)*rec+int64(at), "label %d outside [0, %d)", l, classes)
		}
		out.labels[i] = l
		copy(out.pixels[i*cifarPixels:], buf[lb:])
	}
	return out, nil
}

// ReadCIFARFile reads one CIFAR binary file.
func ReadCIFARFile(path string, kind CIFARKind) (Dataset, error) {
	return readCIFARFile(path, kind)
}

func readCIFARFile(path string, kind CIFARKind) (*byteImages, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return DecodeCIFAR(f, st.Size(), path, kind)
}

// OpenCIFAR reads a split of CIFAR-10 (cifar-10-batches-bin: data_batch_1..5.bin,
// test_batch.bin) or CIFAR-100 (cifar-100-binary: train.bin, test.bin). dir
// may be that folder or the folder that holds it.
func OpenCIFAR(dir string, split Split, kind CIFARKind) (Dataset, error) {
	sub, files := "cifar-10-batches-bin", map[Split][]string{
		Train: {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
		Test:  {"test_batch.bin"},
	}
	if kind != CIFAR10 {
		sub, files = "cifar-100-binary", map[Split][]string{Train: {"train.bin"}, Test: {"test.bin"}}
	}
	names, ok := files[split]
	if !ok {
		return nil, fmt.Errorf("data: CIFAR has no %s split", split)
	}
	if _, err := os.Stat(filepath.Join(dir, names[0])); err != nil {
		if _, err2 := os.Stat(filepath.Join(dir, sub, names[0])); err2 != nil {
			return nil, fmt.Errorf("data: %s: no %s there or in %s/ (give --data-dir the folder that holds %s)", dir, names[0], sub, sub)
		}
		dir = filepath.Join(dir, sub)
	}
	var parts []*byteImages
	for _, n := range names {
		p, err := readCIFARFile(filepath.Join(dir, n), kind)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return concat(parts), nil
}
