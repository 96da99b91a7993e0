#pragma once
// A sweep's joined outputs, computed from the point records in index order only, so they
// are the same bytes whatever --jobs, sharding or resuming produced the points:
// points.csv, points.jsonl, summary.md (per variant and per axis value: share of points
// with lockdep reports and with deadlocks, median time to first detection, latencies) and
// junit.xml (a testcase per point; failed expectations are failures, crashes and
// timeouts errors).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace quiesce {

struct PointRecord {
  uint64_t index = 0;
  std::string id;
  std::vector<std::pair<std::string, std::string>> params;  // key -> value text, axis order
  std::string outcome;  // ok | incomplete | deadlock | hard_lockup | stall | crashed | timeout | invalid
  bool ok = true;       // expectations met and no crash
  std::vector<std::pair<std::string, double>> metrics;
  std::vector<std::string> failures;  // failed expectations, or the crash's reason
  std::string stderr_tail;
  // From the point's host.json, for junit.xml only (not results: they differ run to run).
  double host_seconds = -1;  // wall-clock seconds the point's process ran; -1 when unknown
  std::string started;       // UTC start, YYYY-MM-DDTHH:MM:SS; empty when unknown
  std::string hostname;      // empty when unknown
  bool broken() const { return outcome == "crashed" || outcome == "timeout" || outcome == "invalid"; }
  // The metric's value; null when absent or without a value (NaN: a histogram with no samples).
  const double* metric(const std::string& name) const;
  // The two detectors summary.md and sampling to a precision count.
  bool lockdep_reported() const;
  bool deadlocked() const;
};

struct SweepAxisInfo {
  std::string label;                        // "cores", or "a+b" for a zip group
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> values;  // per row, per key
  bool is_seed() const { return label == "seed"; }
};

struct SweepInfo {
  std::string name;
  std::string file;
  uint64_t total = 0;
  std::vector<SweepAxisInfo> axes;
  // sweep.precision and sweep.precision_step (0: every point ran): `total` is then the
  // points the variants' seeds asked for so far.
  double precision = 0;
  uint64_t precision_step = 0;
};

// Half the width of k/n's 95% Wilson interval (sweep.precision compares with it); 1 for n = 0.
double wilson_half_width(size_t k, size_t n);

std::string points_csv(const SweepInfo& info, const std::vector<PointRecord>& points);
std::string points_jsonl(const std::vector<PointRecord>& points);
std::string summary_md(const SweepInfo& info, const std::vector<PointRecord>& points);
std::string junit_xml(const SweepInfo& info, const std::vector<PointRecord>& points);

}  // namespace quiesce
