#!/usr/bin/env python3
"""Load an `lcconv export` folder (model.safetensors + model.json) into its PyTorch twin in
bench/pytorch_reference.py (model.json names the class: the CIFAR ResNet, LowResResNet, LowResVGG,
WideResNet or ResNet9), and optionally check its logits against lcconv's.

  import sys; sys.path.insert(0, "bench"); from lcconv_export import load
  model, meta = load("results/<name>/<run id>/export")   # eval mode; feed NCHW (x/255 - mean)/std

  python3 bench/lcconv_export.py EXPORT_DIR --check CHECK.safetensors [--tol 1e-4]

CHECK.safetensors holds `images` ([N, H, W, C] float32 in [0,1]) and `logits` ([N, classes], lcconv's);
the check normalises the images with model.json's mean/std, runs the model and prints one JSON line
with the largest absolute logit difference; exit status 1 if it exceeds --tol.
Uses the `safetensors` package when installed, else reads the (simple) format itself.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_reference import ConvNeXt, LowResResNet, LowResVGG, MobileNetV2, ResNet, ResNet9, WideResNet  # noqa: E402

TWINS = {"ResNet": ResNet, "LowResResNet": LowResResNet, "LowResVGG": LowResVGG, "WideResNet": WideResNet, "ResNet9": ResNet9,
         "MobileNetV2": MobileNetV2, "ConvNeXt": ConvNeXt}

DTYPES = {"F32": torch.float32, "I64": torch.int64}


def read_safetensors(path):
    try:
        from safetensors.torch import load_file
        return load_file(path)
    except ImportError:
        pass
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = bytearray(data[base + begin:base + end])
        tensors[name] = torch.frombuffer(raw, dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"]) if raw else torch.zeros(entry["shape"], dtype=DTYPES[entry["dtype"]])
    return tensors


def load(export_dir, device="cpu"):
    """The exported network as its bench/pytorch_reference.py twin in eval mode, and model.json."""
    with open(os.path.join(export_dir, "model.json")) as f:
        meta = json.load(f)
    twin = TWINS[meta["pytorch"].get("class", "ResNet")]
    model = twin(**meta["pytorch"]["kwargs"], device=torch.device(device))
    model.load_state_dict(read_safetensors(os.path.join(export_dir, "model.safetensors")), strict=True)
    return model.to(device).eval(), meta


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("export_dir")
    p.add_argument("--check", required=True, help="safetensors file with images and lcconv's logits")
    p.add_argument("--tol", type=float, default=1e-4)
    a = p.parse_args()
    torch.set_num_threads(1)
    model, meta = load(a.export_dir)
    check = read_safetensors(a.check)
    mean = torch.tensor(meta["input"]["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(meta["input"]["std"]).view(1, -1, 1, 1)
    x = (check["images"].permute(0, 3, 1, 2) - mean) / std
    with torch.no_grad():
        logits = model(x)
    diff = (logits - check["logits"]).abs().max().item()
    print(json.dumps({"max_abs_diff": diff, "n": x.shape[0], "tol": a.tol}))
    sys.exit(0 if diff <= a.tol else 1)


if __name__ == "__main__":
    main()
