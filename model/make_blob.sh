#!/bin/sh
# Convert the exported weights into the blob the page and the CLI load (int8, calibrated on
# 200 cells of the VALIDATION slides; never the test slides), plus an f32 blob for comparison.
# usage: model/make_blob.sh DATA_DIR [CONVERTER]     (CONVERTER: default build/converter/malaria-convert)
set -e
DATA=${1:?usage: model/make_blob.sh DATA_DIR [CONVERTER]}
CONV=${2:-build/converter/malaria-convert}
cd "$(dirname "$0")/.."
CAL=$(mktemp -d)
trap 'rm -rf "$CAL"' EXIT  # also when a step fails
/usr/bin/python3 - "$DATA" "$CAL" <<'PY'
import os, random, sys
sys.path.insert(0, "model")
import common
data, out = sys.argv[1], sys.argv[2]
val = set(common.load_split("model/splits")["val"])
rows = [r for r in common.read_manifest(data) if r["slide"] in val]
random.Random(0).shuffle(rows)
for i, r in enumerate(sorted(rows[:200], key=lambda r: r["filename"])):
    os.symlink(os.path.abspath(common.file_path(data, r)), os.path.join(out, f"{i:03d}.png"))
PY
"$CONV" --weights model/malaria_resnet18.safetensors --meta model/malaria_resnet18.json \
        --dtype int8 --calib "$CAL" -o model/malaria_resnet18.mcb
ls -l model/malaria_resnet18.mcb
