#!/usr/bin/python3
"""Does adapting the classifier's last layer to field crops pay? A measurement, cross-fitted.

The shipped network's body is kept; only its final linear layer (512 -> 2) is refitted, on the
NIH training slides' cells together with the crops of cells found in IML fields (matched to the
annotated boxes as bench/field_eval.py matches them). The IML fields are cut into folds by field;
each fold is scored by a head fitted without it, so no field is scored by a head that saw it.

    /usr/bin/python3 model/adapt_fields.py --iml ../shared/data/iml_fields_dev \\
        --cells model/cache/cells_S64.npz [--cli build/wasm/malaria-classify] [--folds 4]

Reported, for the shipped head and the refitted one (band and temperature of the shipped model):
on the IML fields, false positives per 1,000 matched uninfected cells, infected-cell recall,
the uncertain share and the median per-field parasitemia error; on the NIH test slides,
accuracy and the share in the band. Nothing is written to model/: this is the experiment.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "bench"))
import common  # noqa: E402
import export  # noqa: E402
import field_eval  # noqa: E402


def body_features(model, X_u8, mean, std, batch=256):
    import torch

    feats = []
    fc, model.fc = model.fc, torch.nn.Identity()
    try:
        with torch.no_grad():
            for i in range(0, len(X_u8), batch):
                x = (X_u8[i : i + batch].astype(np.float32) / 255.0 - mean) / std
                feats.append(model(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy())
    finally:
        model.fc = fc
    return np.concatenate(feats)


def fit_head(F, y, w, W0, b0, l2=1e-3, steps=300):
    """Weighted two-class logistic regression on features F, started from the shipped head
    (W0: 2x512, b0: 2), by L-BFGS in torch; returns (W, b) of a two-logit head."""
    import torch

    Ft, yt, wt = torch.from_numpy(F), torch.from_numpy(y.astype(np.float32)), torch.from_numpy(w)
    d = torch.from_numpy((W0[1] - W0[0]).astype(np.float32)).clone().requires_grad_(True)
    c = torch.tensor(float(b0[1] - b0[0]), requires_grad=True)
    d0 = torch.from_numpy((W0[1] - W0[0]).astype(np.float32))
    opt = torch.optim.LBFGS([d, c], max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        z = Ft @ d + c
        loss = (
            wt * torch.nn.functional.binary_cross_entropy_with_logits(z, yt, reduction="none")
        ).sum() / wt.sum()
        loss = loss + l2 * ((d - d0) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    d, c = d.detach().numpy(), float(c.detach())
    W = np.stack([np.zeros_like(d), d]).astype(np.float32)
    return W, np.array([0.0, c], dtype=np.float32)


def p_of(F, W, b, T):
    z = (F @ W[1] + b[1]) - (F @ W[0] + b[0])
    return 1 / (1 + np.exp(-z / T))


def iml_field_crops(cli, iml, size=64):
    """The IML dev fields' counted cells as the CLI finds and crops them, each matched to a box
    as bench/field_eval.py matches them: (rows, cells by file, matches, keys (file, cell),
    crops resized to size x size, uint8)."""
    with tempfile.TemporaryDirectory() as tmp:
        rows, _ = field_eval.run_cli(cli, None, field_eval.images(iml), ["--crops", tmp])
        _, matches = field_eval.iml_scores(rows, os.path.join(iml, "annotations.json"))
        _, cells, _ = field_eval.by_file(rows)
        keys, crops = [], []
        for name in sorted(cells):
            stem = os.path.splitext(name)[0]
            for c in cells[name]:
                img = common.decode_rgb(os.path.join(tmp, f"{stem}.cell{c['cell']}.png"))
                crops.append(common.area_resize_u8(img, size))
                keys.append((name, c["cell"]))
    return rows, cells, matches, keys, np.stack(crops)


def features(args, model, mean, std):
    """Body features and labels: IML crops (found and cut by the CLI, matched to the boxes) and
    the NIH cells of the training and test slides."""
    _, cells, matches, keys, crops = iml_field_crops(args.cli, args.iml)
    Fi = body_features(model, crops, mean, std)
    p_cli = np.array(
        [next(c["p_parasitized"] for c in cells[n] if c["cell"] == i) for n, i in keys]
    )
    label = {(m["field"], m["cell"]): int(m["infected"]) for m in matches}
    fld = np.array([n for n, _ in keys])
    y_iml = np.array([label.get(k, -1) for k in keys])

    # NIH: train slides to fit, test slides to check
    d = np.load(args.cells)
    split = common.load_split(os.path.join(HERE, "splits"))
    tr = np.isin(d["slides"], split["train"])
    te = np.isin(d["slides"], split["test"])
    Fn_tr = body_features(model, d["X"][tr], mean, std)
    Fn_te = body_features(model, d["X"][te], mean, std)
    yn_tr, yn_te = d["y"][tr], d["y"][te]
    return Fi, p_cli, fld, y_iml, Fn_tr, yn_tr, Fn_te, yn_te


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--iml", required=True)
    ap.add_argument("--cells", required=True, help="model/cache/cells_S64.npz (train.py's cache)")
    ap.add_argument("--cli", default=os.path.join(REPO, "build/wasm/malaria-classify"))
    ap.add_argument("--model", default=os.path.join(HERE, export.BASENAME + ".safetensors"))
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--iml-weight", type=float, default=1.0, help="weight of IML cells vs NIH")
    ap.add_argument(
        "--pos-weight", type=float, default=1.0, help="extra weight of IML infected cells"
    )
    ap.add_argument("--features", default=None, help="cache of the features (.npz), reused")
    ap.add_argument("--out", default=None, help="results JSON")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(2)
    meta = json.load(open(os.path.join(os.path.dirname(args.model), export.BASENAME + ".json")))
    mean = np.array(meta["input"]["mean"], dtype=np.float32)
    std = np.array(meta["input"]["std"], dtype=np.float32)
    T = meta["calibration"]["temperature"]
    lo, hi = meta["calibration"]["band"]
    tensors, _ = export.read_safetensors(args.model)
    model = export.load_model({k: torch.from_numpy(v) for k, v in tensors.items()})
    W0, b0 = tensors["fc.weight"].astype(np.float32), tensors["fc.bias"].astype(np.float32)

    if args.features and os.path.exists(args.features):
        z = np.load(args.features, allow_pickle=False)
        Fi, p_cli, fld, y_iml = z["Fi"], z["p_cli"], z["fld"], z["y_iml"]
        Fn_tr, yn_tr, Fn_te, yn_te = z["Fn_tr"], z["yn_tr"], z["Fn_te"], z["yn_te"]
    else:
        Fi, p_cli, fld, y_iml, Fn_tr, yn_tr, Fn_te, yn_te = features(args, model, mean, std)
        if args.features:
            np.savez(
                args.features,
                Fi=Fi,
                p_cli=p_cli,
                fld=fld,
                y_iml=y_iml,
                Fn_tr=Fn_tr,
                yn_tr=yn_tr,
                Fn_te=Fn_te,
                yn_te=yn_te,
            )
    p_ship = p_of(Fi, W0, b0, T)
    print(
        f"check: shipped head in torch vs the CLI's p on IML crops: max |dp| = "
        f"{np.abs(p_ship - p_cli).max():.4f} (int8 engine vs float)"
    )

    names = sorted(set(fld))
    fold_of = {n: i % args.folds for i, n in enumerate(names)}
    p_adapt = np.zeros(len(Fi))
    nih_acc = []
    for k in range(args.folds):
        fit = (np.array([fold_of[n] for n in fld]) != k) & (y_iml >= 0)
        F = np.concatenate([Fn_tr, Fi[fit]])
        y = np.concatenate([yn_tr, y_iml[fit]])
        w_iml = args.iml_weight * len(Fn_tr) / max(fit.sum(), 1) * 0.25
        w_i = np.where(y_iml[fit] == 1, w_iml * args.pos_weight, w_iml)
        w = np.concatenate([np.ones(len(Fn_tr)), w_i]).astype(np.float32)
        W, b = fit_head(F, y, w, W0, b0)
        held = np.array([fold_of[n] for n in fld]) == k
        p_adapt[held] = p_of(Fi[held], W, b, T)
        nih_acc.append(float(((p_of(Fn_te, W, b, T) > 0.5) == yn_te).mean()))

    def report(p, tag):
        m = y_iml >= 0
        unin, inf = m & (y_iml == 0), m & (y_iml == 1)
        errs = []
        ann = {
            a["image_name"]: a for a in json.load(open(os.path.join(args.iml, "annotations.json")))
        }
        for n in names:
            sel = fld == n
            allb = [o for o in ann[n]["objects"] if o["type"] != "difficult"]
            true_p = sum(o["type"] != "red blood cell" for o in allb) / max(len(allb), 1)
            errs.append(abs((p[sel] > hi).mean() - true_p) * 100)
        r = dict(
            fp_per_1000=1000 * float((p[unin] > hi).mean()),
            infected_recall=float((p[inf] > hi).mean()),
            infected=int(inf.sum()),
            uninfected=int(unin.sum()),
            uncertain_share=float(((p >= lo) & (p <= hi)).mean()),
            median_parasitemia_error_pp=statistics.median(errs),
        )
        print(tag, json.dumps(r))
        return r

    out = dict(
        shipped_torch=report(p_ship, "IML, shipped head (float):"),
        shipped_cli=report(p_cli, "IML, shipped head (CLI int8):"),
        adapted=report(p_adapt, f"IML, refitted head ({args.folds}-fold by field):"),
        nih_test_accuracy_shipped=float(((p_of(Fn_te, W0, b0, T) > 0.5) == yn_te).mean()),
        nih_test_accuracy_adapted_per_fold=nih_acc,
    )
    print("NIH test accuracy: shipped", out["nih_test_accuracy_shipped"], "refitted", nih_acc)
    if args.out:
        json.dump(out, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
