package autograd_test

import (
	"fmt"

	"winnow/autograd"
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
