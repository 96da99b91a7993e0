#pragma once
// One scenario point, run in this process (SystemC elaborates once per process, so a
// process runs at most one point). Writes result.json, stats.txt and (for kernel runs)
// lockdep.log into the output directory, whole files only, and prints a short summary.
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "sim/scenario/scenario.h"
#include "sim/workload/workload.h"

namespace quiesce {

struct RunOptions {
  std::string out_dir;  // empty: results/<scenario name>
  bool quiet = false;
  std::string trace_path;    // Chrome/Perfetto JSON, or ftrace text
  std::string trace_format;  // chrome | ftrace; empty: from the file name (.txt = ftrace)
  Time trace_window = 0;     // 0: the whole run
  std::string vcd_path;
};

inline constexpr size_t kMaxTraceEvents = 4000000;

struct ExpectationResult {
  Expectation expect;
  std::string actual;
  bool ok = false;
};

struct PointResult {
  std::string outcome;  // ok | incomplete | deadlock | hard_lockup | stall
  Time simulated = 0;
  double host_seconds = 0;
  uint64_t events = 0;  // HAL ops + coherence requests + interrupts (see README)
  std::vector<Metric> metrics;
  std::vector<std::pair<std::string, std::string>> details;
  std::vector<ExpectationResult> expectations;
  bool expectations_failed() const;
  std::string out_dir;
};

PointResult run_point(const Scenario& scenario, const RunOptions& options, std::ostream& human);

// Silences SystemC's banner and its informational reports (call before any SystemC use).
void quiet_systemc();

}  // namespace quiesce
