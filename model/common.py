"""Shared pieces of the training pipeline: data manifest, slide split, the canonical
preprocessing (which the C++ core reproduces bit for bit), and the network.

Canonical preprocessing (recorded in the metadata as resize_filter = "area-int"):
  1. decode the file to 8-bit RGB (alpha, if any, is dropped);
  2. resize the whole image to S x S by integer area averaging: output pixel (y, x) is the
     mean of the input box rows [floor(y*H/S), ceil((y+1)*H/S)) x cols [floor(x*W/S),
     ceil((x+1)*W/S)) -- the bins of torch's adaptive_avg_pool2d -- rounded half up to an
     integer: (2*sum + n) // (2*n) with n the box's pixel count;
  3. x = (v / 255 - mean[c]) / std[c], channels R, G, B.
Step 2 is exact integer arithmetic, so the C++ side gets the identical uint8 image.
"""
import csv
import hashlib
import os
import random

import numpy as np

LABELS = ["Uninfected", "Parasitized"]  # index 1 is the positive class


def read_manifest(data_dir):
    rows = []
    with open(os.path.join(data_dir, "manifest.tsv")) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows.append(r)
    return rows


def file_path(data_dir, row):
    return os.path.join(data_dir, row["class"], row["filename"])


def manifest_fingerprint(data_dir):
    with open(os.path.join(data_dir, "manifest.tsv"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_split(rows, seed=20261126, fractions=(0.70, 0.15, 0.15)):
    """Split slides 70/15/15, stratified: healthy-only slides and slides with parasitized
    cells are shuffled and cut separately, so every split holds both kinds."""
    slides = {}
    for r in rows:
        slides.setdefault(r["slide"], set()).add(r["class"])
    healthy = sorted(s for s, c in slides.items() if "Parasitized" not in c)
    infected = sorted(s for s, c in slides.items() if "Parasitized" in c)
    rng = random.Random(seed)
    out = {"train": [], "val": [], "test": []}
    for group in (healthy, infected):
        g = group[:]
        rng.shuffle(g)
        n = len(g)
        n_val = round(n * fractions[1])
        n_test = round(n * fractions[2])
        out["val"] += g[:n_val]
        out["test"] += g[n_val : n_val + n_test]
        out["train"] += g[n_val + n_test :]
    return {k: sorted(v, key=lambda s: int(s[1:])) for k, v in out.items()}


def load_split(split_dir):
    out = {}
    for k in ("train", "val", "test"):
        with open(os.path.join(split_dir, k + ".txt")) as f:
            out[k] = [l.strip() for l in f if l.strip()]
    return out


def split_fingerprint(split_dir):
    h = hashlib.sha256()
    for k in ("train", "val", "test"):
        with open(os.path.join(split_dir, k + ".txt"), "rb") as f:
            h.update(k.encode() + b"\n" + f.read())
    return h.hexdigest()


def area_resize_u8(img, S):
    """Integer area resize of an HxWx3 uint8 array to SxSx3 uint8 (see module docstring)."""
    H, W, C = img.shape
    ii = np.zeros((H + 1, W + 1, C), dtype=np.int64)
    ii[1:, 1:] = img.astype(np.int64).cumsum(0).cumsum(1)
    o = np.arange(S)
    y0 = (o * H) // S
    y1 = ((o + 1) * H + S - 1) // S
    x0 = (o * W) // S
    x1 = ((o + 1) * W + S - 1) // S
    s = ii[y1][:, x1] - ii[y0][:, x1] - ii[y1][:, x0] + ii[y0][:, x0]
    n = ((y1 - y0)[:, None] * (x1 - x0)[None, :])[:, :, None]
    return ((2 * s + n) // (2 * n)).astype(np.uint8)


def decode_rgb(path):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def build_model(num_classes=2):
    import torchvision

    return torchvision.models.resnet18(weights=None, num_classes=num_classes)
