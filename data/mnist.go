package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// MaxIDXBytes bounds the data an IDX header may claim (1 GiB): a larger claim
// is refused before anything is read, so a decompression bomb cannot
// exhaust memory.
const MaxIDXBytes = 1 << 30

// DecodeIDX reads an IDX file of unsigned bytes (type 0x08), gzipped or
// not: magic 0x00 0x00 0x08 ndims, ndims big-endian uint32 sizes, data.
// name labels errors. It returns the sizes and the data.
func DecodeIDX(r io.Reader, name string) ([]int, []byte, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, formatErr(name, -1, 0, "bad gzip stream: %v", err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	var head [4]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return nil, nil, formatErr(name, -1, 0, "reading magic number: %v", eof(err))
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, nil, formatErr(name, -1, 0, "wrong magic number %x: not an IDX file", head)
	}
	if head[2] != 0x08 {
		return nil, nil, formatErr(name, -1, 2, "IDX element type 0x%02x, want 0x08 (unsigned byte)", head[2])
	}
	nd := int(head[3])
	if nd < 1 || nd > 4 {
		return nil, nil, formatErr(name, -1, 3, "IDX file with %d dimensions", nd)
	}
	dims := make([]int, nd)
	total := int64(1)
	for i := range dims {
		var d uint32
		if err := binary.Read(br, binary.BigEndian, &d); err != nil {
			return nil, nil, formatErr(name, -1, int64(4+4*i), "reading dimension %d: %v", i, eof(err))
		}
		dims[i] = int(d)
		total *= int64(d)
		if total > MaxIDXBytes {
			return nil, nil, formatErr(name, -1, int64(4+4*i), "dimensions %v claim more than %d bytes", dims[:i+1], MaxIDXBytes)
		}
	}
	var buf bytes.Buffer // grows with the data actually read, not the claim
	n, err := io.CopyN(&buf, br, total)
	if err != nil {
		off := int64(4+4*nd) + n
		if errors.Is(err, io.EOF) {
			return nil, nil, formatErr(name, -1, off, "truncated: %d of %d data bytes", n, total)
		}
		return nil, nil, formatErr(name, -1, off, "%v", err)
	}
	if extra, _ := br.Peek(1); len(extra) > 0 {
		return nil, nil, formatErr(name, -1, int64(4+4*nd)+total, "trailing bytes after %d data bytes", total)
	}
	return dims, buf.Bytes(), nil
}

func eof(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func readIDXFile(path string) ([]int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return DecodeIDX(f, path)
}

// mnistFiles are the IDX names of each split, as distributed.
var mnistFiles = map[Split][2]string{
	Train: {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
	Test:  {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
}

// findFile returns dir/name or dir/name.gz, whichever exists.
func findFile(dir, name string) (string, error) {
	for _, n := range []string{name, name + ".gz"} {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("data: %s: neither %s nor %s.gz exists", dir, name, name)
}

// OpenMNIST reads an MNIST-format split (MNIST, Fashion-MNIST) from the IDX
// files in dir (gzipped or not): 28x28 grey images, labels 0-9.
func OpenMNIST(dir string, split Split) (Dataset, error) {
	names, ok := mnistFiles[split]
	if !ok {
		return nil, fmt.Errorf("data: MNIST has no %s split", split)
	}
	ip, err := findFile(dir, names[0])
	if err != nil {
		return nil, err
	}
	lp, err := findFile(dir, names[1])
	if err != nil {
		return nil, err
	}
	idims, pixels, err := readIDXFile(ip)
	if err != nil {
		return nil, err
	}
	if len(idims) != 3 {
		return nil, formatErr(ip, -1, -1, "image file has dimensions %v, want [n rows cols]", idims)
	}
	ldims, labels, err := readIDXFile(lp)
	if err != nil {
		return nil, err
	}
	if len(ldims) != 1 || ldims[0] != idims[0] {
		return nil, formatErr(lp, -1, -1, "label file has dimensions %v for %d images", ldims, idims[0])
	}
	for i, l := range labels {
		if l > 9 {
			return nil, formatErr(lp, i, int64(8+i), "label %d outside [0, 10)", l)
		}
	}
	return &byteImages{pixels: pixels, labels: labels, c: 1, h: idims[1], w: idims[2], classes: 10}, nil
}
