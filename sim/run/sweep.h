#pragma once
// Sweeps: every point of a scenario's `sweep:` runs in its own child process (SystemC
// elaborates once per process), --jobs at a time. With sweep.precision (or --precision), a
// variant's seeds run in order until its P(...)'s intervals are narrow enough or its seeds
// run out (see run/internal/sampling.h); shards then divide variants, not points. A point writes into
// DIR/points/<id>/; the sweep then joins all points present into points.csv,
// points.jsonl, summary.md and junit.xml. --shard I/N runs the points whose index is
// I-1 modulo N, so any batch system can spread a sweep; `merge` joins shard directories.
// A sweep is identified by its resolved content (sweep.json's identity), not by the path of
// its scenario: a directory holding another sweep is refused, naming what changed.
// --resume runs the points with no result and reruns broken ones (crashed, timed out,
// invalid, or failed by the environment); a rerun of a complete sweep prints its summary
// again; --force starts over. A point that crashes, is invalid for its combination of
// values or outlives --point-timeout is recorded as such, with its stderr, and the sweep
// goes on. One sweep writes a directory at a time (an flock). Every file appears whole
// (written, then renamed).
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "sim/scenario/scenario.h"

namespace quiesce {

// Exit codes of sweep and merge: 0 every point met its expectations, 1 some did not,
// 4 some points crashed, timed out or were invalid for their values, or (merge) are
// missing (batch systems should treat only this one, or 2/3/5, as a failed job); 5 (every
// verb, kExitIo) the environment failed: a file could not be written, a process started.
inline constexpr int kExitBroken = 4;

struct SweepOptions {
  std::string out_dir;  // default results/<scenario name>
  int jobs = 0;         // 0: the number of CPUs
  int shard_index = 1;  // 1-based
  int shard_count = 1;
  bool resume = false;
  bool force = false;  // remove this directory's results and start over
  double point_timeout_s = 0;  // 0: none
  bool plot = true;
  bool quiet = false;
  std::vector<Override> sets;
};

// Returns the exit code: 0 all points met their expectations, 1 some did not (or crashed).
int run_sweep(const std::string& scenario_path, const SweepOptions& options, std::ostream& human);
// Joins sweep directories (shards of one sweep) into `out` (default: the first).
int merge_sweeps(const std::vector<std::string>& dirs, const std::string& out, bool plot, std::ostream& human);
// `quiesce rerun DIR/points/pNNNNNN`: the point's scenario exactly as its sweep ran it
// (the scenario text and --set recorded in sweep.json, then the point's axis values), and
// what it ended with then. Differences of setting or binary since are printed to `warn`.
struct PointRerun {
  std::unique_ptr<Scenario> scenario;
  std::string id;                // pNNNNNN
  std::string original_outcome;  // "" when the point has no result
  // What the scenario was loaded from: the sweep's scenario text, its file name, and the
  // overrides (the sweep's --set, then the point's axis values).
  std::string scenario_text, file;
  std::vector<Override> overrides;
};
PointRerun prepare_rerun(const std::string& point_dir, std::ostream& warn);
// After the run: whether the rerun's outcome is the sweep's.
void report_rerun(const PointRerun& rerun, const std::string& out_dir, std::ostream& human);

// Parses "I/N" (1 <= I <= N); throws ConfigError naming --shard.
void parse_shard(const std::string& text, int* index, int* count);

// A sweep directory's manifest (sweep.json) for `scenario`, loaded from `text`, with
// sweep-level overrides.
std::string sweep_manifest(const Scenario& scenario, const std::string& text, const std::vector<Override>& sets);
// The point directory name of point `index` (p000042).
std::string point_id(uint64_t index);
// What a sweep directory holds: points with results by kind, and which are missing. With
// sweep.precision, `total` is the points the variants' seeds ask for so far.
struct SweepCensus {
  uint64_t total = 0, ok = 0, failed = 0, broken = 0;
  std::vector<uint64_t> missing, broken_points;
  std::vector<uint64_t> missing_units, broken_units;  // the shard unit (see shard_units) of each
};
// What --shard I/N divides (unit u belongs to shard u mod N + 1): the sweep's points, or
// with sweep.precision its variants, each decided by the shard that runs it.
uint64_t shard_units(const Scenario& scenario);
SweepCensus census(const std::string& dir);

}  // namespace quiesce
