package data

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// Splits is a dataset opened for a run: both splits, what they are, and
// notes on anything unusual about them (fewer test classes, a known
// dataset of another size than its standard one).
type Splits struct {
	Name, Dir   string
	Train, Test Dataset
	Info        Info
	Notes       []string
}

// known are the sizes of the standard datasets: classes, training and test
// examples.
var known = map[string][3]int{
	"mnist":           {10, 60000, 10000},
	"fashion-mnist":   {10, 60000, 10000},
	"cifar10":         {10, 50000, 10000},
	"cifar100":        {100, 50000, 10000},
	"cifar100-coarse": {20, 50000, 10000},
	"tiny-imagenet":   {200, 100000, 10000},
	"imagenet":        {1000, 1281167, 50000},
}

// OpenSplits opens both splits of the named dataset and checks them
// against each other: a test split labelled by the training split's
// classes (a class the training split lacks is an error, fewer classes are
// noted), neither split empty, and the sizes of a known dataset as
// distributed (differences are noted).
func OpenSplits(name, dir string, o Options) (*Splits, error) {
	dir, err := resolveDir(name, dir)
	if err != nil {
		return nil, err
	}
	s := &Splits{Name: name, Dir: dir}
	var notes []string
	if s.Train, notes, err = open(name, dir, Train, o.ImageSize); err != nil {
		return nil, err
	}
	s.Notes = append(s.Notes, notes...)
	if s.Test, notes, err = open(name, dir, Test, o.ImageSize); err != nil {
		return nil, err
	}
	s.Notes = append(s.Notes, notes...)
	for _, sp := range []struct {
		split Split
		ds    Dataset
	}{{Train, s.Train}, {Test, s.Test}} {
		if sp.ds.Len() == 0 {
			return nil, fmt.Errorf("data: %s (%s): the %s split is empty", name, dir, sp.split)
		}
	}
	if s.Test.Classes() != s.Train.Classes() {
		return nil, fmt.Errorf("data: %s (%s): the test split has %d classes, the training split %d", name, dir, s.Test.Classes(), s.Train.Classes())
	}
	if k, ok := known[name]; ok {
		if s.Train.Classes() != k[0] || s.Train.Len() != k[1] || s.Test.Len() != k[2] {
			s.Notes = append(s.Notes, fmt.Sprintf("%s as distributed has %d classes, %d training and %d test examples; %s has %d, %d and %d",
				name, k[0], k[1], k[2], dir, s.Train.Classes(), s.Train.Len(), s.Test.Len()))
		}
	}
	if s.Info, err = Describe(name, s.Train, o); err != nil {
		return nil, err
	}
	if name == "mnist" || name == "fashion-mnist" {
		// MNIST-format files of another image size: the input follows them.
		var ex Example
		if err := s.Train.Get(0, &ex); err != nil {
			return nil, err
		}
		if ex.H != s.Info.Height || ex.W != s.Info.Width {
			s.Notes = append(s.Notes, fmt.Sprintf("%s holds images of %dx%d, not %s's %dx%d: the network takes %dx%d inputs",
				dir, ex.H, ex.W, name, s.Info.Height, s.Info.Width, ex.H, ex.W))
			s.Info.Height, s.Info.Width = ex.H, ex.W
		}
	}
	return s, nil
}

// Verify checks, before any work that takes long, that every image file
// of ds exists and its header decodes to a size within the pixel budget
// (Tiny-ImageNet's: 64x64)
// (about a millisecond a file; in-memory datasets were decoded when
// opened). It names the first bad file.
func Verify(ctx context.Context, ds Dataset) error {
	var idx []int
	if sub, ok := ds.(Subset); ok {
		ds, idx = sub.Dataset, sub.Indices
	}
	l, ok := ds.(*imageList)
	if !ok {
		return nil
	}
	if idx == nil {
		idx = make([]int, l.Len())
		for i := range idx {
			idx[i] = i
		}
	}
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := w; k < len(idx); k += workers {
				if k%256 == 0 && ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				i := idx[k]
				cfg, err := headerOf(l.paths[i])
				if err == nil {
					err = checkPixels(cfg, l.paths[i], l.maxPixels)
				}
				if err == nil && l.size != [2]int{} && (cfg.Width != l.size[0] || cfg.Height != l.size[1]) {
					err = formatErr(l.paths[i], -1, -1, "image of %dx%d pixels, where this dataset's are %dx%d", cfg.Width, cfg.Height, l.size[0], l.size[1])
				}
				if err != nil {
					errs[w] = fmt.Errorf("example %d: %w", i, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
