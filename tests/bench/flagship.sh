#!/usr/bin/env bash
# Flagship figures (printed, never pass/fail): host time and memory of one 50 ms point of
# scenarios/perf-rcu-2015.yaml at 4, 16 and 64 cores (the irq_save variant, which runs its
# whole 50 ms), the host time to the buggy kernel's first circular splat, and the 1000-point
# sweep those figures imply on this machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/build/bin/quiesce
scenario=$root/scenarios/perf-rcu-2015.yaml
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export QUIESCE_ROOT=$root

measure() {  # cores variant -> "host_s maxrss_kib"
  /usr/bin/time -f "%e %M" "$bin" run "$scenario" -q --out "$out/p" --set cores="$1" \
    --set kernel.perf.lock_task_context="$2" 2>&1 >/dev/null | tail -1
}

echo "flagship point: 50 ms simulated (irq_save variant, runs to the end)"
printf "%-6s %10s %12s %12s\n" cores "host s" "host/sim" "max RSS MiB"
total=0
for c in 4 16 64; do
  read -r host rss < <(measure "$c" irq_save)
  awk -v c="$c" -v h="$host" -v r="$rss" 'BEGIN { printf "%-6s %10.3f %12.2f %12.1f\n", c, h, h / 0.05, r / 1024 }'
  eval "host_$c=$host"
done
# Time to the buggy kernel's first splat: run until the deadlock that follows it.
start=$(date +%s.%N)
"$bin" run "$scenario" -q --out "$out/bug" >/dev/null 2>&1 || true
end=$(date +%s.%N)
first=$(grep -o '"lockdep.first_report_ns": [0-9.]*' "$out/bug/result.json" | awk '{print $2}')
awk -v f="$first" -v s="$start" -v e="$end" 'BEGIN { printf "buggy kernel: first circular splat at %.1f us simulated; the whole run, to its deadlock, took %.3f s of host time\n", f / 1000, e - s }'
# A 1000-point sweep spread evenly over 4, 16 and 64 cores, 50 ms each, 2 jobs at a time.
awk -v a="$host_4" -v b="$host_16" -v c="$host_64" \
  'BEGIN { printf "1000-point sweep (4/16/64 cores evenly, 50 ms each) on 2 cores: about %.0f s\n", 1000 * (a + b + c) / 3 / 2 }'
