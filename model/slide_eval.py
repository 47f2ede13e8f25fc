#!/usr/bin/python3
"""Slides, not only cells: per test slide, the share of cells the shipped blob calls parasitized
against the labelled share, and the confident positives on healthy-only slides.

    /usr/bin/python3 model/slide_eval.py --data ../shared/data/nih_cells \\
        [--cli build/wasm/malaria-classify] [--blob model/malaria_resnet18.mcb] [--split test]

Runs the CLI (as a user does: mode auto, so the cell gate applies) on every cell of the split's
slides and prints a Markdown table: cells, labelled parasitized share, called share (cells in the
parasitized band, the count a field report uses), share at p >= 0.5, share in the uncertain band,
cells refused by the gate; then the confident positives on the healthy-only slides (target 0).
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", required=True)
    ap.add_argument("--cli", default=os.path.join(REPO, "build/wasm/malaria-classify"))
    ap.add_argument("--blob", default=os.path.join(REPO, "model/malaria_resnet18.mcb"))
    ap.add_argument("--split", default="test")
    args = ap.parse_args()
    split = set(common.load_split(os.path.join(REPO, "model/splits"))[args.split])
    rows = [r for r in common.read_manifest(args.data) if r["slide"] in split]
    by_path = {os.path.abspath(common.file_path(args.data, r)): r for r in rows}
    paths = sorted(by_path)
    out = {}
    for i in range(0, len(paths), 500):
        p = subprocess.run(
            [args.cli, "--model", args.blob] + paths[i : i + 500], capture_output=True, text=True
        )
        for line in p.stdout.splitlines():
            j = json.loads(line)
            out[os.path.abspath(j["file"])] = j
    slides = {}
    for path, r in by_path.items():
        s = slides.setdefault(r["slide"], dict(n=0, pos=0, called=0, half=0, band=0, refused=0))
        s["n"] += 1
        s["pos"] += r["class"] == "Parasitized"
        j = out.get(path, {"error": "no result"})
        if "error" in j:
            s["refused"] += 1
            continue
        s["called"] += j["band"] == "parasitized"
        s["half"] += j["p_parasitized"] >= 0.5
        s["band"] += j["band"] == "uncertain"
    print(
        "| slide | cells | labelled parasitized | called parasitized (band) | p >= 0.5 | uncertain band | refused by the gate |"
    )
    print("|---|---|---|---|---|---|---|")
    healthy = 0
    for name in sorted(slides, key=lambda v: int(v[1:])):
        s = slides[name]
        h = s["pos"] == 0
        healthy += s["called"] if h else 0
        pct = lambda k: 100.0 * s[k] / s["n"]
        print(
            f"| {name}{' (healthy)' if h else ''} | {s['n']} | {pct('pos'):.1f}% | {pct('called'):.1f}% | "
            f"{pct('half'):.1f}% | {pct('band'):.1f}% | {s['refused']} |"
        )
    print(
        f"\nConfident positives (parasitized band) on the healthy-only {args.split} slides: {healthy}"
    )


if __name__ == "__main__":
    main()
