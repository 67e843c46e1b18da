#!/usr/bin/python3
"""The protocol of `winnow train` in PyTorch 1.13, on an image-folder dataset.

Loads <data>/train/<class>/*.jpg and <data>/test/<class>/*.jpg (classes in sorted
order, as winnow and torchvision's ImageFolder), decodes every image once into
memory, normalises with the per-channel mean and std of the training images
(as winnow computes them for folder datasets), augments with random crop
(padding 4) and horizontal flip, prunes at initialisation with GraSP as the
official code (class-balanced sample, T = 200, halves, linear layers re-drawn
for scoring), and trains with SGD (momentum 0.9, lr x0.1 at 50% and x0.01 at
75% of the epochs). Prints one line per epoch and writes metrics.csv and
summary.json under --out, with the same columns as winnow.

    /usr/bin/python3 reference/torch_cifar_folder.py --data ../shared/data/cifar10-jpeg \\
        --model resnet32 --sparsity 0.9 --epochs 5 --out /tmp/torch-resnet32-90
"""
import argparse, copy, csv, json, os, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image
from grasp_check import build


def load_split(root):
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    xs, ys = [], []
    for ci, c in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, c))):
            if f.lower().endswith(('.jpg', '.jpeg', '.png')):
                img = Image.open(os.path.join(root, c, f)).convert('RGB')
                xs.append(np.asarray(img, dtype=np.uint8).transpose(2, 0, 1))
                ys.append(ci)
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys), classes


def augment(x, gen):
    """Random crop with 4 pixels of zero padding and a horizontal flip, per image."""
    n, c, h, w = x.shape
    padded = F.pad(x, (4, 4, 4, 4))
    out = torch.empty_like(x)
    tops = torch.randint(0, 9, (n,), generator=gen)
    lefts = torch.randint(0, 9, (n,), generator=gen)
    flips = torch.rand(n, generator=gen) < 0.5
    for i in range(n):
        img = padded[i, :, tops[i]:tops[i] + h, lefts[i]:lefts[i] + w]
        out[i] = img.flip(2) if flips[i] else img
    return out


