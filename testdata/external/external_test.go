// Package external is a module outside winnow's that uses it as a library:
// it builds a model, prunes it with GraSP at initialisation, trains one
// step, and saves and loads the state and the masks through io streams.
package external

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/train"
)

func TestPruneAndTrainFromAnotherModule(t *testing.T) {
	in := models.Input{Channels: 1, Height: 28, Width: 28, Classes: 10}
	net, err := models.New[float32]("lenet5", in, models.Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	twin, err := models.New[float64]("lenet5", in, models.Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	batch := prune.Batch{X: make([]float64, 20*28*28), Shape: in.Shape(20), Labels: make([]int32, 20)}
	for i := range batch.X {
		batch.X[i] = rng.NormFloat64()
	}
	for i := range batch.Labels {
		batch.Labels[i] = int32(i % 10)
	}
	p, err := prune.AtInit(context.Background(), net, twin, prune.List{batch}, []int{1, 28, 28}, prune.DefaultConfig("grasp", 0.9))
	if err != nil {
		t.Fatal(err)
	}
	if kept, total := nn.Density(net); kept != total-int(0.9*float64(total)) {
		t.Fatalf("kept %d of %d", kept, total)
	}
	if p.Report.Density < 0.099 || p.Report.Density > 0.101 {
		t.Errorf("report density %v", p.Report.Density)
	}

	// One training step: the loss goes down on the batch, pruned weights stay 0.
	x := make([]float32, len(batch.X))
	for i, v := range batch.X {
		x[i] = float32(v)
	}
	opt := train.NewSGD(nn.Trainable(net), 0.05, 0.9, 5e-4, false)
	loss := func() float32 {
		tape := autograd.NewTape[float32]()
		nn.ZeroGrad(net)
		l := autograd.SoftmaxCrossEntropy(tape, net.Forward(tape, tape.Input(x, in.Shape(20)...)), batch.Labels, 1)
		tape.Backward(l)
		return l.Value[0]
	}
	before := loss()
	opt.Step()
	if after := loss(); !(after < before) {
		t.Errorf("loss %v -> %v after a step", before, after)
	}
	if err := nn.CheckMasks(net); err != nil {
		t.Error(err)
	}

	// State and masks through io streams, into a fresh network.
	var state, masks bytes.Buffer
	if err := nn.WriteState(&state, net, map[string]string{"note": "external"}); err != nil {
		t.Fatal(err)
	}
	if err := nn.WriteMasks(&masks, net, nil); err != nil {
		t.Fatal(err)
	}
	again, _ := models.New[float32]("lenet5", in, models.Options{}, 99)
	meta, err := nn.ReadState(&state, again)
	if err != nil || meta["note"] != "external" {
		t.Fatalf("ReadState: %v %v", meta, err)
	}
	if _, err := nn.ReadMasks(&masks, again); err != nil {
		t.Fatal(err)
	}
	if k1, _ := nn.Density(net); k1 != func() int { k, _ := nn.Density(again); return k }() {
		t.Error("masks differ after the round trip")
	}
	a, b := nn.AllParams(net), nn.AllParams(again)
	for i := range a {
		for j := range a[i].Data {
			if a[i].Data[j] != b[i].Data[j] {
				t.Fatalf("%s[%d] differs after the round trip", a[i].Name, j)
			}
		}
	}
}
