// Package prune scores the weights of a freshly initialised network and
// masks the lowest-valued ones before training: GraSP, SNIP, SynFlow,
// magnitude and random pruning, with a global or per-layer threshold, and a
// per-layer report.
//
// Every scorer works on a float64 network (the float64 twin of the float32
// network that will be trained) and leaves its parameter values and running
// statistics as they were. Scores are returned as their papers define them;
// the masking step turns them into an importance (higher = kept): for GraSP
// the importance is -S, since GraSP removes the weights with the highest S.
//
// Only convolution and linear weights are scored and masked (not biases, not
// BatchNorm). Exactly floor(p*N) weights are removed for sparsity p, ties
// broken by position (earlier layers and lower indices are removed first).
package prune
