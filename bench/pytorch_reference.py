#!/usr/bin/env python3
"""PyTorch reference for `lcconv bench`: the same CIFAR ResNet (open_lth layout), freeze mode, k, W,
LC expansion, batch size and optimizer (SGD + Nesterov, weight decay, label smoothing) on random data,
timed the same way (warm-up, then synchronise before reading the clock). Prints one JSON object.

  python3 bench/pytorch_reference.py --depth 20 --width 16 --kernel-size 3 --freeze frozen \
      --batch-size 32 --steps 20 --warmup 5 --device cuda

With --whole-run DIR it instead trains and evaluates for --epochs epochs on the dataset that
`lcconv bench --whole-run` exported to DIR (the same uint8 images, split, normalisation, batch size,
schedule and per-epoch evaluation; meta.json describes it) and prints train, eval and data-path
seconds per epoch and the process's peak RSS.

Frozen k x k convs are parameters with requires_grad=False, as the paper's code freezes them, so
autograd computes no filter gradient for them (the input gradient still flows through).
"""
import argparse
import json
import math
import os
import resource
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
    (k x k conv to out*E channels, or in*E when depthwise, then a learned 1x1 conv back to out),
    optionally with a learned bias (VGG). `per_channel`: depthwise by architecture (MobileNetV2), out
    = in, one filter per channel; an LC block only when E > 1, its 1x1 conv grouped per channel
    (channel c's E responses into c). A shared conv slices `bank`, which attach_bank may set later."""

    def __init__(self, cin, cout, k, stride, freeze, expansion, depthwise, bank, bias=False, per_channel=False, pad=None):
        super().__init__()
        lc = expansion > 1 or (depthwise and not per_channel)
        grouped = depthwise or per_channel
        self.k, self.stride, self.pad = k, stride, k // 2 if pad is None else pad
        self.groups = cin if grouped else 1
        mid = (cin * expansion if grouped else cout * expansion) if lc else cout
        shape = (mid, cin // self.groups, k, k)
        self.shape = shape
        # The slice of the shared bank, as lcconv takes it: [out, in] of a full filter, [E, in] of a
        # depthwise one (lcconv's [k, k, in, E]), rearranged to PyTorch's grouped layout in forward.
        self.bank_shape = (mid // cin, cin) if grouped else (mid, cin)
        self.frozen = freeze != "learned" and k > 1  # as in the paper, only k > 1 convs freeze
        self.shared = freeze == "shared" and k > 1
        self.bank = bank if self.shared else None
        if self.shared:
            self.scale = 1.0 / math.sqrt(shape[1] * k * k)  # Kaiming-uniform (a=sqrt 5) bound of this layer
            self.weight = None
        else:
            self.weight = nn.Parameter(torch.empty(shape), requires_grad=not self.frozen)
            nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.combine = nn.Conv2d(mid, cout, 1, bias=False, groups=cin if per_channel else 1) if lc else None
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None

    def forward(self, x):
        if self.shared:
            o, i = self.bank_shape
            w = self.bank.tensor[:o, :i, :self.k, :self.k] * self.scale
            if self.groups > 1:  # [E, in] -> [in * E, 1]: input channel i's e-th filter at i * E + e
                w = w.transpose(0, 1).reshape(self.shape)
        else:
            w = self.weight
        y = F.conv2d(x, w, stride=self.stride, padding=self.pad, groups=self.groups)
        y = self.combine(y) if self.combine is not None else y
        return y + self.bias.view(1, -1, 1, 1) if self.bias is not None else y


def attach_bank(model, k, device):
    """Shared mode: one bank large enough for every shared conv of `model` (as lcconv sizes it)."""
    shared = [m for m in model.modules() if isinstance(m, SpatialConv) and m.shared]
    if not shared:
        return None
    k = max(m.k for m in shared)  # ConvNeXt's 2x2 patch convs take the leading window
    bank = SharedBank(k, max(m.bank_shape[1] for m in shared), max(m.bank_shape[0] for m in shared), device)
    for m in shared:
        m.bank = bank
    return bank


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
        conv = lambda cin, cout, stride: SpatialConv(cin, cout, k, stride, freeze, expansion, depthwise, None)
        self.stem, self.bn = conv(channels, width, 1), nn.BatchNorm2d(width)
        blocks, cin = [], width
        for s, w in enumerate(widths):
            for b in range(n):
                blocks.append(Block(cin, w, 2 if (s > 0 and b == 0) else 1, conv))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)
        self.bank = attach_bank(self, k, device)

    def forward(self, x):
        out = F.relu(self.bn(self.stem(x)))
        out = self.blocks(out)
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.fc(out)


class LowResBasicBlock(nn.Module):
    """The trainer's BasicBlock (models/lowresresnet.py): conv-BN-ReLU, conv-BN, + downsample, ReLU."""

    def __init__(self, cin, planes, stride, conv):
        super().__init__()
        self.conv1, self.bn1 = conv(cin, planes, stride), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = conv(planes, planes, 1), nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class LowResBottleneck(nn.Module):
    """The trainer's Bottleneck: 1x1-BN-ReLU, k x k (stride)-BN-ReLU, 1x1 to 4 planes-BN, + downsample, ReLU."""

    def __init__(self, cin, planes, stride, conv):
        super().__init__()
        out = 4 * planes
        self.conv1, self.bn1 = nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = conv(planes, planes, stride), nn.BatchNorm2d(planes)
        self.conv3, self.bn3 = nn.Conv2d(planes, out, 1, bias=False), nn.BatchNorm2d(out)
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(nn.Conv2d(cin, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


LOWRES_RESNETS = {"resnet18": (False, [2, 2, 2, 2]), "resnet34": (False, [3, 4, 6, 3]), "resnet50": (True, [3, 4, 6, 3])}


class LowResResNet(nn.Module):
    """The trainer's LowResResNet (tinytorchtrainer models/lowresresnet.py), written again for lcconv's
    twin: k x k stride-1 stem to W, BN, ReLU, MaxPool(3, 2, 1), four stages W..8W, GAP, FC; its names."""

    def __init__(self, arch, width, k, freeze, expansion, depthwise, channels, classes, device):
        super().__init__()
        bottleneck, counts = LOWRES_RESNETS[arch]
        conv = lambda cin, cout, stride: SpatialConv(cin, cout, k, stride, freeze, expansion, depthwise, None)
        self.conv1, self.bn1 = conv(channels, width, 1), nn.BatchNorm2d(width)
        cin = width
        for stage, n in enumerate(counts):
            planes = width * 2 ** stage
            blocks = []
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append((LowResBottleneck if bottleneck else LowResBasicBlock)(cin, planes, stride, conv))
                cin = planes * (4 if bottleneck else 1)
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(cin, classes)
        self.bank = attach_bank(self, k, device)

    def forward(self, x):
        out = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        for stage in range(1, 5):
            out = getattr(self, f"layer{stage}")(out)
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


VGG_LAYERS = {
    "vgg11_bn": [1, "M", 2, "M", 4, 4, "M", 8, 8, "M", 8, 8, "M"],
    "vgg16_bn": [1, 1, "M", 2, 2, "M", 4, 4, 4, "M", 8, 8, 8, "M", 8, 8, 8, "M"],
}


class LowResVGG(nn.Module):
    """The trainer's LowResVGG with BN (models/lowresvgg.py), written again for lcconv's twin: k x k
    convs with bias + BN + ReLU and 2x2 max-pools, GAP to 1x1, then 8W -> 64W -> 64W -> classes with
    ReLU and Dropout(0.5); its names (features.<i>, fc.<i>)."""

    def __init__(self, arch, width, k, freeze, expansion, depthwise, channels, classes, device):
        super().__init__()
        layers, cin = [], channels
        for v in VGG_LAYERS[arch]:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                cout = v * width
                layers += [SpatialConv(cin, cout, k, 1, freeze, expansion, depthwise, None, bias=True),
                           nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
                cin = cout
        self.features = nn.Sequential(*layers)
        hidden = 64 * width
        self.fc = nn.Sequential(nn.Linear(cin, hidden), nn.ReLU(inplace=True), nn.Dropout(),
                                nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(),
                                nn.Linear(hidden, classes))
        self.bank = attach_bank(self, k, device)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


WIDE_RESNETS = {"wrn16_4": (2, 4), "wrn28_10": (4, 10)}


class WideBlock(nn.Module):
    """The pre-activation block of xternalz/WideResNet-pytorch (dropRate 0), with its names."""

    def __init__(self, cin, cout, stride, conv):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), conv(cin, cout, stride)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), conv(cout, cout, 1)
        self.equal = cin == cout
        self.convShortcut = None if self.equal else nn.Conv2d(cin, cout, 1, stride=stride, bias=False)

    def forward(self, x):
        pre = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(pre))))
        return out + (x if self.equal else self.convShortcut(pre))


