#!/usr/bin/python3
"""Train the ResNet18 cell classifier, calibrate it, evaluate it on the test slides.

    /usr/bin/python3 model/train.py --data ../shared/data/nih_cells --size 64 --epochs 12

Stages (each resumable; finished stages are skipped on rerun):
  1. split   model/splits/{train,val,test}.txt (by slide; kept if present)
  2. cache   decoded + area-resized uint8 cells, model/cache/cells_S{S}.npz
  3. train   one-cycle AdamW, checkpoint every epoch to RUN/ckpt.pt, RUN/epochs.csv
  4. calib   temperature on the validation slides, "uncertain" band edges
  5. eval    test-slide metrics and per-cell predictions -> RUN/results.json
Export with model/export.py, report with model/report.py (run_all.sh does all).
"""
import argparse
import json
import math
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def _load_one(args):
    path, S = args
    return common.area_resize_u8(common.decode_rgb(path), S)


def build_cache(data_dir, S, cache_path):
    if os.path.exists(cache_path):
        return
    rows = common.read_manifest(data_dir)
    t0 = time.time()
    with Pool(os.cpu_count() or 2) as pool:
        imgs = pool.map(_load_one, [(common.file_path(data_dir, r), S) for r in rows], chunksize=64)
    X = np.stack(imgs)
    y = np.array([common.LABELS.index(r["class"]) for r in rows], dtype=np.int64)
    slides = np.array([r["slide"] for r in rows])
    names = np.array([r["class"] + "/" + r["filename"] for r in rows])
    os.makedirs(os.path.dirname(cache_path), exist_ok=True)
    tmp = cache_path + ".tmp.npz"
    np.savez(tmp, X=X, y=y, slides=slides, names=names)
    os.replace(tmp, cache_path)
    print(f"cache: {len(rows)} cells at {S}x{S} in {time.time() - t0:.0f} s", flush=True)


def load_sets(cache_path, split):
    d = np.load(cache_path)
    sets = {}
    for k, sl in split.items():
        m = np.isin(d["slides"], sl)
        sets[k] = dict(
            X=torch.from_numpy(d["X"][m]),
            y=torch.from_numpy(d["y"][m]),
            slides=d["slides"][m],
            names=d["names"][m],
        )
    return sets


