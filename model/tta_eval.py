#!/usr/bin/python3
"""Does test-time averaging over the 8 dihedral symmetries lower false positives on field crops?

    /usr/bin/python3 model/tta_eval.py --iml ../shared/data/iml_fields_dev \\
        [--cli build/wasm/malaria-classify] [--model model/malaria_resnet18.safetensors]

The CLI finds and crops the IML dev fields' cells (matched to the annotated boxes as
bench/field_eval.py matches them); the shipped network (float, in PyTorch) scores every crop in
its 8 rotations and flips. Reported for the shipped band (parasitized: p >= its upper edge):
false positives per 1,000 matched uninfected cells, infected recall, the uncertain share and the
median per-field parasitemia error, for the plain score and for four ways of averaging (the mean
logit; the mean p; and, for the cells called parasitized only, the mean logit or the lowest of
the 8, a cascade that costs 8 passes for ~2 % of the cells). A measurement: nothing is written.
"""
import argparse
import json
import os
import statistics
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "bench"))
import adapt_fields  # noqa: E402
import export  # noqa: E402


def logits8(model, X, mean, std):
    """X: n x 64 x 64 x 3 uint8 -> n x 8 logit differences (parasitized - uninfected)."""
    import torch

    out = []
    with torch.no_grad():
        for i in range(0, len(X), 256):
            x = (X[i : i + 256].astype(np.float32) / 255.0 - mean) / std
            t = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
            vs = []
            for k in range(4):
                for flip in (False, True):
                    u = torch.rot90(t, k, (2, 3))
                    u = torch.flip(u, (3,)) if flip else u
                    z = model(u)
                    vs.append((z[:, 1] - z[:, 0]).numpy())
            out.append(np.stack(vs, 1))
    return np.concatenate(out)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--iml", required=True)
    ap.add_argument("--cli", default=os.path.join(REPO, "build/wasm/malaria-classify"))
    ap.add_argument("--model", default=os.path.join(HERE, export.BASENAME + ".safetensors"))
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    meta = json.load(open(os.path.join(os.path.dirname(args.model), export.BASENAME + ".json")))
    mean = np.array(meta["input"]["mean"], dtype=np.float32)
    std = np.array(meta["input"]["std"], dtype=np.float32)
    lo, hi = meta["calibration"]["band"]
    T = meta["calibration"]["temperature"]
    tensors, _ = export.read_safetensors(args.model)
    model = export.load_model({k: torch.from_numpy(v) for k, v in tensors.items()}).eval()

    _, _, matches, keys, crops = adapt_fields.iml_field_crops(args.cli, args.iml)
    ann_path = os.path.join(args.iml, "annotations.json")
    label = {(m["field"], m["cell"]): int(m["infected"]) for m in matches}
    L = logits8(model, crops, mean, std)
    fld = np.array([k[0] for k in keys])
    y = np.array([label.get(k, -1) for k in keys])
    ann = {a["image_name"]: a for a in json.load(open(ann_path))}
    sig = lambda v: 1 / (1 + np.exp(-v / T))  # noqa: E731

    def report(name, p):
        errs = []
        for n in sorted(set(fld)):
            boxes = [o for o in ann[n]["objects"] if o["type"] != "difficult"]
            truth = sum(o["type"] != "red blood cell" for o in boxes) / max(len(boxes), 1)
            errs.append(abs((p[fld == n] >= hi).mean() - truth) * 100)
        print(
            f"{name:34s} false positives {1000 * (p[y == 0] >= hi).mean():5.1f} per 1,000 "
            f"({(y == 0).sum()}), infected recall {100 * (p[y == 1] >= hi).mean():3.0f} % of "
            f"{(y == 1).sum()}, uncertain {100 * ((p > lo) & (p < hi)).mean():4.1f} %, "
            f"median parasitemia error {statistics.median(errs):.2f} pp"
        )

    p0 = sig(L[:, 0])
    report("plain (float)", p0)
    report("mean logit of 8", sig(L.mean(1)))
    report("mean p of 8", sig(L).mean(1))
    report("called parasitized: mean logit of 8", np.where(p0 >= hi, sig(L.mean(1)), p0))
    report("called parasitized: lowest of 8", np.where(p0 >= hi, sig(L.min(1)), p0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
