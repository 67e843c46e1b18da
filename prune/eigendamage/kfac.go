package eigendamage

import (
	"context"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/internal/kernels"
	"github.com/winnow-ml/winnow/nn"
)

// Fisher selects the labels of the curvature pass.
type Fisher int

const (
	// TrueFisher samples each label from the model's own softmax, as the
	// official code does by default.
	TrueFisher Fisher = iota
	// EmpiricalFisher uses the data's labels.
	EmpiricalFisher
)

// ParseFisher reads "true" or "empirical".
func ParseFisher(s string) (Fisher, error) {
	switch s {
	case "true":
		return TrueFisher, nil
	case "empirical":
		return EmpiricalFisher, nil
	}
	return 0, fmt.Errorf("eigendamage: Fisher %q: want true or empirical", s)
}

// Batch is a batch of NCHW (or N x features) inputs and their labels.
type Batch[T nn.Float] struct {
	X      []T
	Shape  []int
	Labels []int32
}

// Factors are a layer's Kronecker factors: A (In x In) over its inputs and
// S (Out x Out) over its output gradients, row-major, averaged over batches.
type Factors struct {
	Layer   string
	In, Out int
	A, S    []float64
}

// Targets are the layers EigenDamage prunes: every convolution and linear
// layer of net but the last (the classifier).
func Targets[T nn.Float](net nn.Module[T]) []nn.Layer[T] {
	layers := nn.Layers(net)
	if len(layers) == 0 {
		return nil
	}
	return layers[:len(layers)-1]
}

// Collect accumulates the K-FAC factors of the target layers over batches,
// with net in evaluation mode (running BatchNorm statistics) and the loss the
// mean cross-entropy of each batch: with TrueFisher the labels are drawn from
// the model's predictive distribution with rng. For a factored layer the
// factors are those of its core: its input is the rotated input.
//
// Scaling is the official code's: per batch of N, a linear layer adds
// Σ a aᵀ / N to A and N Σ g gᵀ to S; a convolution with P output positions
// and a K-position kernel adds Σ a aᵀ / (P² N K) (a sum over examples,
// output positions and kernel positions) to A and N P Σ g gᵀ (over examples
// and positions) to S. The sums are divided by the number of batches.
func Collect[T nn.Float](ctx context.Context, net nn.Module[T], batches iter.Seq2[Batch[T], error], fisher Fisher, rng *rand.Rand) ([]*Factors, error) {
	return CollectLayers(ctx, net, Targets(net), batches, fisher, rng)
}

// CollectLayers is Collect for the given layers of net.
func CollectLayers[T nn.Float](ctx context.Context, net nn.Module[T], layers []nn.Layer[T], batches iter.Seq2[Batch[T], error], fisher Fisher, rng *rand.Rand) ([]*Factors, error) {
	factors := make([]*Factors, len(layers))
	for i, l := range layers {
		w := l.Core()
		factors[i] = &Factors{Layer: l.Name, In: w.Shape[1], Out: w.Shape[0],
			A: make([]float64, w.Shape[1]*w.Shape[1]), S: make([]float64, w.Shape[0]*w.Shape[0])}
	}
	var buf scratch
	count, err := curvaturePass(ctx, net, layers, batches, fisher, rng, func(i int, x, y *autograd.Var[T]) {
		if l := layers[i]; l.Conv != nil {
			convFactors(factors[i], l.Conv, x, y, &buf)
		} else {
			linearFactors(factors[i], x, y, &buf)
		}
	})
	if err != nil {
		return nil, err
	}
	for _, f := range factors {
		for i := range f.A {
			f.A[i] /= float64(count)
		}
		for i := range f.S {
			f.S[i] /= float64(count)
		}
	}
	return factors, nil
}

