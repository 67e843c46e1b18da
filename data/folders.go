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
// sorted by name within each class. A class folder without images is an
// error.
func OpenImageFolder(root string) (Dataset, error) {
	l, _, err := openImageFolder(root, nil)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// subfolders lists the folder names under root, sorted.
func subfolders(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("data: image folder: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// openImageFolder reads an image folder. With classes nil its own class
// folders define the classes (a training split), and each must hold
// images. Otherwise classes (the training split's) number the labels: a
// folder named after no class is an error, classes without a folder or
// without images are allowed and noted.
func openImageFolder(root string, classes []string) (*imageList, []string, error) {
	names, err := subfolders(root)
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("data: %s: no class folders", root)
	}
	var notes []string
	index := map[string]int{}
	own := classes == nil
	if own {
		classes = names
	} else {
		for i, c := range classes {
			index[c] = i
		}
		var extra []string
		for _, n := range names {
			if _, ok := index[n]; !ok {
				extra = append(extra, n)
			}
		}
		if len(extra) > 0 {
			return nil, nil, fmt.Errorf("data: %s: class folders %s are not classes of the training split (%d classes: %s)",
				root, strings.Join(extra, ", "), len(classes), abbreviate(classes, 12))
		}
		if len(names) < len(classes) {
			var missing []string
			for _, c := range classes {
				if !slices.Contains(names, c) {
					missing = append(missing, c)
				}
			}
			notes = append(notes, fmt.Sprintf("%s holds %d of the %d training classes (no folder for %s): accuracy is over those it holds",
				root, len(names), len(classes), abbreviate(missing, 12)))
		}
	}
	for i, c := range classes {
		index[c] = i
	}
	l := &imageList{classes: len(classes), names: classes}
	var empty []string
	for _, c := range names {
		files, err := os.ReadDir(filepath.Join(root, c))
		if err != nil {
			return nil, nil, fmt.Errorf("data: %w", err)
		}
		n := 0
		for _, f := range files {
			if !f.IsDir() && isImage(f.Name()) {
				l.paths = append(l.paths, filepath.Join(root, c, f.Name()))
				l.labels = append(l.labels, index[c])
				n++
			}
		}
		if n == 0 {
			empty = append(empty, c)
		}
	}
	if len(empty) > 0 {
		if own {
			return nil, nil, fmt.Errorf("data: %s: class folders %s hold no images (.JPEG, .jpg, .jpeg, .png): a class needs training images",
				root, abbreviate(empty, 12))
		}
		notes = append(notes, fmt.Sprintf("%s: class folders %s hold no images", root, abbreviate(empty, 12)))
	}
	if len(l.paths) == 0 {
		return nil, nil, fmt.Errorf("data: %s: no images (.JPEG, .jpg, .jpeg, .png) in its class folders", root)
	}
	return l, notes, nil
}

// abbreviate joins names, the first n and a count of the rest.
func abbreviate(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// OpenTinyImageNet reads Tiny-ImageNet-200 as distributed under dir:
// classes are the wnids of wnids.txt in sorted order (ImageFolder's order on
// train/); train images from train/<wnid>/images/, validation images from
// val/images/ with labels from val/val_annotations.txt. (Reading val/ as an
// image folder would give every image the same wrong label.) The test split
// is the validation set: the distributed test labels are withheld.
func OpenTinyImageNet(dir string, split Split) (Dataset, error) {
	l, _, err := openTinyImageNet(dir, split)
	if err != nil {
		return nil, err
	}
	return l, nil
}

func openTinyImageNet(dir string, split Split) (*imageList, []string, error) {
	wnidFile := filepath.Join(dir, "wnids.txt")
	f, err := os.Open(wnidFile)
	if err != nil {
		return nil, nil, fmt.Errorf("data: Tiny-ImageNet: %w", err)
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
		return nil, nil, fmt.Errorf("data: %s: %w", wnidFile, err)
	}
	if len(wnids) == 0 {
		return nil, nil, formatErr(wnidFile, -1, -1, "no class ids")
	}
	slices.Sort(wnids)
	index := make(map[string]int, len(wnids))
	for i, w := range wnids {
		if _, dup := index[w]; dup {
			return nil, nil, formatErr(wnidFile, -1, -1, "class %s listed twice", w)
		}
		index[w] = i
	}
	var notes []string
	l := &imageList{classes: len(wnids), names: wnids}
	switch split {
	case Train:
		var empty, short []string
		for i, w := range wnids {
			imgDir := filepath.Join(dir, "train", w, "images")
			files, err := os.ReadDir(imgDir)
			if err != nil {
				return nil, nil, fmt.Errorf("data: Tiny-ImageNet class %s: %w", w, err)
			}
			n := 0
			for _, e := range files {
				if !e.IsDir() && isImage(e.Name()) {
					l.paths = append(l.paths, filepath.Join(imgDir, e.Name()))
					l.labels = append(l.labels, i)
					n++
				}
			}
			switch {
			case n == 0:
				empty = append(empty, w)
			case n != tinyImagesPerClass && n > tinyImagesPerClass/2:
				short = append(short, fmt.Sprintf("%s (%d)", w, n))
			}
		}
		if len(empty) > 0 {
			return nil, nil, fmt.Errorf("data: %s: classes %s have no training images", filepath.Join(dir, "train"), abbreviate(empty, 12))
		}
		if len(short) > 0 {
			notes = append(notes, fmt.Sprintf("Tiny-ImageNet classes with other than %d training images: %s", tinyImagesPerClass, abbreviate(short, 12)))
		}
		if others, err := subfolders(filepath.Join(dir, "train")); err == nil {
			var extra []string
			for _, o := range others {
				if _, ok := index[o]; !ok {
					extra = append(extra, o)
				}
			}
			if len(extra) > 0 {
				notes = append(notes, fmt.Sprintf("train/ holds folders not listed in wnids.txt, left out: %s", abbreviate(extra, 12)))
			}
		}
	case Test:
		ann := filepath.Join(dir, "val", "val_annotations.txt")
		af, err := os.Open(ann)
		if err != nil {
			return nil, nil, fmt.Errorf("data: Tiny-ImageNet: %w", err)
		}
		defer af.Close()
		sc := bufio.NewScanner(af)
		seen := map[string]int{}
		for line := 1; sc.Scan(); line++ {
			fields := strings.Fields(sc.Text())
			if len(fields) == 0 {
				continue
			}
			if len(fields) < 2 {
				return nil, nil, formatErr(ann, line, -1, "want <image> <wnid> ..., got %q", sc.Text())
			}
			c, ok := index[fields[1]]
			if !ok {
				return nil, nil, formatErr(ann, line, -1, "class %s is not in wnids.txt", fields[1])
			}
			if first, dup := seen[fields[0]]; dup {
				return nil, nil, formatErr(ann, line, -1, "image %s is listed twice (first on line %d)", fields[0], first)
			}
			seen[fields[0]] = line
			l.paths = append(l.paths, filepath.Join(dir, "val", "images", fields[0]))
			l.labels = append(l.labels, c)
		}
		if err := sc.Err(); err != nil {
			return nil, nil, fmt.Errorf("data: %s: %w", ann, err)
		}
	default:
		return nil, nil, fmt.Errorf("data: Tiny-ImageNet has no %s split", split)
	}
	if len(l.paths) == 0 {
		return nil, nil, fmt.Errorf("data: %s: no %s images", dir, split)
	}
	return l, notes, nil
}

const tinyImagesPerClass = 500
