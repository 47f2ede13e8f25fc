"""Fast model-side tests (fixtures only, seconds): export -> read back -> identical logits,
foreign checkpoint formats, canonical preprocessing, the committed split, and the golden file
against the shipped weights.  Run: /usr/bin/python3 -m unittest discover -s tests/python -v
"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "model"))
import common  # noqa: E402
import export  # noqa: E402
import golden  # noqa: E402

DATA = os.path.join(ROOT, "..", "shared", "data", "nih_cells")


class ExportTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.sd = export.random_state_dict(seed=7)
        self.x = torch.randn(2, 3, 64, 64)
        self.ref = export.load_model(self.sd)(self.x)

    def roundtrip(self, obj):
        sd = export.normalize_state_dict(obj)
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "w.safetensors")
            export.write_safetensors(
                p, {k: v.numpy() for k, v in sd.items() if "num_batches" not in k}
            )
            t, _ = export.read_safetensors(p)
        return export.load_model({k: torch.from_numpy(v) for k, v in t.items()})(self.x)

    def test_roundtrip_identical_logits(self):
        self.assertTrue(torch.equal(self.roundtrip(self.sd), self.ref))

    def test_fastai_and_dataparallel_checkpoints(self):
        self.assertTrue(torch.equal(self.roundtrip({"model": self.sd}), self.ref))
        self.assertTrue(
            torch.equal(self.roundtrip({"module." + k: v for k, v in self.sd.items()}), self.ref)
        )

    def test_wrong_checkpoints_rejected(self):
        bad = dict(self.sd)
        del bad["layer3.1.conv2.weight"]
        with self.assertRaisesRegex(ValueError, "missing.*layer3.1.conv2.weight"):
            export.normalize_state_dict(bad)
        bad = dict(self.sd)
        bad["fc.weight"] = torch.zeros(10, 512)
        with self.assertRaisesRegex(ValueError, "fc.weight has shape"):
            export.normalize_state_dict(bad)

    def test_deterministic_bytes(self):
        with tempfile.TemporaryDirectory() as d:
            t = {k: v.numpy() for k, v in self.sd.items() if "num_batches" not in k}
            export.write_safetensors(os.path.join(d, "a"), t)
            export.write_safetensors(os.path.join(d, "b"), t)
            self.assertEqual(
                open(os.path.join(d, "a"), "rb").read(), open(os.path.join(d, "b"), "rb").read()
            )


def read_json(path):
    with open(path) as f:
        return json.load(f)


class AllSlidesExportTest(unittest.TestCase):
    """The final model (train.py --all-slides) learned from its own test slides: its export must
    carry the split run's test-slide figures, never its own."""

    def run_folder(self, d, name, all_slides, accuracy):
        run = os.path.join(d, name)
        os.makedirs(run)
        torch.save(export.random_state_dict(seed=3), os.path.join(run, "final.pth"))
        test = dict(
            n=3097,
            accuracy=accuracy,
            sensitivity=0.9,
            specificity=0.9,
            roc_auc=0.99,
            confusion=dict(tp=1, fp=2, tn=3, fn=4),
            ece_before=0.01,
            ece_after=0.01,
            uncertain_share=0.1,
            error_outside_band=0.01,
        )
        res = dict(
            size=64,
            norm=dict(mean=[0.5] * 3, std=[0.25] * 3),
            temperature=1.1,
            band=[0.2, 0.98],
            epochs=15,
            train_seconds=1,
            torch=torch.__version__,
            threads=1,
            all_slides=all_slides,
            manifest_sha256="x",
            test=test,
            val=dict(accuracy=accuracy),
        )
        with open(os.path.join(run, "results.json"), "w") as f:
            json.dump(res, f)
        return run

    def test_metrics_come_from_the_split_run(self):
        with tempfile.TemporaryDirectory() as d:
            final = self.run_folder(d, "all", True, 0.999)  # seen slides: flattering
            split = self.run_folder(d, "split", False, 0.958)
            with self.assertRaises(SystemExit) as e:
                export.main(["--run", final, "-o", os.path.join(d, "o1")])
            self.assertIn("--metrics-from", str(e.exception.code))
            with self.assertRaises(SystemExit):  # an all-slides run cannot vouch for another
                export.main(["--run", final, "--metrics-from", final, "-o", os.path.join(d, "o2")])
            out = os.path.join(d, "o3")
            export.main(["--run", final, "--metrics-from", split, "-o", out])
            meta = read_json(os.path.join(out, "malaria_resnet18.json"))
            self.assertEqual(meta["metrics"]["test"]["accuracy"], 0.958)
            self.assertEqual(meta["metrics"]["val_accuracy"], 0.958)
            self.assertTrue(meta["provenance"]["all_slides"])
            # the exported split model's JSON serves as well
            split_json = os.path.join(d, "split.json")
            export.main(["--run", split, "-o", os.path.join(d, "o4")])
            os.replace(os.path.join(d, "o4", "malaria_resnet18.json"), split_json)
            export.main(["--run", final, "--metrics-from", split_json, "-o", out])
            meta = read_json(os.path.join(out, "malaria_resnet18.json"))
            self.assertEqual(meta["metrics"]["test"]["accuracy"], 0.958)