// curvaturePass runs every batch forward and backward through net in
// evaluation mode, the loss the mean cross-entropy against the data's labels
// or (TrueFisher) labels drawn from the model, and calls visit with each
// layer's core input x and output y (y.Grad holding the gradient). It
// returns the number of batches.
func curvaturePass[T nn.Float](ctx context.Context, net nn.Module[T], layers []nn.Layer[T], batches iter.Seq2[Batch[T], error], fisher Fisher, rng *rand.Rand, visit func(i int, x, y *autograd.Var[T])) (int, error) {
	if len(layers) == 0 {
		return 0, fmt.Errorf("eigendamage: the network has no layer to prune (the classifier is kept)")
	}
	seen := make([][2]*autograd.Var[T], len(layers))
	for i, l := range layers {
		l.SetObserve(func(x, y *autograd.Var[T]) { seen[i] = [2]*autograd.Var[T]{x, y} })
	}
	defer func() {
		for _, l := range layers {
			l.SetObserve(nil)
		}
		nn.ZeroGrad(net)
	}()
	net.SetTraining(false)
	tape := autograd.NewTape[T](autograd.KeepGrads()) // reads the layers' output gradients
	count := 0
	for b, err := range batches {
		if err != nil {
			return 0, err
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		tape.Reset()
		logits := net.Forward(tape, tape.Input(b.X, b.Shape...))
		labels := b.Labels
		if fisher == TrueFisher {
			labels = sampleLabels(logits, rng)
		}
		loss := autograd.SoftmaxCrossEntropy(tape, logits, labels, 1)
		if v := float64(loss.Value[0]); math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("eigendamage: the loss of curvature batch %d is %v", count, v)
		}
		tape.Backward(loss)
		for i, l := range layers {
			x, y := seen[i][0], seen[i][1]
			if x == nil || y.Grad == nil {
				return 0, fmt.Errorf("eigendamage: layer %s was not reached by the forward pass", l.Name)
			}
			visit(i, x, y)
			seen[i] = [2]*autograd.Var[T]{}
		}
		count++
	}
	if count == 0 {
		return 0, fmt.Errorf("eigendamage: no curvature batches")
	}
	return count, nil
}

// sampleLabels draws one label per row of logits from its softmax.
func sampleLabels[T nn.Float](logits *autograd.Var[T], rng *rand.Rand) []int32 {
	n, c := logits.Shape[0], logits.Shape[1]
	labels := make([]int32, n)
	p := make([]float64, c)
	for r := 0; r < n; r++ {
		row := logits.Value[r*c : (r+1)*c]
		hi := math.Inf(-1)
		for _, v := range row {
			hi = math.Max(hi, float64(v))
		}
		sum := 0.0
		for j, v := range row {
			p[j] = math.Exp(float64(v) - hi)
			sum += p[j]
		}
		u := rng.Float64() * sum
		labels[r] = int32(c - 1)
		for j := range p {
			if u < p[j] {
				labels[r] = int32(j)
				break
			}
			u -= p[j]
		}
	}
	return labels
}

// scratch holds float64 copies reused across batches and layers.
type scratch struct{ a, b []float64 }

// float64s copies src into buf (grown as needed) as float64.
func float64s[T nn.Float](buf []float64, src []T) []float64 {
	if cap(buf) < len(src) {
		buf = make([]float64, len(src))
	}
	buf = buf[:len(src)]
	for i, v := range src {
		buf[i] = float64(v)
	}
	return buf
}

func linearFactors[T nn.Float](f *Factors, x, y *autograd.Var[T], s *scratch) {
	n := x.Shape[0]
	// Rows are examples: A = XᵀX / N, S = N GᵀG.
	s.a = float64s(s.a, x.Value)
	kernels.Gemm(true, false, f.In, f.In, n, 1/float64(n), s.a, f.In, s.a, f.In, 1, f.A, f.In)
	s.b = float64s(s.b, y.Grad)
	kernels.Gemm(true, false, f.Out, f.Out, n, float64(n), s.b, f.Out, s.b, f.Out, 1, f.S, f.Out)
}

func convFactors[T nn.Float](f *Factors, c *nn.Conv2d[T], x, y *autograd.Var[T], s *scratch) {
	n, ch, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	ws := c.Weight.Shape
	g := kernels.NewConvGeom(ch, h, w, ws[2], ws[3], c.Stride[0], c.Stride[1], c.Padding[0], c.Padding[1])
	p, k := g.Cols(), g.KH*g.KW
	if cap(s.b) < g.Rows()*p {
		s.b = make([]float64, g.Rows()*p)
	}
	col := s.b[:g.Rows()*p]
	aScale := 1 / (float64(p) * float64(p) * float64(n) * float64(k))
	for i := 0; i < n; i++ {
		s.a = float64s(s.a, x.Value[i*ch*h*w:(i+1)*ch*h*w])
		kernels.Im2col(g, s.a, col, p)
		// Row (c, kernel position) of col is at (c*K + pos)*p: for one
		// kernel position the channels' rows are K*p apart.
		for pos := 0; pos < k; pos++ {
			kernels.Gemm(false, true, ch, ch, p, aScale, col[pos*p:], k*p, col[pos*p:], k*p, 1, f.A, ch)
		}
	}
	out, q := f.Out, y.Shape[2]*y.Shape[3]
	for i := 0; i < n; i++ {
		s.a = float64s(s.a, y.Grad[i*out*q:(i+1)*out*q])
		kernels.Gemm(false, true, out, out, q, float64(n)*float64(p), s.a, q, s.a, q, 1, f.S, out)
	}
}
