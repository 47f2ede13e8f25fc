#!/bin/sh
# Reproduce the shipped model from the data set, in one command (about 2 hours on 2 CPU cores):
#   1. the recipe on the split (model/splits: train / val / test slides): trained on the training
#      slides, temperature and band fitted on the validation slides, measured once on the test
#      slides (model/runs/S64: the figures REPORT.md gives);
#   2. the final model: the same recipe on every slide (model/runs/S64_all), with the temperature
#      and band of step 1 (its own validation slides are in its training set);
#   3. the final model exported (metadata carrying step 1's test-slide figures), golden vectors,
#      the int8 blob, and the agreement of the int8 blob with f32 on the test slides' cells.
# MC_COMPARE_S96=1 also trains the S = 96 comparison of REPORT.md (48 more minutes).
# usage: model/run_all.sh DATA_DIR     (needs build/ from ./run test for the converter and the CLI)
set -e
DATA=${1:?usage: model/run_all.sh DATA_DIR}
cd "$(dirname "$0")/.."
/usr/bin/python3 model/train.py --data "$DATA" --size 64 --epochs 15
runs=model/runs/S64
if [ "${MC_COMPARE_S96:-0}" = 1 ]; then
  /usr/bin/python3 model/train.py --data "$DATA" --size 96 --epochs 7
  runs="$runs model/runs/S96"
fi
/usr/bin/python3 model/train.py --data "$DATA" --size 64 --epochs 15 --all-slides \
  --calib-from model/runs/S64 --run model/runs/S64_all
/usr/bin/python3 model/export.py --run model/runs/S64_all --metrics-from model/runs/S64 \
  --data "$DATA" -o model
/usr/bin/python3 model/golden.py --data "$DATA" --model model -o tests/fixtures
model/make_blob.sh "$DATA"
build/converter/malaria-convert --weights model/malaria_resnet18.safetensors \
  --meta model/malaria_resnet18.json --dtype f32 -o model/runs/S64_all/f32.mcb
# the final model learned from the test slides: this measures int8 against f32, not accuracy
/usr/bin/python3 model/eval_blob.py --data "$DATA" --split test --cli build/wasm/malaria-classify \
  --blob model/runs/S64_all/f32.mcb model/malaria_resnet18.mcb \
  --out model/runs/S64_all/blob_eval_test.json
# plots and the generated part of the model card (REPORT.md's later sections are written by the
# scripts they name)
# shellcheck disable=SC2086
/usr/bin/python3 model/report.py --runs $runs --shipped model/runs/S64 \
  --out model/runs/S64/REPORT.generated.md
