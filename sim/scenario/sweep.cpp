#include "sim/scenario/sweep.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "sim/base/units.h"

namespace quiesce {
namespace {

std::string flow_text(const YAML::Node& n) {
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

// A number or a time: a range's ends and step share one kind.
struct Quantity {
  double value;
  bool time;
};

Quantity quantity(const ConfigNode& n) {
  std::string s = n.scalar("a number or a time");
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (!s.empty() && *end == '\0' && std::isfinite(v)) return {v, false};
  try {
    return {static_cast<double>(parse_time(s)), true};
  } catch (const UnitError& e) {
    n.fail(std::string("expected a number or a time: ") + e.what());
  }
}

std::string quantity_text(double v, bool time) {
  if (time) return format_time(static_cast<Time>(std::llround(v)));
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.6g", v);
  }
  return buf;
}

std::vector<AxisValue> axis_values(const ConfigNode& n, uint64_t max_points) {
  std::vector<AxisValue> out;
  if (n.is_list()) {
    if (n.size() == 0) n.fail("empty sweep axis: give at least one value");
    for (const auto& item : n.items()) out.push_back({flow_text(item.yaml()), item.where()});
    return out;
  }
  if (n.is_scalar()) return {{flow_text(n.yaml()), n.where()}};
  if (!n.is_map()) n.fail("a sweep axis is a list, {range: [lo, hi]}, {log_range: [lo, hi], points: N} or {lin_range: ...}");
  n.expect_keys({"range", "step", "log_range", "lin_range", "points"});
  const bool range = n["range"].present();
  const bool log = n["log_range"].present();
  const bool lin = n["lin_range"].present();
  if (range + log + lin != 1) n.fail("give exactly one of range, log_range, lin_range");
  ConfigNode ends = range ? n["range"] : log ? n["log_range"] : n["lin_range"];
  if (!ends.is_list() || ends.size() != 2) ends.fail("expected [low, high]");
  Quantity lo = quantity(ends[0]), hi = quantity(ends[1]);
  if (lo.time != hi.time) ends.fail("both ends must be numbers, or both times");
  if (hi.value < lo.value) ends[1].fail("the high end is below the low end");
  const std::string where = ends.where();
  if (range) {
    if (n["points"].present()) n["points"].fail("'points' goes with log_range or lin_range; range takes 'step'");
    double step = 1;
    if (n["step"].present()) {
      Quantity s = quantity(n["step"]);
      if (s.time != lo.time) n["step"].fail("the step must be of the ends' kind");
      step = s.value;
    } else if (lo.time) {
      n.fail("a range of times needs a 'step'");
    }
    if (!(step > 0)) n["step"].fail("the step must be positive");
    if (!lo.time && (lo.value != std::floor(lo.value) || hi.value != std::floor(hi.value))) {
      ends.fail("a range of numbers takes whole numbers (use lin_range for fractions)");
    }
    const double count = std::floor((hi.value - lo.value) / step + 1e-9) + 1;
    if (count > static_cast<double>(max_points)) {
      ends.fail("this range has " + quantity_text(count, false) + " values, more than the " +
                std::to_string(max_points) + " points a sweep may have");
    }
    for (double v = 0; v < count; ++v) out.push_back({quantity_text(lo.value + v * step, lo.time), where});
    return out;
  }
  if (n["step"].present()) n["step"].fail("'step' goes with range; log_range and lin_range take 'points'");
  ConfigNode pts = n["points"];
  if (!pts.present()) n.fail("give 'points': how many values");
  std::string ps = pts.scalar("a whole number");
  char* end = nullptr;
  long long p = std::strtoll(ps.c_str(), &end, 10);
  if (ps.empty() || *end || p < 1) pts.fail("points must be a whole number of at least 1");
  if (static_cast<uint64_t>(p) > max_points) pts.fail("more points than a sweep may have (" + std::to_string(max_points) + ")");
  if (log && !(lo.value > 0)) ends[0].fail("a log_range starts above zero");
  for (long long i = 0; i < p; ++i) {
    const double f = p == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(p - 1);
    const double v = log ? lo.value * std::pow(hi.value / lo.value, f) : lo.value + f * (hi.value - lo.value);
    out.push_back({quantity_text(v, lo.time), where});
  }
  return out;
}

void check_key(const ConfigNode& at, const std::string& key) {
  if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos) {
    at.fail("'" + key + "' is not a dotted key path");
  }
  if (key == "sweep" || key.compare(0, 6, "sweep.") == 0) at.fail("a sweep cannot sweep itself");
}

uint64_t checked_mul(uint64_t a, uint64_t b, uint64_t cap, const ConfigNode& at) {
  if (b != 0 && a > cap / b) at.fail("the sweep expands to more than " + std::to_string(cap) + " points");
  const uint64_t r = a * b;
  if (r > cap) at.fail("the sweep expands to " + std::to_string(r) + " points, more than " + std::to_string(cap));
  return r;
}

}  // namespace

