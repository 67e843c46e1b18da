package autograd_test

import (
	"fmt"

	"github.com/winnow-ml/winnow/autograd"
)

// One gradient of a softmax cross-entropy through a linear layer: the leaf's
// Grad receives dL/dW.
func ExampleTape_Backward() {
	w, dw := []float64{1, -1, 0.5, 2}, make([]float64, 4) // W [2, 2] and its gradient
	t := autograd.NewTape[float64]()
	x := t.Input([]float64{1, 2}, 1, 2)
	logits := autograd.Linear(t, x, t.Leaf("w", w, dw, nil, nil, 2, 2), nil)
	loss := autograd.SoftmaxCrossEntropy(t, logits, []int32{0}, 1)
	t.Backward(loss)
	fmt.Printf("logits %.4f, loss %.4f\n", logits.Value, loss.Value[0])
	fmt.Printf("dL/dW %.4f\n", dw)
	// Output:
	// logits [-1.0000 4.5000], loss 5.5041
	// dL/dW [-0.9959 -1.9919 0.9959 1.9919]
}

// With KeepGrads the gradients of intermediate values stay readable after
// Backward (by default their buffers go on to later values).
func ExampleKeepGrads() {
	w, dw := []float64{1, -1, 0.5, 2}, make([]float64, 4)
	t := autograd.NewTape[float64](autograd.KeepGrads())
	logits := autograd.Linear(t, t.Input([]float64{1, 2}, 1, 2), t.Leaf("w", w, dw, nil, nil, 2, 2), nil)
	t.Backward(autograd.SoftmaxCrossEntropy(t, logits, []int32{0}, 1))
	fmt.Printf("dL/dlogits %.4f\n", logits.Grad)
	// Output:
	// dL/dlogits [-0.9959 0.9959]
}

// A gradient pass, then a Hessian-vector pass on the same tape (Reset with
// options keeps its buffers), both on a Recompute tape: the BatchNormReLU
// output is recomputed for backward rather than kept, with the same result.
func ExampleRecompute() {
	w, dw, hv := []float64{1, -1, 0.5, 2}, make([]float64, 4), make([]float64, 4)
	pass := func(t *autograd.Tape[float64], tangent []float64) {
		x := t.Input([]float64{1, 2, -1, 0.5, 3, 1}, 3, 2)
		h := autograd.BatchNormReLU(t, autograd.Linear(t, x, t.Leaf("w", w, dw, tangent, hv, 2, 2), nil), nil, nil, nil, true, 1e-5)
		t.Backward(autograd.SoftmaxCrossEntropy(t, h, []int32{0, 1, 1}, 1))
	}
	t := autograd.NewTape[float64](autograd.Recompute())
	pass(t, nil)
	fmt.Printf("g  %.4f\n", dw)
	g := append([]float64(nil), dw...)
	t.Reset(autograd.HVP(), autograd.Recompute())
	pass(t, g) // direction v = g
	fmt.Printf("Hg %.4f\n", hv)
	// Output:
	// g  [-0.0184 -0.0184 -0.3857 0.0964]
	// Hg [-0.0008 -0.0001 -0.2090 -0.0268]
}
