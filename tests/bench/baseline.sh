#!/usr/bin/env bash
# Builds the binaries of an earlier commit into build-baseline/ (bin/quiesce and
# bin/bench_hw_storm), so that the benchmarks can print ratios against it measured in the
# same run. The default is the commit issue 19 (speed) started from.
#   tests/bench/baseline.sh [REV]        (about 4 minutes on 2 cores; skipped when built)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rev=$(git -C "$root" rev-parse "${1:-73741b0}^{commit}")
dir=$root/build-baseline
if [[ -x $dir/bin/quiesce && -x $dir/bin/bench_hw_storm && $(cat "$dir/REV" 2>/dev/null) == "$rev" ]]; then
  exit 0
fi
"$root/scripts/bootstrap"
rm -rf "$dir"
mkdir -p "$dir/src" "$dir/bin"
git -C "$root" archive "$rev" | tar -x -C "$dir/src"
echo "baseline: building $rev into $dir" >&2
cmake -S "$dir/src" -B "$dir/obj" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$dir/obj" quiesce bench_hw_storm | { grep -v '^\[' || true; }
cp "$dir/obj/bin/quiesce" "$dir/obj/bench/bench_hw_storm" "$dir/bin/"
echo "$rev" > "$dir/REV"
