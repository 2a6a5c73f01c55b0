#!/usr/bin/env python3
"""PyTorch reference for `lcconv bench`: the same CIFAR ResNet (open_lth layout), freeze mode, k, W,
LC expansion, batch size and optimizer (SGD + Nesterov, weight decay, label smoothing) on random data,
timed the same way (warm-up, then synchronise before reading the clock). Prints one JSON object.

  python3 bench/pytorch_reference.py --depth 20 --width 16 --kernel-size 3 --freeze frozen \
      --batch-size 32 --steps 20 --warmup 5 --device cuda

Frozen k x k convs are parameters with requires_grad=False, as the paper's code freezes them, so
autograd computes no filter gradient for them (the input gradient still flows through).
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SharedBank:
    """One frozen random tensor [max_out, max_in, k, k] of unit-variance-uniform draws; layers slice it."""

    def __init__(self, k, max_in, max_out, device):
        self.tensor = torch.empty(max_out, max_in, k, k, device=device).uniform_(-1, 1)


class SpatialConv(nn.Module):
    """k x k conv as lcconv's factory builds it: learned / frozen / shared, optionally an LC block
    (k x k conv to out*E channels, or in*E when depthwise, then a learned 1x1 conv back to out)."""

    def __init__(self, cin, cout, k, stride, freeze, expansion, depthwise, bank):
        super().__init__()
        lc = expansion > 1 or depthwise
        self.stride, self.pad = stride, k // 2
        self.groups = cin if depthwise else 1
        mid = (cin * expansion if depthwise else cout * expansion) if lc else cout
        shape = (mid, cin // self.groups, k, k)
        self.frozen = freeze != "learned" and k > 1  # as in the paper, only k > 1 convs freeze
        self.bank = bank if (freeze == "shared" and k > 1) else None
        if self.bank is not None:
            self.shape = shape
            self.scale = 1.0 / math.sqrt(shape[1] * k * k)  # Kaiming-uniform (a=sqrt 5) bound of this layer
            self.weight = None
        else:
            self.weight = nn.Parameter(torch.empty(shape), requires_grad=not self.frozen)
            nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.combine = nn.Conv2d(mid, cout, 1, bias=False) if lc else None

    def forward(self, x):
        if self.bank is not None:
            o, i = self.shape[0], self.shape[1]
            w = self.bank.tensor[:o, :i] * self.scale
        else:
            w = self.weight
        y = F.conv2d(x, w, stride=self.stride, padding=self.pad, groups=self.groups)
        return self.combine(y) if self.combine is not None else y


class Block(nn.Module):
    def __init__(self, cin, cout, stride, conv):
        super().__init__()
        self.conv1, self.bn1 = conv(cin, cout, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = conv(cout, cout, 1), nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """open_lth cifar_resnet_<depth>_<W>: stem, three stages of n = (depth-2)/6 blocks (W, 2W, 4W), GAP, FC."""

    def __init__(self, depth, width, k, freeze, expansion, depthwise, channels, classes, device):
        super().__init__()
        if (depth - 2) % 6:
            raise SystemExit(f"--depth: must be 6n+2, got {depth}")
        n = (depth - 2) // 6
        widths = [width, 2 * width, 4 * width]
        bank = None
        if freeze == "shared":
            mid = max(widths) * max(expansion, 1)
            bank = SharedBank(k, max(widths) * (expansion if depthwise else 1), mid, device)
        conv = lambda cin, cout, stride: SpatialConv(cin, cout, k, stride, freeze, expansion, depthwise, bank)
        self.stem, self.bn = conv(channels, width, 1), nn.BatchNorm2d(width)
        blocks, cin = [], width
        for s, w in enumerate(widths):
            for b in range(n):
                blocks.append(Block(cin, w, 2 if (s > 0 and b == 0) else 1, conv))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)
        self.bank = bank

    def forward(self, x):
        out = F.relu(self.bn(self.stem(x)))
        out = self.blocks(out)
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.fc(out)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--kernel-size", type=int, default=3)
    p.add_argument("--freeze", choices=["learned", "frozen", "shared"], default="learned")
    p.add_argument("--lc-expansion", type=int, default=1)
    p.add_argument("--lc-depthwise", action="store_true")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--nesterov", type=int, choices=[0, 1], default=1)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0 = PyTorch's default)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    device = torch.device(a.device)
    model = ResNet(a.depth, a.width, a.kernel_size, a.freeze, a.lc_expansion, a.lc_depthwise, a.channels, a.classes, device).to(device)
    learnable = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.SGD(learnable, lr=a.lr, momentum=a.momentum, nesterov=bool(a.nesterov) and a.momentum > 0, weight_decay=a.weight_decay)
    x = torch.randn(a.batch_size, a.channels, a.image_size, a.image_size, device=device)
    y = torch.randint(0, a.classes, (a.batch_size,), device=device)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y, label_smoothing=a.label_smoothing)
        loss.backward()
        opt.step()
        return loss

    model.train()
    for _ in range(a.warmup):
        step()
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    loss.item()  # waits for the last step
    sync(device)
    train_s = time.perf_counter() - t0

    model.eval()
    with torch.no_grad():
        for _ in range(max(a.warmup, 1)):
            model(x)
        sync(device)
        t0 = time.perf_counter()
        for _ in range(a.steps):
            out = model(x)
        out.sum().item()
        sync(device)
        eval_s = time.perf_counter() - t0

    stored = sum(q.numel() for q in model.parameters()) + (model.bank.tensor.numel() if model.bank else 0)
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}",
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads, {os.cpu_count()} cores)",
        "model": {"depth": a.depth, "width": a.width, "kernel_size": a.kernel_size, "freeze": a.freeze,
                  "lc_expansion": a.lc_expansion, "lc_depthwise": a.lc_depthwise,
                  "learnable_params": sum(q.numel() for q in learnable), "stored_params": stored},
        "batch_size": a.batch_size, "image": [a.image_size, a.image_size, a.channels], "classes": a.classes,
        "warmup_steps": a.warmup, "steps": a.steps,
        "train": {"images_per_second": a.steps * a.batch_size / train_s, "seconds_per_step": train_s / a.steps},
        "eval": {"images_per_second": a.steps * a.batch_size / eval_s, "seconds_per_batch": eval_s / a.steps},
        "peak_memory_bytes": torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None,
    }, indent=2))


if __name__ == "__main__":
    main()
