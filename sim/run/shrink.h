#pragma once
// `quiesce shrink`: a smaller scenario that ends the same way. From a point that detected
// something (a sweep's point directory, a `quiesce run` output directory, or a scenario
// file with its --set), it removes simulated time, workload entries, CPUs, op-program
// steps and random distributions by delta debugging, keeping each candidate only when its
// run (a child process of its own) has the same outcome and the same lock classes: the
// deadlock's chain, or the classes of lockdep's first report. The same input gives the
// same result whatever --jobs: candidates are tried in a fixed order and the first that
// reproduces, in that order, is kept.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace quiesce {

struct ShrinkOptions {
  // empty: results/<name>-<point>-shrink for a sweep point, DIR-shrink for a run directory,
  // results/<name>-shrink for a file
  std::string out_dir;
  int jobs = 1;         // candidate runs at once
  int budget = 200;     // most candidate runs (the first run, of the input as it is, included)
  bool quiet = false;
  std::vector<std::string> sets;  // with a scenario file: its --set
  std::optional<uint64_t> seed;   // with a scenario file: its --seed
};

// Writes OUT/shrunk.yaml (a scenario `quiesce run` reproduces the ending with), OUT/shrink.json
// (each accepted step, runs used, before and after) and OUT/report.txt (also printed), and
// keeps the accepted candidates' runs in OUT/runs/points/. Returns 0, or 128+N when signal N
// stopped it. An input that ended without a detection, or that does not reproduce when run
// again, is a ConfigError.
int shrink(const std::string& input, const ShrinkOptions& options, std::ostream& human);

}  // namespace quiesce
