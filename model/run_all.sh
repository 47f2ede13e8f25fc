#!/bin/sh
# Reproduce the shipped model from the data set: train both sizes, pick, export, report.
# usage: model/run_all.sh DATA_DIR     (about 70 minutes on 2 CPU cores)
set -e
DATA=${1:?usage: model/run_all.sh DATA_DIR}
cd "$(dirname "$0")/.."
/usr/bin/python3 model/train.py --data "$DATA" --size 64 --epochs 15
/usr/bin/python3 model/train.py --data "$DATA" --size 96 --epochs 7
