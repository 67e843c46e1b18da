package data

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
)

// Batch is a batch of examples: X holds N images of C x H x W, NCHW.
type Batch struct {
	X          []float32
	Labels     []int32
	Indices    []int // dataset indices of the examples
	N, C, H, W int
}

// Shape is the NCHW shape of X.
func (b *Batch) Shape() []int { return []int{b.N, b.C, b.H, b.W} }

// Loader batches a dataset, shuffled with a seed, transformed ahead of the
// consumer by worker goroutines. The order and the augmentation of every
// example depend only on Seed, the epoch and the example's index.
type Loader struct {
	Dataset   Dataset
	Transform Transform // nil for none
	BatchSize int
	Shuffle   bool
	DropLast  bool // drop a last batch smaller than BatchSize
	Seed      uint64
	Workers   int // 0 means GOMAXPROCS
	Prefetch  int // batches decoded ahead per worker; 0 means 2
	// Shard and Shards, with Shards > 1, make the loader serve process
	// Shard's contiguous share of every batch (dist.Shard): the shards of
	// the processes of a data-parallel run together are the batch one
	// process takes, in the same order and with the same augmentation.
	Shard, Shards int
}

// NumBatches is the number of batches in an epoch.
func (l *Loader) NumBatches() int {
	n := l.Dataset.Len()
	if l.DropLast {
		return n / l.BatchSize
	}
	return (n + l.BatchSize - 1) / l.BatchSize
}

// Order returns the dataset indices of an epoch in the order they are served.
func (l *Loader) Order(epoch int) []int {
	n := l.Dataset.Len()
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if l.Shuffle {
		rng := rand.New(rand.NewPCG(l.Seed, 0x5eed0000+uint64(epoch)))
		rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	return idx
}

// exampleRNG reseeds a generator for one example of one epoch.
func (l *Loader) exampleRNG(src *rand.PCG, epoch, index int) {
	src.Seed(l.Seed^0xa0761d6478bd642f, uint64(epoch)<<40^uint64(index))
}

type result struct {
	b   *Batch
	err error
}

// Batches yields the batches of an epoch in order. It stops at the first
// error (which names the example) or when ctx is done.
func (l *Loader) Batches(ctx context.Context, epoch int) iter.Seq2[*Batch, error] {
	return l.BatchesFrom(ctx, epoch, 0)
}

// BatchesFrom yields the batches of an epoch from batch first (0-based) on:
// the same batches Batches yields after its first ones, as a run resumed
// within an epoch needs.
func (l *Loader) BatchesFrom(ctx context.Context, epoch, first int) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		if l.BatchSize < 1 {
			yield(nil, fmt.Errorf("data: batch size %d", l.BatchSize))
			return
		}
		order := l.Order(epoch)
		nb := l.NumBatches()
		if first < 0 || first > nb {
			yield(nil, fmt.Errorf("data: batch %d of an epoch of %d", first, nb))
			return
		}
		workers := l.Workers
		if workers <= 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		workers = max(1, min(workers, nb-first))
		prefetch := l.Prefetch
		if prefetch <= 0 {
			prefetch = 2
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		slots := make([]chan result, nb)
		for i := range slots {
			slots[i] = make(chan result, 1)
		}
		// Each worker has its own tokens: it runs at most prefetch batches
		// ahead of the consumer, and never waits on another worker's batches.
		tokens := make([]chan struct{}, workers)
		for w := range tokens {
			tokens[w] = make(chan struct{}, prefetch)
		}
		for w := 0; w < workers; w++ {
			go func(w int) {
				src := rand.NewPCG(0, 0)
				rng := rand.New(src)
				var ex Example
				for b := first + w; b < nb; b += workers {
					select {
					case tokens[w] <- struct{}{}:
					case <-ctx.Done():
						return
					}
					lo, hi := b*l.BatchSize, min((b+1)*l.BatchSize, len(order))
					if l.Shards > 1 {
						n := hi - lo
						lo, hi = lo+l.Shard*n/l.Shards, lo+(l.Shard+1)*n/l.Shards
					}
					batch, err := l.build(epoch, order[lo:hi], &ex, src, rng)
					slots[b] <- result{batch, err}
					if err != nil {
						return
					}
				}
			}(w)
		}
		for b := first; b < nb; b++ {
			var r result
			select {
			case r = <-slots[b]:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
			<-tokens[(b-first)%workers]
			if r.err != nil {
				yield(nil, r.err)
				return
			}
			if !yield(r.b, nil) {
				return
			}
		}
	}
}

func (l *Loader) build(epoch int, idx []int, ex *Example, src *rand.PCG, rng *rand.Rand) (*Batch, error) {
	b := &Batch{N: len(idx), Labels: make([]int32, len(idx)), Indices: append([]int(nil), idx...)}
	if len(idx) == 0 { // a shard of a batch smaller than the processes
		return b, nil
	}
	for k, i := range idx {
		if err := l.Dataset.Get(i, ex); err != nil {
			return nil, err
		}
		if l.Transform != nil {
			l.exampleRNG(src, epoch, i)
			if err := l.Transform.Apply(ex, rng); err != nil {
				return nil, fmt.Errorf("data: example %d: %w", i, err)
			}
		}
		if k == 0 {
			b.C, b.H, b.W = ex.C, ex.H, ex.W
			b.X = make([]float32, len(idx)*ex.C*ex.H*ex.W)
		} else if ex.C != b.C || ex.H != b.H || ex.W != b.W {
			return nil, fmt.Errorf("data: example %d is %dx%dx%d, the batch's first %dx%dx%d: give a resize or crop transform",
				i, ex.C, ex.H, ex.W, b.C, b.H, b.W)
		}
		copy(b.X[k*len(ex.Image):], ex.Image)
		b.Labels[k] = int32(ex.Label)
	}
	return b, nil
}

// BalancedSample returns k examples of every class, drawn with the seed:
// for each class in label order, k of its examples in random order (GraSP
// scores on such a sample). A class with fewer than k examples is an error.
func BalancedSample(ds Dataset, k int, seed uint64) ([]int, error) {
	byClass := make([][]int, ds.Classes())
	for i := 0; i < ds.Len(); i++ {
		c := ds.Label(i)
		byClass[c] = append(byClass[c], i)
	}
	rng := rand.New(rand.NewPCG(seed, 0xba1a))
	var out []int
	for c, idx := range byClass {
		if len(idx) < k {
			return nil, fmt.Errorf("data: class %d has %d examples, fewer than the %d asked for", c, len(idx), k)
		}
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		out = append(out, idx[:k]...)
	}
	return out, nil
}
