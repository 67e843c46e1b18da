// Package nn provides the layers of winnow's networks and their parameters.
//
// A Module runs its forward pass on an autograd Tape and lists its
// parameters under PyTorch's state_dict names (OIHW convolution weights,
// [out, in] linear weights, BatchNorm weight/bias/running_mean/running_var/
// num_batches_tracked), so a saved network loads into the equivalent PyTorch
// model. Modules are generic over float32 (training) and float64 (scoring
// and checks); a float64 twin of a float32 network is built from the same
// specification and filled with CopyState.
//
// A Param may carry a Mask: pruning produces masks, training keeps masked
// weights at exactly zero; neither needs to know the other.
//
// The model builders of the papers (VGG, CIFAR and ImageNet ResNets,
// LeNets) live in the sub-package models.
package nn