class NetworkBlock(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.layer = nn.Sequential(*blocks)

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    """WRN-d-k (Zagoruyko & Komodakis) as xternalz/WideResNet-pytorch lays it out, for lcconv's twin:
    k x k stem to W, three stages of n pre-activation blocks at W*k, 2W*k, 4W*k, BN, ReLU, GAP, FC."""

    def __init__(self, arch, width, k, freeze, expansion, depthwise, channels, classes, device):
        super().__init__()
        n, widen = WIDE_RESNETS[arch]
        conv = lambda cin, cout, stride: SpatialConv(cin, cout, k, stride, freeze, expansion, depthwise, None)
        self.conv1 = conv(channels, width, 1)
        cin = width
        for stage in range(3):
            cout = width * 2 ** stage * widen
            blocks = []
            for i in range(n):
                blocks.append(WideBlock(cin, cout, 2 if stage > 0 and i == 0 else 1, conv))
                cin = cout
            setattr(self, f"block{stage + 1}", NetworkBlock(blocks))
        self.bn1 = nn.BatchNorm2d(cin)
        self.fc = nn.Linear(cin, classes)
        self.bank = attach_bank(self, k, device)

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(F.relu(self.bn1(out)), 1).flatten(1))


class ConvBN(nn.Module):
    def __init__(self, cin, cout, conv):
        super().__init__()
        self.conv, self.bn = conv(cin, cout, 1), nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class ResNet9(nn.Module):
    """ResNet-9 of DAWNBench (Page, "How to train your ResNet") with widths W..8W, for lcconv's twin:
    conv-BN-ReLU units, 2x2 max-pools after layer1/2/3's first unit, residuals of two units in layers
    1 and 3, global max pool, FC without bias, logits * 0.125."""

    def __init__(self, arch, width, k, freeze, expansion, depthwise, channels, classes, device):
        super().__init__()
        conv = lambda cin, cout, stride: SpatialConv(cin, cout, k, stride, freeze, expansion, depthwise, None)
        W = width
        self.prep = ConvBN(channels, W, conv)
        self.layer1 = nn.Module()
        self.layer1.conv, self.layer1.res1, self.layer1.res2 = ConvBN(W, 2 * W, conv), ConvBN(2 * W, 2 * W, conv), ConvBN(2 * W, 2 * W, conv)
        self.layer2 = nn.Module()
        self.layer2.conv = ConvBN(2 * W, 4 * W, conv)
        self.layer3 = nn.Module()
        self.layer3.conv, self.layer3.res1, self.layer3.res2 = ConvBN(4 * W, 8 * W, conv), ConvBN(8 * W, 8 * W, conv), ConvBN(8 * W, 8 * W, conv)
        self.fc = nn.Linear(8 * W, classes, bias=False)
        self.bank = attach_bank(self, k, device)

    def forward(self, x):
        out = self.prep(x)
        out = F.max_pool2d(self.layer1.conv(out), 2)
        out = out + self.layer1.res2(self.layer1.res1(out))
        out = F.max_pool2d(self.layer2.conv(out), 2)
        out = F.max_pool2d(self.layer3.conv(out), 2)
        out = out + self.layer3.res2(self.layer3.res1(out))
        return self.fc(F.adaptive_max_pool2d(out, 1).flatten(1)) * 0.125


