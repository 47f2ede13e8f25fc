#!/usr/bin/python3
"""Turn our ResNet18 weights (safetensors + metadata JSON, torchvision names) into the peers'
model files, the benchmark inputs and PyTorch's reference logits.

    /usr/bin/python3 bench/tools/export_peers.py WEIGHTS.safetensors META.json OUTDIR

Writes into OUTDIR:
  resnet18.onnx          ONNX (opset 13, dynamic batch, BatchNorm folded by the exporter in eval
                         mode) for onnxruntime-web
  tfjs-weights.bin       BatchNorm-folded conv weights (HWIO) + biases, fc (in x out) + bias, f32
  tfjs-weights.json      manifest: [{name, shape, offset (floats)}], built into a network in JS
  cells.rgba             B images, S x S RGBA u8 (the benchmark batch; image 0 is the batch-1 input)
  reference.json         S, B, mean, std, PyTorch logits (float64 forward) of every image, the
                         network's conv layer shapes and its FLOP count
Needs torch + torchvision (Debian's python3-torch), numpy, PIL.
"""
import glob
import json
import os
import struct
import sys

import numpy as np
import torch
import torchvision
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BATCH = 32


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", (name, t["dtype"])
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(data[base + a : base + b], dtype="<f4").reshape(t["shape"]).copy()
    return out


def load_model(st_path):
    sd = read_safetensors(st_path)
    m = torchvision.models.resnet18(num_classes=sd["fc.weight"].shape[0])
    state = {k: torch.from_numpy(v) for k, v in sd.items()}
    missing, unexpected = m.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(
            f"weights do not match torchvision resnet18: missing {missing} unexpected {unexpected}"
        )
    return m.eval(), sd


def fold(sd, conv, bn, eps=1e-5):
    w = sd[conv + ".weight"].astype(np.float64)  # OIHW
    g, b = sd[bn + ".weight"], sd[bn + ".bias"]
    mu, var = sd[bn + ".running_mean"], sd[bn + ".running_var"]
    s = g.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    w = w * s[:, None, None, None]
    bias = b.astype(np.float64) - mu.astype(np.float64) * s
    return w.transpose(2, 3, 1, 0).astype(np.float32), bias.astype(np.float32)  # HWIO


def conv_layers(S):
    """(name, in_h, in_w, in_c, out_c, k, stride, pad) of every conv of ResNet18 at input S."""
    layers = []
    h = (S + 2 * 3 - 7) // 2 + 1
    layers.append(("conv1", S, S, 3, 64, 7, 2, 3))
    h = (h + 2 * 1 - 3) // 2 + 1  # maxpool
    c = 64
    for li, oc in enumerate([64, 128, 256, 512], start=1):
        for bi in range(2):
            stride = 2 if (li > 1 and bi == 0) else 1
            p = f"layer{li}.{bi}"
            oh = (h + 2 - 3) // stride + 1
            layers.append((p + ".conv1", h, h, c, oc, 3, stride, 1))
            layers.append((p + ".conv2", oh, oh, oc, oc, 3, 1, 1))
            if stride != 1 or c != oc:
                layers.append((p + ".downsample.0", h, h, c, oc, 1, stride, 0))
            h, c = oh, oc
    return layers


def flops(S, n_out):
    total = 0
    for _, ih, iw, ic, oc, k, s, p in conv_layers(S):
        oh = (ih + 2 * p - k) // s + 1
        ow = (iw + 2 * p - k) // s + 1
        total += 2 * oh * ow * oc * ic * k * k
    return total + 2 * 512 * n_out


