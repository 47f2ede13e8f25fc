#!/usr/bin/python3
"""Golden vectors for the C++ parity tests: fixture cells from the TEST slides, their canonical
preprocessing and PyTorch's logits with the exported weights.

    /usr/bin/python3 model/golden.py --data ../shared/data/nih_cells --model model -o tests/fixtures

Writes OUT/cells/*.png (byte-identical copies of 16 cells: 8 per class, from different test
slides, including the smallest and largest images), OUT/golden.safetensors with
  input_u8  [N, S, S, 3]  the area-resized uint8 image (stored as float32, exact integers)
  input     [N, 3, S, S]  the normalized network input (NCHW, as PyTorch sees it)
  logits    [N, 2]        PyTorch's logits (float32)
and OUT/golden.json (file names, labels, S, logits, calibrated p, the weights' sha256).
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import export  # noqa: E402


def pick_cells(data, n_per_class=8):
    rows = common.read_manifest(data)
    test = set(
        common.load_split(os.path.join(os.path.dirname(os.path.abspath(__file__)), "splits"))[
            "test"
        ]
    )
    out = []
    for cls in common.LABELS:
        cand = sorted(
            (r for r in rows if r["slide"] in test and r["class"] == cls),
            key=lambda r: int(r["bytes"]),
        )
        # smallest, largest, then one per slide spread over the list
        chosen = [cand[0], cand[-1]]
        seen = {cand[0]["slide"], cand[-1]["slide"]}
        step = max(1, len(cand) // (4 * n_per_class))
        for r in cand[::step]:
            if len(chosen) >= n_per_class:
                break
            if r["slide"] not in seen:
                chosen.append(r)
                seen.add(r["slide"])
        out += chosen[:n_per_class]
    return out


def forward(weights_path, meta, X_u8):
    import torch

    tensors, _ = export.read_safetensors(weights_path)
    model = export.load_model({k: torch.from_numpy(v) for k, v in tensors.items()})
    mean = np.array(meta["input"]["mean"], dtype=np.float32)
    std = np.array(meta["input"]["std"], dtype=np.float32)
    x = ((X_u8.astype(np.float32) / np.float32(255.0) - mean) / std).transpose(0, 3, 1, 2).copy()
    with torch.no_grad():
        logits = model(torch.from_numpy(x)).numpy()
    return x, logits


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", help="data folder (to pick cells); without it, reuse OUT/cells")
    ap.add_argument(
        "--model", default="model", help="folder with malaria_resnet18.{safetensors,json}"
    )
    ap.add_argument("-o", "--out", default="tests/fixtures")
    args = ap.parse_args()
    wpath = os.path.join(args.model, export.BASENAME + ".safetensors")
    with open(os.path.join(args.model, export.BASENAME + ".json")) as f:
        meta = json.load(f)
    S = meta["input"]["size"]
    cells_dir = os.path.join(args.out, "cells")
    if args.data:
        os.makedirs(cells_dir, exist_ok=True)
        for r in pick_cells(args.data):
            shutil.copyfile(
                common.file_path(args.data, r),
                os.path.join(cells_dir, r["class"] + "_" + r["filename"]),
            )
    files = sorted(os.listdir(cells_dir))
    X = np.stack(
        [common.area_resize_u8(common.decode_rgb(os.path.join(cells_dir, f)), S) for f in files]
    )
    x, logits = forward(wpath, meta, X)
    T = meta["calibration"]["temperature"]
    z = logits / T
    p = np.exp(z[:, 1] - np.logaddexp(z[:, 0], z[:, 1]))
    export.write_safetensors(
        os.path.join(args.out, "golden.safetensors"),
        {"input_u8": X.astype(np.float32), "input": x, "logits": logits},
    )
    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump(
            {
                "size": S,
                "weights_sha256": export.sha256_file(wpath),
                "files": ["cells/" + fn for fn in files],
                "labels": [fn.split("_", 1)[0] for fn in files],
                "logits": logits.tolist(),
                "p_parasitized": p.tolist(),
            },
            f,
            indent=1,
        )
        f.write("\n")
    acc = np.mean([(l[1] > l[0]) == (fn.startswith("Parasitized")) for l, fn in zip(logits, files)])
    print(
        f"{len(files)} golden cells at S={S}; PyTorch label agreement with ground truth {acc:.3f}"
    )


if __name__ == "__main__":
    main()
