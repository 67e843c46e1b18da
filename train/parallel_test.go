package train

import (
	"context"
	"math"
	"testing"

	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/dist"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
)

// parallelRun trains ResNet-20 (BatchNorm) on MNIST with the processes of
// comms, each a goroutine with its own copy of the network and its shard of
// every batch, and returns each rank's network.
func parallelRun(t *testing.T, comms []dist.Comm, syncBN bool) []nn.Module[float32] {
	t.Helper()
	trainSet, testSet := mnist(t, data.Train, 192), mnist(t, data.Test, 100)
	nets := make([]nn.Module[float32], len(comms))
	errs := make([]error, len(comms))
	done := make(chan struct{})
	for r, c := range comms {
		m, err := models.New[float32]("resnet20", models.Input{Channels: 1, Height: 28, Width: 28, Classes: 10}, models.Options{}, 5)
		if err != nil {
			t.Fatal(err)
		}
		nets[r] = m
		tl, el := loaders(t, trainSet, testSet, 32)
		tl.Shard, tl.Shards = r, len(comms)
		el.Shard, el.Shards = r, len(comms)
		tr := &Trainer{Model: m, Train: tl, Test: el, Comm: c, SyncBatchNorm: syncBN,
			Config: Config{Epochs: 1, LR: 0.001, Momentum: 0.9, WeightDecay: 5e-4, Schedule: Constant{}}}
		go func() {
			defer func() { done <- struct{}{} }()
			errs[r] = tr.Run(context.Background())
		}()
	}
	for range comms {
		<-done
	}
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	return nets
}

// relativeDistance is |a - b| / |a| over every parameter and buffer.
func relativeDistance(a, b nn.Module[float32]) float64 {
	pa, pb := nn.AllParams(a), nn.AllParams(b)
	var d, n float64
	for i, p := range pa {
		for j, v := range p.Data {
			w := float64(pb[i].Data[j])
			d += (float64(v) - w) * (float64(v) - w)
			n += float64(v) * float64(v)
		}
	}
	return math.Sqrt(d / n)
}

// TestDataParallelMatchesOneProcess: three ranks sharing every batch of 32
// unevenly (11, 11, 10) end where one process does, to float32 rounding,
// with BatchNorm over the whole batch; with BatchNorm over each shard they
// do not. The ranks end with the same weights and buffers, bit for bit.
func TestDataParallelMatchesOneProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("trains ResNet-20 four times")
	}
	one := parallelRun(t, []dist.Comm{dist.Single{}}, false)[0]
	synced := parallelRun(t, dist.Loopback(3), true)
	for r := 1; r < len(synced); r++ {
		if d := relativeDistance(synced[0], synced[r]); d != 0 {
			t.Errorf("rank %d ends %.2g from rank 0", r, d)
		}
	}
	d := relativeDistance(one, synced[0])
	t.Logf("synchronised BatchNorm: %.2g from one process", d)
	if d > 1e-4 {
		t.Errorf("three ranks end %.2g from one process", d)
	}
	local := parallelRun(t, dist.Loopback(3), false)[0]
	dl := relativeDistance(one, local)
	t.Logf("BatchNorm per shard: %.2g from one process", dl)
	if dl < 10*d || dl < 1e-4 {
		t.Errorf("BatchNorm per shard ends %.2g from one process, synchronised %.2g: the synchronisation does nothing", dl, d)
	}
}
