package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// FolderSplit returns the folder of a split under dir: train/ for training,
// test/ or val/ for testing.
func FolderSplit(dir string, split Split) (string, error) {
	names := []string{"train"}
	if split == Test {
		names = []string{"test", "val"}
	}
	for _, n := range names {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("data: %s has no %v folder", dir, names)
}

// OpenFolderDataset reads a split of an image-folder dataset at dir
// (train/<class>/..., test/<class>/... or val/<class>/...) and, when the
// images share one size and fit, caches them decoded in memory. Classes are
// train/'s folders in sorted order; a test folder's classes are numbered as
// train/'s. It returns the dataset and the images' size (C, H, W) as found
// on the first image.
func OpenFolderDataset(dir string, split Split) (Dataset, [3]int, error) {
	ds, size, _, err := openFolderDataset(dir, split, 0)
	return ds, size, err
}

// openFolderDataset opens a split of a folder dataset whose images are
// resized to imageSize (0: their own size, the first image's).
func openFolderDataset(dir string, split Split, imageSize int) (Dataset, [3]int, []string, error) {
	root, err := FolderSplit(dir, split)
	if err != nil {
		return nil, [3]int{}, nil, err
	}
	var classes []string
	if split != Train {
		trainRoot, err := FolderSplit(dir, Train)
		if err != nil {
			return nil, [3]int{}, nil, err
		}
		if classes, err = subfolders(trainRoot); err != nil {
			return nil, [3]int{}, nil, err
		}
	}
	l, notes, err := openImageFolder(root, classes)
	if err != nil {
		return nil, [3]int{}, nil, err
	}
	// The pixel budget follows the size the network takes: --image-size, or
	// the first image's own.
	cfg, err := headerOf(l.paths[0])
	if err != nil {
		return nil, [3]int{}, nil, err
	}
	if imageSize > 0 {
		l.maxPixels = PixelBudget(imageSize, imageSize)
	} else {
		l.maxPixels = PixelBudget(cfg.Height, cfg.Width)
	}
	var ex Example
	if err := l.Get(0, &ex); err != nil {
		return nil, [3]int{}, nil, err
	}
	size := [3]int{ex.C, ex.H, ex.W}
	if int64(l.Len())*int64(ex.C*ex.H*ex.W) <= MaxCacheBytes && l.Classes() <= 256 {
		cached, err := Cached(l, ex.C, ex.H, ex.W)
		if err == nil {
			return cached, size, notes, nil
		}
		var se *sizeError
		if !errors.As(err, &se) {
			return nil, [3]int{}, nil, err
		}
		// Images of several sizes: serve them from disk, resized by the transforms.
	}
	return l, size, notes, nil
}
