package data

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// folderTree writes a folder dataset: split -> class -> images (4x3 PNGs).
func folderTree(t *testing.T, tree map[string]map[string]int) string {
	root := t.TempDir()
	for split, classes := range tree {
		for class, n := range classes {
			os.MkdirAll(filepath.Join(root, split, class), 0o755)
			for k := 0; k < n; k++ {
				img, _ := rgbImage(4, 3, uint8(10*k))
				write(t, filepath.Join(root, split, class, fmt.Sprintf("%d.png", k)), pngBytes(t, img))
			}
		}
	}
	return root
}

// TestFolderClassesFromTrain: the test split is labelled by the training
// split's class names, not by its own folder order. With test/ holding
// {airplane, cat} and train/ {airplane, bird}, cat images were scored as
// bird.
func TestFolderClassesFromTrain(t *testing.T) {
	root := folderTree(t, map[string]map[string]int{"train": {"airplane": 2, "bird": 2}, "test": {"airplane": 1, "cat": 1}})
	_, err := OpenSplits("folder", root, Options{})
	if err == nil || !strings.Contains(err.Error(), "cat") || !strings.Contains(err.Error(), "not classes of the training split") {
		t.Fatalf("a test class train/ lacks: %v", err)
	}
	// Fewer test classes are allowed, labelled as in training, and said.
	root = folderTree(t, map[string]map[string]int{"train": {"airplane": 2, "bird": 2, "cat": 2}, "test": {"cat": 1}})
	s, err := OpenSplits("folder", root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Test.Classes() != 3 || s.Test.Label(0) != 2 {
		t.Errorf("test classes %d, cat labelled %d: want 3 classes, cat = 2 as in train/", s.Test.Classes(), s.Test.Label(0))
	}
	if len(s.Notes) == 0 || !strings.Contains(strings.Join(s.Notes, " "), "1 of the 3 training classes") {
		t.Errorf("notes %q", s.Notes)
	}
}

// TestEmptyInputsRefused: an empty class folder, a 0-byte CIFAR batch and
// an empty test set are refused when the data are opened.
func TestEmptyInputsRefused(t *testing.T) {
	root := folderTree(t, map[string]map[string]int{"train": {"airplane": 2, "bird": 0}, "test": {"airplane": 1}})
	if _, err := OpenSplits("folder", root, Options{}); err == nil || !strings.Contains(err.Error(), "bird") || !strings.Contains(err.Error(), "hold no images") {
		t.Errorf("empty training class folder: %v", err)
	}
	root = folderTree(t, map[string]map[string]int{"train": {"airplane": 2}, "test": {"airplane": 0}})
	if _, err := OpenSplits("folder", root, Options{}); err == nil || !strings.Contains(err.Error(), "no images") {
		t.Errorf("empty test set: %v", err)
	}
	dir := t.TempDir()
	rec := cifarRecord(CIFAR10, []byte{1}, 0)
	for b := 1; b <= 5; b++ {
		content := rec
		if b == 4 {
			content = nil
		}
		write(t, filepath.Join(dir, fmt.Sprintf("data_batch_%d.bin", b)), content)
	}
	write(t, filepath.Join(dir, "test_batch.bin"), rec)
	if _, err := OpenSplits("cifar10", dir, Options{}); err == nil || !strings.Contains(err.Error(), "data_batch_4.bin") || !strings.Contains(err.Error(), "empty") {
		t.Errorf("0-byte data_batch_4.bin: %v", err)
	}
}

// bigPNG is a PNG whose header claims w x h pixels (its data are a 1x1
// image's: the header is what is checked).
func bigPNG(t *testing.T, w, h int) []byte {
	b := pngBytes(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	binary.BigEndian.PutUint32(b[16:], uint32(w))
	binary.BigEndian.PutUint32(b[20:], uint32(h))
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// TestPixelBudget: a 9000x9000 image is under the pixel cap but would
// decode to 1.3 GB; for small inputs it is refused from its header, naming
// the file, before any training.
func TestPixelBudget(t *testing.T) {
	if n := int64(9000 * 9000); n > MaxPixels || n <= PixelBudget(224, 224) || n <= PixelBudget(32, 32) {
		t.Fatalf("budgets: 32x32 %d, 224x224 %d", PixelBudget(32, 32), PixelBudget(224, 224))
	}
	root := folderTree(t, map[string]map[string]int{"train": {"a": 2, "b": 2}, "test": {"a": 1}})
	write(t, filepath.Join(root, "train", "b", "zz-huge.png"), bigPNG(t, 9000, 9000))
	_, err := OpenSplits("folder", root, Options{})
	if err == nil || !strings.Contains(err.Error(), "zz-huge.png") || !strings.Contains(err.Error(), "9000x9000") {
		t.Errorf("9000x9000 PNG: %v", err)
	}
	// An image-folder dataset read from disk is checked by Verify.
	l, _, err := openImageFolder(filepath.Join(root, "train"), nil)
	if err != nil {
		t.Fatal(err)
	}
	l.maxPixels = PixelBudget(64, 64)
	if err := Verify(context.Background(), l); err == nil || !strings.Contains(err.Error(), "zz-huge.png") {
		t.Errorf("Verify: %v", err)
	}
}

// TestVerifyFindsMissingFiles: a validation image listed but missing is
// found before any work, not after pruning and an epoch.
func TestVerifyFindsMissingFiles(t *testing.T) {
	root := tinyTree(t, 2, 3)
	ann := "val_0.JPEG\tn01\t0 0 1 1\nval_1.JPEG\tn02\t0 0 1 1\nval_9.JPEG\tn02\t0 0 1 1\n"
	write(t, filepath.Join(root, "val", "val_annotations.txt"), []byte(ann))
	s, err := OpenSplits("tiny-imagenet", root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(context.Background(), s.Test); err == nil || !strings.Contains(err.Error(), "val_9.JPEG") {
		t.Errorf("missing val_9.JPEG: %v", err)
	}
	if err := Verify(context.Background(), s.Train); err != nil {
		t.Errorf("train: %v", err)
	}
}

// tinyTree writes a Tiny-ImageNet tree of classes n01.. with per images
// each and two validation images.
func tinyTree(t *testing.T, classes, per int) string {
	root := t.TempDir()
	var wnids []string
	img, _ := rgbImage(64, 64, 5)
	b := pngBytes(t, img)
	for c := 1; c <= classes; c++ {
		w := fmt.Sprintf("n%02d", c)
		wnids = append(wnids, w)
		for k := 0; k < per; k++ {
			write(t, filepath.Join(root, "train", w, "images", fmt.Sprintf("%s_%d.JPEG", w, k)), b)
		}
	}
	write(t, filepath.Join(root, "wnids.txt"), []byte(strings.Join(wnids, "\n")+"\n"))
	write(t, filepath.Join(root, "val", "images", "val_0.JPEG"), b)
	write(t, filepath.Join(root, "val", "images", "val_1.JPEG"), b)
	write(t, filepath.Join(root, "val", "val_annotations.txt"), []byte("val_0.JPEG\tn01\t0 0 1 1\nval_1.JPEG\tn02\t0 0 1 1\n"))
	return root
}

// TestKnownShapes: a dataset of known shape that differs from it is
// noted: Tiny-ImageNet with 202 classes, a class short of its 500 images,
// folders not in wnids.txt.
func TestKnownShapes(t *testing.T) {
	root := tinyTree(t, 3, 2)
	os.MkdirAll(filepath.Join(root, "train", "n99", "images"), 0o755)
	s, err := OpenSplits("tiny-imagenet", root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(s.Notes, "\n")
	for _, want := range []string{"200 classes, 100000 training and 10000 test examples", "has 3, 6 and 2", "n99"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	// A class of 499 images of 500 is noted by name.
	root = tinyTree(t, 2, 0)
	img, _ := rgbImage(64, 64, 5)
	for c, n := range map[string]int{"n01": 500, "n02": 499} {
		for k := 0; k < n; k++ {
			write(t, filepath.Join(root, "train", c, "images", fmt.Sprintf("%s_%d.JPEG", c, k)), pngBytes(t, img))
		}
	}
	s, err = OpenSplits("tiny-imagenet", root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(s.Notes, "\n"); !strings.Contains(notes, "n02 (499)") || strings.Contains(notes, "n01 (500)") {
		t.Errorf("notes:\n%s", notes)
	}
}

// TestTinyImageNetCrop: --crop 56 makes the input 56x56, a random crop in
// training and the centre crop in evaluation.
func TestTinyImageNetCrop(t *testing.T) {
	root := tinyTree(t, 2, 1)
	s, err := OpenSplits("tiny-imagenet", root, Options{Crop: 56})
	if err != nil {
		t.Fatal(err)
	}
	if s.Info.Height != 56 || s.Info.Width != 56 || s.Info.Crop != 56 {
		t.Fatalf("info %+v", s.Info)
	}
	for _, augment := range []bool{true, false} {
		l := &Loader{Dataset: s.Test, Transform: PipelineFor(s.Info, augment), BatchSize: 2}
		for b, err := range l.Batches(context.Background(), 0) {
			if err != nil {
				t.Fatal(err)
			}
			if b.H != 56 || b.W != 56 {
				t.Errorf("augment %v: batch of %dx%d", augment, b.H, b.W)
			}
		}
	}
	if _, err := OpenSplits("tiny-imagenet", root, Options{Crop: 80}); err == nil {
		t.Error("a crop larger than the images: no error")
	}
}