std::string Axis::label() const {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : "+") + k;
  return s;
}

SweepSpec parse_sweep(const ConfigNode& sweep, uint64_t max_points) {
  SweepSpec spec;
  if (!sweep.present()) return spec;
  if (!sweep.is_map()) sweep.fail("'sweep:' maps dotted keys to values (or `zip:` to groups)");
  for (const auto& key : sweep.keys()) {
    ConfigNode v = sweep[key];
    if (key == "zip") {
      std::vector<ConfigNode> groups = v.is_list() ? v.items() : std::vector<ConfigNode>{v};
      if (groups.empty()) v.fail("empty zip: give groups of axes that vary together");
      for (const auto& g : groups) {
        if (!g.is_map() || g.size() == 0) g.fail("a zip group maps two or more keys to value lists of one length");
        Axis axis;
        axis.where = g.where();
        size_t len = 0;
        for (const auto& k : g.keys()) {
          check_key(g, k);
          std::vector<AxisValue> vals = axis_values(g[k], max_points);
          if (axis.keys.empty()) {
            len = vals.size();
            axis.rows.resize(len);
          } else if (vals.size() != len) {
            g[k].fail("'" + k + "' has " + std::to_string(vals.size()) + " values but the zip group's first axis has " +
                      std::to_string(len));
          }
          axis.keys.push_back(k);
          axis.key_wheres.push_back(g.key_where(k));
          for (size_t i = 0; i < len; ++i) axis.rows[i].push_back(vals[i]);
        }
        spec.total = checked_mul(spec.total, axis.rows.size(), max_points, g);
        spec.axes.push_back(std::move(axis));
      }
      continue;
    }
    check_key(sweep, key);
    Axis axis;
    axis.keys = {key};
    axis.key_wheres = {sweep.key_where(key)};
    axis.where = v.where();
    for (auto& val : axis_values(v, max_points)) axis.rows.push_back({val});
    spec.total = checked_mul(spec.total, axis.rows.size(), max_points, v);
    spec.axes.push_back(std::move(axis));
  }
  // A key in two axes would have one value override the other.
  std::vector<std::string> seen;
  for (const auto& a : spec.axes) {
    for (const auto& k : a.keys) {
      for (const auto& s : seen) {
        if (s == k) sweep.fail("'" + k + "' appears in two sweep axes");
      }
      seen.push_back(k);
    }
  }
  return spec;
}

std::vector<SweepPointParam> SweepSpec::point(uint64_t index) const {
  std::vector<SweepPointParam> out;
  std::vector<size_t> pick(axes.size());
  for (size_t a = axes.size(); a-- > 0;) {
    const uint64_t n = axes[a].rows.size();
    pick[a] = static_cast<size_t>(index % n);
    index /= n;
  }
  for (size_t a = 0; a < axes.size(); ++a) {
    for (size_t k = 0; k < axes[a].keys.size(); ++k) {
      const std::string kw = k < axes[a].key_wheres.size() ? axes[a].key_wheres[k] : "";
      out.push_back({axes[a].keys[k], &axes[a].rows[pick[a]][k], kw});
    }
  }
  return out;
}

}  // namespace quiesce
