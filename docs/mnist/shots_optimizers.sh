#!/bin/sh
# LeNet-5 on MNIST, GraSP and SNIP at 98% sparsity in one shot and in five
# (--shots), after one epoch of training (--pre-epochs 1), and GraSP's
# network trained with AdamW, cosine with warm-up and label smoothing; 3
# epochs each, then `winnow report`.
# Usage: sh docs/mnist/shots_optimizers.sh [winnow binary] [out folder]
W=${1:-./winnow}
OUT=${2:-runs/mnist-shots}
for method in grasp snip; do
	for shots in 1 5; do
		"$W" train --prune "$method" --sparsity 0.98 --shots "$shots" --threads 1 --quiet --out "$OUT/$method-shots$shots"
	done
done
for method in grasp snip; do
	"$W" train --prune "$method" --sparsity 0.98 --pre-epochs 1 --threads 1 --quiet --out "$OUT/$method-pre1"
done
"$W" train --prune grasp --sparsity 0.98 --optimizer adamw --lr 1e-3 --weight-decay 5e-4 --schedule cosine+warmup:0.5 \
	--label-smoothing 0.1 --threads 1 --quiet --out "$OUT/grasp-adamw"
"$W" report "$OUT"
