"""Bring your own model: ResNet18 checkpoints as people export them (torchvision, fast.ai v1 and v2
learners with their head, ONNX exports of those) go through model/export.py and malaria-convert,
and the native engine's logits equal PyTorch's on the golden cells. Each checkpoint is built here
with torch, random weights and random BatchNorm statistics (so every fold is exercised), layer by
layer as fast.ai builds it. Refusals (other ResNets, ImageNet heads, export.pkl, bad tensors) are
checked by their messages.

Needs the native build (build/converter/malaria-convert, build/wasm/malaria-classify, or
MC_CONVERT / MC_CLASSIFY); skipped without it. The int8 check reads a few hundred cells from
../shared/data/nih_cells and is skipped without them.
Run: /usr/bin/python3 -m unittest tests/python/test_byom.py -v
"""
import io
import contextlib
import json
import importlib.util
import os
import pickle
import subprocess
import sys
import tempfile
import types
import unittest

import numpy as np
import torch
import torchvision
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "model"))
import common  # noqa: E402
import export  # noqa: E402
import foreign  # noqa: E402

CONVERT = os.environ.get("MC_CONVERT", os.path.join(ROOT, "build", "converter", "malaria-convert"))
CLASSIFY = os.environ.get("MC_CLASSIFY", os.path.join(ROOT, "build", "wasm", "malaria-classify"))
HAVE_TOOLS = os.path.exists(CONVERT) and os.path.exists(CLASSIFY)
CELLS = os.path.join(ROOT, "tests", "fixtures", "cells")
DATA = os.path.join(ROOT, "..", "shared", "data", "nih_cells")
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
HAVE_ONNX = importlib.util.find_spec("onnx") is not None


def randomize(model, seed):
    """Random weights, random BatchNorm statistics and affine parameters (1d and 2d)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
        elif isinstance(m, nn.Linear):
            m.weight.data.copy_(torch.randn(m.weight.shape, generator=g) / m.in_features**0.5)
            if m.bias is not None:
                m.bias.data.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
    return model.eval()


class ConcatPool(nn.Module):
    """fast.ai's AdaptiveConcatPool2d: cat([max, avg], 1)."""

    def __init__(self):
        super().__init__()
        self.ap, self.mp = nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool2d(1)

    def forward(self, x):
        return torch.cat([self.mp(x), self.ap(x)], 1)


def fastai_body():
    r = torchvision.models.resnet18(weights=None)
    return nn.Sequential(*list(r.children())[:-2])  # create_body: conv1 bn1 relu maxpool layer1-4


