"""Writes a format-version-2 blob for the web tests: a fast.ai v2 learner's ResNet18 (random
weights and BatchNorm statistics, 3 classes, S = 64, the head as fast.ai builds it) through
model/export.py and malaria-convert, f32.

    /usr/bin/python3 tests/python/make_v2_blob.py OUT.mcb [MALARIA_CONVERT]
"""
import os
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_byom as t  # noqa: E402  (the fast.ai head built layer by layer, export_quiet)


def main():
    out = os.path.abspath(sys.argv[1])
    convert = sys.argv[2] if len(sys.argv) > 2 else t.CONVERT
    model = t.fastai_model(2, 3, seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = os.path.join(tmp, "learner.pth")
        torch.save({"model": model.state_dict()}, ckpt)
        exp = os.path.join(tmp, "export")
        t.export_quiet(
            [
                "--checkpoint",
                ckpt,
                "--size",
                "64",
                "--mean",
                *map(str, t.IMAGENET[0]),
                "--std",
                *map(str, t.IMAGENET[1]),
                "-o",
                exp,
                "--labels",
                "Parasitized,Uninfected,Other",
                "--positive",
                "Parasitized",
            ]
        )
        base = os.path.join(exp, t.export.BASENAME)
        subprocess.run(
            [
                convert,
                "--weights",
                base + ".safetensors",
                "--meta",
                base + ".json",
                "--dtype",
                "f32",
                "-o",
                out,
            ],
            check=True,
            capture_output=True,
        )
    print(out)


if __name__ == "__main__":
    main()
