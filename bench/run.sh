#!/usr/bin/env bash
# The benchmark, in one go (run by hand; not part of ./run test):
#
#   bench/run.sh            full run (~15-20 min on 2 cores)
#   bench/run.sh --quick    fewer repetitions (a smoke run of the harness)
#   bench/run.sh --page     what a user gets (~15 min): the built site (build-wasm/site, built here
#                           as ./run serve builds it) in the page scenario (bench/page_scenario.mjs:
#                           300 cells, one field, 1x and 4x CPU throttling, 1/2/4 Workers, first
#                           result and bytes, the JS API in bulk and one cell at a time) and, in
#                           the same run, the peers' pool, batch-1 at 1 and 2 threads and cold
#                           start, and our pool -> bench/out/page-results.json, bench/out/page-table.md
#                           and the PAGE TABLE of README.md and BENCHMARKS.md (steps 4-5 skipped)
#
# 1. npm deps into bench/node_modules (bench/package.json, pinned)
# 2. weights: model/malaria_resnet18.{safetensors,json} (the shipped model), else a random dev model
# 3. peers' models from those weights: ONNX (PyTorch exporter) and BN-folded tfjs weights, inputs,
#    PyTorch reference logits (bench/tools/export_peers.py, Debian's /usr/bin/python3 + torch)
# 4. SIMD128 peak module (bench/simd/peak.c, emcc)
# 5. conv layers: Debian XNNPACK vs our ops natively (bench/native/xnnpack_layers.cpp), and
#    XNNPACK's wasm kernels (tfjs, bench/tools/tfjs_layers.mjs) vs our ops in wasm, under Node
# 6. our engine: malaria-convert (native build in bench/out/build-native) -> f32/f16/int8 blobs,
#    the SIMD128 module (wasm build in bench/out/build-wasm)
# 7. every scenario in headless Chromium (bench/driver.mjs) -> bench/out/results.json
# 8. chart (bench/chart.png) and the generated tables of BENCHMARKS.md (bench/tools/report.py)
#
# Env: JOBS (build parallelism, default 2), BENCH_SKIP_NATIVE=1, BENCH_ONLY=ort,tfjs,ours-f32,...
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=$ROOT/bench
OUT=$B/out
A=$OUT/assets
JOBS=${JOBS:-2}
QUICK=()
PAGE=
[ "${1:-}" = "--quick" ] && QUICK=(--quick)
[ "${1:-}" = "--page" ] && PAGE=1 && BENCH_SKIP_NATIVE=1
export NODE_PATH=/usr/share/nodejs
mkdir -p "$A/ours" "$OUT/native"
say() { echo "== $*"; }
missing=()

# 1. npm
if [ ! -d "$B/node_modules/onnxruntime-web" ] || [ "$B/package-lock.json" -nt "$B/node_modules/.package-lock.json" ]; then
  say "npm ci (bench/)"
  (cd "$B" && npm ci --no-audit --no-fund) || { echo "npm ci failed"; exit 1; }
fi

# 2. weights
if [ -f model/malaria_resnet18.safetensors ] && [ -f model/malaria_resnet18.json ]; then
  W=model/malaria_resnet18
  say "weights: shipped model ($W.safetensors)"
else
  W=$OUT/model/malaria_resnet18
  if [ ! -f "$W.safetensors" ]; then
    say "weights: random dev model (model/malaria_resnet18.safetensors not there yet)"
    /usr/bin/python3 model/export.py --random --size 64 --seed 1 -o "$OUT/model" || exit 1
  fi
fi

# 3. peers' models, inputs, reference logits
if [ ! -f "$A/reference.json" ] || [ "$W.safetensors" -nt "$A/reference.json" ] || [ "$B/tools/export_peers.py" -nt "$A/reference.json" ] \
   || ! grep -q "\"$(readlink -f "$W.safetensors")\"" "$A/reference.json"; then
  say "exporting ONNX + tfjs weights + reference logits"
  nice -n 10 /usr/bin/python3 "$B/tools/export_peers.py" "$W.safetensors" "$W.json" "$A" 2>&1 | grep -v -i warning || exit 1
