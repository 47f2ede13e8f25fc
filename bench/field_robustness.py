#!/usr/bin/python3
"""Does the cell finder hold up when a field is photographed differently? A measurement.

    /usr/bin/python3 bench/field_robustness.py --iml ../shared/data/iml_fields_dev \\
        --chula ../shared/data/chula_rbc_dev [--cli build/wasm/malaria-classify] [--out F.json]

Each field of both sets is redrawn as another camera or microscope would give it, and counted
again by the CLI (--mode auto, as a user runs it):
  eyepiece R, V   a phone held to the eyepiece: the round field stop (radius R x the image's
                  width, centred; its edge blurred over 6 px) in a black surround, and vignetting
                  (brightness falling by V towards the corners);
  vignette V      vignetting alone; gradient V: light falling by V from one side to the other;
  yellow          a halogen lamp without a blue filter (R x1.0, G x0.85, B x0.6);
  dark, blur      under-exposed (x0.6); out of focus (Gaussian blur, sigma 3 px at IML's scale);
  jpeg 30         strong JPEG compression; x3, x0.5: another magnification or camera resolution.
  stain hue +-20  another stain batch or staining time: every pixel's hue turned by 20 degrees
                  (HSV; towards blue/purple with +, towards red with -);
  stain sat S     a stronger (S 1.5) or paler (S 0.5) stain: saturation x S;
  washed out      a camera with low contrast: every channel pulled 40 % towards its mean;
  bright x1.35    over-exposed, the plasma clipped white;
  noise 8         sensor noise of a small camera at high gain (Gaussian, sigma 8 levels a channel);
  phone           a phone held to the eyepiece, all at once: the field stop (0.46, vignetting
                  30 %), a warm white balance (B x0.85), blur (sigma 1.5 px), noise 5 and JPEG 60.
Scored against the same field as it is (no redrawing), on the cells that the redrawing leaves
whole: boxes and cells within 3 px of the image's border or of the field stop's edge are left
out on both sides.
  IML: cell recall against the boxes in view (a found cell matches a box when its centre lies
       in it, one to one), as bench/field_eval.py scores the fields as they are;
  both: the count against the count of the field as it is (cells in view), median |error|.
Fields refused ("not a blood-smear image") are reported by name. The redrawn images live in a
temporary folder only (the IML set carries no licence).
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

import numpy as np
from PIL import Image, ImageFilter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import field_eval  # noqa: E402

EDGE_BLUR = 6.0  # px over which the field stop's edge goes from black to bright


def shading(W, H, kind, v):
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    if kind == "gradient":
        return 1.0 - v * xx / (W - 1)
    r = np.hypot(yy - H / 2, xx - W / 2) / (0.5 * np.hypot(W, H))
    return 1.0 - v * r**2


def redraw(img, t):
    """img: PIL RGB; t: a transform dict. Returns (PIL image, stop radius in px or None, scale)."""
    a = np.asarray(img).astype(np.float32)
    H, W, _ = a.shape
    k = t["kind"]
    if k == "eyepiece":
        R = t["r"] * W
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        edge = np.clip((R - np.hypot(yy - H / 2, xx - W / 2)) / EDGE_BLUR, 0, 1)
        a = a * shading(W, H, "vignette", t["v"])[..., None] * edge[..., None] + 6 * (
            1 - edge[..., None]
        )
        return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)), R, 1.0
    if k in ("vignette", "gradient"):
        a = a * shading(W, H, k, t["v"])[..., None]
    elif k == "yellow":
        a = a * np.array([1.0, 0.85, 0.6], np.float32)
    elif k == "dark":
        a = a * 0.6
    elif k == "bright":
        a = a * t["g"]
    elif k == "washed":
        m = a.reshape(-1, 3).mean(0)
        a = m + (1 - t["c"]) * (a - m)
    elif k == "noise":
        a = a + np.random.default_rng(1).normal(0, t["sigma"], a.shape).astype(np.float32)
    elif k in ("hue", "sat"):
        hsv = np.asarray(img.convert("HSV")).astype(np.float32)
        if k == "hue":
            hsv[..., 0] = (hsv[..., 0] + t["deg"] * 256 / 360) % 256
        else:
            hsv[..., 1] = np.clip(hsv[..., 1] * t["s"], 0, 255)
        return Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB"), None, 1.0
    elif k == "phone":
        im1, R, _ = redraw(img, dict(kind="eyepiece", r=0.46, v=0.30))
        b = np.asarray(im1.filter(ImageFilter.GaussianBlur(1.5 * W / 1280))).astype(np.float32)
        b = b * np.array([1.0, 1.0, 0.85], np.float32)
        b = b + np.random.default_rng(2).normal(0, 5, b.shape).astype(np.float32)
        return Image.fromarray(np.clip(b, 0, 255).astype(np.uint8)), R, 1.0
    elif k == "blur":
        return img.filter(ImageFilter.GaussianBlur(t["sigma"] * W / 1280)), None, 1.0
    elif k == "scale":
        s = t["s"]
        return (
            img.resize((round(W * s), round(H * s)), Image.BICUBIC if s > 1 else Image.BOX),
            None,
            s,
        )
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)), None, 1.0


TRANSFORMS = [
    dict(name="eyepiece 0.42, 25 %", kind="eyepiece", r=0.42, v=0.25),
    dict(name="eyepiece 0.50, 0 %", kind="eyepiece", r=0.50, v=0.0),
    dict(name="eyepiece 0.50, 35 %", kind="eyepiece", r=0.50, v=0.35),
    dict(name="vignette 40 %", kind="vignette", v=0.40),
    dict(name="gradient 35 %", kind="gradient", v=0.35),
    dict(name="yellow lamp", kind="yellow"),
    dict(name="dark x0.6", kind="dark"),
    dict(name="blur 3 px", kind="blur", sigma=3.0),
    dict(name="jpeg 30", kind="jpeg", q=30),
    dict(name="x3", kind="scale", s=3.0),
    dict(name="x0.5", kind="scale", s=0.5),
    dict(name="stain hue +20", kind="hue", deg=20),
    dict(name="stain hue -20", kind="hue", deg=-20),
    dict(name="stain sat 1.5", kind="sat", s=1.5),
    dict(name="stain sat 0.5", kind="sat", s=0.5),
    dict(name="washed out", kind="washed", c=0.4),
    dict(name="bright x1.35", kind="bright", g=1.35),
    dict(name="noise 8", kind="noise", sigma=8.0),
    dict(name="phone", kind="phone", q=60),
]


def in_view(W, H, R, margin=3.0):
    """A box (x, y, w, h) is whole in view: away from the border, inside the stop."""

    def ok(x, y, w, h):
        if x <= margin or y <= margin or x + w >= W - margin or y + h >= H - margin:
            return False
        if R is None:
            return True
        lim = R - EDGE_BLUR - margin
        return all(
            np.hypot(px - W / 2, py - H / 2) <= lim for px in (x, x + w) for py in (y, y + h)
        )

    return ok


def run_set(cli, files, tmp, t):
    """Redraws files by t into tmp and runs the CLI on them: (rows, views, scales)."""
    os.makedirs(tmp, exist_ok=True)
    views, scales = {}, {}
    out_files = []
    for f in files:
        img = Image.open(f).convert("RGB")
        im2, R, s = redraw(img, t)
        name = os.path.splitext(os.path.basename(f))[0] + ".png"
        p = os.path.join(tmp, name)
        if t["kind"] in ("jpeg", "phone"):
            p = p[:-4] + ".jpg"
            name = name[:-4] + ".jpg"
            im2.save(p, quality=t["q"])
        else:
            im2.save(p)
        views[name] = (img.width, img.height, R)
        scales[name] = s
        out_files.append(p)
    cmd_rows, _ = field_eval.run_cli(cli, None, out_files, ["--mode", "auto"])
    return cmd_rows, views, scales


def score(rows0, rows1, views, scales, ann):
    """rows0: the CLI on the fields as they are; rows1: on the redrawn ones."""
    f0, c0, _ = field_eval.by_file(rows0)
    f1, c1, e1 = field_eval.by_file(rows1)
    errs, tp, tp0, nb, refused = [], 0, 0, 0, []
    calls = dict(parasitized=[0, 0], uncertain=[0, 0], counted=[0, 0])  # as is, redrawn
    for name1, (W, H, R) in views.items():
        stem = os.path.splitext(name1)[0]
        name0 = next(n for n in f0 if os.path.splitext(n)[0] == stem)
        if name1 in e1 or name1 not in f1:
            refused.append(stem)
            continue
        s = scales[name1]
        ok0 = in_view(W, H, R)
        ok1 = in_view(W * s, H * s, None if R is None else R * s)
        n0 = sum(ok0(c["x"], c["y"], c["w"], c["h"]) for c in c0.get(name0, []))
        det = [c for c in c1.get(name1, []) if ok1(c["x"], c["y"], c["w"], c["h"])]
        errs.append(abs(len(det) - n0) / max(n0, 1))
        for k in calls:
            calls[k][0] += int(f0[name0][k if k != "counted" else "cells"])
            calls[k][1] += int(f1[name1][k if k != "counted" else "cells"])
        if ann is not None:
            boxes = [
                [float(o["bbox"][k]) for k in "xywh"]
                for o in ann[name0]["objects"]
                if o["type"] != "difficult"
            ]
            gt = [b for b in boxes if ok0(*b)]
            tp0 += match(
                gt, [c for c in c0.get(name0, []) if ok0(c["x"], c["y"], c["w"], c["h"])], 1.0
            )
            tp += match(gt, det, s)
            nb += len(gt)
    return dict(
        fields=len(views),
        refused=refused,
        median_count_change=statistics.median(errs) if errs else None,
        within_5pct=sum(e <= 0.05 for e in errs),
        recall=tp / nb if ann is not None and nb else None,
        recall_as_is=tp0 / nb if ann is not None and nb else None,
        boxes_in_view=nb if ann is not None else None,
        calls=calls,
    )


def match(gt, det, s):
    """Found cells (box in the image scaled by s) matched to boxes one to one, as field_eval."""
    used = set()
    for c in det:
        cx, cy = (c["x"] + c["w"] / 2) / s, (c["y"] + c["h"] / 2) / s
        cand = [
            (abs(cx - b[0] - b[2] / 2) + abs(cy - b[1] - b[3] / 2), i)
            for i, b in enumerate(gt)
            if i not in used and b[0] <= cx <= b[0] + b[2] and b[1] <= cy <= b[1] + b[3]
        ]
        if cand:
            used.add(min(cand)[1])
    return len(used)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    field_eval.add_data_args(ap)
    ap.add_argument("--only", default=None, help="transforms whose name contains this")
    ap.add_argument("--out", default=None, help="results JSON")
    args = ap.parse_args()
    ann = json.load(open(os.path.join(args.iml, "annotations.json")))
    sets = {
        "IML": (field_eval.images(args.iml), {a["image_name"]: a for a in ann}),
        "Chula": (field_eval.images(args.chula), None),
    }
    tmp = tempfile.mkdtemp(prefix="field_robust_")
    res = []
    base = {k: field_eval.run_cli(args.cli, None, files, [])[0] for k, (files, _) in sets.items()}
    print(
        "| redrawn as | IML: recall (boxes in view) | IML: count vs as-is, median / within 5 % | Chula: count vs as-is, median / within 5 % | refused | called parasitized, as is -> redrawn: IML / Chula | uncertain share, as is -> redrawn: IML / Chula |"
    )
    print("|---|---|---|---|---|---|---|")
    for i, t in enumerate(TRANSFORMS):
        if args.only and args.only not in t["name"]:
            continue
        row = dict(transform=t["name"])
        for k, (files, ann) in sets.items():
            rows1, views, scales = run_set(args.cli, files, os.path.join(tmp, f"{i}_{k}"), t)
            row[k] = score(base[k], rows1, views, scales, ann)
        res.append(row)
        iml, ch = row["IML"], row["Chula"]
        refused = iml["refused"] + ch["refused"]
        pc = lambda v: "-" if v is None else f"{v * 100:.1f} %"
        calls = lambda r, k: f"{r['calls'][k][0]} -> {r['calls'][k][1]}"
        share = lambda r: " -> ".join(
            f"{u / max(n, 1) * 100:.0f} %"
            for u, n in zip(r["calls"]["uncertain"], r["calls"]["counted"])
        )
        print(
            f"| {t['name']} | {pc(iml['recall'])} of {iml['boxes_in_view']} (as is: {pc(iml['recall_as_is'])}) | "
            f"{pc(iml['median_count_change'])} / {iml['within_5pct']} of {iml['fields'] - len(iml['refused'])} | "
            f"{pc(ch['median_count_change'])} / {ch['within_5pct']} of {ch['fields'] - len(ch['refused'])} | "
            f"{len(refused)}{': ' + ', '.join(refused) if 0 < len(refused) <= 6 else ''} | "
            f"{calls(iml, 'parasitized')} / {calls(ch, 'parasitized')} | "
            f"{share(iml)} / {share(ch)} |",
            flush=True,
        )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(cli=args.cli, rows=res), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
