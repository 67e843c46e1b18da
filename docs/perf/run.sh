#!/bin/sh
# The Performance section's measurements: ROUNDS rounds (default 4) of
# PyTorch's reference (../shared/bench/torch_ref_bench.py, and each phase in
# a process of its own for its peak memory), then winnow's OpenBLAS and
# pure-Go builds; then sparse training and inference once. Writes
# docs/perf/*.jsonl and prints the README's table (docs/perf/summary.py:
# medians and ranges over the rounds, ratios of medians).
# Run from the repository root: sh docs/perf/run.sh
set -e
out=docs/perf
rounds=${ROUNDS:-4}
# Ten timed steps a model (LeNet-5 100), PyTorch and winnow alike: five
# left single measurements at the mercy of this machine's bursts of noise.
steps=10
go build -tags openblas -o /tmp/winnow-ob ./cmd/winnow
go build -o /tmp/winnow-go ./cmd/winnow
: > $out/torch.jsonl
: > $out/torch_phases.jsonl
: > $out/winnow.jsonl
for r in $(seq "$rounds"); do
	/usr/bin/python3 ../shared/bench/torch_ref_bench.py --steps $steps >> $out/torch.jsonl
	for p in vgg19 resnet32 lenet5 grasp; do
		/usr/bin/python3 reference/torch_bench_memory.py $p --steps $steps
	done >> $out/torch_phases.jsonl
	for b in ob go; do
		for m in vgg19 resnet32; do /tmp/winnow-$b bench --model $m --steps $steps; done
		/tmp/winnow-$b bench --model lenet5 --steps $((steps * 10))
		/tmp/winnow-$b bench --model vgg19 --steps 1 --warmup 1 --grasp
	done >> $out/winnow.jsonl
done
for m in resnet32 vgg19; do
	for s in 0.9 0.95 0.98 0.99; do /tmp/winnow-ob bench --model $m --steps $steps --sparsity $s; done
done > $out/sparse.jsonl
/usr/bin/python3 $out/summary.py $out
