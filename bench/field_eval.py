#!/usr/bin/python3
"""Measure the field pipeline (cell finding, counting, parasitemia) as the CLI runs it.

    /usr/bin/python3 bench/field_eval.py --iml ../shared/data/iml_fields_dev \\
        --chula ../shared/data/chula_rbc_dev [--cli build/wasm/malaria-classify] \\
        [--model model/malaria_resnet18.mcb] [--pictures docs/field] [--out bench/results/field.json]

IML-Malaria fields (every red cell boxed; infected cells boxed with their stage):
  a found cell matches a box when its centre lies in the box, one to one (nearest box centre
  first); boxes and cells touching the image border (within 2 px) are left out on both sides;
  'difficult' boxes are ignored. Reported: cell recall and precision, per-field count error,
  parasitemia error (field's called parasitized / counted against annotated infected / boxed),
  false positives (matched uninfected cells in the parasitized band) per 1,000, infected recall,
  the share of counted cells in the uncertain band.
Chula RBC-12 fields (whole red cells marked by their centre): the count of counted cells against
  the marks farther than 0.6 cell diameters from the border (cells cut by the border are not
  counted by us and not always marked there), and the share of those marks that lie in exactly
  one counted cell's box. A second reading of the same marks, for how much the border rule moves
  the figure: a mark is a whole cell when it lies in a counted cell's box, or (a cell we did not
  count) when its centre is farther than a radius (half the field's cell diameter) + 2 px from
  the border, so that the cell cannot touch it.
  Chula's cells carry no parasites (anaemia and other disorders): every counted cell called
  parasitized is a false positive, and the pooled parasitemia (Wilson 95% interval) is what a
  parasite-free sample from another microscope reports. The uncertain share is given per
  morphology class of the marks (0: normal), each mark read in the counted cell whose box holds it
  (the nearest box centre).
Pictures (--pictures): overlays of the three best- and three worst-counted Chula fields, and a
  contact sheet of Chula's crops (as classified) in the uncertain band, the highest p first; with
  --iml-pictures also the IML fields' overlays and contact sheets of the crops of annotated
  infected cells and of uninfected cells called parasitized (the IML set carries no licence:
  look at them locally, commit none).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def run_cli(cli, model, files, extra):
    cmd = [cli, "--mode", "field"] + (["--model", model] if model else []) + extra + files
    p = subprocess.run(cmd, capture_output=True, text=True)
    rows = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return rows, p.stderr


def add_data_args(ap):
    """The data sets and the CLI, as every field script takes them."""
    ap.add_argument("--iml", required=True, help="iml_fields_dev (images/, annotations.json)")
    ap.add_argument("--chula", required=True, help="chula_rbc_dev (images/, labels/)")
    ap.add_argument("--cli", default=os.path.join(REPO, "build/wasm/malaria-classify"))


def images(data_dir):
    """A data set's field images, sorted by path."""
    return sorted(
        os.path.join(data_dir, "images", f) for f in os.listdir(os.path.join(data_dir, "images"))
    )


def by_file(rows):
    fields, cells, errors = {}, {}, {}
    for r in rows:
        name = os.path.basename(r["file"])
        if "error" in r:
            errors[name] = r["error"]
        elif r.get("mode") == "field":
            fields[name] = r
        elif "cell" in r:
            cells.setdefault(name, []).append(r)
    return fields, cells, errors


