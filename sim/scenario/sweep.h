#pragma once
// Sweep axes from a scenario's `sweep:` mapping, and the points they expand to. An axis is
// a dotted key (routed like `set:`) with a list of values, an integer or time `range`
// (`{range: [1, 20]}`, `{range: [1us, 5us], step: 1us}`), a `log_range` or `lin_range`
// with `points`, or a `zip:` group of axes that vary together. Points are the cartesian
// product in the order written, the last axis varying fastest; point i's values are
// computed on demand, so a sweep is never materialised just to be counted.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/config.h"
#include "sim/base/params.h"

namespace quiesce {

struct AxisValue {
  std::string text;   // as a --set value: YAML flow text
  std::string where;  // file:line:column of the value (or of the range that made it)
};

struct Axis {
  std::vector<std::string> keys;             // one key, or a zip group's keys
  std::vector<std::string> key_wheres;       // where each key is written
  std::vector<std::vector<AxisValue>> rows;  // rows[i][k]: value i of key k
  std::string where;
  std::string label() const;  // "cores", or "a+b" for a zip group
  bool zip() const { return keys.size() > 1; }
};

struct SweepPointParam {
  std::string key;
  const AxisValue* value;
  std::string key_where;
};

struct SweepSpec {
  std::vector<Axis> axes;
  uint64_t total = 1;
  // The key/value pairs of point `index` (0 <= index < total), in axis order.
  std::vector<SweepPointParam> point(uint64_t index) const;
};

// The settings written among the axes: `sweep: {max_points: N, precision: 0.05, ...}`. They
// may also be given by `--set sweep.KEY=VALUE` (an axis may not).
struct SweepParams : ParamGroup {
  static constexpr const char* kMaxPointsKey = "max_points";
  static constexpr const char* kPrecisionKey = "precision";
  static constexpr const char* kPrecisionStepKey = "precision_step";
  SweepParams() : ParamGroup("sweep", "sweep settings (beside the axes in `sweep:`)") {
    max_points.range(1, 1e7);
    precision.range(0, 0.5);
    precision_step.range(1, 1e6);
  }
  static bool is_setting(const std::string& key) {
    return key == kMaxPointsKey || key == kPrecisionKey || key == kPrecisionStepKey;
  }
  Param<int64_t> max_points{this, kMaxPointsKey, "1000000",
                            "most points the sweep may expand to; more is refused before anything is made or run"};
  Param<double> precision{
      this, kPrecisionKey, "0",
      "sampling until sure: each variant (a combination of the non-seed axes) runs its `seed` axis's values in "
      "order until the 95% Wilson intervals of its P(lockdep report) and P(deadlock) reach at most this far on "
      "either side (0.05: within 5 percentage points), or its seeds run out (the seed axis's length is the cap); "
      "0: every point runs"};
  Param<int64_t> precision_step{this, kPrecisionStepKey, "10",
                                "with `precision`: a variant's intervals are looked at after every this many of its "
                                "runs, the first time after this many"};
};
inline constexpr uint64_t kMaxSweepPoints = 1000000;  // sweep.max_points's default

// A value as YAML flow text that parses back to the same value (quoted when yaml-cpp's plain
// form would not); "" when there is none.
std::string sweep_value_text(const YAML::Node& value);

// Parses `sweep:` (its axes; the settings are not axes); an absent node gives one point with
// no parameters. More than `max_points` points is a ConfigError naming the count, found
// from the axes' lengths before any value is made.
SweepSpec parse_sweep(const ConfigNode& sweep, uint64_t max_points = kMaxSweepPoints);

}  // namespace quiesce
