#!/usr/bin/python3
"""Export a ResNet18 cell classifier as safetensors + metadata JSON (input of malaria-convert).

    # the trained model (weights + calibration + metrics from a training run)
    /usr/bin/python3 model/export.py --run model/runs/S64 -o model
    # the final model (train.py --all-slides): its test slides were in its training set, so its
    # metrics are the same recipe's run on the split (a run folder or that run's exported JSON)
    /usr/bin/python3 model/export.py --run model/runs/S64_all --metrics-from model/runs/S64 -o model
    # a ResNet18 trained elsewhere (model/foreign.py): a torchvision state_dict (.pth), a fast.ai
    # v1/v2 learner checkpoint (learn.save: body 0.*, head 1.*), or an ONNX export of either;
    # --labels names the head's outputs in order, --positive the parasitized one
    /usr/bin/python3 model/export.py --checkpoint their.pth --size 128 \
        --mean 0.485 0.456 0.406 --std 0.229 0.224 0.225 --labels Parasitized,Uninfected -o out/
    # a randomly initialised one, with random BatchNorm statistics (development and tests)
    /usr/bin/python3 model/export.py --random --size 64 --seed 1 -o /tmp/dev

Writes OUT/malaria_resnet18.safetensors (float32 tensors with torchvision names; the
num_batches_tracked counters are dropped; a fast.ai head as head.bn1 / head.fc1 / head.bn2 /
head.fc2 / head.bn_final, see foreign.canonical) and OUT/malaria_resnet18.json (metadata; with
"head" {kind, pooling, positive} unless the head is torchvision's 2-class fc).
safetensors layout: u64 little-endian header length N, N bytes of JSON (padded with spaces to
a multiple of 8), then the raw little-endian tensor data, offsets relative to the data start.
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import foreign  # noqa: E402

BASENAME = "malaria_resnet18"
_DT = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def write_safetensors(path, tensors, metadata=None):
    """tensors: ordered dict name -> np.ndarray (float32). Deterministic bytes."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype=np.float32)
        b = a.astype("<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(a.shape),
            "data_offsets": [offset, offset + len(b)],
        }
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in sorted(metadata.items())}
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} does not fit the file")
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        if not (0 <= a <= b <= len(data) - base):
            raise ValueError(f"{path}: tensor {name} offsets {a}..{b} outside the data")
        arr = np.frombuffer(
            data[base + a : base + b], dtype=np.dtype(_DT[t["dtype"]]).newbyteorder("<")
        )
        out[name] = arr.reshape(t["shape"]).astype(np.float32)
    return out, meta


def normalize_state_dict(obj):
    """Accept a plain state_dict, {'model': sd}, {'state_dict': sd}, DataParallel 'module.'
    prefixes and fast.ai body indices ('0.0.' conv1, '0.1.' bn1, '0.4.'..'0.7.' layer1..4)."""
    import torch

    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    for key in ("model", "state_dict"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if not isinstance(obj, dict):
        raise ValueError("checkpoint is not a state_dict (nor {'model': state_dict})")
    fastai = {
        "0.0.": "conv1.",
        "0.1.": "bn1.",
        "0.4.": "layer1.",
        "0.5.": "layer2.",
        "0.6.": "layer3.",
        "0.7.": "layer4.",
    }
    sd = {}
    for k, v in obj.items():
        if k.startswith("module."):
            k = k[len("module.") :]
        for a, b in fastai.items():
            if k.startswith(a):
                k = b + k[len(a) :]
        sd[k] = v
    model = common.build_model()
    expected = model.state_dict()
    missing = [k for k in expected if k not in sd and not k.endswith("num_batches_tracked")]
    if missing:
        raise ValueError(
            f"not a torchvision ResNet18 with a 2-class fc: missing {missing[:5]}"
            f"{' ...' if len(missing) > 5 else ''}"
        )
    for k, v in expected.items():
        if k in sd and tuple(sd[k].shape) != tuple(v.shape):
            raise ValueError(
                f"tensor {k} has shape {tuple(sd[k].shape)}, expected {tuple(v.shape)}"
            )
    return {k: sd[k] for k in expected if k in sd}


def random_state_dict(seed):
    import torch

    torch.manual_seed(seed)
    model = common.build_model()
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):  # non-trivial statistics, so folding is tested
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    return model.state_dict()


