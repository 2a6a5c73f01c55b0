"""PyTorch reference for bench/cpu-native.ts: the same CIFAR ResNet-20 training step (batch 32,
width 16, 1x1 stride-2 projection shortcuts, BatchNorm in train mode, SGD momentum 0.9), timed the
same way (median of N steps after warm-up). Debian's python3-torch 1.13 runs its convs on oneDNN.

  /usr/bin/python3 bench/torch_resnet20.py --freeze learned --threads 1 --steps 10
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--freeze", default="learned", choices=["learned", "frozen"])
p.add_argument("--threads", type=int, default=1)
p.add_argument("--steps", type=int, default=10)
p.add_argument("--warmup", type=int, default=2)
p.add_argument("--batch", type=int, default=32)
args = p.parse_args()
torch.set_num_threads(args.threads)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (self.shortcut(x) if self.shortcut is not None else x))


class ResNet20(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        blocks, cin = [], width
        for stage in range(3):
            cout = width * 2**stage
            for b in range(3):
                blocks.append(Block(cin, cout, 2 if stage > 0 and b == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, 10, bias=False)

    def forward(self, x):
        h = self.blocks(F.relu(self.bn(self.conv(x))))
        return self.fc(h.mean((2, 3)))


net = ResNet20()
if args.freeze == "frozen":
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            m.weight.requires_grad_(False)
opt = torch.optim.SGD([q for q in net.parameters() if q.requires_grad], lr=0.01, momentum=0.9)
x = torch.randn(args.batch, 3, 32, 32)
y = torch.randint(0, 10, (args.batch,))


def step():
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    return loss.item()


for _ in range(args.warmup):
    step()
times = []
for _ in range(args.steps):
    t0 = time.perf_counter()
    last = step()
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
median = times[len(times) // 2]
print(json.dumps({"backend": f"pytorch {torch.__version__}", "freeze": args.freeze, "threads": args.threads,
                  "batch": args.batch, "steps": len(times), "medianStepMs": round(median, 1),
                  "imagesPerSec": round(args.batch / (median / 1000), 1), "finalLoss": round(last, 4)}))