class InvertedResidual(nn.Module):
    """MobileNetV2's block: [1x1 expand, BN, ReLU6] (not when t = 1), depthwise k x k, BN, ReLU6,
    1x1 project, BN; plus the input when the stride is 1 and the channels stay."""

    def __init__(self, cin, hidden, cout, stride, dwconv):
        super().__init__()
        if hidden != cin:
            self.expand, self.bn1 = nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden)
        self.dw, self.bn2 = dwconv(hidden, stride), nn.BatchNorm2d(hidden)
        self.project, self.bn3 = nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        out = F.relu6(self.bn1(self.expand(x))) if hasattr(self, "expand") else x
        out = self.bn3(self.project(F.relu6(self.bn2(self.dw(out)))))
        return x + out if self.residual else out


# torchvision's (t, c, n, s), the second stage at stride 1 for low-resolution images (as lcconv).
MOBILENET_V2_STAGES = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class MobileNetV2(nn.Module):
    """MobileNetV2 for low-resolution images (stem and second stage at stride 1), torchvision's channels
    x W/32, no dropout, for lcconv's twin: the stem's k x k conv and every block's depthwise conv are
    spatial convs (the depthwise ones per channel)."""

    def __init__(self, arch, width, k, freeze, expansion, depthwise, channels, classes, device):
        super().__init__()
        scaled = lambda c: max(1, int(c * width / 32 + 0.5))  # lcconv's Math.round
        dwconv = lambda ch, stride: SpatialConv(ch, ch, k, stride, freeze, expansion, depthwise, None, per_channel=True)
        cin = scaled(32)
        self.stem = nn.Module()
        self.stem.conv = SpatialConv(channels, cin, k, 1, freeze, expansion, depthwise, None)
        self.stem.bn = nn.BatchNorm2d(cin)
        blocks = []
        for t, c, n, s in MOBILENET_V2_STAGES:
            for i in range(n):
                blocks.append(InvertedResidual(cin, cin * t, scaled(c), s if i == 0 else 1, dwconv))
                cin = scaled(c)
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Module()
        self.head.conv, self.head.bn = nn.Conv2d(cin, scaled(1280), 1, bias=False), nn.BatchNorm2d(scaled(1280))
        self.fc = nn.Linear(scaled(1280), classes)
        self.bank = attach_bank(self, k, device)

    def forward(self, x):
        out = F.relu6(self.stem.bn(self.stem.conv(x)))
        for block in self.blocks:
            out = block(out)
        out = F.relu6(self.head.bn(self.head.conv(out)))
        return self.fc(out.mean((2, 3)))


