#!/usr/bin/python3
"""The cell-mode gate ("is this a single red-cell crop?") measured as the CLI runs it.

    /usr/bin/python3 model/gate_eval.py --data ../shared/data/nih_cells \\
        --iml ../shared/data/iml_fields_dev --chula ../shared/data/chula_rbc_dev \\
        [--cli build/wasm/malaria-classify] [--model BLOB] [--out model/report/gate.json]

Two sets, both through `malaria-classify --mode cell` (every image is taken as a cell crop, so
the gate alone decides):
  in-distribution: the NIH cells of the committed test slides (model/splits/test.txt); the
    share refused should be <= 0.5 %;
  out-of-distribution, made here (nothing of it is committed): synthetic images (solid colours,
    gradients, noise, checkerboards, text on a plain page, shapes), natural photos (Debian's
    python3-skimage data and matplotlib's sample photo, whole and cut into cell-sized pieces),
    whole microscope fields (IML, Chula) whole and downscaled to crop size, and crops of 2-4
    neighbouring cells from the IML fields (their annotated boxes); the share refused should
    be >= 99 %.
The same out-of-distribution images are also read in --mode auto (the page's default), where
only the whole fields may come out as fields. The per-kind refusal rates, the auto-mode readings
and the messages are written to --out.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_ood(out, iml, chula, rng):
    kinds = collections.defaultdict(list)

    def save(kind, arr_or_img):
        im = (
            arr_or_img
            if isinstance(arr_or_img, Image.Image)
            else Image.fromarray(np.asarray(arr_or_img, np.uint8))
        )
        p = os.path.join(out, f"{kind}_{len(kinds[kind]):03d}.png")
        im.convert("RGB").save(p)
        kinds[kind].append(p)

    sizes = [(1, 1), (8, 8), (48, 48), (64, 64), (128, 128), (150, 120), (300, 300), (640, 480)]
    for w, h in sizes:
        for c in [(255, 255, 255), (0, 0, 0), (30, 60, 200), (200, 120, 140), (128, 128, 128)]:
            save("solid", np.full((h, w, 3), c))
        save("noise_uniform", rng.integers(0, 256, (h, w, 3)))
        save("noise_gauss", np.clip(rng.normal(150, 40, (h, w, 3)), 0, 255))
        g = np.linspace(0, 255, w)[None, :, None].repeat(h, 0).repeat(3, 2)
        save("gradient", g)
        yy, xx = np.mgrid[0:h, 0:w]
        save("checkerboard", (((yy // 8 + xx // 8) % 2) * 255)[:, :, None].repeat(3, 2))
    for i in range(20):  # text on a page, UI-like screenshots
        w, h = rng.choice([64, 128, 200, 300, 640]), rng.choice([64, 128, 200, 300, 480])
        im = Image.new("RGB", (int(w), int(h)), tuple(int(v) for v in rng.integers(200, 256, 3)))
        d = ImageDraw.Draw(im)
        for k in range(8):
            d.text(
                (int(rng.integers(0, max(1, w - 40))), int(rng.integers(0, max(1, h - 10)))),
                "Result: p=0.%d" % rng.integers(0, 99),
                fill=tuple(int(v) for v in rng.integers(0, 120, 3)),
            )
        d.rectangle([5, 5, w // 2, 20], outline=(0, 0, 200))
        save("screenshot", im)
    for i in range(20):  # coloured shapes on black (the crop's own surround)
        S = int(rng.integers(64, 200))
        im = Image.new("RGB", (S, S), (0, 0, 0))
        d = ImageDraw.Draw(im)
        col = tuple(int(v) for v in rng.integers(0, 256, 3))
        if i % 2:
            d.rectangle([S // 6, S // 6, 5 * S // 6, 5 * S // 6], fill=col)
        else:
            d.polygon([(S // 2, 5), (S - 5, S - 5), (5, S - 5)], fill=col)
        save("shape_on_black", im)
    photos = []
    try:
        import skimage.data as sd

        for name in [
            "astronaut",
            "coffee",
            "chelsea",
            "rocket",
            "hubble_deep_field",
            "immunohistochemistry",
            "retina",
            "skin",
            "cat",
            "colorwheel",
        ]:
            try:
                a = getattr(sd, name)()
                if a.ndim == 3 and a.shape[2] >= 3:
                    photos.append(a[:, :, :3])
            except Exception:
                pass
    except ImportError:
        print("python3-skimage not installed: natural photos from matplotlib only", file=sys.stderr)
    mpl = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"
    if os.path.exists(mpl):
        photos.append(np.asarray(Image.open(mpl).convert("RGB")))
    for a in photos:
        save("photo", a)
        save("photo_small", Image.fromarray(a).resize((128, 128)))
        H, W = a.shape[:2]
        for k in range(6):  # cell-sized pieces
            S = int(rng.integers(60, 200))
            if H > S and W > S:
                y, x = int(rng.integers(0, H - S)), int(rng.integers(0, W - S))
                save("photo_piece", a[y : y + S, x : x + S])
    fields = []
    if iml:
        fields += sorted(
            os.path.join(iml, "images", f) for f in os.listdir(os.path.join(iml, "images"))
        )[:8]
    if chula:
        fields += sorted(
            os.path.join(chula, "images", f) for f in os.listdir(os.path.join(chula, "images"))
        )[:4]
    for f in fields:
        im = Image.open(f).convert("RGB")
        save("field", im)
        im2 = im.copy()
        im2.thumbnail((256, 256))
        save("field_small", im2)
    if iml:
        ann = json.load(open(os.path.join(iml, "annotations.json")))
        for a in ann[:16]:
            im = Image.open(os.path.join(iml, "images", a["image_name"])).convert("RGB")
            boxes = [[float(o["bbox"][k]) for k in "xywh"] for o in a["objects"]]
            for k in range(4):
                n = int(rng.integers(2, 5))
                b0 = boxes[int(rng.integers(0, len(boxes)))]
                cx, cy = b0[0] + b0[2] / 2, b0[1] + b0[3] / 2
                near = sorted(
                    boxes, key=lambda b: (b[0] + b[2] / 2 - cx) ** 2 + (b[1] + b[3] / 2 - cy) ** 2
                )[:n]
                x0 = min(b[0] for b in near)
                y0 = min(b[1] for b in near)
                x1 = max(b[0] + b[2] for b in near)
                y1 = max(b[1] + b[3] for b in near)
                save("cells_2to4", im.crop((int(x0), int(y0), int(x1), int(y1))))
    return kinds


def run_cli(cli, model, files):
    refused, msgs = {}, collections.Counter()
    for i in range(0, len(files), 500):
        cmd = [cli, "--mode", "cell"] + (["--model", model] if model else []) + files[i : i + 500]
        p = subprocess.run(cmd, capture_output=True, text=True)
        for l in p.stdout.splitlines():
            r = json.loads(l)
            refused[r["file"]] = "error" in r
            if "error" in r:
                msgs[
                    r["error"].split(":")[0] + ": " + r["error"].split(":")[1].split("(")[0].strip()
                    if ":" in r["error"]
                    else r["error"]
                ] += 1
    return refused, msgs


def run_auto(cli, model, files):
    """Each file's reading in --mode auto: 'cell', 'field' or 'refused'."""
    out = {}
    for i in range(0, len(files), 500):
        cmd = [cli, "--mode", "auto"] + (["--model", model] if model else []) + files[i : i + 500]
        p = subprocess.run(cmd, capture_output=True, text=True)
        for l in p.stdout.splitlines():
            r = json.loads(l)
            if "error" in r:
                out[r["file"]] = "refused"
            elif r.get("mode") in ("cell", "field"):
                out.setdefault(r["file"], r["mode"])
    return out


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", required=True)
    ap.add_argument("--iml", default=None)
    ap.add_argument("--chula", default=None)
    ap.add_argument("--cli", default=os.path.join(REPO, "build/wasm/malaria-classify"))
    ap.add_argument("--model", default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    tmp = tempfile.mkdtemp(prefix="gate_ood_")
    kinds = make_ood(tmp, args.iml, args.chula, rng)
    ood_files = [f for v in kinds.values() for f in v]
    refused, ood_msgs = run_cli(args.cli, args.model, ood_files)
    per_kind = {
        k: dict(n=len(v), refused=sum(refused.get(f, False) for f in v)) for k, v in kinds.items()
    }
    passed = [f for f in ood_files if not refused.get(f, False)]
    # the same images as the page reads them by default (--mode auto): none but the whole fields
    # may be read as a field, and a cell verdict only after the gate
    auto = run_auto(args.cli, args.model, ood_files)
    auto_kind = {
        k: dict(collections.Counter(auto.get(f, "refused") for f in v)) for k, v in kinds.items()
    }
    split = common.load_split(os.path.join(os.path.dirname(os.path.abspath(__file__)), "splits"))
    test = [
        common.file_path(args.data, r)
        for r in common.read_manifest(args.data)
        if r["slide"] in set(split["test"])
    ]
    ref_test, test_msgs = run_cli(args.cli, args.model, test)
    n_ood, n_ood_ref = len(ood_files), sum(refused.get(f, False) for f in ood_files)
    n_test, n_test_ref = len(test), sum(ref_test.values())
    res = dict(
        ood=dict(
            n=n_ood,
            refused=n_ood_ref,
            share=n_ood_ref / max(n_ood, 1),
            per_kind=per_kind,
            messages=dict(ood_msgs),
            accepted_examples=[os.path.basename(f) for f in passed[:40]],
            auto_mode=auto_kind,
        ),
        test_cells=dict(
            n=n_test,
            refused=n_test_ref,
            share=n_test_ref / max(n_test, 1),
            messages=dict(test_msgs),
        ),
    )
    print(
        f"out-of-distribution: {n_ood_ref}/{n_ood} refused ({100 * n_ood_ref / max(n_ood, 1):.1f} %, goal >= 99 %)"
    )
    for k, v in sorted(per_kind.items()):
        print(f"  {k:16s} {v['refused']:4d}/{v['n']:<4d}")
    not_fields = [f for k, v in kinds.items() if k != "field" for f in v]
    as_field = [f for f in not_fields if auto.get(f) == "field"]
    print(
        f"auto mode: {len(as_field)}/{len(not_fields)} images that are not whole fields read as a field"
        f" (goal 0); whole fields read as a field: {auto_kind.get('field', {}).get('field', 0)}/"
        f"{len(kinds.get('field', []))}"
    )
    for k, v in sorted(auto_kind.items()):
        print(f"  {k:16s} " + ", ".join(f"{m} {n}" for m, n in sorted(v.items())))
    print(
        f"test-slide cells: {n_test_ref}/{n_test} refused ({100 * n_test_ref / max(n_test, 1):.2f} %, goal <= 0.5 %)"
    )
    for m, c in test_msgs.most_common(5):
        print(f"  {c:5d}  {m}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
