#!/bin/sh
# EigenDamage and the four baselines on a network trained on CIFAR-10 (the
# JPEG copy in ../shared/data), each pruned to the same FLOPs fractions
# (official convention), one fine-tuning epoch, then `winnow report`. Base
# training (VGG-19, 5 epochs; ResNet-32, 7 epochs):
#   winnow train --preset cifar10-vgg19 --dataset folder --data-dir ../shared/data/cifar10-jpeg \
#       --prune none --sparsity 0 --epochs 5 --out runs/c10-vgg19-dense-5ep
#   winnow train --preset cifar10-resnet32 --dataset folder --data-dir ../shared/data/cifar10-jpeg \
#       --prune none --sparsity 0 --epochs 7 --out runs/c10-resnet32-dense-7ep
# Usage: sh docs/eigendamage/cifar10.sh [winnow binary] [out folder] [model] [checkpoint]
W=${1:-./winnow}
OUT=${2:-runs/ed-c10}
MODEL=${3:-vgg19}
CK=${4:-runs/c10-vgg19-dense-5ep/final.safetensors}
for target in 0.5 0.25; do
	for method in eigendamage kron-obd kron-obs c-obd c-obs; do
		"$W" eigendamage --model "$MODEL" --dataset folder --data-dir ../shared/data/cifar10-jpeg --checkpoint "$CK" \
			--method "$method" --flops-target "$target" --fisher-examples 2048 --limit-train 10000 --limit-test 5000 \
			--finetune-epochs 1 --threads 2 --quiet --out "$OUT/$method-$target" ||
			echo "$method at $target: failed" >&2
	done
done
"$W" report "$OUT"
