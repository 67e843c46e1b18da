"""Prints the README's performance table from docs/perf/*.jsonl (written by
docs/perf/run.sh): per figure the median over the rounds and the range, and
winnow's median over PyTorch's.

Usage: python3 docs/perf/summary.py docs/perf
"""
import json
import statistics
import sys
from pathlib import Path


def lines(path):
    return [json.loads(l) for l in Path(path).read_text().splitlines() if l.strip()]


def fig(values, digits=1):
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main(out):
    torch = lines(Path(out) / "torch.jsonl")
    phases = lines(Path(out) / "torch_phases.jsonl")
    winnow = lines(Path(out) / "winnow.jsonl")

    def ours(blas, model, key, grasp=False):
        return [l[key] for l in winnow if l["blas"] == blas and l["model"] == model
                and ("grasp_score_s" in l) == grasp and key in l]

    def phase(name, key):
        return [l[key] for l in phases if l["phase"] == name]

    rows = []
    for model, digits in [("vgg19", 1), ("resnet32", 1), ("lenet5", 0)]:
        ob, go = ours("openblas", model, "train_img_s"), ours("gonum", model, "train_img_s")
        ref = [l[f"{model}_train_img_s"] for l in torch] + phase(model, "train_img_s")
        rows.append((f"{model} training, images/s", fig(ob, digits), fig(go, digits), fig(ref, digits),
                     f"{statistics.median(ob) / statistics.median(ref):.2f}"))
    ob, go = ours("openblas", "vgg19", "grasp_score_s", True), ours("gonum", "vgg19", "grasp_score_s", True)
    ref = [l["vgg19_grasp_score_s"] for l in torch] + phase("grasp", "grasp_score_s")
    rows.append(("vgg19 GraSP scores, 100 images, s (winnow float64, PyTorch float32)", fig(ob, 2), fig(go, 2), fig(ref, 2),
                 f"{statistics.median(ob) / statistics.median(ref):.2f}x the time"))
    for model in ["vgg19", "resnet32", "lenet5"]:
        ob, go = ours("openblas", model, "peak_rss_mb"), ours("gonum", model, "peak_rss_mb")
        ref = phase(model, "peak_rss_mb")
        rows.append((f"peak RSS, {model} training, MB", fig(ob, 0), fig(go, 0), fig(ref, 0),
                     f"{statistics.median(ob) / statistics.median(ref):.2f}"))
    ob, go = ours("openblas", "vgg19", "grasp_peak_rss_mb", True), ours("gonum", "vgg19", "grasp_peak_rss_mb", True)
    ref = phase("grasp", "peak_rss_mb")
    rows.append(("peak RSS, GraSP scoring, MB", fig(ob, 0), fig(go, 0), fig(ref, 0),
                 f"{statistics.median(ob) / statistics.median(ref):.2f}"))
    print("| | winnow, OpenBLAS build | winnow, pure Go | PyTorch 1.13 | winnow (OpenBLAS) / PyTorch |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/perf")
