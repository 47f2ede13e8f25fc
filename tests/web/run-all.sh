#!/usr/bin/env bash
# Web tests entry point, called after the wasm build:
#   bash tests/web/run-all.sh [WASM_BUILD_DIR (default build-wasm)] [NATIVE_BUILD_DIR (default build)]
# Needs: node >= 18, the npm install of the repo root (playwright-core), Chromium (/usr/bin/chromium
# or CHROMIUM_PATH), the native CLI (NATIVE_BUILD_DIR/wasm/malaria-classify or MC_NATIVE_CLI) for
# the reference results. Ends with "N passed, M failed"; exits non-zero on any failure.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="${1:-build-wasm}"
native="${2:-build}"
cd "$repo"
if [ ! -d node_modules/playwright-core ]; then
  echo "installing npm dev dependencies (npm ci)"
  npm ci --no-audit --no-fund >/dev/null 2>&1 || npm install --no-audit --no-fund >/dev/null 2>&1 || {
    echo "npm install failed"; echo "0 passed, 1 failed"; exit 1; }
fi
exec node "$here/run.mjs" --build "$build" --native "$native" "${@:3}"
