#!/usr/bin/python3
"""Golden values for winnow's autograd from PyTorch's double backprop.

For a small VGG-style and a small ResNet-style network with BatchNorm in
training mode, writes one safetensors file each with the float64 state
(PyTorch state_dict names), an input batch and labels, and PyTorch's loss,
gradient g and Hessian-gradient product Hg of the mean cross-entropy of
logits/T, for T = 1 and T = 200 (GraSP's temperature).

    /usr/bin/python3 reference/torch_hvp.py nn/testdata

nn/golden_test.go recomputes the same quantities with winnow.
"""
import sys
import torch, torch.nn as nn, torch.nn.functional as F
import st
from grasp_check import Block


class GAP(nn.Module):
    def forward(self, x):
        return x.mean((2, 3))


def small_vgg():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(), nn.AvgPool2d(2),
                         nn.Flatten(), nn.Linear(24, 5))


def small_resnet():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                         Block(4, 6, 2), Block(6, 6, 1), GAP(), nn.Linear(6, 5))


def golden(name, make, out):
    torch.manual_seed(0)
    model = make().double()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.normal_(1, 0.3); m.bias.normal_(0, 0.2)
                m.running_mean.normal_(0, 0.1); m.running_var.uniform_(0.5, 1.5)
            if isinstance(m, nn.Linear):
                m.bias.normal_(0, 0.2)
    tensors = {'param/' + k: v.detach().clone().numpy() for k, v in model.state_dict().items()}
    x = torch.randn(8, 3, 8, 8, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 3, 4, 0, 1, 2])
    tensors['input'] = x.numpy(); tensors['label'] = y.numpy().astype('int64')
    weights = [p for p in model.parameters()]
    names = [k for k, _ in model.named_parameters()]
    model.train()
    for T in (1, 200):
        loss = F.cross_entropy(model(x) / T, y)
        g = torch.autograd.grad(loss, weights, create_graph=True)
        gv = sum((a * a.detach()).sum() for a in g)
        hg = torch.autograd.grad(gv, weights)
        tensors[f'T{T}/loss'] = loss.detach().reshape(1).numpy()
        for n, a, b in zip(names, g, hg):
            tensors[f'T{T}/grad/{n}'] = a.detach().numpy()
            tensors[f'T{T}/hg/{n}'] = b.numpy()
    st.save(f'{out}/torch_{name}.safetensors', tensors, {'torch': torch.__version__})


if __name__ == '__main__':
    out = sys.argv[1] if len(sys.argv) > 1 else '.'
    golden('small_vgg', small_vgg, out)
    golden('small_resnet', small_resnet, out)
