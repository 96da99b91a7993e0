#pragma once
// A sweep directory's state: what sweep it holds (sweep.json, identified by content, not
// by the path the scenario was given by), its points' results read back strictly, the lock
// that makes one sweep the only writer, and the leftovers of a killed run (only names this
// code writes are ever removed).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/output/sweep_files.h"
#include "sim/scenario/scenario.h"

namespace quiesce::run_internal {

// What identifies a sweep: every resolved setting of its base point (scenario keys, forced timing,
// platform, kernel, workload, expectations, axes), the `--set`s, and the quiesce binary.
struct SweepManifest {
  std::string scenario;  // its name
  std::string file;      // the scenario's path when the sweep began (informative only)
  std::string identity;  // 16 hex digits over `resolved` and `binary`
  std::string binary;    // the build id of the quiesce binary
  std::vector<std::string> sets;
  std::map<std::string, std::string> resolved;  // setting -> value text
  std::string scenario_text;                    // the scenario file as read (for `rerun`)
  SweepInfo info;
  SweepSpec spec;  // the axes rebuilt from the manifest (values' text; no source locations)
};

inline constexpr int kManifestFormat = 2;
// Our own files are never larger than these: a larger file is refused, not read.
inline constexpr size_t kMaxManifestBytes = 512u << 20;
inline constexpr size_t kMaxResultBytes = 64u << 20;

// The build id of this binary (the ELF note ld writes), or "unknown".
std::string binary_build_id();

SweepManifest make_manifest(const Scenario& sc, const std::string& scenario_text, const std::vector<Override>& sets);
std::string manifest_json(const SweepManifest& m);
// Reads DIR/sweep.json strictly: a wrong shape is a ConfigError naming the file and key.
SweepManifest read_manifest(const std::string& dir);
// "" when `have` and `want` are the same sweep; else what differs, in one line.
std::string manifest_difference(const SweepManifest& have, const SweepManifest& want);

// Reads DIR/points/<id>/result.json into `rec`; false when the point has no result.
// A wrong shape is a ConfigError naming the file and key.
bool read_point_record(const std::string& dir, const SweepSpec& spec, uint64_t index, PointRecord* rec);

// The names a sweep directory may hold that we wrote (joined outputs, plots, locks).
bool is_our_name(const std::string& name);
// Refuses (ConfigError) an existing, non-empty `dir` that is not a sweep directory of ours.
void check_sweep_dir(const std::string& dir);
// Removes what a killed run left half made: temporaries of our files, points/pNNNNNN.part.
void remove_leftovers(const std::string& dir);
// Removes every result and joined output of ours (--force), nothing else.
void remove_sweep_outputs(const std::string& dir);

// An flock on DIR/.quiesce.lock, held while this object lives: exclusive for a whole sweep
// or a merge; for shard I/N shared, plus exclusive on DIR/.quiesce.shard-I-of-N.lock, so the
// array tasks of one sweep share a tree while a second run of any part is refused. A
// shard's own lock file goes when it ends (a tree of shards looks like a tree of one run).
class SweepLock {
 public:
  SweepLock(const std::string& dir, int shard_index, int shard_count);
  ~SweepLock();
  SweepLock(const SweepLock&) = delete;
  SweepLock& operator=(const SweepLock&) = delete;

 private:
  std::vector<int> fds_;
  std::string shard_lock_;
};

}  // namespace quiesce::run_internal
