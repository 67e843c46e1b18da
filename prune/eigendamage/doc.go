// Package eigendamage prunes a trained network by whole directions of its
// Kronecker-factored eigenbasis (Wang, Grosse, Fidler, Zhang, "EigenDamage:
// Structured Pruning in the Kronecker-Factored Eigenbasis", ICML 2019), so
// the pruned network is smaller and faster, not masked.
//
// For every convolution and linear layer but the classifier, K-FAC
// approximates the Fisher of the layer's weight W (O x I) as A ⊗ S, with
// A = E[a aᵀ] over the layer's inputs and S = E[g gᵀ] over the gradients of
// its outputs (Collect). With A = Q_A Λ_A Q_Aᵀ and S = Q_S Λ_S Q_Sᵀ
// (Decompose), the weight in the eigenbasis is W* = Q_Sᵀ W Q_A, and removing
// its entry (i, j) costs, to second order,
//
//	ΔL(i, j) = (W*_ij)² Λ_S,i Λ_A,j / 2     (summed over kernel positions)
//
// An input direction j scores Σ_i ΔL(i, j), an output direction i scores
// Σ_j ΔL(i, j) (Importance). One global threshold over every direction of
// every layer removes the fraction asked for (Plan), and each pruned layer
// becomes three (Apply): the input rotation Q_Aᵀ restricted to the kept
// input directions (a 1x1 convolution), the core W* restricted to kept rows
// and columns, and the output rotation Q_S restricted to the kept output
// directions, back to the layer's width, so BatchNorm and residual additions
// are untouched.
//
// The statistics follow the official code (alecwangcq/EigenDamage-Pytorch,
// ComputeCovAPatch and ComputeCovG): for convolutions, A is over input
// channels only, each kernel position of each output position a sample, so
// the input rotation is a 1x1 convolution. Unlike the official code, a
// layer's bias is not a homogeneous coordinate of A: it moves after the
// output rotation, unchanged.
//
// The paper's baselines (C-OBD, C-OBS, Kron-OBD, Kron-OBS; PruneFilters)
// remove whole output units as the official code defines them, written out
// in filters.go, residual networks by the official union rule
// (nn.SlimResidual). NewRound computes a round's statistics and scores
// once, so that Apply can prune copies at several ratios, as a search for
// a FLOPs target does.
package eigendamage
