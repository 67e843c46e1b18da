// Package models builds the networks of the pruning papers with the exact
// architectures of the GraSP code, under PyTorch state_dict names:
//
//   - vgg11, vgg13, vgg16, vgg19: CIFAR VGG with BatchNorm, 3x3 convolutions
//     without bias, max-pools per configuration but none at the end,
//     AvgPool(2) (AvgPool(4) for 64x64 inputs) and one Linear(512, C).
//     State names feature.<i>.*, classifier.*.
//   - resnet20, resnet32, resnet56, resnet110: CIFAR ResNets of depth 6n+2,
//     widths 16w/32w/64w with w = 2 by default (GraSP's ResNet32: 32/64/128),
//     1x1 convolution + BN shortcuts where the shape changes, global average
//     pooling and Linear(64w, C). State names conv1, bn1, layer1..3.<j>.*, fc.
//   - resnet18, resnet34, resnet50: ImageNet ResNets (torchvision's names and
//     layout; bottleneck blocks for 50).
//   - lenet300 (784-300-100-C, ReLU; fc1..fc3) and lenet5 (LeNet-5-Caffe:
//     conv 5x5 1->20, ReLU, max-pool 2, conv 5x5 20->50, ReLU, max-pool 2,
//     fc 800->500, ReLU, fc 500->C; conv1, conv2, fc3, fc4).
//
// Initialisation follows the GraSP code: convolutions Kaiming normal
// (fan_out, ReLU gain), linear weights N(0, 0.01^2), BatchNorm gamma 1 and
// beta 0, biases 0; the same seed gives the same weights in float32 and
// float64 (up to rounding).
package models
