#!/usr/bin/python3
"""Recompute winnow's pruning scores from a `winnow prune --dump` file with PyTorch.

Builds the named model in PyTorch (LeNet-5-Caffe, LeNet-300-100, CIFAR VGG,
CIFAR ResNet as winnow names them, torchvision's ResNet-18/34/50), loads param/ (and scoring_param/, the
linear weights GraSP re-draws), runs the official GraSP algorithm by double
backprop on input/<i>, label/<i> (g summed over the batches, then Hg), or
SNIP |theta*g|, and compares with score/ and mask/.

    winnow prune --model lenet5 --dump /tmp/d.safetensors
    /usr/bin/python3 reference/grasp_check.py /tmp/d.safetensors
"""
import sys
import torch, torch.nn as nn, torch.nn.functional as F
import st


class LeNet5(nn.Module):
    def __init__(self, c=1, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 20, 5); self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc3 = nn.Linear(800, 500); self.fc4 = nn.Linear(500, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc4(F.relu(self.fc3(x.flatten(1))))


class LeNet300(nn.Module):
    def __init__(self, d=784, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(d, 300); self.fc2 = nn.Linear(300, 100); self.fc3 = nn.Linear(100, classes)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x.flatten(1))))))


CFG = {11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512],
       13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512],
       16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512],
       19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512]}


class VGG(nn.Module):
    def __init__(self, depth, classes=10):
        super().__init__()
        layers, c = [], 3
        for v in CFG[depth]:
            if v == 'M':
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1, bias=False), nn.BatchNorm2d(v), nn.ReLU()]
                c = v
        self.feature = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, classes)

    def forward(self, x):
        return self.classifier(F.avg_pool2d(self.feature(x), 2).flatten(1))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        o = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(o + (x if self.shortcut is None else self.shortcut(x)))


class ResNet(nn.Module):
    def __init__(self, depth, width=2, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        w = [16 * width, 32 * width, 64 * width]
        self.conv1 = nn.Conv2d(3, w[0], 3, 1, 1, bias=False); self.bn1 = nn.BatchNorm2d(w[0])
        cin = w[0]
        for s, cout in enumerate(w):
            blocks = []
            for j in range(n):
                blocks.append(Block(cin, cout, 2 if (j == 0 and s > 0) else 1)); cin = cout
            setattr(self, 'layer%d' % (s + 1), nn.Sequential(*blocks))
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean((2, 3)))


def build(name, classes):
    if name == 'lenet5': return LeNet5(classes=classes)
    if name == 'lenet300': return LeNet300(classes=classes)
    if name.startswith('vgg'): return VGG(int(name[3:]), classes)
    if name in ('resnet18', 'resnet34', 'resnet50'):  # ImageNet ResNets: torchvision's (python3-torchvision)
        import torchvision
        return getattr(torchvision.models, name)(num_classes=classes)
    if name.startswith('resnet'): return ResNet(int(name[6:]), classes=classes)
    raise SystemExit('unknown model ' + name)


def main(path):
    t, meta = st.load(path)
    params = {k[6:]: torch.tensor(v) for k, v in t.items() if k.startswith('param/')}
    classes = [v for k, v in params.items() if k.endswith('.weight') and v.dim() == 2][-1].shape[0]
    model = build(meta['model'], classes).double()
    # winnow's projection shortcut is torchvision's downsample.
    rename = (lambda k: k.replace('.shortcut.', '.downsample.')) if meta['model'] in ('resnet18', 'resnet34', 'resnet50') else (lambda k: k)
    state = {rename(k): v.double() if v.is_floating_point() else v for k, v in params.items()}
    for k, v in t.items():
        if k.startswith('scoring_param/'):
            state[rename(k[14:])] = torch.tensor(v).double()
    model.load_state_dict(state, strict=True)
    model.train()
    weights = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    names = [n + '.weight' for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    xs, ys, i = [], [], 0
    while f'input/{i}' in t:
        xs.append(torch.tensor(t[f'input/{i}'])); ys.append(torch.tensor(t[f'label/{i}']).long()); i += 1
    method, T = meta['method'], float(meta['temperature'])
    if method == 'grasp':
        g = [torch.zeros_like(w) for w in weights]
        for x, y in zip(xs, ys):
            for a, b in zip(g, torch.autograd.grad(F.cross_entropy(model(x) / T, y), weights)):
                a += b
        for w in weights:
            w.grad = None
        for x, y in zip(xs, ys):
            gf = torch.autograd.grad(F.cross_entropy(model(x) / T, y), weights, create_graph=True)
            sum((a * b).sum() for a, b in zip(gf, g)).backward()
        ref = [-w.data * w.grad for w in weights]
    elif method == 'snip':
        g = [torch.zeros_like(w) for w in weights]
        for x, y in zip(xs, ys):
            for a, b in zip(g, torch.autograd.grad(F.cross_entropy(model(x), y), weights)):
                a += b
        ref = [(w.data * b).abs() for w, b in zip(weights, g)]
    else:
        raise SystemExit('only grasp and snip scores are recomputed here')
    num = den = 0.0
    names = [n.replace('.downsample.', '.shortcut.') for n in names]
    for n, r in zip(names, ref):
        s = torch.tensor(t['score/' + n])
        num += ((s - r) ** 2).sum().item(); den += (r ** 2).sum().item()
    all_ref = torch.cat([r.flatten() for r in ref])
    k = int(len(all_ref) * float(meta['sparsity']) + 1e-6)
    order = torch.argsort(-all_ref if method == 'grasp' else all_ref, stable=True)
    keep = torch.ones_like(all_ref, dtype=torch.bool); keep[order[:k]] = False
    ours = torch.cat([torch.tensor(t['mask/' + n]).flatten().bool() for n in names])
    print(f'{meta["model"]} {method}: scores relative error {(num / den) ** 0.5:.3g} over {len(all_ref)} weights; '
          f'masks differ at {(keep != ours).sum().item()} of {len(all_ref)} weights (PyTorch {torch.__version__})')


if __name__ == '__main__':
    main(sys.argv[1])
