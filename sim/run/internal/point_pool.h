#pragma once
// The pool of point processes: each point runs in a child of its own (SystemC elaborates
// once per process), `jobs` at a time, in DIR/points/<id>.part, renamed to its final name
// when it ends. A point that crashes, is invalid for its values or outlives its timeout
// gets a result.json saying so. SIGINT or SIGTERM stop the pool (its points are killed and
// left as .part, which a resumed sweep removes and reruns).
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "sim/scenario/scenario.h"

namespace quiesce::run_internal {

struct PoolOptions {
  int jobs = 1;
  double point_timeout_s = 0;  // 0: none
  bool quiet = false;
};

struct PoolResult {
  size_t done = 0, failed = 0;
  int signal = 0;  // the signal that stopped the pool, or 0 when every point ran
};

// The signal (SIGINT or SIGTERM) that stopped a pool, or that came after one ended (its
// handler stays: a later pool stops at once), or 0.
int pool_signal();

// `child(index, pdir)` runs in the child process and returns its exit code (0, 1: ran;
// 2: invalid values; 5: the environment failed; anything else: a crash). `failed(index)`
// tells, after a point ended, whether it counts as failed for the progress line.
PoolResult run_pool(const std::string& dir, const std::vector<uint64_t>& todo, const PoolOptions& options,
                    const std::function<int(uint64_t, const std::string&)>& child,
                    const std::function<bool(uint64_t)>& failed);

// The body of a point's child: loads its scenario with `load`, runs it into `pdir` quietly
// and returns the exit code run_pool expects (a ConfigError is 2, an IoError kExitIo).
// `windows_path`: also record the run's timing windows there (RunOptions::windows_path).
int run_point_child(const std::function<std::unique_ptr<Scenario>()>& load, const std::string& pdir,
                    const std::string& windows_path = "");

// Writes a result.json for a point that has none of its own (crash, invalid, timeout).
void record_failure(const std::string& pdir, const std::string& outcome, const std::string& why);

}  // namespace quiesce::run_internal