def fastai_head(
    version,
    n_out,
    concat_pool=True,
    lin_ftrs=None,
    first_bn=True,
    bn_final=False,
    lin_first=False,
    ps=0.5,
):
    """fast.ai's create_head, layer by layer: v1 (bn_drop_lin, Linear with bias) and v2 (LinBnDrop,
    Linear without bias after a BatchNorm)."""
    nf = 512 * (2 if concat_pool else 1)
    ftrs = [nf, 512, n_out] if lin_ftrs is None else [nf] + lin_ftrs + [n_out]
    ps = [ps / 2] * (len(ftrs) - 2) + [ps]
    actns = [nn.ReLU(inplace=True)] * (len(ftrs) - 2) + [None]
    layers = [ConcatPool() if concat_pool else nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    bns = [first_bn] + [True] * (len(ftrs) - 1)
    if lin_first:
        layers.append(nn.Dropout(ps.pop(0)))
    for ni, no, bn, p, act in zip(ftrs[:-1], ftrs[1:], bns, ps, actns):
        if version == 1:  # bn_drop_lin(ni, no, True, p, actn)
            layers += [nn.BatchNorm1d(ni), nn.Dropout(p), nn.Linear(ni, no)] + (
                [act] if act else []
            )
        else:  # LinBnDrop(ni, no, bn=bn, p=p, act=act, lin_first=lin_first)
            bnl = [nn.BatchNorm1d(no if lin_first else ni)] if bn else []
            drop = [nn.Dropout(p)] if p else []
            lin = [nn.Linear(ni, no, bias=not bn)] + ([act] if act else [])
            layers += lin + bnl + drop if lin_first else bnl + drop + lin
    if bn_final:
        layers.append(nn.BatchNorm1d(ftrs[-1], momentum=0.01))
    return nn.Sequential(*layers)


def fastai_model(version, n_out, seed, **kw):
    torch.manual_seed(seed)  # the convolutions' initialisation
    return randomize(nn.Sequential(fastai_body(), fastai_head(version, n_out, **kw)), seed)


def torchvision_model(n_out, seed):
    torch.manual_seed(seed)
    return randomize(torchvision.models.resnet18(weights=None, num_classes=n_out), seed)


def network_input(files, S, mean, std):
    X = np.stack([common.area_resize_u8(common.decode_rgb(f), S) for f in files])
    x = (X.astype(np.float32) / np.float32(255.0) - np.array(mean, np.float32)) / np.array(
        std, np.float32
    )
    return torch.from_numpy(x.transpose(0, 3, 1, 2).copy())


def export_quiet(argv):
    with contextlib.redirect_stdout(io.StringIO()):
        export.main(argv)


def run_classify(blob, files):
    r = subprocess.run(
        [CLASSIFY, "--model", blob, "--mode", "cell", "--logits"] + files,
        capture_output=True,
        text=True,
        timeout=300,
    )
    recs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    return {os.path.basename(x["file"]): x for x in recs}


@unittest.skipUnless(HAVE_TOOLS, "native build (malaria-convert, malaria-classify) not present")
class ParityTest(unittest.TestCase):
    """checkpoint -> export.py -> malaria-convert -> malaria-classify --logits == PyTorch."""

    @classmethod
    def setUpClass(cls):
        cls.files = sorted(os.path.join(CELLS, f) for f in os.listdir(CELLS))
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def convert(self, src, S, labels, dtype="f32", calib=None, positive=None, name="m"):
        out = os.path.join(self.tmp.name, name)
        argv = [
            "--checkpoint",
            src,
            "--size",
            str(S),
            "--mean",
            *map(str, IMAGENET[0]),
            "--std",
            *map(str, IMAGENET[1]),
            "-o",
            out,
        ]
        if labels:
            argv += ["--labels", ",".join(labels)]
        if positive:
            argv += ["--positive", positive]
        export_quiet(argv)
        blob = os.path.join(out, f"m.{dtype}.mcb")
        cmd = [
            CONVERT,
            "--weights",
            os.path.join(out, export.BASENAME + ".safetensors"),
            "--meta",
            os.path.join(out, export.BASENAME + ".json"),
            "--dtype",
            dtype,
            "-o",
            blob,
        ]
        if calib:
            cmd += ["--calib", *calib]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        return blob

    def check_f32(
        self, model, src, S, labels, positive="Parasitized", name="m", dtype="f32", tol=1e-3
    ):
        blob = self.convert(src, S, labels, dtype=dtype, positive=positive, name=name)
        with torch.no_grad():
            ref = model(network_input(self.files, S, *IMAGENET)).numpy()
        got = run_classify(blob, self.files)
        pos = labels.index(positive)
        T = 1.0
        worst = 0.0
        for i, f in enumerate(self.files):
            rec = got[os.path.basename(f)]
            self.assertNotIn("error", rec, f)
            z = np.array(rec["logits"], np.float64)
            self.assertEqual(z.shape, (len(labels),))
            worst = max(worst, float(np.abs(z - ref[i]).max()))
            self.assertEqual(rec["class"], labels[int(np.argmax(ref[i]))], f)
            zz = ref[i].astype(np.float64) / T
            p = np.exp(zz[pos] - np.logaddexp.reduce(zz))
            self.assertAlmostEqual(rec["p_parasitized"], p, delta=tol / 10)
            # the label follows p, as the band does (with 2 classes: the positive class wins;
            # with more, it can win with p under 0.5 and is then not called Parasitized)
            self.assertEqual(rec["label"], "Parasitized" if p > 0.5 else "Uninfected")
        self.assertLess(
            worst,
            tol,
            f"{name}: max |logit diff| {worst:.3g} " f"(logits up to {np.abs(ref).max():.3g})",
        )
        print(
            f"\n  {name}: {dtype} engine vs PyTorch, max |logit diff| {worst:.2g} over {len(self.files)} cells "
            f"(|logits| up to {np.abs(ref).max():.3g})",
            file=sys.stderr,
        )
        return blob, worst

    def save(self, obj, name):
        p = os.path.join(self.tmp.name, name)
        torch.save(obj, p)
        return p

    def export_onnx(self, model, S, name, fold):
        p = os.path.join(self.tmp.name, name)
        kw = dict(
            do_constant_folding=fold,
            opset_version=11 if fold else 17,
            training=torch.onnx.TrainingMode.EVAL if fold else torch.onnx.TrainingMode.PRESERVE,
        )
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            torch.onnx.export(
                model, torch.zeros(1, 3, S, S), p, input_names=["x"], output_names=["y"], **kw
            )
        return p

    def blob_header(self, blob):
        with open(blob, "rb") as f:
            b = f.read()
        n = int.from_bytes(b[16:24], "little")
        return int.from_bytes(b[8:12], "little"), json.loads(b[64 : 64 + n])

    def test_fastai_v1_S128_2_classes(self):
        m = fastai_model(1, 2, seed=11)
        src = self.save({"model": m.state_dict(), "opt": {}}, "v1.pth")  # learn.save(...)
        blob, _ = self.check_f32(m, src, 128, ["Parasitized", "Uninfected"], name="v1_128")
        version, h = self.blob_header(blob)
        self.assertEqual(version, 2)
        self.assertEqual(
            h["head"],
            {
                "kind": "mlp",
                "pooling": "concat-max-avg",
                "sizes": [1024, 512, 2],
                "positive": 0,
                "bn1d_folded": True,
            },
        )
        self.assertEqual(h["input"]["size"], 128)
        self.assertEqual(h["labels"], ["Parasitized", "Uninfected"])
        # f16 weights: the same classes, logits within 1e-2
        self.check_f32(
            m, src, 128, ["Parasitized", "Uninfected"], name="v1_128_f16", dtype="f16", tol=1e-2
        )

    def test_fastai_v2_S64_3_classes(self):
        m = fastai_model(2, 3, seed=12)
        self.assertIsNone(m[1][4].bias)  # LinBnDrop: no bias after a BatchNorm
        src = self.save(m.state_dict(), "v2.pth")  # torch.save(learn.model.state_dict())
        self.check_f32(m, src, 64, ["Gametocyte", "Parasitized", "Uninfected"], name="v2_64_3")

    def test_fastai_v2_variants(self):
        # avg pool instead of concat, a hidden size of 256, no first BatchNorm, bn_final
        m = fastai_model(
            2, 2, seed=13, concat_pool=False, lin_ftrs=[256], first_bn=False, bn_final=True
        )
        self.check_f32(
            m,
            self.save({"model": m.state_dict()}, "v2b.pth"),
            64,
            ["Uninfected", "Parasitized"],
            name="v2_avg_256",
        )
        # no hidden layer (lin_ftrs=[]): one linear layer on the concat pool, BatchNorm1d folded
        m = fastai_model(2, 3, seed=14, lin_ftrs=[])
        blob, _ = self.check_f32(
            m,
            self.save({"model": m.state_dict()}, "v2c.pth"),
            128,
            ["a", "Parasitized", "c"],
            name="v2_linear_128",
        )
        self.assertEqual(self.blob_header(blob)[1]["head"]["kind"], "linear")
        # v1 on the average pool
        m = fastai_model(1, 2, seed=15, concat_pool=False)
        self.check_f32(
            m,
            self.save({"model": m.state_dict()}, "v1b.pth"),
            64,
            ["Parasitized", "Uninfected"],
            name="v1_avg_64",
        )

    def test_torchvision_3_classes_S128(self):
        m = torchvision_model(3, seed=16)
        blob, _ = self.check_f32(
            m,
            self.save(m.state_dict(), "tv3.pth"),
            128,
            ["Uninfected", "Parasitized", "Other"],
            name="tv3_128",
        )
        self.assertEqual(self.blob_header(blob)[1]["head"]["kind"], "linear")

    def test_torchvision_single_sigmoid_output(self):
        # one output trained with BCEWithLogitsLoss: the logit of the second class; exported as
        # the logits [0, z], so the engine's softmax gives sigmoid(z)
        m = torchvision_model(1, seed=18)

        class TwoLogits(nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, x):
                z = self.inner(x)
                return torch.cat([torch.zeros_like(z), z], 1)

        self.check_f32(
            TwoLogits(m).eval(),
            self.save(m.state_dict(), "tv1.pth"),
            64,
            ["Uninfected", "Parasitized"],
            name="tv1_64",
        )

    def test_torchvision_2_classes_is_a_version_1_blob(self):
        m = torchvision_model(2, seed=17)
        blob, _ = self.check_f32(
            m,
            self.save(m.state_dict(), "tv2.pth"),
            128,
            None or ["Uninfected", "Parasitized"],
            name="tv2_128",
        )
        version, h = self.blob_header(blob)
        self.assertEqual(version, 1)
        self.assertNotIn("head", h)

    @unittest.skipUnless(HAVE_ONNX, "python3-onnx not installed")
    def test_onnx_exports(self):
        cases = [
            ("v1", fastai_model(1, 2, seed=21), 128, ["Parasitized", "Uninfected"]),
            ("v2", fastai_model(2, 3, seed=22), 64, ["x", "Parasitized", "y"]),
            ("tv", torchvision_model(2, seed=23), 64, ["Uninfected", "Parasitized"]),
        ]
        for name, m, S, labels in cases:
            for fold in (True, False):
                with self.subTest(model=name, bn_folded=fold):
                    src = self.export_onnx(m, S, f"{name}_{fold}.onnx", fold)
                    self.check_f32(m, src, S, labels, name=f"onnx_{name}_{fold}")

    @unittest.skipUnless(os.path.exists(os.path.join(DATA, "manifest.tsv")), "data set not present")
    def test_int8_same_label_on_real_cells(self):
        """int8 (calibrated on 40 other cells) against PyTorch f32 on 300 real cells. A network with
        random weights often has near-ties between its classes: where its logits are spread (top-2
        margin median >= 1) the label must agree on >= 99% of the cells; in every case a
        disagreement must be a near-tie (PyTorch's top-2 margin < 0.15)."""
        rows = common.read_manifest(DATA)
        rng = np.random.default_rng(5)
        pick = [rows[i] for i in rng.choice(len(rows), 340, replace=False)]
        files = [common.file_path(DATA, r) for r in pick]
        calib, test = files[:40], files[40:]
        for name, m, S, labels in [
            ("v1", fastai_model(1, 2, seed=31), 128, ["Parasitized", "Uninfected"]),
            ("v2", fastai_model(2, 3, seed=35), 128, ["Parasitized", "Uninfected", "z"]),
            ("v2_near_ties", fastai_model(2, 3, seed=32), 64, ["x", "Parasitized", "y"]),
        ]:
            with self.subTest(model=name):
                src = self.save({"model": m.state_dict()}, f"{name}_i8.pth")
                blob = self.convert(src, S, labels, dtype="int8", calib=calib, name=f"{name}_i8")
                self.assertEqual(self.blob_header(blob)[1]["weights"]["dtype"], "int8")
                with torch.no_grad():
                    ref = m(network_input(test, S, *IMAGENET)).numpy()
                top2 = np.sort(ref, 1)[:, -2:]
                margin = top2[:, 1] - top2[:, 0]
                got = run_classify(blob, test)
                same = n = 0
                for i, f in enumerate(test):
                    rec = got.get(os.path.basename(f))
                    if rec is None or "error" in rec:
                        continue  # refused by the cell gate: not a classification
                    n += 1
                    agree = rec["class"] == labels[int(np.argmax(ref[i]))]
                    same += agree
                    if not agree:
                        self.assertLess(
                            margin[i], 0.15, f"{name}: {f} differs with a margin of {margin[i]:.3f}"
                        )
                self.assertGreaterEqual(n, 250)
                print(
                    f"\n  {name}: int8 label = PyTorch's on {same}/{n} cells (median top-2 margin "
                    f"{np.median(margin):.3g})",
                    file=sys.stderr,
                )
                if np.median(margin) >= 1:
                    self.assertGreaterEqual(
                        same / n, 0.99, f"{name}: int8 label = PyTorch's on {same}/{n}"
                    )


class RefusalTest(unittest.TestCase):
    """What a user gets for a checkpoint the engine cannot run: a message that says what was found
    and what to do."""

    def refusal(self, obj, labels=None, positive=None, name="x.pth"):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, name)
            if isinstance(obj, bytes):
                with open(p, "wb") as f:
                    f.write(obj)
            else:
                torch.save(obj, p)
            with self.assertRaises(ValueError) as cm:
                body, head = foreign.load(p)
                foreign.canonical(body, head, labels, positive)
        return str(cm.exception)

    def test_resnet34_and_50(self):
        msg = self.refusal(torchvision.models.resnet34(weights=None).state_dict())
        self.assertIn("this checkpoint is a ResNet34 (3/4/6/3 blocks", msg)
        self.assertIn("only ResNet18 is supported", msg)
        msg = self.refusal(torchvision.models.resnet50(weights=None).state_dict())
        self.assertIn(
            "this checkpoint is a ResNet50 (3/4/6/3 blocks in its 4 stages, Bottleneck", msg
        )
        # a fast.ai learner on resnet34: the body under 0.*
        r = torchvision.models.resnet34(weights=None)
        m = nn.Sequential(nn.Sequential(*list(r.children())[:-2]), fastai_head(2, 2))
        self.assertIn("a ResNet34", self.refusal({"model": m.state_dict()}))

    def test_imagenet_head_without_labels(self):
        msg = self.refusal(torchvision.models.resnet18(weights=None).state_dict())
        self.assertIn("the head has 1000 outputs, as ImageNet's classifier", msg)
        self.assertIn("--labels", msg)

    def test_fastai_without_labels_or_positive(self):
        sd = {"model": fastai_model(1, 2, seed=1).state_dict()}
        self.assertIn("name the classes in the order of the model's outputs", self.refusal(sd))
        self.assertIn(
            "--labels names 3 classes but the head has 2 outputs", self.refusal(sd, ["a", "b", "c"])
        )
        self.assertIn("which class is parasitized?", self.refusal(sd, ["a", "b"]))
        self.assertIn("--positive 'P' is not one of the labels", self.refusal(sd, ["a", "b"], "P"))

    def test_no_default_label_order(self):
        # a torchvision 2-class fc: ImageFolder sorts the NIH folders Parasitized, Uninfected, so
        # no order may be assumed (the old default, Uninfected, Parasitized, inverted every call)
        msg = self.refusal(torchvision_model(2, seed=5).state_dict())
        self.assertIn("--labels Parasitized,Uninfected for the NIH folders", msg)
        # a single (sigmoid) output needs the two classes named
        self.assertIn(
            "the head has 1 output (a sigmoid)",
            self.refusal(torchvision_model(1, seed=5).state_dict(), ["Parasitized"]),
        )

    def test_wrappers_and_prefixes(self):
        # the same body and head however a training loop wrapped them
        m = torchvision_model(2, seed=6)
        sd = m.state_dict()
        labels = ["Parasitized", "Uninfected"]

        def canon(obj, name="w.pth"):
            with tempfile.TemporaryDirectory() as d:
                p = os.path.join(d, name)
                torch.save(obj, p)
                body, head = foreign.load(p)
                return foreign.canonical(body, head, labels, "Parasitized")

        want, _, _ = canon(sd)
        for obj in (
            {"epoch": 3, "model_state_dict": sd, "optimizer_state_dict": {}},  # PyTorch tutorial
            {"state_dict": {f"model.{k}": v for k, v in sd.items()}},  # Lightning
            {"model": m},  # a module
            {f"_orig_mod.{k}": v for k, v in sd.items()},  # torch.compile
        ):
            got, _, _ = canon(obj)
            self.assertEqual(sorted(got), sorted(want))
            for k in want:
                np.testing.assert_array_equal(got[k], want[k], k)
        # fast.ai >= 2.7 with a timm body: torchvision's names under 0.model.
        fm = fastai_model(2, 2, seed=7)
        fsd = fm.state_dict()
        timm_sd = {
            (f"0.model.{k}" if not k.startswith("fc.") else None): v
            for k, v in torchvision_model(2, seed=7).state_dict().items()
        }
        timm_sd.pop(None)
        timm_sd.update({k: v for k, v in fsd.items() if k.startswith("1.")})
        got, _, _ = canon(timm_sd)
        ref = torchvision_model(2, seed=7).state_dict()
        for k, v in ref.items():
            if not k.startswith("fc.") and not k.endswith("num_batches_tracked"):
                np.testing.assert_array_equal(got[k], v.numpy(), k)

    @unittest.skipUnless(HAVE_ONNX, "python3-onnx not installed")
    def test_onnx_named_pth(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "m.pth")
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(
                io.StringIO()
            ):
                torch.onnx.export(torchvision_model(2, seed=8).eval(), torch.zeros(1, 3, 64, 64), p)
            with self.assertRaises(ValueError) as cm:
                foreign.load(p)
            self.assertIn("looks like an ONNX file: name it .onnx", str(cm.exception))

    def test_checkpoint_needs_its_input_spec(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "m.pth")
            torch.save(torchvision_model(2, seed=9).state_dict(), p)
            err = io.StringIO()
            with contextlib.redirect_stderr(err), self.assertRaises(SystemExit):
                export.main(["--checkpoint", p, "--labels", "Parasitized,Uninfected", "-o", d])
            self.assertIn("--checkpoint needs --size, --mean, --std", err.getvalue())

    def test_export_pkl_learner(self):
        # a pickled Learner refers to fastai's classes; without fastai installed it cannot load
        mod = types.ModuleType("fastai")
        lmod = types.ModuleType("fastai.learner")

        Learner = type("Learner", (), {})
        Learner.__module__ = "fastai.learner"
        lmod.Learner = Learner
        sys.modules["fastai"], sys.modules["fastai.learner"] = mod, lmod
        try:
            buf = io.BytesIO()
            torch.save(Learner(), buf, pickle_module=pickle)
        finally:
            del sys.modules["fastai"], sys.modules["fastai.learner"]
        msg = self.refusal(buf.getvalue(), name="export.pkl")
        self.assertIn("is a pickled fast.ai Learner (learn.export())", msg)
        self.assertIn("torch.save(learn.model.state_dict(), 'model.pth')", msg)
        self.assertIn("learn.save('model')", msg)

    def test_missing_and_misshaped_tensors(self):
        sd = fastai_model(2, 2, seed=2).state_dict()
        bad = dict(sd)
        del bad["0.6.1.conv2.weight"]
        self.assertIn(
            "not a complete ResNet18 body: missing layer3.1.conv2.weight",
            self.refusal(bad, ["a", "Parasitized"]),
        )
        bad = dict(sd)
        bad["0.0.weight"] = torch.zeros(64, 1, 7, 7)
        self.assertIn(
            "tensor conv1.weight has shape (64, 1, 7, 7), expected (64, 3, 7, 7)",
            self.refusal(bad, ["a", "Parasitized"]),
        )
        bad = dict(sd)
        bad["1.4.weight"] = torch.zeros(512, 2048)
        self.assertIn(
            "the head's first linear layer takes 2048 features",
            self.refusal(bad, ["a", "Parasitized"]),
        )
        bad = dict(sd)
        bad["1.3.weight"] = torch.zeros(3, 3, 3)
        self.assertIn(
            "head layer 1.3 (weight) is neither a BatchNorm1d nor a Linear", self.refusal(bad)
        )
        self.assertIn(
            "no classifier found",
            self.refusal(
                {
                    k: v
                    for k, v in torchvision.models.resnet18(weights=None).state_dict().items()
                    if "fc" not in k
                }
            ),
        )
        self.assertIn(
            "not a ResNet (no layer1..layer4",
            self.refusal({"weight": torch.zeros(3), "fc.weight": torch.zeros(2, 3)}),
        )
        self.assertIn("not a PyTorch checkpoint", self.refusal(b"hello, not a checkpoint"))

    @unittest.skipUnless(HAVE_TOOLS, "native build not present")
    def test_converter_refuses_misshaped_head(self):
        with tempfile.TemporaryDirectory() as d:
            m = fastai_model(2, 2, seed=3)
            p = os.path.join(d, "m.pth")
            torch.save(m.state_dict(), p)
            export_quiet(
                ["--checkpoint", p, "--labels", "Parasitized,Uninfected", "--size", "64"]
                + ["--mean", "0.5", "0.5", "0.5", "--std", "0.25", "0.25", "0.25", "-o", d]
            )
            st = os.path.join(d, export.BASENAME + ".safetensors")
            t, _ = export.read_safetensors(st)
            t["head.bn2.running_var"] = np.ones(300, np.float32)
            export.write_safetensors(st, t)
            r = subprocess.run(
                [
                    CONVERT,
                    "--weights",
                    st,
                    "--meta",
                    os.path.join(d, export.BASENAME + ".json"),
                    "-o",
                    os.path.join(d, "m.mcb"),
                ],
                capture_output=True,
                text=True,
            )
            self.assertEqual(r.returncode, 1)
            self.assertIn(
                "weights: tensor 'head.bn2.running_var' has shape [300], expected [512] "
                '(head "mlp" with pooling "concat-max-avg")',
                r.stderr,
            )

    @unittest.skipUnless(HAVE_ONNX, "python3-onnx not installed")
    def test_onnx_other_graph(self):
        import onnx
        from onnx import helper, TensorProto

        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])
        g = helper.make_graph(
            [
                helper.make_node("Relu", ["x"], ["r"], name="relu0"),
                helper.make_node("Sigmoid", ["r"], ["y"], name="gate"),
            ],
            "g",
            [x],
            [y],
        )
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "m.onnx")
            onnx.save(helper.make_model(g), p)
            with self.assertRaises(ValueError) as cm:
                foreign.load(p)
        self.assertIn("unsupported ONNX node 'gate' (op Sigmoid)", str(cm.exception))
        # a ResNet34 as ONNX: the count of convolutions says so
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "r34.onnx")
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(
                io.StringIO()
            ):
                torch.onnx.export(
                    torchvision.models.resnet34(weights=None).eval(), torch.zeros(1, 3, 64, 64), p
                )
            with self.assertRaises(ValueError) as cm:
                foreign.load(p)
        self.assertIn("the ONNX graph has 36 Conv nodes; a ResNet18 has 20", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