def load_model(sd):
    model = common.build_model()
    model.load_state_dict(sd, strict=False)
    model.eval()
    return model


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def split_run_metrics(path):
    """(test metrics, validation accuracy) of a run on the split: its folder (results.json) or
    its exported metadata JSON."""
    if os.path.isdir(path):
        path = os.path.join(path, "results.json")
    with open(path) as f:
        ref = json.load(f)
    if ref.get("all_slides") or ref.get("provenance", {}).get("all_slides"):
        sys.exit(f"export.py: {path} is itself an all-slides run: its test slides were seen")
    if "metrics" in ref:  # an exported model's metadata
        return ref["metrics"]["test"], ref["metrics"]["val_accuracy"]
    return ref["test"], ref["val"]["accuracy"]


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--run", help="a training run folder of model/train.py (final.pth + results.json)"
    )
    src.add_argument(
        "--checkpoint",
        help="a .pth state_dict, {'model': state_dict} (fast.ai learn.save), "
        "or an .onnx export of a ResNet18",
    )
    src.add_argument("--random", action="store_true", help="random weights (development, tests)")
    ap.add_argument("-o", "--out", required=True, help="output folder")
    # (with --checkpoint these are required: a model trained elsewhere has its own input size
    # and normalisation, and a default would silently feed it other numbers)
    ap.add_argument("--size", type=int, default=None, help="input size (default 64)")
    ap.add_argument("--mean", type=float, nargs=3, default=None, help="default 0.5 0.5 0.5")
    ap.add_argument("--std", type=float, nargs=3, default=None, help="default 0.25 0.25 0.25")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--band", type=float, nargs=2, default=[0.5, 0.5])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--labels",
        help="--checkpoint (required): the head's classes in output order, comma-separated "
        "(torchvision's ImageFolder and fast.ai sort the class folders: Parasitized,Uninfected "
        "for the NIH folders; fast.ai: the learner's dls.vocab)",
    )
    ap.add_argument(
        "--positive",
        help="--checkpoint: the label of the parasitized class " "(default: Parasitized)",
    )
    ap.add_argument("--data", help="data folder, to fingerprint its manifest if the run did not")
    ap.add_argument(
        "--metrics-from",
        help="--run of an all-slides model: the same recipe's run on the split (its folder, or "
        "its exported metadata JSON), whose test-slide metrics the metadata carries",
    )
    args = ap.parse_args(argv)
    if args.checkpoint:
        missing = [f"--{k}" for k in ("size", "mean", "std") if getattr(args, k) is None]
        if missing:
            ap.error(
                f"--checkpoint needs {', '.join(missing)}: the input size and normalisation the "
                "model was trained with (ImageNet's: --mean 0.485 0.456 0.406 --std 0.229 0.224 "
                "0.225)"
            )
    args.size = 64 if args.size is None else args.size
    args.mean = [0.5, 0.5, 0.5] if args.mean is None else args.mean
    args.std = [0.25, 0.25, 0.25] if args.std is None else args.std
    import torch

    here = os.path.dirname(os.path.abspath(__file__))
    meta = {
        "architecture": "resnet18",
        "labels": common.LABELS,
        "input": {
            "size": args.size,
            "resize_filter": "area-int",
            "mean": args.mean,
            "std": args.std,
            "channel_order": "RGB",
            "scale": 1 / 255,
            "alpha": "ignored",
        },
        "calibration": {
            "temperature": args.temperature,
            "band": args.band,
            "positive": "Parasitized",
            "max_error_outside_band": None,
        },
        "provenance": {},
        "metrics": {},
        "intended_use": "Screening aid for research and education; not a diagnosis. "
        "Uncertain cells must be referred to a microscopist.",
    }
    if args.run:
        with open(os.path.join(args.run, "results.json")) as f:
            res = json.load(f)
        sd = normalize_state_dict(
            torch.load(os.path.join(args.run, "final.pth"), map_location="cpu")
        )
        meta["input"].update(size=res["size"], mean=res["norm"]["mean"], std=res["norm"]["std"])
        meta["calibration"].update(
            temperature=res["temperature"], band=res["band"], max_error_outside_band=0.01
        )
        split_dir = os.path.join(here, "splits")
        meta["provenance"] = {
            "data": "NIH/NLM malaria cell images (cell_images), 146 slides",
            "data_manifest_sha256": res.get("manifest_sha256")
            or (common.manifest_fingerprint(args.data) if args.data else None),
            "split_sha256": common.split_fingerprint(split_dir),
            "split": "by slide, 70/15/15, stratified healthy-only vs infected (model/splits)",
            "epochs": res["epochs"],
            "train_seconds": res["train_seconds"],
            "torch": res["torch"],
            "trained_on": f"{res['threads']} CPU threads",
        }
        t, val_accuracy = res["test"], res["val"]["accuracy"]
        if res.get("all_slides"):
            # its own "test" figures are of slides it learned from: carry the recipe's instead
            if not args.metrics_from:
                sys.exit(
                    "export.py: this run learned from every slide (--all-slides): give the same "
                    "recipe's run on the split with --metrics-from"
                )
            t, val_accuracy = split_run_metrics(args.metrics_from)
            meta["provenance"]["all_slides"] = True
            meta["provenance"]["metrics"] = (
                "the same recipe trained on the training slides only, measured on the held-out "
                "test slides of the split; this model then learned from all slides"
            )
        meta["metrics"] = {
            "test": {
                k: t[k]
                for k in (
                    "n",
                    "accuracy",
                    "sensitivity",
                    "specificity",
                    "roc_auc",
                    "confusion",
                    "ece_before",
                    "ece_after",
                    "uncertain_share",
                    "error_outside_band",
                )
            },
            "val_accuracy": val_accuracy,
        }
        meta["provenance"]["source"] = "model/train.py"
    elif args.checkpoint:
        try:
            body, head = foreign.load(args.checkpoint)
            if head.get("input_size") and head["input_size"] != args.size:
                raise ValueError(
                    f"the ONNX graph takes {head['input_size']}x{head['input_size']} images, "
                    f"not --size {args.size}"
                )
            labels = args.labels.split(",") if args.labels else None
            sd, head_meta, labels = foreign.canonical(body, head, labels, args.positive)
        except ValueError as e:
            sys.exit(f"export.py: {args.checkpoint}: {e}")
        sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
        meta["labels"] = labels
        meta["calibration"]["positive"] = (
            labels[head_meta["positive"]] if head_meta else "Parasitized"
        )
        if head_meta:
            meta["head"] = head_meta
        meta["provenance"] = {
            "source": os.path.basename(args.checkpoint),
            # (source_sha256 is the converter's: the SHA-256 of the safetensors it reads)
            "checkpoint_sha256": sha256_file(args.checkpoint),
            "note": "imported checkpoint; input spec and calibration from the command line",
        }
    else:
        sd = random_state_dict(args.seed)
        meta["provenance"] = {
            "source": f"random initialisation, seed {args.seed}",
            "note": "untrained: for development and tests only",
        }

    os.makedirs(args.out, exist_ok=True)
    tensors = {
        k: v.detach().cpu().float().numpy()
        for k, v in sd.items()
        if not k.endswith("num_batches_tracked")
    }
    st_path = os.path.join(args.out, BASENAME + ".safetensors")
    write_safetensors(st_path, tensors, {"format": "pt", "architecture": "resnet18"})
    meta["provenance"]["weights_sha256"] = sha256_file(st_path)
    with open(os.path.join(args.out, BASENAME + ".json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {st_path} ({os.path.getsize(st_path)} bytes) and {BASENAME}.json")


if __name__ == "__main__":
    main()