class ChannelsLastNorm(nn.LayerNorm):
    """LayerNorm over the channels of each position of an NCHW tensor (ConvNeXt's channels_first norm)."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """Depthwise k x k, LayerNorm, Linear to 4C, GELU, Linear to C, layer scale (1e-6), plus the input."""

    def __init__(self, dim, dwconv):
        super().__init__()
        self.dwconv = dwconv(dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1, self.pwconv2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(F.gelu(self.pwconv1(self.norm(y)))) * self.gamma
        return x + y.permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    """lcconv's small low-resolution ConvNeXt: 2x2 stride-2 patch conv + LayerNorm stem, four stages of
    2 blocks at W, 2W, 4W, 8W with LayerNorm + 2x2 stride-2 conv between them, GAP, LayerNorm, head;
    the official implementation's module names. Patch convs and depthwise convs are spatial convs."""

    def __init__(self, arch, width, k, freeze, expansion, depthwise, channels, classes, device):
        super().__init__()
        dims = [width, 2 * width, 4 * width, 8 * width]
        patch = lambda cin, cout: SpatialConv(cin, cout, 2, 2, freeze, expansion, depthwise, None, bias=True, pad=0)
        dwconv = lambda dim: SpatialConv(dim, dim, k, 1, freeze, expansion, depthwise, None, bias=True, per_channel=True)
        self.downsample_layers = nn.ModuleList([nn.Sequential(patch(channels, dims[0]), ChannelsLastNorm(dims[0], eps=1e-6))])
        for i in range(1, 4):
            self.downsample_layers.append(nn.Sequential(ChannelsLastNorm(dims[i - 1], eps=1e-6), patch(dims[i - 1], dims[i])))
        self.stages = nn.ModuleList([nn.Sequential(*[ConvNeXtBlock(d, dwconv) for _ in range(2)]) for d in dims])
        self.norm = nn.LayerNorm(dims[3], eps=1e-6)
        self.head = nn.Linear(dims[3], classes)
        self.bank = attach_bank(self, k, device)

    def forward(self, x):
        for down, stage in zip(self.downsample_layers, self.stages):
            x = stage(down(x))
        return self.head(self.norm(x.mean((2, 3))))


