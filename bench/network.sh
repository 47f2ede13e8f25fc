#!/usr/bin/env bash
# Whole-network batch-1 latency of our engine under Node (wasm SIMD128, V8 as in Chromium), on
# the blobs that bench/run.sh converted (bench/out/assets/ours/model-{f32,int8}.mcb) or on the
# blobs given as arguments. A quick A/B tool while working on kernels; BENCHMARKS.md's numbers
# come from bench/run.sh in Chromium.
#   bench/network.sh [blob.mcb ...]          (BATCH=n: classify_batch of n cells, ms per cell)
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
O=bench/out/network
mkdir -p "$O/third_party"
# nlohmann/json only (never all of /usr/include: its libc headers would shadow the sysroot's)
[ -e "$O/third_party/nlohmann" ] || ln -s /usr/include/nlohmann "$O/third_party/nlohmann"
em++ -std=c++17 -O3 -msimd128 -DNDEBUG -Iwasm/src -Iwasm/include -I"$O/third_party" \
  bench/native/bench_network.cpp wasm/src/*.cpp wasm/src/ops/*.cpp wasm/src/kernels/*.cpp \
  -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node -sNODERAWFS=1 -o "$O/bench_network.cjs"
blobs=("$@")
[ ${#blobs[@]} -gt 0 ] || blobs=(bench/out/assets/ours/model-f32.mcb model/malaria_resnet18.mcb)
for b in "${blobs[@]}"; do
  node --no-experimental-fetch "$O/bench_network.cjs" "$b" "${RUNS:-200}" 20 "${BATCH:-1}"
done