def make_cells(S):
    """B RGBA images S x S: the test-fixture cells resized to S (plus mirrored copies)."""
    files = sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "cells", "*.png")))
    imgs = []
    for f in files:
        im = Image.open(f).convert("RGB").resize((S, S), Image.BILINEAR)
        imgs.append(np.asarray(im))
    if not imgs:
        rng = np.random.default_rng(1)
        imgs = [rng.integers(0, 256, (S, S, 3), dtype=np.uint8) for _ in range(4)]
    out = []
    i = 0
    while len(out) < BATCH:
        im = imgs[i % len(imgs)]
        k = i // len(imgs)
        if k % 2 == 1:
            im = im[:, ::-1]
        if k % 4 >= 2:
            im = im[::-1]
        out.append(np.ascontiguousarray(im))
        i += 1
    rgba = np.concatenate([np.stack(out), np.full((BATCH, S, S, 1), 255, np.uint8)], axis=3)
    return rgba


def main():
    st_path, meta_path, outdir = sys.argv[1:4]
    os.makedirs(outdir, exist_ok=True)
    meta = json.load(open(meta_path))
    inp = meta.get("input", meta)
    S = int(inp["size"])
    mean = np.array(inp["mean"], np.float32)
    std = np.array(inp["std"], np.float32)
    model, sd = load_model(st_path)

    # --- inputs and reference logits (float64 forward of the unfolded network)
    rgba = make_cells(S)
    rgba.tofile(os.path.join(outdir, "cells.rgba"))
    x = ((rgba[..., :3].astype(np.float32) / np.float32(255) - mean) / std).transpose(0, 3, 1, 2)
    with torch.no_grad():
        ref = model.double()(torch.from_numpy(x.astype(np.float64))).numpy()
    model.float()

    # --- ONNX
    onnx_path = os.path.join(outdir, "resnet18.onnx")
    with torch.no_grad():
        torch.onnx.export(
            model,
            torch.from_numpy(np.ascontiguousarray(x[:1])),
            onnx_path,
            input_names=["input"],
            output_names=["logits"],
            opset_version=13,
            do_constant_folding=True,
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )
    onnx_bytes = open(onnx_path, "rb").read()
    n_bn = onnx_bytes.count(b"BatchNormalization")

    # --- tfjs weights: BN folded, HWIO, one f32 file + manifest
    tensors = []
    for name, *_ in conv_layers(S):
        bn = name.replace("conv", "bn") if "downsample" not in name else name[:-1] + "1"
        w, b = fold(sd, name, bn)
        tensors.append((name + ".w", w))
        tensors.append((name + ".b", b))
    tensors.append(("fc.w", np.ascontiguousarray(sd["fc.weight"].T)))
    tensors.append(("fc.b", sd["fc.bias"]))
    manifest, off = [], 0
    with open(os.path.join(outdir, "tfjs-weights.bin"), "wb") as f:
        for name, a in tensors:
            a = np.ascontiguousarray(a, dtype="<f4")
            manifest.append({"name": name, "shape": list(a.shape), "offset": off})
            f.write(a.tobytes())
            off += a.size
    json.dump(
        {"format": "bench-tfjs-1", "tensors": manifest},
        open(os.path.join(outdir, "tfjs-weights.json"), "w"),
    )

    json.dump(
        {
            "S": S,
            "batch": BATCH,
            "mean": mean.tolist(),
            "std": std.tolist(),
            "labels": meta.get("labels", ["Uninfected", "Parasitized"]),
            "logits": ref.tolist(),
            "flops": flops(S, ref.shape[1]),
            "conv_layers": [
                dict(zip(["name", "in_h", "in_w", "in_c", "out_c", "k", "stride", "pad"], l))
                for l in conv_layers(S)
            ],
            "onnx_batchnorm_nodes": n_bn,
            "weights": os.path.abspath(st_path),
            "torch": torch.__version__,
        },
        open(os.path.join(outdir, "reference.json"), "w"),
    )
    print(
        f"S={S} batch={BATCH} onnx {len(onnx_bytes)} B (BatchNormalization nodes: {n_bn}), "
        f"tfjs {off * 4} B, GFLOP/image {flops(S, ref.shape[1]) / 1e9:.4f}"
    )


if __name__ == "__main__":
    main()
