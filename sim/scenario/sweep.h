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

// The one setting written among the axes: `sweep: {max_points: N, ...}`.
struct SweepParams : ParamGroup {
  static constexpr const char* kMaxPointsKey = "max_points";
  SweepParams() : ParamGroup("sweep", "sweep settings (beside the axes in `sweep:`)") { max_points.range(1, 1e7); }
  Param<int64_t> max_points{this, kMaxPointsKey, "1000000",
                            "most points the sweep may expand to; more is refused before anything is made or run"};
};

inline constexpr uint64_t kMaxSweepPoints = 1000000;  // sweep.max_points's default

// A value as YAML flow text that parses back to the same value (quoted when yaml-cpp's plain
// form would not); "" when there is none.
std::string sweep_value_text(const YAML::Node& value);

// Parses `sweep:` (its axes; `max_points` is not one); an absent node gives one point with
// no parameters. More than `max_points` points is a ConfigError naming the count, found
// from the axes' lengths before any value is made.
SweepSpec parse_sweep(const ConfigNode& sweep, uint64_t max_points = kMaxSweepPoints);

}  // namespace quiesce
