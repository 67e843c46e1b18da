package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
)

// smallVGG is conv-BN-ReLU-maxpool-conv-BN-ReLU-avgpool-linear.
func smallVGG(rng *rand.Rand) nn.Module[float64] {
	return nn.NewSequential[float64](
		nn.NewConv2d[float64](rng, 3, 4, 3, 1, 1, false), nn.NewBatchNorm2d[float64](4), nn.ReLU[float64]{},
		nn.MaxPool2d[float64]{Kernel: 2, Stride: 2},
		nn.NewConv2d[float64](rng, 4, 6, 3, 1, 1, false), nn.NewBatchNorm2d[float64](6), nn.ReLU[float64]{},
		nn.AvgPool2d[float64]{Kernel: 2, Stride: 2},
		nn.Flatten[float64]{},
		nn.NewLinear[float64](rng, 6*2*2, 5, true),
	)
}

// smallResNet is conv-BN-ReLU, a block with a 1x1 conv + BN shortcut, an
// identity block, global average pooling and a linear layer.
func smallResNet(rng *rand.Rand) nn.Module[float64] {
	return nn.NewSequential[float64](
		nn.NewConv2d[float64](rng, 3, 4, 3, 1, 1, false), nn.NewBatchNorm2d[float64](4), nn.ReLU[float64]{},
		nn.NewBasicBlock[float64](rng, 4, 6, 2),
		nn.NewBasicBlock[float64](rng, 6, 6, 1),
		nn.GlobalAvgPool[float64]{},
		nn.NewLinear[float64](rng, 6, 5, true),
	)
}

// perturbBN gives BatchNorm's gamma and beta non-trivial values, so that
// their second derivatives are exercised.
func perturbBN(m nn.Module[float64], rng *rand.Rand) {
	for _, p := range nn.AllParams(m) {
		switch p.Kind {
		case nn.NormWeight:
			for i := range p.Data {
				p.Data[i] = 1 + 0.3*rng.NormFloat64()
			}
		case nn.NormBias, nn.Bias:
			for i := range p.Data {
				p.Data[i] = 0.2 * rng.NormFloat64()
			}
		case nn.Weight:
			for i := range p.Data {
				p.Data[i] *= 3 // the GraSP init of the classifier is tiny; enlarge curvature
			}
		}
	}
}

type netCase struct {
	m      nn.Module[float64]
	x      []float64
	shape  []int
	labels []int32
}

// gradAndHV returns the concatenated gradient at the current parameters and,
// when v is not nil, H v.
func (c netCase) gradAndHV(v []float64) ([]float64, []float64) {
	params := nn.Trainable(c.m)
	var opts []autograd.Option
	if v != nil {
		opts = append(opts, autograd.HVP())
	}
	opts = append(opts, autograd.KeepRunningStats())
	t := autograd.NewTape[float64](opts...)
	k := 0
	for _, p := range params {
		p.ZeroGrad()
		p.Tangent = nil
		if v != nil {
			p.Tangent = v[k : k+p.Len()]
		}
		k += p.Len()
	}
	out := c.m.Forward(t, t.Input(c.x, c.shape...))
	t.Backward(autograd.SoftmaxCrossEntropy(t, out, c.labels, 1))
	var g, hv []float64
	for _, p := range params {
		g = append(g, p.Grad...)
		if v != nil {
			hv = append(hv, p.HV...)
		}
	}
	return g, hv
}

func (c netCase) shift(u []float64, h float64) {
	k := 0
	for _, p := range nn.Trainable(c.m) {
		for i := range p.Data {
			p.Data[i] += h * u[k]
			k++
		}
	}
}

func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

// TestNetworkHVP checks H v of whole networks with BatchNorm in training
// mode against float64 central differences of the gradient along the unit
// direction u = v/|v| with step 1e-8.
func TestNetworkHVP(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(*rand.Rand) nn.Module[float64]
	}{{"vgg-style", smallVGG}, {"resnet-style", smallResNet}} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, 12))
			m := tc.build(rng)
			perturbBN(m, rng)
			c := netCase{m: m, shape: []int{4, 3, 8, 8}, labels: []int32{0, 3, 4, 1}}
			c.x = make([]float64, 4*3*8*8)
			for i := range c.x {
				c.x[i] = rng.NormFloat64()
			}
			n := 0
			for _, p := range nn.Trainable(m) {
				n += p.Len()
			}
			v := make([]float64, n)
			var nv float64
			for i := range v {
				v[i] = rng.NormFloat64()
				nv += v[i] * v[i]
			}
			nv = math.Sqrt(nv)
			_, hv := c.gradAndHV(v)
			u := make([]float64, n)
			for i := range u {
				u[i] = v[i] / nv
			}
			const h = 1e-8
			c.shift(u, h)
			gp, _ := c.gradAndHV(nil)
			c.shift(u, -2*h)
			gm, _ := c.gradAndHV(nil)
			c.shift(u, h)
			want := make([]float64, n)
			for i := range want {
				want[i] = nv * (gp[i] - gm[i]) / (2 * h)
			}
			if r := relErr(hv, want); r > 1e-6 || math.IsNaN(r) {
				t.Errorf("H v relative error %.3g against central differences", r)
			} else {
				t.Logf("H v relative error %.3g over %d parameters", r, n)
			}
		})
	}
}
