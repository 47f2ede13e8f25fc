#!/usr/bin/python3
"""Evaluate converted blobs with the native CLI on the cells of a split, and compare blobs.

    /usr/bin/python3 model/eval_blob.py --data ../shared/data/nih_cells --split test \
        --cli build/wasm/malaria-classify --blob model/malaria_resnet18.mcb /tmp/f32.mcb

Prints accuracy, sensitivity, specificity per blob and the label agreement of every blob with
the first, as JSON (also written to --out if given).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="test", choices=["train", "val", "test"])
    ap.add_argument("--cli", default="build/wasm/malaria-classify")
    ap.add_argument("--blob", nargs="+", required=True)
    ap.add_argument("--out")
    args = ap.parse_args()
    slides = set(
        common.load_split(os.path.join(os.path.dirname(os.path.abspath(__file__)), "splits"))[
            args.split
        ]
    )
    rows = [r for r in common.read_manifest(args.data) if r["slide"] in slides]
    truth = {}
    with tempfile.TemporaryDirectory() as d:
        for r in rows:
            name = r["class"] + "_" + r["filename"]
            os.symlink(os.path.abspath(common.file_path(args.data, r)), os.path.join(d, name))
            truth[name] = common.LABELS.index(r["class"])
        preds = []
        for blob in args.blob:
            out = subprocess.run(
                [args.cli, "--model", blob, "--format", "jsonl", d], capture_output=True, text=True
            )
            p = {}
            for line in out.stdout.splitlines():
                j = json.loads(line)
                if "label" in j:
                    p[os.path.basename(j["file"])] = (
                        int(j["label"] == "Parasitized"),
                        j["p_parasitized"],
                        j["ms"],
                    )
            preds.append(p)
    res = {"split": args.split, "cells": len(rows), "blobs": []}
    for blob, p in zip(args.blob, preds):
        y = [truth[k] for k in p]
        yh = [v[0] for v in p.values()]
        tp = sum(a == 1 and b == 1 for a, b in zip(y, yh))
        tn = sum(a == 0 and b == 0 for a, b in zip(y, yh))
        ms = sorted(v[2] for v in p.values())
        res["blobs"].append(
            {
                "blob": os.path.basename(blob),
                "classified": len(p),
                "accuracy": (tp + tn) / len(p),
                "sensitivity": tp / max(sum(y), 1),
                "specificity": tn / max(len(y) - sum(y), 1),
                "agreement_with_first": sum(p[k][0] == preds[0][k][0] for k in p if k in preds[0])
                / len(p),
                "max_abs_p_diff_to_first": max(
                    abs(p[k][1] - preds[0][k][1]) for k in p if k in preds[0]
                ),
                "median_ms": ms[len(ms) // 2],
            }
        )
    print(json.dumps(res, indent=1))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
