#!/usr/bin/env bash
# The cluster test: a real single-node Slurm (munged, slurmctld and slurmd on 127.0.0.1,
# started here with a generated slurm.conf and stopped here by their PIDs, also when the
# test fails) runs a sweep through `quiesce sweep --slurm`:
#   - the sweep is split into two job arrays (MaxArraySize=4 here) and a merge job;
#   - one point crashes on request (QUIESCE_TEST_CRASH_POINT), so its task fails and the
#     merge job, which waits on afterok, is cancelled and never runs;
#   - `quiesce status` reports the broken point and the jobs' states;
#   - `--slurm --resume` resubmits exactly that shard, reruns only its broken point, and
#     the merge then completes;
#   - the merged tree equals a local `--jobs 2` run of the same scenario byte for byte.
# Needs root (to install and start the daemons); otherwise it says so and exits 77, which
# ctest counts as skipped. Usage: slurm_test.sh QUIESCE_BINARY SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
scenario=$src/tests/scenario/sweep/small.yaml

skip() {
  echo "************************************************************" >&2
  echo "SKIPPED: the Slurm cluster test did not run: $*" >&2
  echo "************************************************************" >&2
  exit 77
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || skip "it needs root to install and start munged, slurmctld and slurmd"
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
  skip "a Slurm daemon already runs on this machine and this test will not disturb it"
fi

need=()
for p in slurmctld slurmd slurm-client munge; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] || need+=("$p")
done
if ((${#need[@]})); then
  echo "cluster test: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/quiesce-slurm.XXXXXX)
chmod 0755 "$work"
pids=()
cleanup() {
  local code=$?
  if ((code != 0 && code != 77)); then
    echo "--- slurmctld.log (tail)" >&2
    tail -n 30 "$work/ctld/slurmctld.log" 2>/dev/null >&2 || true
    echo "--- slurmd.log (tail)" >&2
    tail -n 15 "$work/slurmd.log" 2>/dev/null >&2 || true
    for f in "$work"/sweep/slurm/*.out; do
      [[ -e $f ]] && { echo "--- $f" >&2; tail -n 5 "$f" >&2; }
    done
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  [[ -n ${QUIESCE_KEEP_CLUSTER_DIR:-} ]] && echo "kept $work" >&2 || rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT

# munged: reuse a running one, else start ours.
if ! pgrep -x munged >/dev/null; then
  install -d -o munge -g munge -m 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do [[ -s /run/munge/munged.pid ]] && break; sleep 0.1; done
  pids+=("$(cat /run/munge/munged.pid)")
fi
munge -n | unmunge >/dev/null || fail "munge does not work"

# slurm.conf in our own directory (SLURM_CONF points every Slurm command at it), so the
# machine's /etc/slurm is left alone.
install -d -o slurm -g slurm -m 0755 "$work/ctld"
install -d -m 0755 "$work/d"
node=$(slurmd -C | head -n1)
host=$(hostname -s)
export SLURM_CONF=$work/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=quiesce-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$work/ctld/jobcomp.log
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
MaxArraySize=4
MaxJobCount=10000
StateSaveLocation=$work/ctld
SlurmdSpoolDir=$work/d
SlurmctldPidFile=$work/ctld/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/ctld/slurmctld.log
SlurmdLogFile=$work/slurmd.log
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
EOF
/usr/sbin/slurmctld -D -c -f "$SLURM_CONF" >"$work/slurmctld.stdout" 2>&1 &
pids+=($!)
/usr/sbin/slurmd -D -f "$SLURM_CONF" >"$work/slurmd.stdout" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  [[ $(sinfo -h -o %T 2>/dev/null) == idle ]] && break
  sleep 0.2
done
[[ $(sinfo -h -o %T 2>/dev/null) == idle ]] || fail "the Slurm node did not come up idle"
echo "cluster test: Slurm is up (munged, slurmctld, slurmd)"

# Waits until none of the given jobs is queued or running (at most 5 minutes).
wait_jobs() {
  local ids
  ids=$(IFS=,; echo "$*")
  for _ in $(seq 1500); do
    [[ -z $(squeue -h -j "$ids" 2>/dev/null) ]] && return 0
    sleep 0.2
  done
  squeue -j "$ids" >&2 || true
  fail "jobs $ids did not finish within 5 minutes"
}
job_state() { scontrol show job -o "$1" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' '; }

cd "$work"
echo "cluster test: local reference run"
rc=0
"$bin" sweep "$scenario" --jobs 2 --out "$work/local" -q || rc=$?
((rc <= 1)) || fail "the local sweep exited $rc"

echo "cluster test: the sweep through Slurm, with point 3 crashing"
QUIESCE_TEST_CRASH_POINT=3 "$bin" sweep "$scenario" --slurm --points-per-task 2 --partition debug --time 5:00 \
  --sbatch-arg=--job-name=quiesce-ci --out "$work/sweep" | tee "$work/submit.txt"
mapfile -t arrays < <(awk '/^submitted array job/ {print $4}' "$work/submit.txt")
merge=$(awk '/^submitted merge job/ {print $4}' "$work/submit.txt")
((${#arrays[@]} == 2)) || fail "expected 6 shards in two arrays under MaxArraySize=4, got ${#arrays[@]} array(s)"
[[ -n $merge ]] || fail "no merge job submitted"
grep -q -- "--array=0-3 " "$work/sweep/slurm/submit.sh" || fail "first array is not 0-3"
grep -q -- "QUIESCE_SHARD_OFFSET=4 QUIESCE_SHARDS=6 sbatch --parsable --array=0-1 " "$work/sweep/slurm/submit.sh" ||
  fail "second array is not shards 5-6 as 0-1 at offset 4"
wait_jobs "${arrays[@]}" "$merge"
[[ $(job_state "${arrays[0]}_3") == "FAILED"* ]] || fail "task ${arrays[0]}_3 (shard 4, holding point 3) did not fail: $(job_state "${arrays[0]}_3")"
for t in 0 1 2; do
  [[ $(job_state "${arrays[0]}_$t") == "COMPLETEDx1 " ]] || fail "task ${arrays[0]}_$t: $(job_state "${arrays[0]}_$t")"
done
[[ $(job_state "${arrays[1]}") == "COMPLETEDx2 " ]] || fail "second array: $(job_state "${arrays[1]}")"
[[ $(job_state "$merge") == "CANCELLEDx1 " ]] || fail "merge job ran on incomplete results: $(job_state "$merge")"
compgen -G "$work/sweep/slurm/merge-*.out" >/dev/null && fail "the merge job wrote output although a task failed"
grep -q '"outcome":"crashed"\|"outcome": "crashed"' "$work/sweep/points/p000003/result.json" || fail "point 3 is not recorded as crashed"

rc=0
"$bin" status "$work/sweep" >"$work/status.txt" || rc=$?
cat "$work/status.txt"
((rc == 1)) || fail "quiesce status exited $rc on an incomplete sweep (want 1)"
grep -q "12/12 points have results" "$work/status.txt" || fail "status does not count 12 results"
grep -q " 1 crashed/timed out/invalid" "$work/status.txt" || fail "status does not report the crashed point"
grep -q "merge job $merge: 1 CANCELLED" "$work/status.txt" || fail "status does not show the cancelled merge job"

# Fingerprints of every other point: the resubmission must leave them alone.
(cd "$work/sweep/points" && find . -path ./p000003 -prune -o -type f -print0 | sort -z | xargs -0 sha256sum) >"$work/before.sum"

echo "cluster test: resume"
"$bin" sweep "$scenario" --slurm --resume --out "$work/sweep" | tee "$work/resume.txt"
grep -q "resubmitting 1 of 6 shards (0 missing, 1 broken points)" "$work/resume.txt" || fail "resume did not pick exactly one shard"
grep -q -- "QUIESCE_SHARD_OFFSET=0 QUIESCE_SHARDS=6 sbatch --parsable --array=3 " "$work/sweep/slurm/resubmit-1.sh" ||
  fail "resume did not resubmit shard 4 (array index 3) with the total shard count"
mapfile -t arrays2 < <(awk '/^submitted array job/ {print $4}' "$work/resume.txt")
merge2=$(awk '/^submitted merge job/ {print $4}' "$work/resume.txt")
((${#arrays2[@]} == 1)) || fail "resume submitted ${#arrays2[@]} arrays"
wait_jobs "${arrays2[0]}" "$merge2"
[[ $(job_state "${arrays2[0]}") == "COMPLETEDx1 " ]] || fail "resubmitted array: $(job_state "${arrays2[0]}") (want one completed task)"
[[ $(job_state "$merge2") == "COMPLETEDx1 " ]] || fail "merge job: $(job_state "$merge2")"
(cd "$work/sweep/points" && find . -path ./p000003 -prune -o -type f -print0 | sort -z | xargs -0 sha256sum) >"$work/after.sum"
cmp -s "$work/before.sum" "$work/after.sum" || fail "the resubmission touched points other than the broken one"

rc=0
"$bin" status "$work/sweep" >"$work/status.txt" || rc=$?
cat "$work/status.txt"
((rc == 0)) || fail "quiesce status exited $rc on a complete sweep"

echo "cluster test: comparing the merged Slurm sweep with the local run"
# Byte for byte; the allowances are the sanitizer runtime's own one-line warning in a
# point's stderr.txt under the ASan build (it names the process id and stack addresses),
# and the host's account of each run: points/*/host.json and junit.xml's time, timestamp
# and hostname attributes.
diff -r --exclude=slurm --exclude=host.json --exclude=junit.xml \
  -I '^==[0-9]*==WARNING: ASan is ignoring requested __asan_handle_no_return' \
  "$work/local" "$work/sweep" || fail "the merged Slurm outputs differ from the local run"
host_times='s/ \(time\|timestamp\|hostname\)="[^"]*"/ \1="*"/g'
diff <(sed "$host_times" "$work/local/junit.xml") <(sed "$host_times" "$work/sweep/junit.xml") ||
  fail "the merged Slurm junit.xml differs from the local run's"
[[ -s $work/sweep/points.csv && $(wc -l <"$work/sweep/points.csv") -eq 13 ]] || fail "points.csv does not hold 12 points"
echo "cluster test: PASS ($(find "$work/sweep" -type f -not -path '*/slurm/*' | wc -l) files identical)"
