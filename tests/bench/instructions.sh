#!/usr/bin/env bash
# Instructions a flagship point executes (printed, never pass/fail), counted by Valgrind's
# callgrind: unlike host time they do not move with the machine's load, so two builds can be
# compared to a fraction of a percent on a noisy or shared machine. One `quiesce run` of
# scenarios/perf-rcu-2015.yaml (the irq_save variant, which runs its whole duration) at 4, 16
# and 64 cores, start-up included. With a baseline binary (build-baseline/bin/quiesce, made
# by tests/bench/baseline.sh, or QUIESCE_BASELINE=path) each count is also taken with it and
# printed as baseline/this (>1: this binary executes fewer).
#   tests/bench/instructions.sh [--duration 5ms] [--cores "4 16 64"]
# Instructions are not time: a cache miss or a SystemC context switch costs more than an add.
# Under callgrind a 64-core 50 ms point takes a few minutes; the 5 ms default, under one.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/build/bin/quiesce
base=${QUIESCE_BASELINE:-$root/build-baseline/bin/quiesce}
[[ -x $base ]] || base=""
duration=5ms
cores="4 16 64"
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --cores) cores=$2; shift 2 ;;
    *) echo "instructions.sh: unknown argument $1 (--duration T, --cores \"N ...\")" >&2; exit 2 ;;
  esac
done
if ! command -v valgrind > /dev/null; then
  echo "instructions.sh: valgrind is not installed (apt-get install valgrind); no counts"
  exit 0
fi
[[ -x $bin ]] || { echo "instructions.sh: no $bin (scripts/build)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export QUIESCE_ROOT=$root

count() {  # binary cores -> instructions
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$1" run "$root/scenarios/perf-rcu-2015.yaml" \
    --set kernel.perf.lock_task_context=irq_save --set cores="$2" --set duration="$duration" -q --out "$out/p" \
    2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

echo "instructions per flagship point (irq_save, $duration, callgrind)${base:+; baseline $base}"
printf "%6s %16s %16s %10s\n" cores this baseline base/this
for c in $cores; do
  n=$(count "$bin" "$c")
  if [[ -n $base ]]; then
    b=$(count "$base" "$c")
    printf "%6s %16s %16s %10s\n" "$c" "$n" "$b" "$(awk -v b="$b" -v n="$n" 'BEGIN { printf "%.3f", b / n }')"
  else
    printf "%6s %16s %16s %10s\n" "$c" "$n" - -
  fi
done
