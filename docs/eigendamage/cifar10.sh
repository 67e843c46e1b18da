#!/bin/sh
# EigenDamage and the four baselines on VGG-19 trained on CIFAR-10 (the JPEG
# copy in ../shared/data), each pruned to the same FLOPs fractions (official
# convention), one fine-tuning epoch, then `winnow report`. Base training:
#   winnow train --preset cifar10-vgg19 --dataset folder --data-dir ../shared/data/cifar10-jpeg \
#       --prune none --sparsity 0 --epochs 5 --out runs/c10-vgg19-dense-5ep
# Usage: sh docs/eigendamage/cifar10.sh [winnow binary] [out folder]
W=${1:-./winnow}
OUT=${2:-runs/ed-c10}
CK=runs/c10-vgg19-dense-5ep/final.safetensors
for target in 0.5 0.25; do
	for method in eigendamage kron-obd kron-obs c-obd c-obs; do
		"$W" eigendamage --model vgg19 --dataset folder --data-dir ../shared/data/cifar10-jpeg --checkpoint "$CK" \
			--method "$method" --flops-target "$target" --fisher-examples 2048 --limit-train 10000 --limit-test 5000 \
			--finetune-epochs 1 --threads 2 --quiet --out "$OUT/$method-$target" ||
			echo "$method at $target: failed" >&2
	done
done
"$W" report "$OUT"
