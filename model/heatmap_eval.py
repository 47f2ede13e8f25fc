#!/usr/bin/python3
"""Does a heat map point at the parasite? The shipped class-activation map (CAM) against an
occlusion map, on the parasitized cells of the test slides (issue 15, item 4). Run by hand:

    /usr/bin/python3 model/heatmap_eval.py --data ../shared/data/nih_cells --model model \
        --sheet model/report/heatmap_sheet.png --json model/report/heatmap_eval.json
    # the C++ engine's maps of the same cells (the shipped int8 blob), scored the same way
    build/wasm/malaria-classify --cam /tmp/cams \
        $(/usr/bin/python3 model/heatmap_eval.py --data ../shared/data/nih_cells --list) > /dev/null
    /usr/bin/python3 model/heatmap_eval.py --data ../shared/data/nih_cells --native /tmp/cams \
        --compare model/report/heatmap_eval.json --json model/report/heatmap_native.json

Everything is computed on the network input (the S x S area-int image of model/common.py), with
the shipped float weights in torchvision's ResNet18:

CAM (what the page showed until now; wasm/src/engine.h): cam[p] = (w_fc[1] - w_fc[0]) . f4[p] over
  layer4's output (2 x 2 at S = 64), bilinearly upsampled (half-pixel centres) to S x S.
Occlusion (wasm/src/explain.h computes the same, with k = 6, s = 4, the configuration chosen on
  the validation slides' cells): a square patch of k x k input pixels is slid
  over the S x S image with stride s (positions 0, s, 2s, ... and S - k); inside the patch, the
  pixels of the cell (max(R, G, B) > 24) are set to the cell's mean colour (the integer mean of
  those pixels over the whole image, rounded), the black surround stays black. For each position
  the drop of the Parasitized logit, z1(image) - z1(occluded), is recorded (0, without a pass of
  the network, where no cell pixel lies under the patch: nothing changes there); the map's value
  at a pixel is the mean drop over the patches that cover it. (The drop of p is kept as well.)

Peak of a map: its maximum over the pixels of the cell (S x S mask above); where several pixels
share the maximum (the occlusion map is constant on s x s blocks, the upsampled CAM on its
clamped border), the centroid of the tied pixels 4-connected to the first one in row order.
The peak is carried to the crop by x_crop = x * W / S (pixel centres).

The parasite, by a stain rule on the original crop (Giemsa stains the parasite's chromatin dark
purple; the red cell is pink):
  cell  = the largest 8-connected region with max(R, G, B) > 10 (the crops are cut out on black);
  g_med = median green of the cell;
  candidate = the cell's pixels with  G < 0.65 * g_med  and  G <= g_med - 30  and  B >= G;
  parasite = the largest 8-connected candidate region of at least 8 px. Cells with none are
  counted apart (not scored).
Score: the share of scored cells whose peak lies inside the parasite dilated by 2 px (a disc of
radius 2). Chance: a point drawn uniformly from the cell hits the dilated parasite with
probability area(dilated parasite & cell) / area(cell); its mean over the cells is reported too.
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import export  # noqa: E402

CELL_LEVEL = 24  # S x S mask: a pixel belongs to the cell when max(R, G, B) > this
STAIN = dict(rel=0.65, abs_=30, erode=0, min_px=8, dilate=2)


# ---------------------------------------------------------------- the parasite (stain rule)
def _disc(r):
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    return (x * x + y * y) <= r * r


def stain(rgb):
    """-> (cell mask, [blob masks of >= min_px, largest first]) at crop resolution."""
    from scipy import ndimage

    a = rgb.astype(np.int32)
    G, B = a[..., 1], a[..., 2]
    fg = a.max(2) > 10
    lab, n = ndimage.label(fg, structure=np.ones((3, 3)))
    if n == 0:
        return fg, []
    sizes = ndimage.sum(fg, lab, range(1, n + 1))
    cell = lab == (1 + int(np.argmax(sizes)))
    gmed = float(np.median(G[cell]))
    inner = (
        ndimage.binary_erosion(cell, structure=np.ones((3, 3)), iterations=STAIN["erode"])
        if STAIN["erode"] > 0
        else cell
    )
    cand = inner & (G < STAIN["rel"] * gmed) & (G <= gmed - STAIN["abs_"]) & (B >= G)
    lab, n = ndimage.label(cand, structure=np.ones((3, 3)))
    if n == 0:
        return cell, []
    sizes = ndimage.sum(cand, lab, range(1, n + 1))
    order = [int(k) for k in np.argsort(-sizes, kind="stable") if sizes[k] >= STAIN["min_px"]]
    return cell, [lab == (k + 1) for k in order]


def parasite_mask(rgb):
    """-> (cell mask, the largest stain blob or None) at crop resolution."""
    cell, blobs = stain(rgb)
    return cell, (blobs[0] if blobs else None)


def hit_zones(rgb):
    """-> (cell, largest blob, all blobs, zone of the largest, zone of all) or None parts:
    the zones are the blobs dilated by a disc of radius STAIN['dilate']."""
    from scipy import ndimage

    cell, blobs = stain(rgb)
    if not blobs:
        return cell, None, None, None, None
    every = np.logical_or.reduce(blobs)
    disc = _disc(STAIN["dilate"])
    return (
        cell,
        blobs[0],
        every,
        ndimage.binary_dilation(blobs[0], structure=disc),
        ndimage.binary_dilation(every, structure=disc),
    )


# ---------------------------------------------------------------- maps
def cell_mask_s(x_u8):
    return x_u8.max(2) > CELL_LEVEL


def positions(S, k, s):
    p = list(range(0, S - k + 1, s))
    if p[-1] != S - k:
        p.append(S - k)
    return p


def occluded_batch(x_u8, k, s):
    """The occluded copies of the S x S uint8 image (n, S, S, 3) for the positions whose patch
    touches the cell, and all positions [(y, x)] with, for each, its copy's index or -1."""
    S = x_u8.shape[0]
    m = cell_mask_s(x_u8)
    n = int(m.sum())
    fill = (
        ((2 * x_u8[m].astype(np.int64).sum(0) + n) // (2 * n)).astype(np.uint8)
        if n
        else np.zeros(3, np.uint8)
    )
    pos = [(py, px) for py in positions(S, k, s) for px in positions(S, k, s)]
    out, index = [], []
    for py, px in pos:
        mm = m[py : py + k, px : px + k]
        if not mm.any():
            index.append(-1)  # nothing of the cell under the patch: drop 0
            continue
        o = x_u8.copy()
        o[py : py + k, px : px + k][mm] = fill
        index.append(len(out))
        out.append(o)
    return (np.stack(out) if out else np.zeros((0, S, S, 3), np.uint8)), pos, index


def accumulate(drops, pos, S, k):
    acc = np.zeros((S, S), np.float64)
    cnt = np.zeros((S, S), np.float64)
    for d, (py, px) in zip(drops, pos):
        acc[py : py + k, px : px + k] += d
        cnt[py : py + k, px : px + k] += 1
    return (acc / np.maximum(cnt, 1)).astype(np.float32)


def peak(m, mask):
    """Peak of map m (S x S) over mask: centroid (x, y) of the tied maximum's component, in
    S-pixel coordinates with pixel centres at +0.5."""
    from scipy import ndimage

    v = np.where(mask, m, -np.inf) if mask.any() else m
    top = v.max()
    tied = v == top
    first = np.unravel_index(int(np.argmax(tied)), tied.shape)
    lab, _ = ndimage.label(tied)
    ys, xs = np.nonzero(lab == lab[first])
    return xs.mean() + 0.5, ys.mean() + 0.5


class Net:
    def __init__(self, model_dir):
        import torch

        self.torch = torch
        wpath = os.path.join(model_dir, export.BASENAME + ".safetensors")
        with open(os.path.join(model_dir, export.BASENAME + ".json")) as f:
            self.meta = json.load(f)
        t, _ = export.read_safetensors(wpath)
        self.model = export.load_model({k: torch.from_numpy(v) for k, v in t.items()})
        self.S = self.meta["input"]["size"]
        self.mean = np.array(self.meta["input"]["mean"], np.float32)
        self.std = np.array(self.meta["input"]["std"], np.float32)
        self.T = self.meta["calibration"]["temperature"]
        w = self.model.fc.weight.detach().numpy()
        self.w_diff = w[1] - w[0]

    def _x(self, u8):
        return self.torch.from_numpy(
            ((u8.astype(np.float32) / np.float32(255.0) - self.mean) / self.std)
            .transpose(0, 3, 1, 2)
            .copy()
        )

    def logits(self, u8, batch=256):
        out = []
        with self.torch.no_grad():
            for i in range(0, len(u8), batch):
                out.append(self.model(self._x(u8[i : i + batch])).numpy())
        return np.concatenate(out)

    def cam(self, u8):
        """CAM of one S x S image, as the engine computes it."""
        torch, m = self.torch, self.model
        with torch.no_grad():
            x = self._x(u8[None])
            x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
            f4 = m.layer4(m.layer3(m.layer2(m.layer1(x))))[0].numpy()  # 512, gh, gw
            grid = np.tensordot(self.w_diff, f4, axes=(0, 0))  # gh, gw
            up = torch.nn.functional.interpolate(
                torch.from_numpy(grid)[None, None].float(),
                size=(self.S, self.S),
                mode="bilinear",
                align_corners=False,
            )
        return up[0, 0].numpy()

    def p(self, z):
        z = z / self.T
        return np.exp(z[:, 1] - np.logaddexp(z[:, 0], z[:, 1]))


def occlusion(net, x_u8, k, s):
    """-> (map of logit drops, map of p drops, seconds, passes)."""
    t0 = time.perf_counter()
    occ, pos, index = occluded_batch(x_u8, k, s)
    z = net.logits(np.concatenate([x_u8[None], occ]))
    dt = time.perf_counter() - t0
    p = net.p(z)
    dz = [z[0, 1] - z[1 + i, 1] if i >= 0 else 0.0 for i in index]
    dp = [p[0] - p[1 + i] if i >= 0 else 0.0 for i in index]
    return accumulate(dz, pos, net.S, k), accumulate(dp, pos, net.S, k), dt, len(z)


# ---------------------------------------------------------------- contact sheet
def draw_sheet(path, items, tile=150):
    from PIL import Image, ImageDraw

    cols = 5
    rows = (len(items) + cols - 1) // cols
    pad = 4
    W = cols * (2 * tile + 3 * pad)
    H = 28 + rows * (tile + 16 + pad)
    sheet = Image.new("RGB", (W, H), (255, 255, 255))
    d = ImageDraw.Draw(sheet)
    d.text(
        (4, 4),
        "per cell: left = crop, stain blobs (largest green, others cyan), CAM peak (blue x), "
        "occlusion peak (yellow +; ring: on a blob); right = occlusion map (logit drop)",
        fill=(0, 0, 0),
    )
    for i, it in enumerate(items):
        r, c = divmod(i, cols)
        x0 = c * (2 * tile + 3 * pad) + pad
        y0 = 28 + r * (tile + 16 + pad)
        rgb, blobs, cam_pk, occ_pk, omap, label = (
            it["rgb"],
            it["blobs"],
            it["cam"],
            it["occ"],
            it["omap"],
            it["label"],
        )
        h, w = rgb.shape[:2]
        sc = tile / max(h, w)
        img = Image.fromarray(rgb).resize(
            (max(1, round(w * sc)), max(1, round(h * sc))), Image.NEAREST
        )
        im = np.asarray(img).copy()
        from scipy import ndimage

        for j, blob in enumerate(blobs):  # the largest green, the others cyan
            edge = blob & ~ndimage.binary_erosion(blob)
            big = (
                np.asarray(
                    Image.fromarray(edge.astype(np.uint8) * 255).resize(img.size, Image.NEAREST)
                )
                > 0
            )
            im[ndimage.binary_dilation(big)] = (0, 230, 0) if j == 0 else (0, 220, 255)
        img = Image.fromarray(im)
        dd = ImageDraw.Draw(img)
        cx, cy = cam_pk[0] * sc, cam_pk[1] * sc
        dd.line([(cx - 5, cy - 5), (cx + 5, cy + 5)], fill=(40, 90, 255), width=2)
        dd.line([(cx - 5, cy + 5), (cx + 5, cy - 5)], fill=(40, 90, 255), width=2)
        ox, oy = occ_pk[0] * sc, occ_pk[1] * sc
        dd.line([(ox - 6, oy), (ox + 6, oy)], fill=(255, 230, 0), width=2)
        dd.line([(ox, oy - 6), (ox, oy + 6)], fill=(255, 230, 0), width=2)
        if it["occ_hit"]:
            dd.ellipse([ox - 8, oy - 8, ox + 8, oy + 8], outline=(255, 230, 0))
        sheet.paste(img, (x0, y0))
        # the occlusion map over the cell, as the overlay shows it
        m = omap / (np.abs(omap).max() or 1)
        S = m.shape[0]
        ys = np.clip(((np.arange(img.size[1]) + 0.5) / img.size[1] * S).astype(int), 0, S - 1)
        xs = np.clip(((np.arange(img.size[0]) + 0.5) / img.size[0] * S).astype(int), 0, S - 1)
        t = m[ys][:, xs]
        base = np.asarray(Image.fromarray(rgb).resize(img.size, Image.NEAREST)).astype(np.float32)
        a = (0.6 * np.clip(np.abs(t), 0, 1))[..., None]
        col = np.where(
            (t > 0)[..., None], np.array([255, 0, 0], np.float32), np.array([0, 0, 255], np.float32)
        )
        sheet.paste(
            Image.fromarray((base * (1 - a) + col * a).astype(np.uint8)), (x0 + tile + pad, y0)
        )
        d.text((x0, y0 + tile + 2), label, fill=(0, 0, 0))
    sheet.quantize(colors=256, method=Image.MEDIANCUT).save(path, optimize=True)


# ---------------------------------------------------------------- main
def parasitized_rows(args):
    here = os.path.dirname(os.path.abspath(__file__))
    slides = set(common.load_split(os.path.join(here, "splits"))[args.split])
    rows = sorted(
        (
            r
            for r in common.read_manifest(args.data)
            if r["slide"] in slides and r["class"] == "Parasitized"
        ),
        key=lambda r: r["filename"],
    )
    return rows[: args.limit] if args.limit else rows


def score_cells(data_dir, recs, keys):
    """Set, for every record with a stain blob and every key whose peak it holds, key_hit (the
    peak on the largest blob's zone, the rule as first set) and key_hit_blobs (on any blob's
    zone: cells with several parasites), and the chance of each. In place."""
    by_name = {r["filename"]: r for r in common.read_manifest(data_dir)}
    for rec in recs:
        rgb = common.decode_rgb(common.file_path(data_dir, by_name[rec["file"]]))
        H, W = rgb.shape[:2]
        cell, big, every, zone, zone_all = hit_zones(rgb)
        for k in [
            k
            for k in list(rec)
            if k.endswith("_hit") or k.endswith("_hit_blobs") or k.startswith("chance")
        ]:
            del rec[k]
        rec["parasite_px"] = int(big.sum()) if big is not None else 0
        rec["blobs_px"] = int(every.sum()) if every is not None else 0
        if zone is None:
            continue
        rec["chance"] = float((zone & cell).sum() / max(1, cell.sum()))
        rec["chance_blobs"] = float((zone_all & cell).sum() / max(1, cell.sum()))
        for key in keys:
            if key + "_peak" not in rec:
                continue
            cx, cy = rec[key + "_peak"]
            at = (min(H - 1, int(cy)), min(W - 1, int(cx)))
            rec[key + "_hit"] = bool(zone[at])
            rec[key + "_hit_blobs"] = bool(zone_all[at])


def summarize(recs, keys):
    scored = [r for r in recs if "chance" in r]
    called = [r for r in scored if r.get("p", 1) >= 0.5]

    def share(rs, key):
        v = [r[key] for r in rs if key in r]
        return round(float(np.mean(v)), 4) if v else None

    out = {
        "cells": len(recs),
        "no_stain_blob": len(recs) - len(scored),
        "scored": len(scored),
        "scored_called_parasitized": len(called),
        "stain_rule": STAIN,
        "cell_level_S": CELL_LEVEL,
        "chance": share(scored, "chance"),
        "chance_blobs": share(scored, "chance_blobs"),
        "methods": {},
    }
    for key in keys:
        if not any(key + "_hit" in r for r in scored):
            continue
        out["methods"][key] = {
            "hit": share(scored, key + "_hit"),
            "hit_blobs": share(scored, key + "_hit_blobs"),
            "hit_called": share(called, key + "_hit"),
            "hit_blobs_called": share(called, key + "_hit_blobs"),
        }
    return out


def write_json(path, summary, recs):
    """The summary, then one line per cell (its peaks and hits for the methods of the summary's
    first rows: the peaks over the whole image and of the p maps are in the summary only)."""
    drop = ("_any_peak", "_any_hit", "_any_hit_blobs", "_p_peak", "_p_hit", "_p_hit_blobs")
    recs = [{k: v for k, v in r.items() if not k.endswith(drop)} for r in recs]
    with open(path, "w") as f:  # the summary readable, then one line per cell
        f.write('{"summary": ' + json.dumps(summary, indent=1) + ',\n "cells": [\n')
        f.write(",\n".join(json.dumps(r, separators=(",", ":")) for r in recs))
        f.write("\n]}\n")


def score_native(args):
    """The share for the maps the C++ engine computed (malaria-classify --cam DIR)."""
    rows = parasitized_rows(args)
    py = {}
    if args.compare:
        with open(args.compare) as f:
            py = {c["file"]: c for c in json.load(f)["cells"]}
    recs = []
    for r in rows:
        stem = os.path.splitext(r["filename"])[0]
        with open(os.path.join(args.native, stem + ".cam.json")) as f:
            j = json.load(f)
        rec = {
            "file": r["filename"],
            "slide": r["slide"],
            "w": None,
            "h": None,
            "native_peak": j["peak"],
            "ms": j["ms"],
            "passes": j["passes"],
            "patch": j["patch"],
            "stride": j["stride"],
        }
        tag = f"occ{j['patch']}_{j['stride']}"
        q = py.get(r["filename"], {})
        if tag + "_peak" in q:
            rec["p"] = q["p"]
            rec[tag + "_peak"] = q[tag + "_peak"]
            rec["w"], rec["h"] = q["w"], q["h"]
            # the same peak up to half an input pixel (an input pixel is W / S crop pixels)
            cx, cy = j["peak"]
            rec["same_peak_as_torch"] = bool(
                abs(q[tag + "_peak"][0] - cx) <= 0.5 * q["w"] / j["size"]
                and abs(q[tag + "_peak"][1] - cy) <= 0.5 * q["h"] / j["size"]
            )
        recs.append(rec)
    tags = sorted(set(f"occ{r['patch']}_{r['stride']}" for r in recs))
    score_cells(args.data, recs, ["native"] + tags)
    summary = summarize(recs, ["native"] + tags)
    summary["split"] = args.split
    summary["ms_median"] = round(float(np.median([r["ms"] for r in recs])), 1)
    summary["passes_mean"] = round(float(np.mean([r["passes"] for r in recs])), 1)
    both = [r for r in recs if "same_peak_as_torch" in r]
    if both:
        summary["same_peak_as_torch"] = round(
            float(np.mean([r["same_peak_as_torch"] for r in both])), 4
        )
        sc = [r for r in both if "native_hit" in r]
        summary["same_hit_as_torch"] = round(
            float(np.mean([r["native_hit"] == r[tags[0] + "_hit"] for r in sc])), 4
        )
    print(json.dumps(summary, indent=1))
    if args.json:
        write_json(args.json, summary, recs)
    if args.sheet:
        other_blob_sheet(args, recs)


def other_blob_sheet(args, recs, n=24):
    """The cells whose (native) peak lies on a stain blob other than the largest: are those
    blobs parasites? Largest blob green, the others cyan, the peak yellow."""
    from scipy import ndimage
    from PIL import Image, ImageDraw

    other = [c for c in recs if c.get("native_hit_blobs") and not c.get("native_hit")]
    rng = random.Random(args.sheet_seed)
    pick = rng.sample(other, min(n, len(other)))
    by_name = {r["filename"]: r for r in common.read_manifest(args.data)}
    tiles = []
    for c in pick:
        rgb = common.decode_rgb(common.file_path(args.data, by_name[c["file"]]))
        H, W = rgb.shape[:2]
        _, blobs = stain(rgb)
        sc = 2
        im = np.asarray(Image.fromarray(rgb).resize((W * sc, H * sc), Image.NEAREST)).copy()
        for j, b in enumerate(blobs):
            e = b & ~ndimage.binary_erosion(b)
            im[np.kron(e, np.ones((sc, sc), bool))] = (0, 230, 0) if j == 0 else (0, 220, 255)
        img = Image.fromarray(im)
        d = ImageDraw.Draw(img)
        x, y = c["native_peak"][0] * sc, c["native_peak"][1] * sc
        d.line([(x - 7, y), (x + 7, y)], fill=(255, 230, 0), width=2)
        d.line([(x, y - 7), (x, y + 7)], fill=(255, 230, 0), width=2)
        t = Image.new("RGB", (300, 300))
        t.paste(img.crop((0, 0, min(300, img.size[0]), min(300, img.size[1]))), (0, 0))
        tiles.append(np.asarray(t))
    while len(tiles) % 6:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.concatenate(tiles[i : i + 6], 1) for i in range(0, len(tiles), 6)]
    Image.fromarray(np.concatenate(rows, 0)).resize((1200, 200 * len(rows))).quantize(
        colors=256, method=Image.MEDIANCUT
    ).save(args.sheet, optimize=True)


