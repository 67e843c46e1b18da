#!/bin/sh
# Data-parallel measurements on this machine (docs/cluster.md): ROUNDS
# rounds (default 5), each alternating, for VGG-19 and ResNet-32 at batch
# 64, one process of 2 threads and two processes (mpirun) of one thread;
# the two-process lines carry the sum of one whole gradient (allreduce_s,
# allreduce_mb_s). Writes docs/perf/mpi.jsonl and prints medians
# (docs/perf/mpi_summary.py). Needs OpenMPI (openmpi-bin, libopenmpi-dev).
# Run from the repository root: sh docs/perf/mpi.sh
set -e
out=docs/perf
rounds=${ROUNDS:-5}
steps=10
go build -tags mpi -o /tmp/winnow-mpi ./cmd/winnow
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
: > $out/mpi.jsonl
for r in $(seq "$rounds"); do
	for m in vgg19 resnet32; do
		echo "{\"cpu\":\"$cpu\",\"config\":\"1x2\",\"line\":$(/tmp/winnow-mpi bench --model $m --steps $steps --threads 2)}" >> $out/mpi.jsonl
		echo "{\"cpu\":\"$cpu\",\"config\":\"2x1\",\"line\":$(mpirun --oversubscribe --allow-run-as-root --bind-to none -np 2 /tmp/winnow-mpi bench --model $m --steps $steps --threads 1)}" >> $out/mpi.jsonl
	done
done
/usr/bin/python3 $out/mpi_summary.py $out/mpi.jsonl
