#pragma once
// One scenario point, run in this process (SystemC elaborates once per process, so a
// process runs at most one point). Writes result.json, stats.txt and (for kernel runs)
// lockdep.log into the output directory, whole files only, and prints a short summary.
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/error.h"
#include "sim/output/json.h"
#include "sim/scenario/scenario.h"
#include "sim/workload/workload.h"

namespace quiesce {

struct PointResult;

struct RunOptions {
  std::string out_dir;  // empty: results/<scenario name>
  bool quiet = false;
  std::string trace_path;    // Chrome/Perfetto JSON, or ftrace text
  std::string trace_format;  // chrome | ftrace; empty: from the file name (.txt = ftrace)
  Time trace_window = 0;     // 0: the whole run
  // A ring bounded in bytes of memory (see kernel::Tracer), and optionally in events: the
  // oldest go first.
  size_t trace_max_bytes = size_t{256} << 20;
  size_t trace_max_events = 50000000;
  std::string vcd_path;
  // For `quiesce hunt`: record the run's IPIs and the kernel's windows into this file
  // (sim/output/timing_windows.h). Recording observes only; the run is the same.
  std::string windows_path;
  // Called once the outputs are written, with the whole simulation still alive: a sweep's
  // point process ends here (_exit), as tearing down what it built (a free per object, an
  // munmap per task stack) would only be undone by its exit.
  std::function<void(const PointResult&)> finished;
};

// The bounds --trace-max-bytes and --trace-max-events take.
inline constexpr size_t kMinTraceBytes = size_t{1} << 20;
inline constexpr size_t kMaxTraceBytes = size_t{4} << 30;
inline constexpr size_t kMinTraceEvents = 1000;
inline constexpr size_t kMaxTraceEvents = 50000000;

struct ExpectationResult {
  Expectation expect;
  std::string actual;
  bool ok = false;
};

struct PointResult {
  // ok | incomplete | deadlock | hard_lockup | stall | rcu_stall | stuck_irq | livelock | event_limit
  std::string outcome;
  Time simulated = 0;
  double host_seconds = 0;
  uint64_t events = 0;  // HAL ops + coherence requests + interrupts (see README)
  std::vector<Metric> metrics;
  std::vector<std::pair<std::string, std::string>> details;
  std::vector<ExpectationResult> expectations;
  bool expectations_failed() const;
  std::string out_dir;
  // A resource cap stopped the point (sim.max_events): the message, and exit code 2.
  std::string limit_error;
  // An output could not be written after the run (IoError's text), and exit code 5.
  std::string io_error;
  int exit_code() const {
    return !io_error.empty() ? kExitIo : !limit_error.empty() ? 2 : expectations_failed() ? 1 : 0;
  }
};

PointResult run_point(const Scenario& scenario, const RunOptions& options, std::ostream& human);

// What result.json records under `config`: the scenario document as loaded (its scenario
// overrides applied), and every resolved platform, sim and kernel parameter.
Json resolved_config(const Scenario& scenario);

// Silences SystemC's banner and its informational reports (call before any SystemC use).
void quiet_systemc();

}  // namespace quiesce