fi

# 4. SIMD128 peak module
if [ -z "$PAGE" ] && { [ ! -f "$A/peak.wasm" ] || [ "$B/simd/peak.c" -nt "$A/peak.wasm" ]; }; then
  say "building peak.wasm"
  nice -n 10 emcc -O3 -msimd128 --no-entry -sSTANDALONE_WASM "$B/simd/peak.c" -o "$A/peak.wasm" || missing+=("SIMD peak module")
fi

# 5. native layers: Debian XNNPACK vs our ops
if [ -z "${BENCH_SKIP_NATIVE:-}" ]; then
  say "native conv layers (XNNPACK vs ours)"
  if nice -n 10 g++ -std=c++17 -O3 -msse4.1 -DNDEBUG -I"$B/native/compat" -Iwasm/src -Iwasm/include \
       "$B/native/xnnpack_layers.cpp" wasm/src/ops/*.cpp wasm/src/kernels/*.cpp -lXNNPACK -lpthread \
       -o "$OUT/native/xnnpack_layers"; then
    "$OUT/native/xnnpack_layers" 64 0.3 > "$OUT/native.json.tmp" && mv "$OUT/native.json.tmp" "$OUT/native.json" \
      || missing+=("native layer run")
  else
    missing+=("native layer benchmark (build failed)")
  fi
  say "wasm SIMD128 conv layers (ours via emcc, XNNPACK via tfjs-backend-wasm), under Node"
  mkdir -p "$OUT/wasm"
  if nice -n 10 em++ -std=c++17 -O3 -msimd128 -DNDEBUG -Iwasm/src -Iwasm/include "$B/native/xnnpack_layers.cpp" \
       wasm/src/ops/*.cpp wasm/src/kernels/*.cpp -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node -o "$OUT/wasm/ours_layers.cjs"; then
    node --no-experimental-fetch "$OUT/wasm/ours_layers.cjs" 64 0.3 > "$OUT/ours_layers_wasm.json.tmp" \
      && mv "$OUT/ours_layers_wasm.json.tmp" "$OUT/ours_layers_wasm.json" || missing+=("wasm layer run (ours)")
  else
    missing+=("wasm layer benchmark (emcc build failed)")
  fi
  (cd "$B" && node tools/tfjs_layers.mjs 64 0.3 > "$OUT/tfjs_layers.json.tmp") && mv "$OUT/tfjs_layers.json.tmp" "$OUT/tfjs_layers.json" \
    || missing+=("wasm layer run (tfjs)")
fi

# 6. our engine: converter + blobs, wasm module
say "our engine: malaria-convert (native) and the SIMD128 module (wasm)"
if nice -n 10 cmake -S . -B "$OUT/build-native" -DCMAKE_BUILD_TYPE=Release >/dev/null \
   && nice -n 10 cmake --build "$OUT/build-native" --target malaria-convert ${PAGE:+malaria-classify} -j"$JOBS" >/dev/null; then
  CONV=$(find "$OUT/build-native" -name malaria-convert -type f -perm -u+x | head -1)
  for dt in f32 f16 int8; do
    extra=()
    if [ $dt = int8 ] && [ "$W" = model/malaria_resnet18 ] && [ -f model/malaria_resnet18.mcb ] \
       && grep -aq '"dtype":"int8"' <(head -c 65536 model/malaria_resnet18.mcb); then
      # the blob the site ships (int8, calibrated on validation cells by the model pipeline)
      cp model/malaria_resnet18.mcb "$A/ours/model-int8.mcb"
      echo "int8 blob: the shipped model/malaria_resnet18.mcb"
      continue
    fi
    [ $dt = int8 ] && extra=(--calib tests/fixtures/cells)   # dev model: calibrate on the fixture cells
    if [ ! -f "$A/ours/model-$dt.mcb" ] || [ "$W.safetensors" -nt "$A/ours/model-$dt.mcb" ] || [ "$CONV" -nt "$A/ours/model-$dt.mcb" ]; then
      "$CONV" --weights "$W.safetensors" --meta "$W.json" --dtype $dt "${extra[@]}" -o "$A/ours/model-$dt.mcb.tmp" \
        && mv "$A/ours/model-$dt.mcb.tmp" "$A/ours/model-$dt.mcb" \
        || { rm -f "$A/ours/model-$dt.mcb" "$A/ours/model-$dt.mcb.tmp"; missing+=("our $dt blob (malaria-convert --dtype $dt failed)"); }
    fi
  done
else
  missing+=("malaria-convert (native build failed: see cmake --build $OUT/build-native --target malaria-convert); blobs from an earlier conversion, if any, are used")
fi
# the page's build settings, stated (a cache from an older configuration must not leak in: a build
# dir once configured with MC_WEB_EXCEPTIONS=ON kept it, and runs before 2026-11-27 06:00 measured
# that slower module)
if nice -n 10 emcmake cmake -S . -B "$OUT/build-wasm" -DCMAKE_BUILD_TYPE=Release -DMC_WEB_MODEL=/nonexistent \
     -DMC_WEB_EXCEPTIONS=OFF >/dev/null 2>&1 \
   && nice -n 10 cmake --build "$OUT/build-wasm" --target malaria-simd -j"$JOBS" >/dev/null; then
  MJS=$(find "$OUT/build-wasm" -name 'malaria-simd.mjs' | head -1)
  cp "$MJS" "${MJS%.mjs}.wasm" "$A/ours/"
  echo "working tree $(git describe --always --dirty), built $(date -u +%FT%TZ)" > "$A/ours/BUILD_INFO.txt"
elif [ -f "$A/ours/malaria-simd.wasm" ]; then
  missing+=("a fresh wasm module (emscripten build of malaria-simd failed; measuring the previous build)")
  sed -i 's/$/ (STALE: the latest build failed)/' "$A/ours/BUILD_INFO.txt"
else
  missing+=("our wasm module (emscripten build of malaria-simd failed)")
fi

# 7. browser
if [ -n "$PAGE" ]; then
  if [ -z "${BENCH_SITE:-}" ]; then
    say "the site (build-wasm/site, as ./run serve builds it)"
    (emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release >/dev/null && nice -n 10 cmake --build build-wasm -j"$JOBS" >/dev/null) \
      || { echo "site build failed"; exit 1; }
  fi
  say "page scenario and the peers, one run (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
  node "$B/driver.mjs" --only ort,tfjs,ours-int8 --scenarios latency,pool,cold,page --latency-threads 1,2 --out "$OUT/page-results.json" || exit 1
  node "$B/tools/page_table.mjs" "$OUT/page-results.json" --write || exit 1
  [ ${#missing[@]} -gt 0 ] && { echo "!! not measured:"; printf '   - %s\n' "${missing[@]}"; }
  exit 0
fi
say "browser scenarios (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
args=("${QUICK[@]}")
[ -n "${BENCH_ONLY:-}" ] && args+=(--only "$BENCH_ONLY")
node "$B/driver.mjs" "${args[@]}" || exit 1
cp "$OUT/results.json" "$OUT/results-$(date -u +%Hh%M).json"   # every run kept (noisy machines)

# 8. report
say "chart + BENCHMARKS.md"
/usr/bin/python3 "$B/tools/report.py" "$OUT/results.json" "$OUT/native.json" || exit 1
if [ ${#missing[@]} -gt 0 ]; then
  echo "!! not measured:"; printf '   - %s\n' "${missing[@]}"
fi
echo "done: bench/out/results.json, bench/chart.png, BENCHMARKS.md"
