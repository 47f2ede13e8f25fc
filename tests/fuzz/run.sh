#!/bin/sh
# Build the libFuzzer targets (tests/fuzz/fuzz_*.cpp) with clang and run each for N seconds.
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET (default 20)] [BUILD_DIR (default build-fuzz)]
#   MC_FUZZ_RUNS=10000000 tests/fuzz/run.sh 3600    # the campaign (docs/FUZZ.md): each target
#                                                   # until 10 M executions or an hour
#   MC_FUZZ_TARGETS="fuzz_blob fuzz_image" ...      # only these targets
#
# Seeds: tests/fuzz/seeds/<name>/ and, for fuzz_image, tests/fixtures/images/ (read only); the
# growing corpus lives in BUILD_DIR/fuzz-corpus/<name>/, crashes in BUILD_DIR/fuzz-artifacts/.
# Dictionary tests/fuzz/<name>.dict if present. Exit status non-zero if a target found a crash.
set -eu
secs=${1:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-$root/build-fuzz}
jobs=${MC_FUZZ_JOBS:-2}

mkdir -p "$build"
CC=clang CXX=clang++ nice -n 10 cmake -S "$root" -B "$build" -DMC_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
targets=${MC_FUZZ_TARGETS:-$(cd "$root/tests/fuzz" && ls fuzz_*.cpp | sed 's/\.cpp$//')}
# shellcheck disable=SC2086
nice -n 10 cmake --build "$build" -j"$jobs" --target $targets

status=0
mkdir -p "$build/fuzz-artifacts"
for t in $targets; do
  name=${t#fuzz_}
  exe=$(find "$build" -type f -name "$t" -perm -u+x | head -n 1)
  corpus="$build/fuzz-corpus/$name"
  mkdir -p "$corpus"
  set -- -max_total_time="$secs" ${MC_FUZZ_RUNS:+-runs=$MC_FUZZ_RUNS} -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 \
         -artifact_prefix="$build/fuzz-artifacts/$t-"
  [ -f "$root/tests/fuzz/$name.dict" ] && set -- "$@" -dict="$root/tests/fuzz/$name.dict"
  set -- "$@" "$corpus"
  [ -d "$root/tests/fuzz/seeds/$name" ] && set -- "$@" "$root/tests/fuzz/seeds/$name"
  # the image fixtures (regression inputs of earlier finds, e.g. the JPEG leak) seed fuzz_image
  [ "$name" = image ] && set -- "$@" "$root/tests/fixtures/images"
  echo "== $t for ${secs}s"
  if ! nice -n 10 "$exe" "$@" > "$build/fuzz-$t.log" 2>&1; then
    echo "!! $t FAILED (see $build/fuzz-$t.log and $build/fuzz-artifacts/)"
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY|ERROR" "$build/fuzz-$t.log" || true
done
exit $status
