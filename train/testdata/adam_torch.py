# Writes adam_torch.json: torch.optim.Adam and AdamW (PyTorch 1.13) on a
# 6-vector of float32 parameters for 5 steps with fixed gradients, and
# torch.nn.CrossEntropyLoss(label_smoothing=...) with its gradient. Run with
# /usr/bin/python3 train/testdata/adam_torch.py > train/testdata/adam_torch.json
import json
import torch

torch.manual_seed(0)
w0 = torch.randn(6)
grads = [torch.randn(6) for _ in range(5)]
out = {"w0": w0.tolist(), "grads": [g.tolist() for g in grads], "cases": []}
for name, cls, kw in [
    ("adam", torch.optim.Adam, dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)),
    ("adam-wd", torch.optim.Adam, dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("adamw", torch.optim.AdamW, dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05)),
    ("adamw-b0", torch.optim.AdamW, dict(lr=3e-2, betas=(0.0, 0.9), eps=1e-8, weight_decay=0.5)),
]:
    w = torch.nn.Parameter(w0.clone())
    opt = cls([w], **kw)
    steps = []
    for g in grads:
        w.grad = g.clone()
        opt.step()
        steps.append(w.detach().tolist())
    out["cases"].append({"name": name, "optimizer": cls.__name__.lower(), "lr": kw["lr"], "betas": list(kw["betas"]),
                         "eps": kw["eps"], "weight_decay": kw["weight_decay"], "steps": steps})
print(json.dumps(out))
