#!/usr/bin/env bash
# Flagship figures (printed, never pass/fail): host time and memory of one 50 ms point of
# scenarios/perf-rcu-2015.yaml at 4, 16 and 64 cores (the irq_save variant, which runs its
# whole 50 ms), the start-up cost of a point, the host time to the buggy kernel's first
# circular splat, the cost per core and simulated millisecond up to 1024 cores, and the
# 1000-point sweep those figures imply on this machine (or, with --full-sweep, that sweep
# run for real).
#
# With a baseline binary (build-baseline/bin/quiesce, made by tests/bench/baseline.sh, or
# QUIESCE_BASELINE=path), every figure is also measured with it in the same run, the two
# binaries alternating, and printed as a ratio: the median over the repetitions of the
# baseline's host time over this one's (>1: this binary is faster).
#   tests/bench/flagship.sh [--reps N] [--full-sweep]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/build/bin/quiesce
base=${QUIESCE_BASELINE:-$root/build-baseline/bin/quiesce}
[[ -x $base ]] || base=""
scenario=$root/scenarios/perf-rcu-2015.yaml
reps=5
full_sweep=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --full-sweep) full_sweep=1; shift ;;
    *) echo "flagship.sh: unknown argument $1 (--reps N, --full-sweep)" >&2; exit 2 ;;
  esac
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export QUIESCE_ROOT=$root

# Wall time to the nanosecond around the command (GNU time's %e has 10 ms steps, 7% of a
# 4-core point; the same few ms of fork and exec are in every figure, the floor's too),
# the peak RSS from GNU time.
timed() {  # cmd args... -> "host_s maxrss_kib"
  local s e rss
  s=$(date +%s%N)
  rss=$(/usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1)
  e=$(date +%s%N)
  echo "$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f", (e - s) / 1e9 }') $rss"
}
run_point() {  # bin args... -> "host_s maxrss_kib"
  local b=$1
  shift
  timed "$b" run "$scenario" -q --out "$out/p" "$@"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Measures one configuration `reps` times, alternating with the baseline; prints
# "host_s rss_mib ratio" (ratio: median of baseline/this per pair; "-" without a baseline).
measure() {
  local hs=() rs=() ratios=() h r bh br
  for ((i = 0; i < reps; ++i)); do
    read -r h r < <(run_point "$bin" "$@")
    hs+=("$h")
    rs+=("$r")
    if [[ -n $base ]]; then
      read -r bh br < <(run_point "$base" "$@")
      ratios+=("$(awk -v a="$bh" -v b="$h" 'BEGIN { print (b > 0) ? a / b : 0 }')")
    fi
  done
  local mh mr mratio="-"
  mh=$(printf '%s\n' "${hs[@]}" | median)
  mr=$(printf '%s\n' "${rs[@]}" | median)
  [[ -n $base ]] && mratio=$(printf '%s\n' "${ratios[@]}" | median)
  echo "$mh $(awk -v r="$mr" 'BEGIN { printf "%.1f", r / 1024 }') $mratio"
}

echo "binary: $bin"
echo "baseline: ${base:-none (tests/bench/baseline.sh builds one)}; medians of $reps runs each"
echo
echo "flagship point: 50 ms simulated (irq_save variant, runs to the end)"
printf "%-6s %10s %10s %12s %16s\n" cores "host s" "sim/host" "max RSS MiB" "x baseline speed"
for c in 4 16 64; do
  read -r host rss ratio < <(measure --set cores="$c" --set kernel.perf.lock_task_context=irq_save)
  awk -v c="$c" -v h="$host" -v r="$rss" -v x="$ratio" \
    'BEGIN { printf "%-6s %10.3f %10.2f %12.1f %16s\n", c, h, 0.05 / h, r, x }'
  eval "host_$c=$host"
done

# Start-up: a point that simulates 1 us, beside a SystemC program that does nothing (the
# process floor: loading the libraries, SystemC's own start-up), its heap set up as
# quiesce's is (sim/cli/host_heap.cpp), so that the difference is the model's own.
floor_src=$out/floor.cpp
printf '#include <systemc>\nint sc_main(int, char**) { return 0; }\n' > "$floor_src"
floor_host="-"
if g++ -std=c++17 -O2 -I"$root" "$floor_src" "$root/sim/cli/host_heap.cpp" -o "$out/floor" \
    $(pkg-config --cflags --libs systemc) 2>/dev/null; then
  fs=()
  for ((i = 0; i < reps; ++i)); do
    read -r f _ < <(timed "$out/floor")
    fs+=("$f")
  done
  floor_host=$(printf '%s\n' "${fs[@]}" | median)
fi
read -r start _ sratio < <(measure --set cores=4 --set duration=1us)
awk -v s="$start" -v f="$floor_host" -v x="$sratio" 'BEGIN {
  printf "start-up: a 1 us point takes %.3f s (x baseline speed %s); an empty SystemC program %s s", s, x, f
  if (f != "-") printf "; the model'"'"'s own start-up about %.0f ms", 1000 * (s - f)
  printf "\n" }'

# Time to the buggy kernel's first splat: run until the deadlock that follows it.
start_t=$(date +%s.%N)
"$bin" run "$scenario" -q --out "$out/bug" >/dev/null 2>&1 || true
end_t=$(date +%s.%N)
first=$(grep -o '"lockdep.first_report_ns": [0-9.]*' "$out/bug/result.json" | awk '{print $2}')
awk -v f="$first" -v s="$start_t" -v e="$end_t" 'BEGIN { printf "buggy kernel: first circular splat at %.1f us simulated; the whole run, to its deadlock, took %.3f s of host time\n", f / 1000, e - s }'

# Linearity: host time per core and simulated millisecond, 5 ms points, 64 to 1024 cores.
echo
echo "cost per core and simulated ms (5 ms points, irq_save variant)"
printf "%-6s %10s %14s %12s %16s\n" cores "host s" "host us/core/ms" "max RSS MiB" "x baseline speed"
for c in 64 256 1024; do
  read -r host rss ratio < <(reps=$(( reps > 3 ? 3 : reps )) measure --set cores="$c" --set duration=5ms \
    --set kernel.perf.lock_task_context=irq_save)
  awk -v c="$c" -v h="$host" -v r="$rss" -v x="$ratio" \
    'BEGIN { printf "%-6s %10.3f %14.2f %12.1f %16s\n", c, h, 1e6 * h / c / 5, r, x }'
done

# A 1000-point sweep spread evenly over 4, 16 and 64 cores, 50 ms each, 2 jobs at a time.
echo
awk -v a="$host_4" -v b="$host_16" -v c="$host_64" \
  'BEGIN { printf "1000-point sweep (4/16/64 cores evenly, 50 ms each) on 2 cores: about %.0f s (from the medians above)\n", 1000 * (a + b + c) / 3 / 2 }'
if [[ $full_sweep -eq 1 ]]; then
  sweep=$out/sweep.yaml
  sed '/^sweep:/,$d' "$scenario" > "$sweep"
  printf 'sweep:\n  kernel.perf.lock_task_context: [irq_save]\n  cores: [4, 16, 64]\n  seed: {range: [1, 334]}\n  max_points: 2000\n' >> "$sweep"
  for b in "$bin" ${base:+"$base"}; do
    s=$(date +%s.%N)
    "$b" sweep "$sweep" --out "$out/sweep-$(basename "$(dirname "$(dirname "$b")")")" --jobs 2 -q --no-plot >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" -v b="$b" 'BEGIN { printf "1002-point sweep, run: %.1f s (%s)\n", e - s, b }'
  done
fi