def iml_scores(rows, ann_path, W=1280, H=960):
    fields, cells, errors = by_file(rows)
    ann = {a["image_name"]: a for a in json.load(open(ann_path))}
    near = lambda x, y, w, h: x <= 2 or y <= 2 or x + w >= W - 2 or y + h >= H - 2
    tp = nb = nd = 0
    unin = fp = inf_n = inf_hit = inf_cleared = unc = counted = 0
    per_field, matches = [], []
    for name in sorted(ann):
        if name not in fields:
            per_field.append(dict(field=name, error=errors.get(name, "no result")))
            continue
        boxes = [(o["type"], *[float(o["bbox"][k]) for k in "xywh"]) for o in ann[name]["objects"]]
        allb = [b for b in boxes if b[0] != "difficult"]
        gt = [b for b in allb if not near(*b[1:])]
        det = [c for c in cells.get(name, []) if not near(c["x"], c["y"], c["w"], c["h"])]
        used = set()
        nb += len(gt)
        nd += len(det)
        for c in det:
            cx, cy = c["x"] + c["w"] / 2, c["y"] + c["h"] / 2
            cand = [
                (abs(cx - (b[1] + b[3] / 2)) + abs(cy - (b[2] + b[4] / 2)), i)
                for i, b in enumerate(gt)
                if i not in used and b[1] <= cx <= b[1] + b[3] and b[2] <= cy <= b[2] + b[4]
            ]
            if not cand:
                continue
            i = min(cand)[1]
            used.add(i)
            tp += 1
            infected = gt[i][0] != "red blood cell"
            matches.append(
                dict(
                    field=name,
                    cell=c["cell"],
                    infected=infected,
                    stage=gt[i][0],
                    p=c["p_parasitized"],
                    band=c["band"],
                )
            )
            if infected:
                inf_n += 1
                inf_hit += c["band"] == "parasitized"
                inf_cleared += c["band"] == "uninfected"  # not even sent to review
            else:
                unin += 1
                fp += c["band"] == "parasitized"
        f = fields[name]
        counted += f["cells"]
        unc += f["uncertain"]
        true_p = sum(b[0] != "red blood cell" for b in allb) / max(len(allb), 1)
        per_field.append(
            dict(
                field=name,
                boxes=len(gt),
                found=len(det),
                matched=len(used),
                count_error=abs(len(det) - len(gt)) / max(len(gt), 1),
                parasitemia=f["parasitemia"],
                annotated_parasitemia=true_p,
                parasitemia_error_pp=abs(f["parasitemia"] - true_p) * 100,
                uncertain=f["uncertain"],
                counted=f["cells"],
                excluded=f["excluded_by"],
                ms=f.get("ms"),
            )
        )
    ok = [p for p in per_field if "error" not in p]
    return (
        dict(
            fields=len(ann),
            fields_with_result=len(ok),
            recall=tp / max(nb, 1),
            precision=tp / max(nd, 1),
            median_count_error=statistics.median(p["count_error"] for p in ok) if ok else None,
            median_parasitemia_error_pp=statistics.median(p["parasitemia_error_pp"] for p in ok)
            if ok
            else None,
            false_positives_per_1000_uninfected=1000 * fp / max(unin, 1),
            uninfected_matched=unin,
            infected_recall=inf_hit / max(inf_n, 1),
            infected_matched=inf_n,
            infected_called_uninfected=inf_cleared,
            uncertain_share=unc / max(counted, 1),
            counted=counted,
            median_ms_per_field=statistics.median(p["ms"] for p in ok if p.get("ms"))
            if ok
            else None,
            white_excluded=sum(p["excluded"]["white"] for p in ok),
            per_field=per_field,
        ),
        matches,
    )


def chula_marks(data_dir, stem):
    """A Chula field's marked cells: [(x, y, morphology class)]."""
    out = []
    for line in open(os.path.join(data_dir, "labels", stem + ".txt")):
        if line.strip():
            x, y, t = line.split()[:3]
            out.append((float(x), float(y), int(t)))
    return out


def chula_scores(rows, data_dir, pooled=None):
    fields, cells, errors = by_file(rows)
    out = []
    for name in sorted(fields, key=lambda s: int(os.path.splitext(s)[0])):
        stem = os.path.splitext(name)[0]
        marks = [(x, y) for x, y, _ in chula_marks(data_dir, stem)]
        f = fields[name]
        d = f.get("cell_diameter") or 40
        W, H = 640, 480
        inner = [(x, y) for x, y in marks if min(x, y, W - x, H - y) > 0.6 * d]
        cs = cells.get(name, [])

        def in_counted(x, y):
            return any(
                c["x"] <= x <= c["x"] + c["w"] and c["y"] <= y <= c["y"] + c["h"] for c in cs
            )

        whole = [
            (x, y) for x, y in marks if in_counted(x, y) or min(x, y, W - x, H - y) > d / 2 + 2
        ]
        once = sum(
            1
            for x, y in inner
            if sum(
                1 for c in cs if c["x"] <= x <= c["x"] + c["w"] and c["y"] <= y <= c["y"] + c["h"]
            )
            == 1
        )
        out.append(
            dict(
                field=name,
                marks=len(marks),
                marks_inner=len(inner),
                counted=f["cells"],
                count_error=(f["cells"] - len(inner)) / max(len(inner), 1),
                marks_whole=len(whole),
                count_error_whole=(f["cells"] - len(whole)) / max(len(whole), 1),
                marks_in_one_cell=once / max(len(inner), 1),
            )
        )
    return dict(
        per_field=out,
        median_abs_count_error=statistics.median(abs(p["count_error"]) for p in out)
        if out
        else None,
        within_5pct=sum(abs(p["count_error"]) <= 0.05 for p in out),
        median_abs_count_error_whole=statistics.median(abs(p["count_error_whole"]) for p in out)
        if out
        else None,
        within_5pct_whole=sum(abs(p["count_error_whole"]) <= 0.05 for p in out),
        fields=len(out),
        marks_in_one_cell=sum(p["marks_in_one_cell"] * p["marks_inner"] for p in out)
        / max(sum(p["marks_inner"] for p in out), 1),
        parasite_free=parasite_free(fields, cells, data_dir, pooled),
    )


