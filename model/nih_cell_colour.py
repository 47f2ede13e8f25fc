#!/usr/bin/python3
"""The colour reference for field crops: mean and standard deviation per RGB channel of the
pixels inside the cells (not black) of NIH Uninfected cells, on the training slides. The field
pipeline (wasm/src/field.h, FieldOptions::ref_mean / ref_std) maps each field's counted cells
to these, so that crops from another microscope and stain look like the training set.

    /usr/bin/python3 model/nih_cell_colour.py --data ../shared/data/nih_cells [--n 3000]
"""
import argparse
import os
import random
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", required=True)
    ap.add_argument("--n", type=int, default=3000, help="cells sampled")
    args = ap.parse_args()
    split = common.load_split(os.path.join(os.path.dirname(os.path.abspath(__file__)), "splits"))
    rows = [
        r
        for r in common.read_manifest(args.data)
        if r["class"] == "Uninfected" and r["slide"] in set(split["train"])
    ]
    random.Random(0).shuffle(rows)
    s = np.zeros(3)
    s2 = np.zeros(3)
    n = 0
    for r in rows[: args.n]:
        x = common.decode_rgb(common.file_path(args.data, r)).reshape(-1, 3).astype(np.float64)
        x = x[x.max(1) > 10]
        s += x.sum(0)
        s2 += (x * x).sum(0)
        n += len(x)
    mean = s / n
    std = np.sqrt(s2 / n - mean * mean)
    print(f"cells {min(args.n, len(rows))}, pixels {n}")
    print("ref_mean = {%s}" % ", ".join(f"{v:.1f}f" for v in mean))
    print("ref_std  = {%s}" % ", ".join(f"{v:.1f}f" for v in std))


if __name__ == "__main__":
    main()