class PreprocessTest(unittest.TestCase):
    def test_area_resize_integer_rule(self):
        img = np.arange(5 * 3 * 3, dtype=np.uint8).reshape(5, 3, 3)
        out = common.area_resize_u8(img, 2)
        # rows [0,3) and [2,5), cols [0,2) and [1,3): mean of the box, rounded half up
        box = img[0:3, 0:2].astype(np.int64).reshape(-1, 3)
        self.assertEqual(out[0, 0].tolist(), ((2 * box.sum(0) + 6) // 12).tolist())
        sq = img[:3]  # 3x3 -> 6x6: every bin is one pixel
        self.assertTrue(np.array_equal(common.area_resize_u8(sq, 6), sq.repeat(2, 0).repeat(2, 1)))

    def test_close_to_torch_area(self):
        rng = np.random.default_rng(1)
        for h, w in [(131, 97), (64, 64), (50, 200), (1, 1)]:
            img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            ref = (
                torch.nn.functional.adaptive_avg_pool2d(
                    torch.from_numpy(img.copy()).permute(2, 0, 1).float()[None], 64
                )[0]
                .permute(1, 2, 0)
                .numpy()
            )
            self.assertLessEqual(np.abs(common.area_resize_u8(img, 64) - ref).max(), 0.5)


@unittest.skipUnless(os.path.exists(os.path.join(DATA, "manifest.tsv")), "data set not present")
class SplitTest(unittest.TestCase):
    def test_committed_split_by_slide(self):
        split = common.load_split(os.path.join(ROOT, "model", "splits"))
        sets = [set(v) for v in split.values()]
        self.assertFalse(sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
        rows = common.read_manifest(DATA)
        self.assertEqual(set().union(*sets), {r["slide"] for r in rows})
        self.assertEqual(common.make_split(rows), split)  # reproducible from the seed
        infected = {r["slide"] for r in rows if r["class"] == "Parasitized"}
        for name, s in split.items():
            s = set(s)
            self.assertTrue(s - infected, f"{name} has no healthy-only slide")
            self.assertTrue(s & infected, f"{name} has no infected slide")


class GoldenTest(unittest.TestCase):
    """The committed golden vectors must come from the committed (shipped) weights."""

    def test_golden_matches_shipped_weights(self):
        mdir = os.path.join(ROOT, "model")
        wpath = os.path.join(mdir, export.BASENAME + ".safetensors")
        self.assertTrue(os.path.exists(wpath), "shipped weights missing")
        with open(os.path.join(mdir, export.BASENAME + ".json")) as f:
            meta = json.load(f)
        with open(os.path.join(ROOT, "tests", "fixtures", "golden.json")) as f:
            g = json.load(f)
        self.assertEqual(g["weights_sha256"], export.sha256_file(wpath))
        t, _ = export.read_safetensors(
            os.path.join(ROOT, "tests", "fixtures", "golden.safetensors")
        )
        X = np.stack(
            [
                common.area_resize_u8(
                    common.decode_rgb(os.path.join(ROOT, "tests", "fixtures", f)), g["size"]
                )
                for f in g["files"]
            ]
        )
        self.assertTrue(np.array_equal(X.astype(np.float32), t["input_u8"]))
        x, logits = golden.forward(wpath, meta, X)
        np.testing.assert_allclose(x, t["input"], atol=1e-6)
        np.testing.assert_allclose(logits, t["logits"], atol=1e-4)


if __name__ == "__main__":
    unittest.main()