def parasite_free(fields, cells, data_dir, pooled):
    """Chula has no parasites: the calls on its counted cells (pooled: the CLI's line for the
    fields pooled, with its Wilson interval), and the uncertain share by the marks' morphology
    class."""
    n = sum(f["cells"] for f in fields.values())
    k = sum(f["parasitized"] for f in fields.values())
    by_class = {}
    for name, cs in cells.items():
        for x, y, t in chula_marks(data_dir, os.path.splitext(name)[0]):
            holding = [
                c for c in cs if c["x"] <= x < c["x"] + c["w"] and c["y"] <= y < c["y"] + c["h"]
            ]
            if not holding:
                continue
            c = min(
                holding,
                key=lambda c: (c["x"] + c["w"] / 2 - x) ** 2 + (c["y"] + c["h"] / 2 - y) ** 2,
            )
            b = by_class.setdefault(str(t), dict(cells=0, uncertain=0, parasitized=0))
            b["cells"] += 1
            b["uncertain"] += c["band"] == "uncertain"
            b["parasitized"] += c["band"] == "parasitized"
    return dict(
        counted=n,
        parasitized=k,
        uncertain=sum(f["uncertain"] for f in fields.values()),
        pooled=pooled,
        by_class=by_class,
    )


def pictures(
    out_dir,
    matches,
    iml_overlay_dir,
    crops_dir,
    chula_rows,
    chula_scores_,
    chula_overlay_dir,
    chula_crops_dir,
    include_iml,
):
    """Overlays and contact sheets. The IML fields carry no licence: pictures made from them are
    written only with include_iml (for a local look, never committed); the Chula fields are MIT."""
    from PIL import Image, ImageDraw

    os.makedirs(out_dir, exist_ok=True)
    written = []
    per = sorted(chula_scores_["per_field"], key=lambda p: abs(p["count_error"]))
    for p in per[:3] + per[-3:]:  # best and worst counts
        stem = os.path.splitext(p["field"])[0]
        src = os.path.join(chula_overlay_dir, stem + ".overlay.png")
        if os.path.exists(src):
            im = Image.open(src).convert("RGB")
            im.thumbnail((800, 800))
            dst = os.path.join(out_dir, "overlay_chula_%s.jpg" % stem)
            im.save(dst, quality=82)
            written.append(dst)

    def sheet(items, path, title, crops_dir=crops_dir):
        S, cols = 72, 12
        rows_ = (len(items) + cols - 1) // cols
        im = Image.new("RGB", (cols * S, 18 + rows_ * (S + 14)), "white")
        d = ImageDraw.Draw(im)
        d.text((4, 3), title, fill=(0, 0, 0))
        for k, m in enumerate(items):
            f = os.path.join(crops_dir, os.path.splitext(m["field"])[0] + ".cell%d.png" % m["cell"])
            if not os.path.exists(f):
                continue
            c = Image.open(f).convert("RGB")
            k_ = (S - 4) / max(c.size)  # small crops (Chula's ~40 px cells) drawn as large
            c = c.resize((max(1, round(c.size[0] * k_)), max(1, round(c.size[1] * k_))))
            x, y = (k % cols) * S, 18 + (k // cols) * (S + 14)
            im.paste(c, (x + 2, y + 2))
            col = (
                (200, 0, 0)
                if m["band"] == "parasitized"
                else (200, 130, 0)
                if m["band"] == "uncertain"
                else (0, 140, 0)
            )
            d.text((x + 2, y + S - 2), "%.2f" % m["p"], fill=col)
        im.save(path, optimize=True)
        written.append(path)

    _, chula_cells, _ = by_file(chula_rows)
    uncertain = sorted(
        (
            dict(c, field=os.path.basename(c["file"]), p=c["p_parasitized"])
            for cs in chula_cells.values()
            for c in cs
            if c["band"] == "uncertain"
        ),
        key=lambda c: -c["p"],
    )
    sheet(
        uncertain[:96],
        os.path.join(out_dir, "chula_crops_uncertain.png"),
        "Chula RBC-12 (no parasites): counted cells in the uncertain band, highest p first",
        crops_dir=chula_crops_dir,
    )
    if not include_iml:
        return written
    for f in sorted(os.listdir(iml_overlay_dir)):
        im = Image.open(os.path.join(iml_overlay_dir, f)).convert("RGB")
        im.thumbnail((800, 800))
        dst = os.path.join(out_dir, "iml_" + os.path.splitext(f)[0] + ".jpg")
        im.save(dst, quality=82)
        written.append(dst)

    infected = [m for m in matches if m["infected"]]
    false_pos = [m for m in matches if not m["infected"] and m["band"] == "parasitized"]
    sheet(
        infected[:60],
        os.path.join(out_dir, "iml_crops_infected.png"),
        "IML annotated infected cells: crops as classified (p; red parasitized, amber uncertain, green uninfected)",
    )
    sheet(
        false_pos[:60],
        os.path.join(out_dir, "iml_crops_false_positive.png"),
        "IML uninfected cells called parasitized (p)",
    )
    return written


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_data_args(ap)
    ap.add_argument("--model", default=None)
    ap.add_argument(
        "--pictures", default=None, help="folder for overlays (Chula) and contact sheets"
    )
    ap.add_argument(
        "--iml-pictures",
        action="store_true",
        help="also pictures of the IML fields (no licence: for a local look, never commit them)",
    )
    ap.add_argument("--out", default=None, help="results JSON")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="field_eval_")
    ov, crops = os.path.join(tmp, "overlay"), os.path.join(tmp, "crops")
    iml_files = images(args.iml)
    iml_rows, err = run_cli(args.cli, args.model, iml_files, ["--overlay", ov, "--crops", crops])
    pooled = [l for l in err.splitlines() if "pooled" in l]
    iml, matches = iml_scores(iml_rows, os.path.join(args.iml, "annotations.json"))
    chula_files = images(args.chula)
    chula_ov = os.path.join(tmp, "chula_overlay")
    chula_crops = os.path.join(tmp, "chula_crops")
    chula_rows, chula_err = run_cli(
        args.cli, args.model, chula_files, ["--overlay", chula_ov, "--crops", chula_crops]
    )
    chula_pooled = [l for l in chula_err.splitlines() if "pooled" in l]
    chula = chula_scores(chula_rows, args.chula, chula_pooled[-1] if chula_pooled else None)
    res = dict(
        cli=args.cli,
        model=args.model or "default",
        iml=iml,
        chula=chula,
        pooled_iml=pooled[-1] if pooled else None,
        iml_matched_cells=[
            {k: m[k] for k in ("field", "cell", "infected", "stage", "p", "band")} for m in matches
        ],
    )
    print(
        f"IML ({iml['fields_with_result']}/{iml['fields']} fields): cells recall {iml['recall']*100:.1f}% "
        f"precision {iml['precision']*100:.1f}%, median count error {iml['median_count_error']*100:.1f}%, "
        f"median parasitemia error {iml['median_parasitemia_error_pp']:.2f} pp, false positives "
        f"{iml['false_positives_per_1000_uninfected']:.1f} per 1,000 uninfected ({iml['uninfected_matched']}), "
        f"infected recall {iml['infected_recall']*100:.0f}% of {iml['infected_matched']} "
        f"({iml['infected_called_uninfected']} called uninfected, the rest to review), uncertain "
        f"{iml['uncertain_share']*100:.1f}% of {iml['counted']} counted, white cells excluded {iml['white_excluded']}, "
        f"median {iml['median_ms_per_field']:.0f} ms per field (native, find + classify)"
    )
    print(
        f"Chula ({chula['fields']} fields): median |count error| {chula['median_abs_count_error']*100:.1f}%, "
        f"{chula['within_5pct']}/{chula['fields']} fields within 5%, marks in exactly one cell "
        f"{chula['marks_in_one_cell']*100:.1f}%; read by the cell's radius: median "
        f"{chula['median_abs_count_error_whole']*100:.1f}%, {chula['within_5pct_whole']}/{chula['fields']} "
        f"within 5% (per field: "
        + ", ".join(
            f"{os.path.splitext(p['field'])[0]}: {p['marks_whole']}/{p['counted']}/"
            f"{p['count_error_whole']*100:+.1f}%"
            for p in chula["per_field"]
        )
        + ")"
    )
    pf = chula["parasite_free"]
    print(
        f"Chula, no parasites: {pf['parasitized']} of {pf['counted']} counted cells called parasitized, "
        f"{pf['uncertain']} uncertain ({pf['pooled']}); uncertain share by the marks' class: "
        + ", ".join(
            f"{t}: {b['uncertain']}/{b['cells']}"
            for t, b in sorted(pf["by_class"].items(), key=lambda kv: int(kv[0]))
        )
    )
    if args.pictures:
        res["pictures"] = pictures(
            args.pictures,
            matches,
            ov,
            crops,
            chula_rows,
            chula,
            chula_ov,
            chula_crops,
            args.iml_pictures,
        )
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
