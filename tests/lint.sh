#!/usr/bin/env bash
# Formatting and lint of the project's own source (./run test runs --check):
#   bash tests/lint.sh --check   list what is not formatted or has lint findings; exit 1 if any
#   bash tests/lint.sh --fix     format in place (and apply Biome's safe lint fixes), then check
# C++   (wasm/ converter/ tests/ bench/native/ web/wasm/): clang-format 14, .clang-format
# JS    (web/ tests/web/ bench/*.mjs bench/tools/ bench/web/): @biomejs/biome (npm), biome.jsonc
# Python (model/ bench/ tests/): black (pyproject.toml) and pyflakes3, Debian's
# Files are the tracked ones (git ls-files); nothing generated or vendored is tracked there.
# Needs: apt-get install clang-format-14 black pyflakes3; npm ci (for node_modules/.bin/biome).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mode=${1:-}
case "$mode" in --check | --fix) ;; *) sed -n '2,9p' "$0"; exit 2 ;; esac

CLANG_FORMAT=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
BIOME=node_modules/.bin/biome
missing=()
[ -n "$CLANG_FORMAT" ] || missing+=("clang-format (apt-get install clang-format-14)")
command -v black >/dev/null || missing+=("black (apt-get install black)")
command -v pyflakes3 >/dev/null || missing+=("pyflakes3 (apt-get install pyflakes3)")
[ -x "$BIOME" ] || missing+=("$BIOME (npm ci)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'lint: missing %s\n' "${missing[@]}"
  exit 2
fi

# tracked files that exist (a deletion not yet committed is left out)
files() { git ls-files -z -- "$@" | while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\n' "$f"; done; }
mapfile -t cxx < <(files 'wasm/*.h' 'wasm/*.c' 'wasm/*.cpp' 'converter/*.h' 'converter/*.cpp' \
  'tests/*.h' 'tests/*.c' 'tests/*.cpp' 'bench/native/*.h' 'bench/native/*.cpp' 'web/wasm/*.c')
mapfile -t py < <(files 'model/*.py' 'bench/*.py' 'tests/*.py')

status=0
fail() { echo "lint: $*"; status=1; }

echo "== C++: clang-format ($("$CLANG_FORMAT" --version | grep -o 'version [0-9.]*'), ${#cxx[@]} files)"
if [ "$mode" = --fix ]; then "$CLANG_FORMAT" -i "${cxx[@]}"; fi
bad=()
for f in "${cxx[@]}"; do
  "$CLANG_FORMAT" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
[ ${#bad[@]} -eq 0 ] || fail "not formatted (clang-format -i): ${bad[*]}"

echo "== JS: biome ($("$BIOME" --version))"
# twice: Biome's formatter settles some long chains only on a second pass
if [ "$mode" = --fix ]; then
  for _ in 1 2; do "$BIOME" check --write --no-errors-on-unmatched >/dev/null 2>&1; done
fi
"$BIOME" check --no-errors-on-unmatched --reporter=summary 2>&1 | grep -v '^\s*$' | sed 's/^/  /'
"$BIOME" check --no-errors-on-unmatched >/dev/null 2>&1 || fail "JS formatting or lint (biome check)"

echo "== Python: black and pyflakes3 (${#py[@]} files)"
if [ "$mode" = --fix ]; then black --quiet "${py[@]}"; fi
if ! out=$(black --check "${py[@]}" 2>&1); then
  echo "$out" | grep '^would reformat' | sed 's/^/  /'
  fail "Python not formatted (black)"
fi
pyflakes3 "${py[@]}" || fail "Python lint (pyflakes3)"

if [ $status = 0 ]; then echo "lint: all clean"; else echo "lint: FAILED"; fi
exit $status