def grasp_masks(model, x, y, sparsity, T=200.0):
    net = copy.deepcopy(model)
    weights = []
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
            weights.append(m.weight)
    n = x.shape[0]
    halves = [(x[:n // 2], y[:n // 2]), (x[n // 2:], y[n // 2:])]
    g = [torch.zeros_like(w) for w in weights]
    for xb, yb in halves:
        for a, b in zip(g, torch.autograd.grad(F.cross_entropy(net(xb) / T, yb), weights)):
            a += b
    for xb, yb in halves:
        gf = torch.autograd.grad(F.cross_entropy(net(xb) / T, yb), weights, create_graph=True)
        sum((a * b).sum() for a, b in zip(gf, g)).backward()
    scores = [-w.data * w.grad for w in weights]
    flat = torch.cat([s.flatten() for s in scores])
    k = int(len(flat) * sparsity + 1e-6)
    order = torch.argsort(-flat, stable=True)
    keep = torch.ones_like(flat); keep[order[:k]] = 0
    masks, i = [], 0
    for s in scores:
        masks.append(keep[i:i + s.numel()].view_as(s)); i += s.numel()
    return masks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--model', default='resnet32')
    ap.add_argument('--sparsity', type=float, default=0.0)
    ap.add_argument('--epochs', type=int, default=5)
    ap.add_argument('--batch-size', type=int, default=128)
    ap.add_argument('--lr', type=float, default=0.1)
    ap.add_argument('--weight-decay', type=float, default=5e-4)
    ap.add_argument('--samples-per-class', type=int, default=10)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--limit-train', type=int, default=0)
    ap.add_argument('--limit-test', type=int, default=0)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    xtr, ytr, classes = load_split(os.path.join(a.data, 'train'))
    tdir = os.path.join(a.data, 'test') if os.path.isdir(os.path.join(a.data, 'test')) else os.path.join(a.data, 'val')
    xte, yte, _ = load_split(tdir)
    spread = lambda n, k: torch.arange(k) * n // k  # as winnow's --limit: evenly spaced
    if a.limit_train: i = spread(len(ytr), a.limit_train); xtr, ytr = xtr[i], ytr[i]
    if a.limit_test: i = spread(len(yte), a.limit_test); xte, yte = xte[i], yte[i]
    xtr_f = xtr.float() / 255
    mean = xtr_f[:10000].mean((0, 2, 3)).view(1, 3, 1, 1)
    std = xtr_f[:10000].std((0, 2, 3), unbiased=False).view(1, 3, 1, 1)
    norm = lambda t: (t - mean) / std
    model = build(a.model, len(classes))
    for m in model.modules():  # the GraSP code's initialisation
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01); nn.init.zeros_(m.bias)
    masks = None
    t0 = time.perf_counter()
    if a.sparsity > 0:
        idx = []
        for c in range(len(classes)):
            cand = (ytr == c).nonzero().flatten()
            idx.append(cand[torch.randperm(len(cand), generator=gen)[:a.samples_per_class]])
        idx = torch.cat(idx)
        xs = norm(augment(xtr_f[idx], gen))
        masks = grasp_masks(model, xs, ytr[idx], a.sparsity)
        weights = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        with torch.no_grad():
            for w, mk in zip(weights, masks):
                w.mul_(mk)
    prune_s = time.perf_counter() - t0
    weights = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, weight_decay=a.weight_decay)
    rows = []
    for epoch in range(a.epochs):
        lr = a.lr * (0.1 if epoch >= int(0.5 * a.epochs) else 1) * (0.1 if epoch >= int(0.75 * a.epochs) else 1)
        for g in opt.param_groups:
            g['lr'] = lr
        model.train()
        start = time.perf_counter()
        perm = torch.randperm(len(ytr), generator=gen)
        loss_sum = correct = seen = 0
        for b in range(0, len(perm), a.batch_size):
            i = perm[b:b + a.batch_size]
            x = norm(augment(xtr_f[i], gen)); y = ytr[i]
            out = model(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad(); loss.backward(); opt.step()
            if masks is not None:
                with torch.no_grad():
                    for w, mk in zip(weights, masks):
                        w.mul_(mk)
            loss_sum += loss.item() * len(y); correct += (out.argmax(1) == y).sum().item(); seen += len(y)
        train_s = time.perf_counter() - start
        model.eval()
        tl = tc = 0
        with torch.no_grad():
            for b in range(0, len(yte), 500):
                x = norm(xte[b:b + 500].float() / 255); y = yte[b:b + 500]
                out = model(x)
                tl += F.cross_entropy(out, y, reduction='sum').item(); tc += (out.argmax(1) == y).sum().item()
        r = dict(epoch=epoch + 1, train_loss=loss_sum / seen, train_acc=correct / seen, test_loss=tl / len(yte),
                 test_acc=tc / len(yte), lr=lr, seconds=time.perf_counter() - start, images_per_s=seen / train_s)
        rows.append(r)
        print('epoch %d: train loss %.4f acc %.4f | test loss %.4f acc %.4f | lr %.4g | %.0f img/s | %.1f s' % (
            r['epoch'], r['train_loss'], r['train_acc'], r['test_loss'], r['test_acc'], lr, r['images_per_s'], r['seconds']), flush=True)
    with open(os.path.join(a.out, 'metrics.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys())); w.writeheader(); w.writerows(rows)
    summary = dict(framework='pytorch ' + torch.__version__, model=a.model, sparsity=a.sparsity, epochs=a.epochs,
                   final_test_acc=rows[-1]['test_acc'], prune_seconds=prune_s,
                   seconds_per_epoch=sum(r['seconds'] for r in rows) / len(rows))
    with open(os.path.join(a.out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary))


if __name__ == '__main__':
    main()
