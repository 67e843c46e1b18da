// Package autograd is winnow's differentiation engine: reverse-mode gradients
// and exact Hessian-vector products of a scalar loss, over contiguous float32
// or float64 buffers.
//
// A Tape records the operations of one forward pass. Each operation computes
// its value at once and appends its backward rule to the tape; Backward walks
// the rules in reverse, accumulating adjoints (gradients add, so a value used
// twice, as in a residual block, is handled by every consumer adding its part).
//
// # Hessian-vector products
//
// A tape made with HVP runs Pearlmutter's R-operator (forward-over-reverse):
// every value carries a forward tangent x' = d/dr x(theta + r v) beside it,
// and every adjoint dx carries its tangent R{dx}. Leaves take their tangents
// from the direction v; after Backward, a leaf's RGrad holds (H v) for its
// part of the parameters, exactly, with no finite differences. Each op file
// keeps its four rules side by side: forward, tangent-forward, backward and
// tangent-backward. Second-order terms of piecewise-linear ops (ReLU,
// max-pool) are zero, as in PyTorch's double backprop.
//
// # Conventions
//
// Tensors are row-major; images are NCHW; convolution weights are OIHW and
// linear weights [out, in], as in PyTorch. A nil Tangent means a zero tangent
// and a nil Grad means no gradient flows. Shape misuse panics with the op's
// name and the shapes; it is a programmer error, as in gonum.
//
// Values and tangents come from the tape's arenas (apart from each other):
// after Reset, the next pass of the same shapes reuses them, so a training
// step allocates nothing new, and Reset with options switches a tape, say
// from a gradient pass to a Hessian-vector pass, keeping its buffers. A
// Recompute tape keeps fewer activations: BatchNormReLU outputs are
// recomputed from their inputs when a rule reads them, with the forward
// pass's own arithmetic, so results are unchanged (pruning's scoring passes
// use it).
// The gradients of op outputs start as pending zeros: the first backward
// rule to reach one writes it into a buffer instead of adding, and once the
// rule of the op that made it has run, its buffer goes on to later outputs
// (as PyTorch frees it), so only the gradients in flight take memory. Leaves
// keep theirs; KeepGrads keeps every output's, for reading the gradients of
// intermediate values after Backward.
//
// Weights that are mostly zero (pruned) are multiplied over their nonzeros
// only, and a weight Var's Support (nn sets it from the mask) lets ops skip
// the gradients of pruned weights.
package autograd
