package models

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
)

// Input describes what a network is built for: image channels, height,
// width, and the number of classes.
type Input struct {
	Channels, Height, Width int
	Classes                 int
}

// Shape is the NCHW shape of a batch of n inputs.
func (in Input) Shape(n int) []int { return []int{n, in.Channels, in.Height, in.Width} }

// Options are builder settings beyond the input.
type Options struct {
	// Width multiplies the channels of the CIFAR ResNets; 0 means 2, GraSP's.
	Width int
}

type builder struct {
	doc     string
	dataset string // default dataset
	input   Input
	build   func(rng *rand.Rand, in Input, o Options, f32 bool) (any, error)
}

// builders maps a model name to its builder. It is read only.
var builders = map[string]builder{}

func register(name, doc, dataset string, in Input, b func(rng *rand.Rand, in Input, o Options, f32 bool) (any, error)) {
	builders[name] = builder{doc, dataset, in, b}
}

var (
	mnist    = Input{1, 28, 28, 10}
	cifar10  = Input{3, 32, 32, 10}
	imagenet = Input{3, 224, 224, 1000}
)

func init() {
	for _, d := range []int{11, 13, 16, 19} {
		register(fmt.Sprintf("vgg%d", d), fmt.Sprintf("VGG-%d with BatchNorm, CIFAR form (GraSP)", d), "cifar10", cifar10, func(d int) func(rng *rand.Rand, in Input, o Options, f32 bool) (any, error) {
			return func(rng *rand.Rand, in Input, o Options, f32 bool) (any, error) {
				if f32 {
					return VGG[float32](rng, d, in)
				}
				return VGG[float64](rng, d, in)
			}
		}(d))
	}
	for _, d := range []int{20, 32, 56, 110} {
		register(fmt.Sprintf("resnet%d", d), fmt.Sprintf("CIFAR ResNet-%d, width 2 by default (GraSP)", d), "cifar10", cifar10, func(d int) func(rng *rand.Rand, in Input, o Options, f32 bool) (any, error) {
			return func(rng *rand.Rand, in Input, o Options, f32 bool) (any, error) {
				w := o.Width
				if w == 0 {
					w = 2
				}
				if f32 {
					return CIFARResNet[float32](rng, d, w, in)
				}
				return CIFARResNet[float64](rng, d, w, in)
			}
		}(d))
	}
	for _, d := range []int{18, 34, 50} {
		register(fmt.Sprintf("resnet%d", d), fmt.Sprintf("ImageNet ResNet-%d (torchvision layout)", d), "imagenet", imagenet, func(d int) func(rng *rand.Rand, in Input, o Options, f32 bool) (any, error) {
			return func(rng *rand.Rand, in Input, o Options, f32 bool) (any, error) {
				if f32 {
					return ImageNetResNet[float32](rng, d, in)
				}
				return ImageNetResNet[float64](rng, d, in)
			}
		}(d))
	}
	register("lenet300", "LeNet-300-100 (784-300-100-10, ReLU)", "mnist", mnist, func(rng *rand.Rand, in Input, o Options, f32 bool) (any, error) {
		if f32 {
			return LeNet300[float32](rng, in)
		}
		return LeNet300[float64](rng, in)
	})
	register("lenet5", "LeNet-5-Caffe (conv 20, conv 50, fc 500, fc 10)", "mnist", mnist, func(rng *rand.Rand, in Input, o Options, f32 bool) (any, error) {
		if f32 {
			return LeNet5[float32](rng, in)
		}
		return LeNet5[float64](rng, in)
	})
}

// Names lists the model names, sorted.
func Names() []string {
	var out []string
	for n := range builders {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Describe returns a model's one-line description, its default dataset and
// that dataset's input.
func Describe(name string) (doc, dataset string, in Input, err error) {
	b, ok := builders[name]
	if !ok {
		return "", "", Input{}, unknown(name)
	}
	return b.doc, b.dataset, b.input, nil
}

func unknown(name string) error {
	return fmt.Errorf("models: unknown model %q (known: %v)", name, Names())
}

// New builds the named model for the input, with weights drawn from a PCG
// generator seeded with seed.
func New[T autograd.Float](name string, in Input, o Options, seed uint64) (nn.Module[T], error) {
	b, ok := builders[name]
	if !ok {
		return nil, unknown(name)
	}
	if in.Channels < 1 || in.Height < 1 || in.Width < 1 || in.Classes < 2 {
		return nil, fmt.Errorf("models: %s: invalid input %+v", name, in)
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	var zero T
	_, f32 := any(zero).(float32)
	m, err := b.build(rng, in, o, f32)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", name, err)
	}
	return m.(nn.Module[T]), nil
}

// Entry describes a model of the catalogue at its default dataset's input.
type Entry struct {
	Name            string `json:"name"`
	Dataset         string `json:"dataset"`
	Input           []int  `json:"input"`
	PrunableWeights int    `json:"prunable_weights"`
	Params          int    `json:"params"`
	FLOPs           int64  `json:"flops"`
	Description     string `json:"description"`
}

// Catalog describes every model: weights, parameters and forward FLOPs
// for one input of its default dataset.
func Catalog() ([]Entry, error) {
	var out []Entry
	for _, name := range Names() {
		b := builders[name]
		m, err := New[float32](name, b.input, Options{}, 0)
		if err != nil {
			return nil, err
		}
		in := b.input
		s := nn.Summarize(m, in.Channels, in.Height, in.Width)
		out = append(out, Entry{name, b.dataset, []int{in.Channels, in.Height, in.Width}, s.PrunableWeights, s.Params, s.FLOPs, b.doc})
	}
	return out, nil
}