def build_model(arch, depth, width, k, freeze, expansion, depthwise, channels, classes, device):
    """The CIFAR ResNet by depth when arch is None, else the named twin."""
    if arch is None:
        return ResNet(depth, width, k, freeze, expansion, depthwise, channels, classes, device)
    twin = (LowResVGG if arch.startswith("vgg") else WideResNet if arch in WIDE_RESNETS
            else ResNet9 if arch == "resnet9" else MobileNetV2 if arch == "mobilenet_v2"
            else ConvNeXt if arch == "convnext" else LowResResNet)
    return twin(arch, width, k, freeze, expansion, depthwise, channels, classes, device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def lr_at(step, s):
    """lcconv's lrAt (src/train/schedule.ts): linear warm-up, then cosine / step / constant."""
    if step < s["warmupSteps"]:
        return s["lr"] * (step + 1) / s["warmupSteps"]
    if s["schedule"] == "constant":
        return s["lr"]
    if s["schedule"] == "step":
        return s["lr"] * s["gamma"] ** sum(1 for m in s["milestoneSteps"] if step >= m)
    span = max(s["totalSteps"] - s["warmupSteps"], 1)
    progress = min((step - s["warmupSteps"]) / span, 1)
    return 0.5 * s["lr"] * (1 + math.cos(math.pi * progress))


def load_export(folder):
    """The dataset `lcconv bench --whole-run` wrote: raw uint8 NHWC images and labels plus meta.json."""
    import numpy as np

    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    h, w, c = meta["height"], meta["width"], meta["channels"]

    def split(name):
        images = np.fromfile(os.path.join(folder, f"{name}-images.u8"), dtype=np.uint8).reshape(-1, h, w, c)
        labels = np.fromfile(os.path.join(folder, f"{name}-labels.u8"), dtype=np.uint8)
        return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))

    return meta, split("train"), split("test")


