package data

import (
	"fmt"
	"runtime"
	"sync"
)

// sizeError reports an image of another size than the others'.
type sizeError struct {
	index     int
	got, want [3]int
}

func (e *sizeError) Error() string {
	return fmt.Sprintf("data: example %d is %dx%dx%d, not %dx%dx%d like the others (give --image-size)",
		e.index, e.got[0], e.got[1], e.got[2], e.want[0], e.want[1], e.want[2])
}

// MaxCacheBytes bounds the decoded images a dataset caches in memory.
const MaxCacheBytes = 4 << 30

// Cached decodes every image of ds once, in parallel, and keeps them as
// bytes (CHW, values v/255 as decoded), so epochs after the first cost no
// decoding: CIFAR-10's 60,000 images take 184 MB. Every image must have
// the size c x h x w (resize transforms run after the cache). It refuses
// datasets larger than MaxCacheBytes.
func Cached(ds Dataset, c, h, w int) (Dataset, error) {
	n, per := ds.Len(), c*h*w
	if int64(n)*int64(per) > MaxCacheBytes {
		return nil, fmt.Errorf("data: %d images of %dx%dx%d do not fit the %d-byte cache", n, c, h, w, MaxCacheBytes)
	}
	out := &byteImages{pixels: make([]byte, n*per), labels: make([]uint8, n), c: c, h: h, w: w, classes: ds.Classes(), names: ClassNames(ds)}
	if ds.Classes() > 256 {
		return nil, fmt.Errorf("data: the cache holds labels as bytes: %d classes", ds.Classes())
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			var ex Example
			for i := k; i < n; i += workers {
				if err := ds.Get(i, &ex); err != nil {
					errs[k] = err
					return
				}
				if ex.C != c || ex.H != h || ex.W != w {
					errs[k] = &sizeError{i, [3]int{ex.C, ex.H, ex.W}, [3]int{c, h, w}}
					return
				}
				dst := out.pixels[i*per : (i+1)*per]
				for j, v := range ex.Image {
					dst[j] = uint8(v*255 + 0.5)
				}
				out.labels[i] = uint8(ex.Label)
			}
		}(k)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
