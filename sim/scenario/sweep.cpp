#include "sim/scenario/sweep.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "sim/base/units.h"

namespace quiesce {
namespace {

// The same structure and text (tags aside: a value is read by its text).
bool same_value(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) return false;
  if (a.IsScalar()) return a.Scalar() == b.Scalar();
  if (!a.IsSequence() && !a.IsMap()) return true;
  if (a.size() != b.size()) return false;
  if (a.IsSequence()) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (!same_value(a[i], b[i])) return false;
    }
    return true;
  }
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
    if (!same_value(i->first, j->first) || !same_value(i->second, j->second)) return false;
  }
  return true;
}

std::string flow_text(const ConfigNode& n) {
  std::string text = sweep_value_text(n.yaml());
  if (text.empty()) n.fail("this value does not survive being written as YAML text; quote it");
  return text;
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

// How many values an axis has, checked before any is made (a refused sweep costs nothing).
uint64_t axis_count(const ConfigNode& n, uint64_t max_points) {
  if (n.is_list()) {
    if (n.size() == 0) n.fail("empty sweep axis: give at least one value");
    return n.size();
  }
  if (n.is_scalar()) return 1;
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
    if (!(count <= static_cast<double>(max_points))) {
      ends.fail("this range has " + quantity_text(count, false) + " values, more than the " +
                std::to_string(max_points) + " points a sweep may have (sweep.max_points)");
    }
    return static_cast<uint64_t>(count);
  }
  if (n["step"].present()) n["step"].fail("'step' goes with range; log_range and lin_range take 'points'");
  ConfigNode pts = n["points"];
  if (!pts.present()) n.fail("give 'points': how many values");
  std::string ps = pts.scalar("a whole number");
  char* end = nullptr;
  errno = 0;
  long long p = std::strtoll(ps.c_str(), &end, 10);
  if (ps.empty() || *end || p < 1) pts.fail("points must be a whole number of at least 1");
  if (errno == ERANGE || static_cast<uint64_t>(p) > max_points) {
    pts.fail("more points than a sweep may have (" + std::to_string(max_points) + ", sweep.max_points)");
  }
  if (log && !(lo.value > 0)) ends[0].fail("a log_range starts above zero");
  return static_cast<uint64_t>(p);
}

// The values of an axis that axis_count() has accepted.
std::vector<AxisValue> axis_values(const ConfigNode& n, uint64_t count) {
  std::vector<AxisValue> out;
  out.reserve(count);
  if (n.is_list()) {
    for (const auto& item : n.items()) out.push_back({flow_text(item), item.where()});
    return out;
  }
  if (n.is_scalar()) return {{flow_text(n), n.where()}};
  const bool range = n["range"].present();
  const bool log = n["log_range"].present();
  ConfigNode ends = range ? n["range"] : log ? n["log_range"] : n["lin_range"];
  const Quantity lo = quantity(ends[0]), hi = quantity(ends[1]);
  const std::string where = ends.where();
  if (range) {
    const double step = n["step"].present() ? quantity(n["step"]).value : 1;
    for (uint64_t v = 0; v < count; ++v) {
      out.push_back({quantity_text(lo.value + static_cast<double>(v) * step, lo.time), where});
    }
    return out;
  }
  for (uint64_t i = 0; i < count; ++i) {
    const double f = count == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(count - 1);
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
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) {
    at.fail("the sweep expands to more than " + std::to_string(cap) + " points (sweep.max_points)");
  }
  if (r > cap) {
    at.fail("the sweep expands to " + std::to_string(r) + " points, more than " + std::to_string(cap) +
            " (sweep.max_points)");
  }
  return r;
}

}  // namespace

std::string sweep_value_text(const YAML::Node& value) {
  // yaml-cpp's emitter leaves some scalars plain that do not parse back as themselves (a
  // scalar beginning "--- " reads as a document marker): check, and quote when needed.
  for (const bool quoted : {false, true}) {
    YAML::Emitter e;
    if (quoted) e.SetStringFormat(YAML::DoubleQuoted);
    e << YAML::Flow << value;
    if (!e.good()) continue;
    try {
      if (same_value(YAML::Load(e.c_str()), value)) return e.c_str();
    } catch (const YAML::Exception&) {
    }
  }
  return "";
}

std::string Axis::label() const {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : "+") + k;
  return s;
}

SweepSpec parse_sweep(const ConfigNode& sweep, uint64_t max_points) {
  SweepSpec spec;
  if (!sweep.present()) return spec;
  if (!sweep.is_map()) sweep.fail("'sweep:' maps dotted keys to values (or `zip:` to groups)");
  // First every axis's length and their product, so that an oversized sweep is refused
  // before any value is made; then the values.
  struct Planned {
    std::vector<std::string> keys;
    std::vector<ConfigNode> nodes;
    ConfigNode at;  // the mapping the keys are written in
    std::string where;
    uint64_t count = 0;
  };
  std::vector<Planned> plan;
  for (const auto& key : sweep.keys()) {
    if (SweepParams::is_setting(key)) continue;  // a setting, not an axis
    ConfigNode v = sweep[key];
    if (key == "zip") {
      std::vector<ConfigNode> groups = v.is_list() ? v.items() : std::vector<ConfigNode>{v};
      if (groups.empty()) v.fail("empty zip: give groups of axes that vary together");
      for (const auto& g : groups) {
        if (!g.is_map() || g.size() == 0) g.fail("a zip group maps two or more keys to value lists of one length");
        Planned p;
        p.at = g;
        p.where = g.where();
        for (const auto& k : g.keys()) {
          check_key(g, k);
          const uint64_t n = axis_count(g[k], max_points);
          if (p.keys.empty()) {
            p.count = n;
          } else if (n != p.count) {
            g[k].fail("'" + k + "' has " + std::to_string(n) + " values but the zip group's first axis has " +
                      std::to_string(p.count));
          }
          p.keys.push_back(k);
          p.nodes.push_back(g[k]);
        }
        spec.total = checked_mul(spec.total, p.count, max_points, g);
        plan.push_back(std::move(p));
      }
      continue;
    }
    check_key(sweep, key);
    Planned p;
    p.at = sweep;
    p.where = v.where();
    p.keys = {key};
    p.nodes = {v};
    p.count = axis_count(v, max_points);
    spec.total = checked_mul(spec.total, p.count, max_points, v);
    plan.push_back(std::move(p));
  }
  // A key in two axes would have one value override the other.
  std::vector<std::string> seen;
  for (const auto& p : plan) {
    for (const auto& k : p.keys) {
      for (const auto& s : seen) {
        if (s == k) sweep.fail("'" + k + "' appears in two sweep axes");
      }
      seen.push_back(k);
    }
  }
  for (const auto& p : plan) {
    Axis axis;
    axis.where = p.where;
    axis.rows.resize(static_cast<size_t>(p.count));
    for (size_t k = 0; k < p.keys.size(); ++k) {
      axis.keys.push_back(p.keys[k]);
      axis.key_wheres.push_back(p.at.key_where(p.keys[k]));
      std::vector<AxisValue> vals = axis_values(p.nodes[k], p.count);
      for (size_t i = 0; i < vals.size(); ++i) axis.rows[i].push_back(std::move(vals[i]));
    }
    spec.axes.push_back(std::move(axis));
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
