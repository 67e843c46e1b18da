package data

import (
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
// images share one size and fit, caches them decoded in memory. It returns
// the dataset and the images' size (C, H, W) as found on the first image.
func OpenFolderDataset(dir string, split Split) (Dataset, [3]int, error) {
	root, err := FolderSplit(dir, split)
	if err != nil {
		return nil, [3]int{}, err
	}
	ds, err := OpenImageFolder(root)
	if err != nil {
		return nil, [3]int{}, err
	}
	var ex Example
	if err := ds.Get(0, &ex); err != nil {
		return nil, [3]int{}, err
	}
	size := [3]int{ex.C, ex.H, ex.W}
	if int64(ds.Len())*int64(ex.C*ex.H*ex.W) <= MaxCacheBytes && ds.Classes() <= 256 {
		cached, err := Cached(ds, ex.C, ex.H, ex.W)
		if err == nil {
			return cached, size, nil
		}
		// Images of several sizes: serve them from disk, resized by the transforms.
	}
	return ds, size, nil
}
