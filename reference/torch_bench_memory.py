#!/usr/bin/python3
"""Peak memory of each phase of ../shared/bench/torch_ref_bench.py, one
process per phase so that each peak is that phase's own.

Usage: torch_bench_memory.py PHASE [--threads 2] [--batch 64] [--steps 5]
PHASE: vgg19 | resnet32 | lenet5 (training steps) | grasp (VGG-19 GraSP
scores on 100 images). Prints one JSON line: the phase, its result (images/s
or seconds) and peak_rss_mb, the process's maximum resident set.
"""
import argparse, json, os, resource, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'bench'))
import torch  # noqa: E402
import torch_ref_bench as ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('phase', choices=['vgg19', 'resnet32', 'lenet5', 'grasp'])
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--steps', type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    out = {'phase': a.phase}
    if a.phase == 'vgg19':
        out['train_img_s'] = ref.train_throughput(ref.VGG(), (3, 32, 32), a.batch, a.steps)
    elif a.phase == 'resnet32':
        out['train_img_s'] = ref.train_throughput(ref.ResNet(32, width=2), (3, 32, 32), a.batch, a.steps)
    elif a.phase == 'lenet5':
        out['train_img_s'] = ref.train_throughput(ref.LeNet5(), (1, 28, 28), a.batch, a.steps * 10)
    else:
        m = ref.VGG()
        x, y = torch.randn(100, 3, 32, 32), torch.arange(10).repeat(10)
        t = time.perf_counter()
        ref.grasp_scores(m, x, y)
        out['grasp_score_s'] = time.perf_counter() - t
    out['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}))


if __name__ == '__main__':
    main()