def method_keys(configs):
    keys = ["cam", "cam_any"]
    for k, s in configs:
        keys += [f"occ{k}_{s}", f"occ{k}_{s}_any", f"occ{k}_{s}_p"]
    return keys


def rescore(args):
    """Score a --json of an earlier PyTorch run again (its peaks), and redraw its sheet from its
    --maps, without PyTorch: for a change of the stain rule."""
    with open(args.rescore) as f:
        old = json.load(f)
    recs = old["cells"]
    configs = [tuple(int(v) for v in c.split("/")) for c in args.configs.split(",")]
    keys = method_keys(configs)
    score_cells(args.data, recs, keys)
    summary = {
        **{k: v for k, v in old["summary"].items() if k not in ("methods",)},
        **summarize(recs, keys),
    }
    for key, v in old["summary"].get("methods", {}).items():
        for extra in ("seconds_per_cell_torch", "passes_max", "passes_mean"):
            if extra in v and key in summary["methods"]:
                summary["methods"][key][extra] = v[extra]
    print(json.dumps(summary, indent=1))
    if args.json:
        write_json(args.json, summary, recs)
    if args.sheet and args.maps:
        maps = np.load(args.maps)
        by_name = {r["filename"]: r for r in common.read_manifest(args.data)}
        rng = random.Random(args.sheet_seed)
        pick = set(r["file"] for r in rng.sample(recs, min(50, len(recs))))
        tag = f"occ{configs[0][0]}_{configs[0][1]}"
        items = []
        for rec in recs:
            if rec["file"] not in pick:
                continue
            rgb = common.decode_rgb(common.file_path(args.data, by_name[rec["file"]]))
            cell, blobs = stain(rgb)
            m = maps[rec["file"].replace(".", "_")]
            items.append(sheet_item(rgb, blobs, rec, tag, m[1]))
        draw_sheet(args.sheet, items)


