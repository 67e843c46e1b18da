# Writes label_smoothing_torch.json: torch.nn.CrossEntropyLoss with
# label_smoothing (PyTorch 1.13) on float64 logits of 4 examples and 5
# classes, the loss and its gradient, at logits/T for T = 1 and 2. Run with
# /usr/bin/python3 autograd/testdata/label_smoothing_torch.py > autograd/testdata/label_smoothing_torch.json
import json
import torch

torch.manual_seed(0)
logits = (3 * torch.randn(4, 5)).double()
labels = [4, 0, 2, 2]
cases = []
for eps, temp in [(0.0, 1.0), (0.1, 1.0), (0.3, 2.0)]:
    z = logits.clone().requires_grad_(True)
    loss = torch.nn.CrossEntropyLoss(label_smoothing=eps)(z / temp, torch.tensor(labels))
    loss.backward()
    cases.append({"smoothing": eps, "temperature": temp, "loss": loss.item(), "grad": z.grad.flatten().tolist()})
print(json.dumps({"logits": logits.flatten().tolist(), "labels": labels, "cases": cases}))
