package autograd

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestGradientMatchesGorgonia checks the first-order gradient of a small
// conv net (conv-ReLU-maxpool-conv-ReLU-linear-softmax cross-entropy)
// against gorgonia.org/gorgonia's symbolic gradient on the same float64
// weights: an independent implementation as oracle.
func TestGradientMatchesGorgonia(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, classes = 3, 4
	x := randLeaf(rng, "x", 1, n, 2, 8, 8)
	w1 := randLeaf(rng, "w1", 0.4, 4, 2, 3, 3)
	w2 := randLeaf(rng, "w2", 0.3, 5, 4, 3, 3)
	w3 := randLeaf(rng, "w3", 0.2, classes, 5*2*2)
	b3 := randLeaf(rng, "b3", 0.2, classes)
	labels := []int32{1, 3, 0}

	// winnow
	tp := NewTape[float64]()
	var grads [4][]float64
	var vars [4]*Var[float64]
	for i, l := range []leaf{w1, w2, w3, b3} {
		grads[i] = make([]float64, len(l.value))
		vars[i] = tp.Leaf(l.name, l.value, grads[i], nil, nil, l.shape...)
	}
	h := Conv2d(tp, tp.Input(x.value, x.shape...), vars[0], nil, [2]int{1, 1}, [2]int{1, 1})
	h = MaxPool2d(tp, ReLU(tp, h), 2, 2, 0)
	h = ReLU(tp, Conv2d(tp, h, vars[1], nil, [2]int{1, 1}, [2]int{0, 0}))
	loss := SoftmaxCrossEntropy(tp, Linear(tp, Flatten(tp, h), vars[2], vars[3]), labels, 1)
	tp.Backward(loss)

	// gorgonia
	g := G.NewGraph()
	node := func(l leaf) *G.Node {
		v := tensor.New(tensor.WithShape(l.shape...), tensor.WithBacking(append([]float64(nil), l.value...)))
		return G.NewTensor(g, tensor.Float64, len(l.shape), G.WithShape(l.shape...), G.WithValue(v), G.WithName(l.name))
	}
	gx, gw1, gw2, gw3, gb3 := node(x), node(w1), node(w2), node(w3), node(b3)
	onehot := make([]float64, n*classes)
	for i, y := range labels {
		onehot[i*classes+int(y)] = 1
	}
	goh := G.NewMatrix(g, tensor.Float64, G.WithShape(n, classes), G.WithValue(tensor.New(tensor.WithShape(n, classes), tensor.WithBacking(onehot))), G.WithName("onehot"))
	c1 := G.Must(G.Conv2d(gx, gw1, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1}))
	p1 := G.Must(G.MaxPool2D(G.Must(G.Rectify(c1)), tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}))
	c2 := G.Must(G.Rectify(G.Must(G.Conv2d(p1, gw2, tensor.Shape{3, 3}, []int{0, 0}, []int{1, 1}, []int{1, 1}))))
	flat := G.Must(G.Reshape(c2, tensor.Shape{n, 5 * 2 * 2}))
	logits := G.Must(G.BroadcastAdd(G.Must(G.Mul(flat, G.Must(G.Transpose(gw3)))), gb3, nil, []byte{0}))
	logp := G.Must(G.Log(G.Must(G.SoftMax(logits))))
	cost := G.Must(G.Neg(G.Must(G.Div(G.Must(G.Sum(G.Must(G.HadamardProd(logp, goh)))), G.NewConstant(float64(n))))))
	if _, err := G.Grad(cost, gw1, gw2, gw3, gb3); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if d := cost.Value().Data().(float64) - loss.Value[0]; d*d > 1e-24 {
		t.Errorf("loss: gorgonia %v, winnow %v", cost.Value().Data(), loss.Value[0])
	}
	for i, gn := range []*G.Node{gw1, gw2, gw3, gb3} {
		gv, err := gn.Grad()
		if err != nil {
			t.Fatal(err)
		}
		want := gv.Data().([]float64)
		if r := relErr(grads[i], want); r > 1e-9 {
			t.Errorf("%s: gradient relative error %.3g against gorgonia", gn.Name(), r)
		}
	}
}
