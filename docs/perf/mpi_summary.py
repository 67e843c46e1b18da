"""Medians of docs/perf/mpi.jsonl: training images a second of one process
of 2 threads (1x2) and two processes of one thread (2x1), their ratio, and
the sum of one whole gradient between the two processes."""
import json
import statistics
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cpu = rows[0]["cpu"] if rows else "?"
print(f"CPU: {cpu}; {len(rows) // 4} rounds, medians (min-max)")
print("| model | 1 process x 2 threads, img/s | 2 processes x 1 thread, img/s | 2x1 / 1x2 | gradient MB | allreduce ms | MB/s |")
print("|---|---|---|---|---|---|---|")


def fmt(v):
    return f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})"


for model in ["vgg19", "resnet32"]:
    one = [r["line"]["train_img_s"] for r in rows if r["config"] == "1x2" and r["line"]["model"] == model]
    two = [r["line"] for r in rows if r["config"] == "2x1" and r["line"]["model"] == model]
    if not one or not two:
        continue
    t = [l["train_img_s"] for l in two]
    ar = [l["allreduce_s"] * 1000 for l in two]
    mbs = [l["allreduce_mb_s"] for l in two]
    mb = statistics.median(mbs) * statistics.median(ar) / 1000
    print(f"| {model} | {fmt(one)} | {fmt(t)} | {statistics.median(t) / statistics.median(one):.2f} | {mb:.1f} | {fmt(ar)} | {statistics.median(mbs):.0f} |")