def normalize(xb_u8, mean, std):
    """uint8 NHWC -> float NCHW (channels_last memory) normalized."""
    x = xb_u8.permute(0, 3, 1, 2).float().div_(255.0)
    x = (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
    return x.contiguous()


def augment(xb, gen, strong=False):
    """Label-preserving augmentation on a uint8 NHWC batch: the 8 dihedral symmetries, then
    colour jitter. Returns float NHWC 0..255.
      mild   (v1): brightness / contrast +-10%, per-channel gain +-5%.
      strong (v2): brightness / contrast +-20%, per-channel gain +-15%, saturation 0.6-1.4,
                   gamma 0.7-1.4, hue rotation +-12 degrees about the grey axis, a 3x3 blur on a
                   quarter of the cells. Stain and optics differ between patients and sites; the
                   black surround of a crop (outside the cell's mask) stays black."""
    n = xb.shape[0]
    x = xb.float()
    k = int(torch.randint(0, 4, (1,), generator=gen))
    x = torch.rot90(x, k, dims=(1, 2))
    flip = torch.rand(n, generator=gen) < 0.5
    x[flip] = x[flip].flip(2)
    if not strong:
        b = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.2  # brightness +-10%
        c = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.2  # contrast +-10%
        g = 1 + (torch.rand(n, 1, 1, 3, generator=gen) - 0.5) * 0.1  # per-channel gain +-5%
        m = x.mean(dim=(1, 2, 3), keepdim=True)
        x = ((x - m) * c + m) * b * g
        return x.clamp_(0, 255)
    surround = x.sum(dim=3, keepdim=True) <= 3  # the crop's black outside
    u = lambda *shape: torch.rand(n, *shape, generator=gen)
    x = x / 255.0
    x = x.pow(0.7 + 0.7 * u(1, 1, 1))  # gamma 0.7..1.4
    grey = x.mean(dim=3, keepdim=True)
    x = grey + (x - grey) * (0.6 + 0.8 * u(1, 1, 1))  # saturation 0.6..1.4
    # hue: rotate the colour about the (1,1,1) axis by theta (Rodrigues' formula)
    theta = (u() - 0.5) * (2 * math.pi * 24 / 360)
    cos, sin = torch.cos(theta), torch.sin(theta)
    a = (1 - cos) / 3
    s3 = sin / math.sqrt(3)
    R = torch.stack(
        [
            torch.stack([cos + a, a - s3, a + s3], 1),
            torch.stack([a + s3, cos + a, a - s3], 1),
            torch.stack([a - s3, a + s3, cos + a], 1),
        ],
        1,
    )  # n x 3 x 3
    x = torch.einsum("nhwc,ndc->nhwd", x, R)
    cell = ~surround
    cnt = cell.sum(dim=(1, 2, 3), keepdim=True).clamp(min=1)
    m = (x * cell).sum(dim=(1, 2), keepdim=True).sum(dim=3, keepdim=True) / (3 * cnt)
    x = (x - m) * (0.8 + 0.4 * u(1, 1, 1)) + m  # contrast +-20%
    x = x * (0.8 + 0.4 * u(1, 1, 1)) * (0.85 + 0.3 * u(1, 1, 3))  # brightness, gain
    blur = u() < 0.25
    if blur.any():
        xb_ = x[blur].permute(0, 3, 1, 2)
        xb_ = F.avg_pool2d(F.pad(xb_, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
        x[blur] = xb_.permute(0, 2, 3, 1)
    x = torch.where(surround, torch.zeros_like(x), x)
    return (x * 255.0).clamp_(0, 255)


@torch.no_grad()
def predict(model, X, mean, std, bs=256):
    model.eval()
    out = []
    for i in range(0, len(X), bs):
        out.append(model(normalize(X[i : i + bs], mean, std)).float())
    return torch.cat(out)


def fit_temperature(logits, y):
    logT = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([logT], lr=0.1, max_iter=200)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(logits / logT.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    return float(logT.exp())


def band_edges(p, y, max_err=0.01):
    """Smallest band [lo, hi] around 0.5 such that calls p >= hi are Parasitized with error
    <= max_err and calls p <= lo are Uninfected with error <= max_err (validation cells)."""
    p = np.asarray(p)
    y = np.asarray(y)
    order = np.sort(np.unique(p))
    hi = 1.0
    for t in order[order >= 0.5]:
        sel = p >= t
        if sel.sum() and (y[sel] == 0).mean() <= max_err:
            hi = float(t)
            break
    lo = 0.0
    for t in order[order <= 0.5][::-1]:
        sel = p <= t
        if sel.sum() and (y[sel] == 1).mean() <= max_err:
            lo = float(t)
            break
    return lo, hi


def roc_auc(p, y):
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y)
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    # average ranks for ties
    _, inv, cnt = np.unique(p, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    ranks = (sums / cnt)[inv]
    npos = (y == 1).sum()
    nneg = len(y) - npos
    return float((ranks[y == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def ece(p, y, bins=15):
    """Expected calibration error of the predicted class's confidence."""
    p = np.asarray(p)
    y = np.asarray(y)
    conf = np.maximum(p, 1 - p)
    pred = (p >= 0.5).astype(int)
    edges = np.linspace(0.5, 1.0, bins + 1)
    e = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        m = (conf > a) & (conf <= b) if a > 0.5 else (conf >= a) & (conf <= b)
        if m.sum():
            e += m.mean() * abs((pred[m] == y[m]).mean() - conf[m].mean())
    return float(e)


def metrics(p, y, slides):
    p = np.asarray(p)
    y = np.asarray(y)
    pred = (p >= 0.5).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    per_slide = {}
    for s in np.unique(slides):
        m = slides == s
        per_slide[str(s)] = dict(
            n=int(m.sum()),
            parasitized=int((y[m] == 1).sum()),
            accuracy=float((pred[m] == y[m]).mean()),
        )
    return dict(
        n=len(y),
        accuracy=float((pred == y).mean()),
        sensitivity=tp / max(tp + fn, 1),
        specificity=tn / max(tn + fp, 1),
        roc_auc=roc_auc(p, y),
        confusion=dict(tp=tp, fn=fn, fp=fp, tn=tn),
        per_slide=per_slide,
    )


def read_calibration(path):
    """T and band of a run folder (its results.json) or of an exported model's metadata JSON."""
    if os.path.isdir(path):
        path = os.path.join(path, "results.json")
    with open(path) as f:
        ref = json.load(f)
    ref = ref.get("calibration", ref)
    if "temperature" not in ref or "band" not in ref:
        sys.exit(f"{path}: no temperature and band in it")
    return ref


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--data", required=True, help="folder of the NIH cell images (with manifest.tsv)"
    )
    ap.add_argument("--size", type=int, default=64, help="input side S")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3, help="one-cycle peak learning rate")
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--run", default=None, help="run folder (default model/runs/S{S})")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--recipe",
        choices=["v1", "v2"],
        default="v1",
        help="v1: mild colour jitter; v2: strong stain/colour augmentation, label "
        "smoothing 0.1 and an exponential moving average of the weights",
    )
    ap.add_argument("--ema", type=float, default=0.998, help="EMA decay per step (recipe v2)")
    ap.add_argument(
        "--smoothing",
        type=float,
        default=None,
        help="label smoothing (default: 0.1 with v2, 0 with v1)",
    )
    ap.add_argument(
        "--all-slides",
        action="store_true",
        help="the final model: train on every slide (train + val + test); temperature "
        "and band are taken from --calib-from (a run of the same recipe on the split)",
    )
    ap.add_argument(
        "--calib-from",
        default=None,
        help="run folder whose results.json gives T and band, or an exported model's JSON",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    S = args.size
    run = args.run or os.path.join(HERE, "runs", f"S{S}")
    os.makedirs(run, exist_ok=True)

    split_dir = os.path.join(HERE, "splits")
    rows = common.read_manifest(args.data)
    if not os.path.exists(os.path.join(split_dir, "test.txt")):
        os.makedirs(split_dir, exist_ok=True)
        for k, v in common.make_split(rows).items():
            with open(os.path.join(split_dir, k + ".txt"), "w") as f:
                f.write("\n".join(v) + "\n")
    split = common.load_split(split_dir)

    cache = os.path.join(HERE, "cache", f"cells_S{S}.npz")
    build_cache(args.data, S, cache)
    sets = load_sets(cache, split)
    for k, v in sets.items():
        print(
            f"{k}: {len(split[k])} slides, {len(v['y'])} cells, {int(v['y'].sum())} parasitized",
            flush=True,
        )

    if args.all_slides:
        if not args.calib_from:
            sys.exit("--all-slides needs --calib-from RUN (a run of the same recipe on the split)")
        read_calibration(args.calib_from)  # fail now, not after hours of training
        sets["train"] = {
            k: (
                torch.cat([sets[s][k] for s in ("train", "val", "test")])
                if torch.is_tensor(sets["train"][k])
                else np.concatenate([sets[s][k] for s in ("train", "val", "test")])
            )
            for k in sets["train"]
        }
        print(f"all slides: training on {len(sets['train']['y'])} cells", flush=True)
    strong = args.recipe == "v2"
    smoothing = args.smoothing if args.smoothing is not None else (0.1 if strong else 0.0)
    Xtr = sets["train"]["X"]
    mean = Xtr.float().mean(dim=(0, 1, 2)) / 255.0
    std = (Xtr.float() / 255.0).std(dim=(0, 1, 2))
    norm = dict(mean=[round(float(v), 6) for v in mean], std=[round(float(v), 6) for v in std])
    mean = torch.tensor(norm["mean"])
    std = torch.tensor(norm["std"])

    model = common.build_model()
    ema = {k: v.detach().clone().float() for k, v in model.state_dict().items()} if strong else None
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd)
    steps_per_epoch = math.ceil(len(Xtr) / args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch, pct_start=0.25
    )
    ckpt_path = os.path.join(run, "ckpt.pt")
    csv_path = os.path.join(run, "epochs.csv")
    start_epoch, train_seconds = 0, 0.0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        start_epoch, train_seconds = ck["epoch"], ck["train_seconds"]
        torch.set_rng_state(ck["rng"])
        if ema is not None:
            ema = ck["ema"]
        print(f"resumed after epoch {start_epoch}", flush=True)
    elif os.path.exists(csv_path):
        os.remove(csv_path)

    gen = torch.Generator().manual_seed(args.seed + 1)
    for epoch in range(start_epoch, args.epochs):
        t0 = time.time()
        model.train()
        gen.manual_seed(args.seed * 1000 + epoch)
        perm = torch.randperm(len(Xtr), generator=gen)
        tot, nb = 0.0, 0
        for i in range(0, len(perm), args.batch):
            idx = perm[i : i + args.batch]
            if len(idx) < 2:
                continue
            x = augment(Xtr[idx], gen, strong)
            x = ((x / 255.0 - mean) / std).permute(0, 3, 1, 2).contiguous()
            loss = F.cross_entropy(model(x), sets["train"]["y"][idx], label_smoothing=smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                with torch.no_grad():
                    for k, v in model.state_dict().items():
                        if v.dtype.is_floating_point:
                            ema[k].mul_(args.ema).add_(v.float(), alpha=1 - args.ema)
                        else:
                            ema[k].copy_(v)
            tot += float(loss)
            nb += 1
            if nb % 20 == 0:
                print(
                    f"  epoch {epoch + 1} batch {nb}/{steps_per_epoch} loss {tot / nb:.4f} "
                    f"{(time.time() - t0) / nb:.2f} s/batch",
                    flush=True,
                )
        evalm = model
        if ema is not None:
            evalm = common.build_model()
            evalm.load_state_dict(ema)
        lv = predict(evalm, sets["val"]["X"], mean, std)
        val_loss = float(F.cross_entropy(lv, sets["val"]["y"]))
        val_acc = float((lv.argmax(1) == sets["val"]["y"]).float().mean())
        dt = time.time() - t0
        train_seconds += dt
        new = not os.path.exists(csv_path)
        with open(csv_path, "a") as f:
            if new:
                f.write("epoch,train_loss,val_loss,val_acc,seconds\n")
            f.write(f"{epoch + 1},{tot / nb:.5f},{val_loss:.5f},{val_acc:.5f},{dt:.1f}\n")
        print(
            f"epoch {epoch + 1}/{args.epochs} train_loss {tot / nb:.4f} val_loss {val_loss:.4f} "
            f"val_acc {val_acc:.4f} ({dt:.0f} s)",
            flush=True,
        )
        tmp = ckpt_path + ".tmp"
        torch.save(
            dict(
                model=model.state_dict(),
                opt=opt.state_dict(),
                sched=sched.state_dict(),
                epoch=epoch + 1,
                train_seconds=train_seconds,
                rng=torch.get_rng_state(),
                norm=norm,
                size=S,
                ema=ema,
                recipe=args.recipe,
            ),
            tmp,
        )
        os.replace(tmp, ckpt_path)

    if ema is not None:
        model.load_state_dict(ema)
    # calibration on validation slides (the final all-slides model takes T and band from the
    # same recipe's run on the split: its validation slides are in its training set)
    lv = predict(model, sets["val"]["X"], mean, std)
    if args.all_slides:
        ref = read_calibration(args.calib_from)
        T, (lo, hi) = ref["temperature"], ref["band"]
    else:
        T = fit_temperature(lv, sets["val"]["y"])
        lo, hi = band_edges(torch.softmax(lv / T, 1)[:, 1].numpy(), sets["val"]["y"].numpy())
    pv = torch.softmax(lv / T, 1)[:, 1].numpy()
    # test slides
    lt = predict(model, sets["test"]["X"], mean, std)
    yt = sets["test"]["y"].numpy()
    p_raw = torch.softmax(lt, 1)[:, 1].numpy()
    p_cal = torch.softmax(lt / T, 1)[:, 1].numpy()
    test = metrics(p_cal, yt, sets["test"]["slides"])
    test["ece_before"] = ece(p_raw, yt)
    test["ece_after"] = ece(p_cal, yt)
    inband = (p_cal > lo) & (p_cal < hi)
    out = ~inband
    test["uncertain_share"] = float(inband.mean())
    test["error_outside_band"] = (
        float(((p_cal[out] >= 0.5).astype(int) != yt[out]).mean()) if out.any() else 0.0
    )
    val = metrics(pv, sets["val"]["y"].numpy(), sets["val"]["slides"])
    del val["per_slide"]
    # MACs of one forward pass at S
    macs = resnet18_macs(S)
    results = dict(
        size=S,
        epochs=args.epochs,
        recipe=args.recipe,
        all_slides=args.all_slides,
        smoothing=smoothing,
        batch=args.batch,
        lr=args.lr,
        train_seconds=round(train_seconds),
        threads=args.threads,
        norm=norm,
        temperature=T,
        band=[lo, hi],
        macs=macs,
        val=val,
        test=test,
        torch=torch.__version__,
        manifest_sha256=common.manifest_fingerprint(args.data),
    )
    with open(os.path.join(run, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    np.savez(
        os.path.join(run, "test_pred.npz"),
        p_raw=p_raw,
        p_cal=p_cal,
        y=yt,
        slides=sets["test"]["slides"],
        names=sets["test"]["names"],
        logits=lt.numpy(),
    )
    torch.save(model.state_dict(), os.path.join(run, "final.pth"))
    print(json.dumps({k: v for k, v in results.items() if k != "test"}, indent=1))
    print(
        f"test accuracy {test['accuracy']:.4f} AUC {test['roc_auc']:.4f} "
        f"sens {test['sensitivity']:.4f} spec {test['specificity']:.4f}",
        flush=True,
    )


def resnet18_macs(S):
    model = common.build_model()
    total = 0

    def hook(m, i, o):
        nonlocal total
        if isinstance(m, torch.nn.Conv2d):
            total += o.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, torch.nn.Linear):
            total += m.in_features * m.out_features

    hs = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    ]
    with torch.no_grad():
        model(torch.zeros(1, 3, S, S))
    for h in hs:
        h.remove()
    return total


if __name__ == "__main__":
    main()
