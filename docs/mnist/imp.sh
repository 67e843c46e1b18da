#!/bin/sh
# LeNet-5 on MNIST, 3 epochs each (winnow train's defaults): iterative
# magnitude pruning with rewinding to initialisation in 10 rounds to 99%
# (each round removes 36.9% of the weights left: 90% after round 5),
# beside GraSP, SNIP and SynFlow at initialisation at 90% and 99%, then
# `winnow report`.
# Usage: sh docs/mnist/imp.sh [winnow binary] [out folder]
W=${1:-./winnow}
OUT=${2:-runs/mnist-imp}
"$W" train --prune imp --rounds 10 --sparsity 0.99 --rewind 0 --threads 1 --quiet --out "$OUT/imp"
for method in grasp snip synflow; do
	for sparsity in 0.9 0.99; do
		"$W" train --prune "$method" --sparsity "$sparsity" --threads 1 --quiet --out "$OUT/$method-$sparsity"
	done
done
"$W" report "$OUT"