def sheet_item(rgb, blobs, rec, tag, omap):
    return {
        "rgb": rgb,
        "blobs": blobs,
        "cam": rec["cam_peak"],
        "occ": rec[tag + "_peak"],
        "omap": omap,
        "occ_hit": rec.get(tag + "_hit_blobs", False),
        "label": f"{rec['slide']} p={rec['p']:.2f}" + ("" if blobs else " no stain"),
    }


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default="model")
    ap.add_argument(
        "--configs",
        default="6/4,8/4,12/4",
        help="patch/stride pairs, comma separated; the first is drawn on the sheet",
    )
    ap.add_argument("--limit", type=int, default=0, help="first N cells only (a quick look)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--sheet",
        help="contact sheet of 50 cells (PNG); with --native: of 24 cells whose "
        "peak lies on a stain blob other than the largest",
    )
    ap.add_argument("--sheet-seed", type=int, default=15)
    ap.add_argument("--json", help="results (JSON)")
    ap.add_argument("--maps", help="per-cell maps (npz, for a closer look)")
    ap.add_argument(
        "--split",
        default="test",
        choices=["test", "val"],
        help="whose parasitized cells (the configuration was chosen on val)",
    )
    ap.add_argument(
        "--native",
        metavar="DIR",
        help="score the C++ engine's maps instead: DIR holds NAME.cam.json of "
        "'malaria-classify --cam DIR' run over the same cells (no PyTorch)",
    )
    ap.add_argument(
        "--compare",
        metavar="JSON",
        help="with --native: a --json of this script's PyTorch run, to compare peaks",
    )
    ap.add_argument("--list", action="store_true", help="print the cells' paths and stop")
    ap.add_argument(
        "--rescore",
        metavar="JSON",
        help="score the peaks of an earlier run's --json again (and redraw --sheet from its --maps)",
    )
    args = ap.parse_args()
    if args.rescore:
        return rescore(args)
    if args.list:
        print("\n".join(common.file_path(args.data, r) for r in parasitized_rows(args)))
        return
    if args.native:
        return score_native(args)

    import torch

    torch.set_num_threads(args.threads)
    net = Net(args.model)
    S = net.S
    configs = [tuple(int(v) for v in c.split("/")) for c in args.configs.split(",")]
    rows = parasitized_rows(args)
    rng = random.Random(args.sheet_seed)
    sheet_set = set(r["filename"] for r in rng.sample(rows, min(50, len(rows))))

    recs, sheet_maps, maps = [], {}, {}
    t_start = time.time()
    for i, r in enumerate(rows):
        rgb = common.decode_rgb(common.file_path(args.data, r))
        H, W = rgb.shape[:2]
        x = common.area_resize_u8(rgb, S)
        mask_s = cell_mask_s(x)
        z0 = net.logits(x[None])[0]
        rec = {
            "file": r["filename"],
            "slide": r["slide"],
            "w": W,
            "h": H,
            "p": float(net.p(z0[None])[0]),
        }

        def score(name, m):
            for suffix, msk in (("", mask_s), ("_any", np.ones_like(mask_s))):
                px, py = peak(m, msk)
                rec[name + suffix + "_peak"] = [
                    round(float(px * W / S), 2),
                    round(float(py * H / S), 2),
                ]
            return rec[name + "_peak"]

        cam = net.cam(x)
        score("cam", cam)  # records the CAM peak in rec
        omaps = {}
        for k, s in configs:
            mz, mp, dt, npass = occlusion(net, x, k, s)
            tag = f"occ{k}_{s}"
            rec[tag + "_passes"] = npass
            score(tag, mz)
            score(tag + "_p", mp)
            rec[tag + "_s"] = round(dt, 4)
            omaps[tag] = mz
        recs.append(rec)
        if args.maps:
            maps[r["filename"]] = np.stack([cam] + [omaps[f"occ{k}_{s}"] for k, s in configs])
        if r["filename"] in sheet_set:
            k, s = configs[0]
            sheet_maps[r["filename"]] = omaps[f"occ{k}_{s}"]
        if (i + 1) % 50 == 0 or i + 1 == len(rows):
            el = time.time() - t_start
            print(
                f"{i + 1}/{len(rows)} cells, {el:.0f} s, eta {el / (i + 1) * (len(rows) - i - 1):.0f} s",
                flush=True,
            )

    # scores and summary
    keys = method_keys(configs)
    score_cells(args.data, recs, keys)
    summary = {"split": args.split, "S": S, **summarize(recs, keys)}
    for k, s in configs:
        t = [r[f"occ{k}_{s}_s"] for r in recs]
        summary["methods"][f"occ{k}_{s}"]["seconds_per_cell_torch"] = round(float(np.median(t)), 4)
        summary["methods"][f"occ{k}_{s}"]["passes_max"] = 1 + len(positions(S, k, s)) ** 2
        summary["methods"][f"occ{k}_{s}"]["passes_mean"] = round(
            float(np.mean([r[f"occ{k}_{s}_passes"] for r in recs])), 1
        )
    summary["torch_threads"] = args.threads
    print(json.dumps(summary, indent=1))
    if args.json:
        write_json(args.json, summary, recs)
    if args.sheet and sheet_maps:
        k, s = configs[0]
        by_name = {r["filename"]: r for r in rows}
        items = []
        for rec in recs:
            if rec["file"] in sheet_maps:
                rgb = common.decode_rgb(common.file_path(args.data, by_name[rec["file"]]))
                items.append(
                    sheet_item(rgb, stain(rgb)[1], rec, f"occ{k}_{s}", sheet_maps[rec["file"]])
                )
        draw_sheet(args.sheet, items)
    if args.maps:
        np.savez_compressed(args.maps, **{k.replace(".", "_"): v for k, v in maps.items()})


if __name__ == "__main__":
    main()
