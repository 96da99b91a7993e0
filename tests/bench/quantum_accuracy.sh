#!/usr/bin/env bash
# What a quantum costs in answers (printed, never pass/fail): the flagship sweep run exact
# (sim.quantum 0) and at QUANTUM (default 1us), with P(lockdep report), P(deadlock) and
# P(detect) (either) per variant and core count, the change in points, and each run's host
# time.
#   tests/bench/quantum_accuracy.sh [QUANTUM]      (QUIESCE_BIN=path: another quiesce binary)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${QUIESCE_BIN:-$root/build/bin/quiesce}
quantum=${1:-1us}
scenario=$root/scenarios/perf-rcu-2015.yaml
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export QUIESCE_ROOT=$root

for q in 0ns "$quantum"; do
  start=$(date +%s.%N)
  # Exit code 1 only says some points broke the scenario's expect: lines.
  "$bin" sweep "$scenario" -q --no-plot --out "$out/$q" --set sim.quantum="$q" >/dev/null 2>&1 || [[ $? -eq 1 ]]
  end=$(date +%s.%N)
  awk -v q="$q" -v s="$start" -v e="$end" 'BEGIN { printf "quantum %s: sweep took %.1f s of host time\n", q, e - s }'
done

python3 - "$out/0ns/points.csv" "$out/$quantum/points.csv" "$quantum" <<'EOF'
import csv
import sys
from collections import defaultdict

keys = ("kernel.perf.lock_task_context", "kernel.rcu.unlock_special", "kernel.lockdep.might_wake", "cores")


def rates(path):
    groups = defaultdict(lambda: [0, 0, 0, 0])
    for row in csv.DictReader(open(path)):
        g = groups[tuple(row[k] for k in keys)]
        lockdep = float(row["lockdep_reports"] or 0) > 0
        deadlock = float(row["deadlock"] or 0) > 0
        g[0] += 1
        g[1] += lockdep
        g[2] += deadlock
        g[3] += lockdep or deadlock
    return groups


exact, fast, q = rates(sys.argv[1]), rates(sys.argv[2]), sys.argv[3]
print(f"{'variant (lock_task_context/unlock_special/might_wake, cores)':62} {'points':>6}"
      f" {'P(lockdep)':>16} {'P(deadlock)':>16} {'P(detect)':>16}")
worst = [0.0, 0.0, 0.0]
for k in sorted(exact):
    n = exact[k][0]
    cells = []
    for i in (1, 2, 3):
        a, b = 100 * exact[k][i] / n, 100 * fast[k][i] / n
        worst[i - 1] = max(worst[i - 1], abs(b - a))
        cells.append(f"{a:5.0f}% -> {b:4.0f}%")
    print(f"{'/'.join(k[:3]) + ', ' + k[3]:62} {n:6d} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16}")
print(f"largest change at quantum {q} (exact -> {q}): P(lockdep) {worst[0]:.0f} points, "
      f"P(deadlock) {worst[1]:.0f} points, P(detect) {worst[2]:.0f} points")
EOF
