package models

import (
	"testing"

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