def whole_run(a, model, opt, device):
    """Epochs of shuffled, augmented, normalised batches as lcconv's trainBatches makes them (the last
    incomplete batch dropped), evaluation on the test split after every epoch (batch max(B, 256))."""
    meta, (train_x, train_y), (test_x, test_y) = load_export(a.whole_run)
    mean = torch.tensor(meta["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(meta["std"]).view(1, -1, 1, 1)
    pad, flip = meta["cropPadding"], meta["flip"]
    schedule = meta["schedule"]
    b = a.batch_size
    steps = train_x.shape[0] // b

    def prepare(images, augment):
        x = images.permute(0, 3, 1, 2).float().div_(255)
        if augment and pad > 0:  # zero-pad the raw pixels, crop, then normalise, as lcconv's writeImage
            n, _, h, w = x.shape
            padded = F.pad(x, (pad, pad, pad, pad))
            dy = torch.randint(0, 2 * pad + 1, (n,))
            dx = torch.randint(0, 2 * pad + 1, (n,))
            x = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
        if augment and flip:
            mask = torch.rand(x.shape[0]) < 0.5
            x[mask] = x[mask].flip(3)
        x = x.sub_(mean).div_(std)
        return x.contiguous(memory_format=torch.channels_last).to(device)

    epochs = []
    step = 0
    for epoch in range(1, a.epochs + 1):
        model.train()
        data_s = 0.0
        t0, c0 = time.perf_counter(), time.process_time()
        order = torch.randperm(train_x.shape[0])
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device)
        for s in range(steps):
            d0 = time.perf_counter()
            idx = order[s * b:(s + 1) * b]
            x, y = prepare(train_x[idx], True), train_y[idx].to(device)
            data_s += time.perf_counter() - d0
            for g in opt.param_groups:
                g["lr"] = lr_at(step, schedule)
            opt.zero_grad(set_to_none=True)
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=a.label_smoothing)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * b
            correct += (logits.argmax(1) == y).sum()
            step += 1
        train_loss, train_acc = loss_sum.item() / (steps * b), correct.item() / (steps * b)
        sync(device)
        train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0

        model.eval()
        t0, c0 = time.perf_counter(), time.process_time()
        eval_batch = max(b, 256)
        hits, val_loss = 0, 0.0
        with torch.no_grad():
            for s in range(0, test_x.shape[0], eval_batch):
                x, y = prepare(test_x[s:s + eval_batch], False), test_y[s:s + eval_batch].to(device)
                logits = model(x)  # loss and hits, as lcconv's evaluate computes both
                val_loss += F.cross_entropy(logits, y, reduction="sum").item()
                hits += (logits.argmax(1) == y).sum().item()
        eval_s, eval_cpu = time.perf_counter() - t0, time.process_time() - c0
        epochs.append({"epoch": epoch, "train_seconds": train_s, "eval_seconds": eval_s, "data_seconds": data_s,
                       "train_cpu_seconds": train_cpu, "eval_cpu_seconds": eval_cpu,
                       "train_loss": train_loss, "train_acc": train_acc, "val_acc": hits / test_x.shape[0]})
    return {"train_images": steps * b, "test_images": int(test_x.shape[0]), "epochs": epochs}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--depth", type=int, default=20, help="CIFAR ResNet depth (6n+2), unless --arch")
    p.add_argument("--arch", choices=[*LOWRES_RESNETS, *VGG_LAYERS, *WIDE_RESNETS, "resnet9", "mobilenet_v2", "convnext"],
                   help="a low-resolution ResNet or VGG, a Wide ResNet or ResNet-9 instead")
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
    p.add_argument("--whole-run", metavar="DIR", help="train and evaluate on the dataset lcconv exported to DIR")
    p.add_argument("--epochs", type=int, default=2, help="--whole-run: epochs")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    device = torch.device(a.device)
    model = build_model(a.arch, a.depth, a.width, a.kernel_size, a.freeze, a.lc_expansion, a.lc_depthwise, a.channels, a.classes, device).to(device)
    learnable = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.SGD(learnable, lr=a.lr, momentum=a.momentum, nesterov=bool(a.nesterov) and a.momentum > 0, weight_decay=a.weight_decay)
    if a.whole_run:
        model = model.to(memory_format=torch.channels_last)
        run = whole_run(a, model, opt, device)
        print(json.dumps({
            "framework": f"pytorch {torch.__version__}",
            "device": f"cpu ({torch.get_num_threads()} threads, {os.cpu_count()} cores)" if device.type == "cpu" else torch.cuda.get_device_name(device),
            **run,
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        }, indent=2))
        return
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
        "model": {"arch": a.arch or f"resnet{a.depth}", "depth": a.depth if a.arch is None else None, "width": a.width, "kernel_size": a.kernel_size, "freeze": a.freeze,
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
