package data

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

var imageExts = map[string]bool{".jpeg": true, ".jpg": true, ".png": true}

func isImage(name string) bool { return imageExts[strings.ToLower(filepath.Ext(name))] }

// OpenImageFolder reads root/<class>/*.{JPEG,jpg,jpeg,png}, as torchvision's
// ImageFolder: classes are the sub-folder names in sorted order, files are
// sorted by name within each class.
func OpenImageFolder(root string) (Dataset, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("data: image folder: %w", err)
	}
	l := &imageList{}
	for _, e := range entries {
		if e.IsDir() {
			l.names = append(l.names, e.Name())
		}
	}
	slices.Sort(l.names)
	if len(l.names) == 0 {
		return nil, fmt.Errorf("data: %s: no class folders", root)
	}
	for ci, c := range l.names {
		files, err := os.ReadDir(filepath.Join(root, c))
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		for _, f := range files {
			if !f.IsDir() && isImage(f.Name()) {
				l.paths = append(l.paths, filepath.Join(root, c, f.Name()))
				l.labels = append(l.labels, ci)
			}
		}
	}
	if len(l.paths) == 0 {
		return nil, fmt.Errorf("data: %s: no images (.JPEG, .jpg, .jpeg, .png) in its class folders", root)
	}
	l.classes = len(l.names)
	return l, nil
}

// OpenTinyImageNet reads Tiny-ImageNet-200 as distributed under dir:
// classes are the wnids of wnids.txt in sorted order (ImageFolder's order on
// train/); train images from train/<wnid>/images/, validation images from
// val/images/ with labels from val/val_annotations.txt. (Reading val/ as an
// image folder would give every image the same wrong label.) The test split
// is the validation set: the distributed test labels are withheld.
func OpenTinyImageNet(dir string, split Split) (Dataset, error) {
	wnidFile := filepath.Join(dir, "wnids.txt")
	f, err := os.Open(wnidFile)
	if err != nil {
		return nil, fmt.Errorf("data: Tiny-ImageNet: %w", err)
	}
	var wnids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			wnids = append(wnids, w)
		}
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: %s: %w", wnidFile, err)
	}
	if len(wnids) == 0 {
		return nil, formatErr(wnidFile, -1, -1, "no class ids")
	}
	slices.Sort(wnids)
	index := make(map[string]int, len(wnids))
	for i, w := range wnids {
		if _, dup := index[w]; dup {
			return nil, formatErr(wnidFile, -1, -1, "class %s listed twice", w)
		}
		index[w] = i
	}
	l := &imageList{classes: len(wnids), names: wnids}
	switch split {
	case Train:
		for i, w := range wnids {
			imgDir := filepath.Join(dir, "train", w, "images")
			files, err := os.ReadDir(imgDir)
			if err != nil {
				return nil, fmt.Errorf("data: Tiny-ImageNet class %s: %w", w, err)
			}
			for _, e := range files {
				if !e.IsDir() && isImage(e.Name()) {
					l.paths = append(l.paths, filepath.Join(imgDir, e.Name()))
					l.labels = append(l.labels, i)
				}
			}
		}
	case Test:
		ann := filepath.Join(dir, "val", "val_annotations.txt")
		af, err := os.Open(ann)
		if err != nil {
			return nil, fmt.Errorf("data: Tiny-ImageNet: %w", err)
		}
		defer af.Close()
		sc := bufio.NewScanner(af)
		for line := 1; sc.Scan(); line++ {
			fields := strings.Fields(sc.Text())
			if len(fields) == 0 {
				continue
			}
			if len(fields) < 2 {
				return nil, formatErr(ann, line, -1, "want <image> <wnid> ..., got %q", sc.Text())
			}
			c, ok := index[fields[1]]
			if !ok {
				return nil, formatErr(ann, line, -1, "class %s is not in wnids.txt", fields[1])
			}
			l.paths = append(l.paths, filepath.Join(dir, "val", "images", fields[0]))
			l.labels = append(l.labels, c)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("data: %s: %w", ann, err)
		}
	default:
		return nil, fmt.Errorf("data: Tiny-ImageNet has no %s split", split)
	}
	if len(l.paths) == 0 {
		return nil, fmt.Errorf("data: %s: no %s images", dir, split)
	}
	return l, nil
}
