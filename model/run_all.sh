#!/bin/sh
# Reproduce the shipped model from the data set: train both sizes, export the shipped one (S=64 by
# the rule in REPORT.md), golden vectors, evaluation of the converted blobs, report.
# usage: model/run_all.sh DATA_DIR     (needs build/ from ./run test for the converter and the CLI)
set -e
DATA=${1:?usage: model/run_all.sh DATA_DIR}
cd "$(dirname "$0")/.."
/usr/bin/python3 model/train.py --data "$DATA" --size 64 --epochs 15
/usr/bin/python3 model/train.py --data "$DATA" --size 96 --epochs 7
/usr/bin/python3 model/export.py --run model/runs/S64 --data "$DATA" -o model
/usr/bin/python3 model/golden.py --data "$DATA" --model model -o tests/fixtures
model/make_blob.sh "$DATA"
build/converter/malaria-convert --weights model/malaria_resnet18.safetensors \
  --meta model/malaria_resnet18.json --dtype f32 -o model/runs/S64/f32.mcb
for split in test val; do
  /usr/bin/python3 model/eval_blob.py --data "$DATA" --split $split --cli build/wasm/malaria-classify \
    --blob model/runs/S64/f32.mcb model/malaria_resnet18.mcb --out model/runs/S64/blob_eval_$split.json
done
/usr/bin/python3 model/report.py --runs model/runs/S64 model/runs/S96 --shipped model/runs/S64
