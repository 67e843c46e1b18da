package models

import (
	"testing"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
)

// Counts of prunable (conv + linear) weights, checked against the PyTorch
// versions of the GraSP code's models.
func TestPrunableCounts(t *testing.T) {
	cases := []struct {
		name string
		want int
	}{
		{"vgg19", 20024000},
		{"resnet32", 1855584},
		{"lenet300", 266200},
		{"lenet5", 430500},
	}
	for _, c := range cases {
		_, _, in, err := Describe(c.name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := New[float32](c.name, in, Options{}, 1)
		if err != nil {
			t.Fatal(err)
		}
		s := nn.Summarize(m, in.Channels, in.Height, in.Width)
		if s.PrunableWeights != c.want {
			t.Errorf("%s: %d prunable weights, want %d", c.name, s.PrunableWeights, c.want)
		}
	}
}

// TestFLOPsByHand counts VGG-19's and ResNet-20's forward FLOPs on one
// CIFAR image by hand, in winnow's convention (every op) and in the
// official EigenDamage code's compute_flops (conv, linear, BatchNorm, max
// pooling, module ReLUs; no additions, average pooling or functional
// ReLUs), and checks that a pass with values counts what the shapes-only
// pass of Summarize counts.
func TestFLOPsByHand(t *testing.T) {
	// A convolution (no bias) with its BatchNorm, and whether a ReLU
	// follows the BatchNorm.
	type conv struct {
		in, out, k, size int // size: of the output map
		relu             bool
	}
	count := func(convs []conv, classes int) (convBN, relu int64) {
		for _, c := range convs {
			hw := int64(c.size * c.size)
			convBN += 2*int64(c.k*c.k*c.in)*int64(c.out)*hw + 2*int64(c.out)*hw
			if c.relu {
				relu += int64(c.out) * hw
			}
		}
		last := convs[len(convs)-1].out
		return convBN + 2*int64(last*classes) + int64(classes), relu
	}
	vgg := []conv{{3, 64, 3, 32, true}, {64, 64, 3, 32, true}, {64, 128, 3, 16, true}, {128, 128, 3, 16, true},
		{128, 256, 3, 8, true}, {256, 256, 3, 8, true}, {256, 256, 3, 8, true}, {256, 256, 3, 8, true},
		{256, 512, 3, 4, true}, {512, 512, 3, 4, true}, {512, 512, 3, 4, true}, {512, 512, 3, 4, true},
		{512, 512, 3, 2, true}, {512, 512, 3, 2, true}, {512, 512, 3, 2, true}, {512, 512, 3, 2, true}}
	convBN, relu := count(vgg, 10)
	maxpool := int64(4 * (64*16*16 + 128*8*8 + 256*4*4 + 512*2*2)) // 2x2 windows, per output
	avgpool := int64(4 * 512)                                      // AvgPool(2) on the last 2x2 map
	m, err := New[float32]("vgg19", cifar10, Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := nn.Summarize(m, 3, 32, 32)
	if want := convBN + relu + maxpool + avgpool; s.FLOPs != want {
		t.Errorf("vgg19: %d FLOPs, by hand %d", s.FLOPs, want)
	}
	if want := convBN + relu + maxpool; s.OfficialFLOPs != want {
		t.Errorf("vgg19: %d FLOPs in the official convention, by hand %d", s.OfficialFLOPs, want)
	}
	checkValuedPass(t, "vgg19", m, s.FLOPs)

	// ResNet-20 of width 1 (16, 32, 64): conv1, 9 blocks (ReLU after bn1
	// and after the addition), two 1x1 shortcuts with BatchNorm, global
	// average pool, fc.
	res := []conv{{3, 16, 3, 32, true}}
	var added int64 // elements of every block's output
	for st, w := range []int{16, 32, 64} {
		size := 32 >> st
		for b := 0; b < 3; b++ {
			in := w
			if b == 0 && st > 0 {
				in = w / 2
				res = append(res, conv{in, w, 1, size, false})
			}
			res = append(res, conv{in, w, 3, size, true}, conv{w, w, 3, size, false})
			added += int64(w * size * size)
		}
	}
	convBN, relu = count(res, 10)
	gap := int64(64 * 8 * 8)
	m, err = New[float32]("resnet20", cifar10, Options{Width: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	s = nn.Summarize(m, 3, 32, 32)
	if want := convBN + relu + 2*added + gap; s.FLOPs != want { // each addition and its ReLU
		t.Errorf("resnet20: %d FLOPs, by hand %d", s.FLOPs, want)
	}
	if want := convBN; s.OfficialFLOPs != want {
		t.Errorf("resnet20: %d FLOPs in the official convention, by hand %d", s.OfficialFLOPs, want)
	}
	checkValuedPass(t, "resnet20", m, s.FLOPs)
}

// checkValuedPass runs m on one image with values and compares the FLOPs
// its tape records with the shapes-only count.
func checkValuedPass(t *testing.T, name string, m nn.Module[float32], want int64) {
	t.Helper()
	m.SetTraining(false)
	tape := autograd.NewTape[float32](autograd.NoGrad())
	m.Forward(tape, tape.Input(make([]float32, 3*32*32), 1, 3, 32, 32))
	var got int64
	for _, r := range tape.Records() {
		got += r.FLOPs
	}
	if got != want {
		t.Errorf("%s: a pass with values records %d FLOPs, the shapes-only pass %d", name, got, want)
	}
}
