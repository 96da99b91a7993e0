#include "sim/output/sweep_files.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <regex>
#include <set>

#include "sim/base/error.h"
#include "sim/base/proportion.h"
#include "sim/output/json.h"

namespace quiesce {
namespace {

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

// Text for XML 1.0 content and attributes: valid UTF-8 (a stderr tail cut inside a
// character must not make the file malformed), markup escaped, control characters other
// than tab and newline (which XML does not allow) as spaces.
std::string xml_escape(const std::string& text) {
  const std::string s = valid_utf8(text);
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          o += ' ';
        } else {
          o += c;
        }
    }
  }
  return o;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string percent(size_t n, size_t of) { return of ? fixed(100.0 * static_cast<double>(n) / static_cast<double>(of), 1) + "%" : "-"; }

// A share with its 95% Wilson interval: "40.0% [11.8–76.9]".
std::string percent_ci(size_t n, size_t of) {
  if (!of) return "-";
  const Interval ci = wilson(n, of);
  return percent(n, of) + " [" + fixed(100 * ci.lo, 1) + "–" + fixed(100 * ci.hi, 1) + "]";
}

// Median of the values present; "-" when none.
std::string median(std::vector<double> v, int decimals) {
  if (v.empty()) return "-";
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return fixed(m, decimals);
}

std::string maximum(const std::vector<double>& v, int decimals) {
  if (v.empty()) return "-";
  return fixed(*std::max_element(v.begin(), v.end()), decimals);
}

std::string point_name(const PointRecord& p) {
  std::string s = p.id;
  for (const auto& [k, v] : p.params) s += " " + k + "=" + v;
  return s;
}

struct Group {
  size_t points = 0, lockdep = 0, deadlock = 0, broken = 0, failed = 0;
  std::vector<Observation> first_detection;  // points with detector metrics: detected, or censored at their end
  std::vector<double> detection_us, sim_ms, dev_p50_us, dev_p99_us, dev_max_us, dev_count, ipi_p99_us, irqoff_max_us,
      exp_p50_us, exp_p99_us;
  void add(const PointRecord& p) {
    ++points;
    if (p.broken()) ++broken;
    if (!p.ok) ++failed;
    const double* r = p.metric("lockdep_reports");
    if (p.lockdep_reported()) ++lockdep;
    if (p.deadlocked()) ++deadlock;
    const double* first = p.metric("detection.first_ns");
    const double* ran = p.metric("simulated_ms");
    if (first) {
      first_detection.push_back({*first, true});
    } else if (r && ran) {
      first_detection.push_back({*ran * 1e6, false});
    }
    auto us = [&](const char* name, std::vector<double>& into) {
      if (const double* x = p.metric(name)) into.push_back(*x / 1e3);
    };
    us("detection.first_ns", detection_us);
    if (const double* x = p.metric("simulated_ms")) sim_ms.push_back(*x);
    // Device events apart from IPIs (an IPI's latency includes its travel), each event
    // counted, also those merged into one interrupt while interrupts were off.
    const double* n_dev = p.metric("device_event_latency.count");
    if (n_dev && *n_dev > 0) {
      dev_count.push_back(*n_dev);
      us("device_event_latency.p50_ns", dev_p50_us);
      us("device_event_latency.p99_ns", dev_p99_us);
      us("device_event_latency.max_ns", dev_max_us);
    }
    const double* n_ipi = p.metric("irq_latency.sgi.count");
    if (n_ipi && *n_ipi > 0) us("irq_latency.sgi.p99_ns", ipi_p99_us);
    us("irqs_off.max_ns", irqoff_max_us);
    // Expedited GP latency, only from points that ran expedited GPs.
    const double* n = p.metric("rcu.exp_latency.count");
    if (n && *n > 0) {
      us("rcu.exp_latency.p50_ns", exp_p50_us);
      us("rcu.exp_latency.p99_ns", exp_p99_us);
    }
  }
  // Percentiles are medians over the group's points; maxima are the worst point's.
  std::string row() const {
    return std::to_string(points) + " | " + percent_ci(lockdep, points) + " | " + percent_ci(deadlock, points) + " | " +
           median(detection_us, 3) + " | " + median(sim_ms, 3) + " | " + median(dev_count, 0) + " | " +
           median(dev_p50_us, 3) + " | " + median(dev_p99_us, 3) + " | " + maximum(dev_max_us, 3) + " | " +
           median(ipi_p99_us, 3) + " | " + maximum(irqoff_max_us, 3) + " | " + median(exp_p50_us, 3) + " | " +
           median(exp_p99_us, 3) + " | " + std::to_string(failed) +
           (broken ? " (" + std::to_string(broken) + " crashed/timed out)" : "");
  }
  // "k of n", and with none the bound n clean runs put on P and how many more would
  // bring it to 1%.
  static std::string sure(size_t k, size_t n) {
    if (n == 0) return "-";
    if (k > 0) return std::to_string(k) + " of " + std::to_string(n) + ": " + percent_ci(k, n);
    const size_t need = clean_runs_for(0.01);
    return "0 of " + std::to_string(n) + ": P ≤ " + fixed(100 * zero_detection_bound(n), 1) + "%" +
           (need > n ? "; " + std::to_string(need - n) + " more clean runs for ≤ 1%" : "");
  }
  static std::string time_us(const std::optional<double>& ns) { return ns ? fixed(*ns / 1e3, 3) : "not reached"; }
  std::string sure_row() const {
    const Survival km = kaplan_meier(first_detection);
    std::string first = "-";
    if (km.n > 0) {
      first = km.events == 0 ? "none in " + std::to_string(km.n)
                             : time_us(km.median) + " [" + time_us(km.median_lo) + " – " + time_us(km.median_hi) + "]";
    }
    return std::to_string(points) + " | " + sure(lockdep, points) + " | " + sure(deadlock, points) + " | " + first;
  }
};

const char* kSureHeader =
    "points | lockdep reports | deadlocks | first detection, median (us) [95% CI]";
const char* kSureRule = "---|---|---|---";

const char* kGroupHeader =
    "points | P(lockdep report) [95% CI] | P(deadlock) [95% CI] | median first detection (us) | simulated (ms) | device events | "
    "device p50 (us) | device p99 (us) | device max (us) | IPI p99 (us) | max irqs-off (us) | "
    "exp GP p50 (us) | exp GP p99 (us) | failed";
const char* kGroupRule = "---|---|---|---|---|---|---|---|---|---|---|---|---|---";

}  // namespace

const double* PointRecord::metric(const std::string& name) const {
  for (const auto& m : metrics) {
    if (m.first == name) return std::isnan(m.second) ? nullptr : &m.second;
  }
  return nullptr;
}

bool PointRecord::lockdep_reported() const {
  const double* r = metric("lockdep_reports");
  return r && *r > 0;
}

bool PointRecord::deadlocked() const {
  const double* d = metric("deadlock");
  return d && *d > 0;
}

double wilson_half_width(size_t k, size_t n) {
  if (n == 0) return 1;
  const Interval ci = wilson(k, n);
  return (ci.hi - ci.lo) / 2;
}

std::string points_csv(const SweepInfo& info, const std::vector<PointRecord>& points) {
  std::set<std::string> names;
  for (const auto& p : points) {
    for (const auto& m : p.metrics) names.insert(m.first);
  }
  std::string out = "index,id";
  std::vector<std::string> keys;
  for (const auto& a : info.axes) {
    for (const auto& k : a.keys) keys.push_back(k);
  }
  for (const auto& k : keys) out += "," + csv_cell(k);
  out += ",outcome,ok";
  for (const auto& n : names) out += "," + csv_cell(n);
  out += "\n";
  for (const auto& p : points) {
    out += std::to_string(p.index) + "," + p.id;
    for (const auto& k : keys) {
      std::string v;
      for (const auto& [pk, pv] : p.params) {
        if (pk == k) v = pv;
      }
      out += "," + csv_cell(v);
    }
    out += "," + p.outcome + "," + (p.ok ? "true" : "false");
    for (const auto& n : names) {
      const double* v = p.metric(n);
      out += "," + (v ? format_number(*v) : std::string());
    }
    out += "\n";
  }
  return out;
}

// A parameter's YAML flow text as JSON, typed as YAML reads it (and points.csv shows it):
// a plain number, true/false or null unquoted, anything else (10ns, deferred, a quoted
// scalar) a string.
std::string json_param(const std::string& text) {
  static const std::regex number(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
  static const std::regex boolean("true|True|TRUE|false|False|FALSE"), null("~|null|Null|NULL");
  if (std::regex_match(text, number)) return text;
  if (std::regex_match(text, boolean)) return text[0] == 't' || text[0] == 'T' ? "true" : "false";
  if (text.empty() || std::regex_match(text, null)) return "null";
  try {
    const YAML::Node n = YAML::Load(text);
    if (n.IsScalar()) return json_escape(n.Scalar());
  } catch (const YAML::Exception&) {
  }
  return json_escape(text);
}

std::string points_jsonl(const std::vector<PointRecord>& points) {
  std::string out;
  for (const auto& p : points) {
    std::string line = "{\"index\": " + std::to_string(p.index) + ", \"id\": " + json_escape(p.id) + ", \"params\": {";
    for (size_t i = 0; i < p.params.size(); ++i) {
      line += (i ? ", " : "") + json_escape(p.params[i].first) + ": " + json_param(p.params[i].second);
    }
    line += "}, \"outcome\": " + json_escape(p.outcome) + ", \"ok\": " + (p.ok ? "true" : "false") + ", \"metrics\": {";
    for (size_t i = 0; i < p.metrics.size(); ++i) {
      line += (i ? ", " : "") + json_escape(p.metrics[i].first) + ": " + format_number(p.metrics[i].second);
    }
    line += "}, \"failures\": [";
    for (size_t i = 0; i < p.failures.size(); ++i) line += (i ? ", " : "") + json_escape(p.failures[i]);
    out += line + "]}\n";
  }
  return out;
}

std::string summary_md(const SweepInfo& info, const std::vector<PointRecord>& points) {
  size_t ok = 0, failed = 0, broken = 0;
  for (const auto& p : points) {
    if (p.broken()) ++broken;
    if (p.ok) {
      ++ok;
    } else {
      ++failed;
    }
  }
  std::string out = "# Sweep: " + info.name + "\n\n";
  out += "`" + info.file + "`: " + std::to_string(points.size()) + " of " + std::to_string(info.total) +
         " points; " + std::to_string(ok) + " met their expectations, " + std::to_string(failed) + " did not" +
         (broken ? " (" + std::to_string(broken) + " crashed, timed out or invalid)" : "") + ".\n";
  if (points.size() < info.total) out += "\n**Incomplete:** " + std::to_string(info.total - points.size()) + " points have no result yet.\n";

  // Variants: every combination of the non-seed axes (seeds are repetitions).
  std::vector<const SweepAxisInfo*> var_axes;
  for (const auto& a : info.axes) {
    if (!a.is_seed()) var_axes.push_back(&a);
  }
  // The keys that name a variant: a zip group's `expect.*` keys say what the variant must
  // show, not what it is, and stay out of the labels (points.csv keeps them).
  auto shown_keys = [](const SweepAxisInfo& a) {
    std::vector<std::string> keys;
    for (const auto& k : a.keys) {
      if (k.rfind("expect.", 0) != 0) keys.push_back(k);
    }
    return keys.empty() ? a.keys : keys;
  };
  auto label_of = [&](const SweepAxisInfo& a) {
    if (a.keys.size() < 2) return a.label;
    std::string l;
    for (const auto& k : shown_keys(a)) l += (l.empty() ? "" : "+") + k;
    return l;
  };
  auto value_of = [&](const PointRecord& p, const SweepAxisInfo& a) {
    std::string v;
    for (const auto& k : shown_keys(a)) {
      for (const auto& [pk, pv] : p.params) {
        if (pk == k) v += (v.empty() ? "" : ", ") + pv;
      }
    }
    return v;
  };
  out += "\n## By variant\n\nPercentiles are medians over a row's points, maxima its worst point's; P(...) is "
         "the share of points where the detector fired, with its 95% Wilson interval over the row's points.\n\n";
  {
    std::string head, rule;
    for (const auto* a : var_axes) {
      head += label_of(*a) + " | ";
      rule += "---|";
    }
    out += "| " + head + kGroupHeader + " |\n|" + rule + kGroupRule + "|\n";
    std::vector<std::string> order;
    std::map<std::string, Group> groups;
    for (const auto& p : points) {
      std::string key;
      for (const auto* a : var_axes) key += value_of(p, *a) + " | ";
      if (!groups.count(key)) order.push_back(key);
      groups[key].add(p);
    }
    for (const auto& key : order) out += "| " + key + groups[key].row() + " |\n";
    out += "\n## How sure\n\nPer variant: each detector's count with its 95% Wilson interval; with none, the "
           "exact one-sided 95% bound its clean runs put on P (1 - 0.05^(1/n)) and how many more would bring "
           "it to 1%. Time to first detection (lockdep report or deadlock) is the Kaplan-Meier median, runs "
           "without one counted up to their end (censored), with its 95% interval (log-log); \"not reached\": "
           "fewer than half detect within the runs.\n\n| " +
           head + kSureHeader + " |\n|" + rule + kSureRule + "|\n";
    for (const auto& key : order) out += "| " + key + groups[key].sure_row() + " |\n";
    if (info.precision > 0) {
      std::string short_of;
      size_t met = 0;
      for (const auto& key : order) {
        const Group& g = groups[key];
        if (wilson_half_width(g.lockdep, g.points) <= info.precision &&
            wilson_half_width(g.deadlock, g.points) <= info.precision) {
          ++met;
        } else {
          short_of += "\n- `" + key.substr(0, key.size() - 3) + "`: " + std::to_string(g.points) + " runs";
        }
      }
      out += "\nSampled to a precision: each variant ran its seeds in order, its intervals looked at every " +
             std::to_string(info.precision_step) + " runs, until both were at most ±" +
             fixed(100 * info.precision, 1) + " percentage points wide (half the interval), or its seeds ran out. " +
             std::to_string(met) + " of " + std::to_string(order.size()) + " variants got there" +
             (short_of.empty() ? "." : "; not (at their cap, or not finished):" + short_of) + "\n";
    }
  }
  for (const auto& a : info.axes) {
    out += "\n## By " + label_of(a) + "\n\n| " + label_of(a) + " | " + kGroupHeader + " |\n|---|" + kGroupRule + "|\n";
    std::vector<std::string> order;
    std::map<std::string, Group> groups;
    for (const auto& p : points) {
      std::string v = value_of(p, a);
      if (!groups.count(v)) order.push_back(v);
      groups[v].add(p);
    }
    for (const auto& v : order) out += "| " + v + " | " + groups[v].row() + " |\n";
  }
  // Irq-off cost by function, per variant: what a fix that disables interrupts costs.
  {
    std::vector<std::string> functions;
    for (const auto& p : points) {
      for (const auto& m : p.metrics) {
        const std::string pre = "irqs_off_by_site.", suf = ".p99_ns";
        if (m.first.compare(0, pre.size(), pre) == 0 && m.first.size() > pre.size() + suf.size() &&
            m.first.compare(m.first.size() - suf.size(), suf.size(), suf) == 0) {
          std::string f = m.first.substr(pre.size(), m.first.size() - pre.size() - suf.size());
          if (std::find(functions.begin(), functions.end(), f) == functions.end()) functions.push_back(f);
        }
      }
    }
    std::sort(functions.begin(), functions.end());
    if (!functions.empty() && !var_axes.empty()) {
      out += "\n## Interrupts-off sections by the function that began them\n\n"
             "p99: median over a variant's points; max: its worst point. Δ: against the first variant.\n\n"
             "| function | variant | p99 (ns) | p99 (cycles) | max (ns) | max (cycles) | Δp99 (ns, cycles) | Δmax (ns, cycles) |\n"
             "|---|---|---|---|---|---|---|---|\n";
      // Variants here: the first non-seed axis (the one a study compares), in file order.
      const SweepAxisInfo& vax = *var_axes.front();
      for (const auto& f : functions) {
        double first_p99 = 0, first_max = 0, first_p99c = 0, first_maxc = 0;
        bool have_first = false;
        std::vector<std::string> order;
        std::map<std::string, std::vector<const PointRecord*>> by;
        for (const auto& p : points) {
          std::string v = value_of(p, vax);
          if (!by.count(v)) order.push_back(v);
          by[v].push_back(&p);
        }
        for (const auto& v : order) {
          std::vector<double> p99, p99c, mx, mxc;
          for (const auto* p : by[v]) {
            const std::string base = "irqs_off_by_site." + f + ".";
            if (const double* x = p->metric(base + "p99_ns")) p99.push_back(*x);
            if (const double* x = p->metric(base + "p99_cycles")) p99c.push_back(*x);
            if (const double* x = p->metric(base + "max_ns")) mx.push_back(*x);
            if (const double* x = p->metric(base + "max_cycles")) mxc.push_back(*x);
          }
          if (p99.empty()) continue;
          auto med = [](std::vector<double> x) {
            std::sort(x.begin(), x.end());
            return x.size() % 2 ? x[x.size() / 2] : (x[x.size() / 2 - 1] + x[x.size() / 2]) / 2;
          };
          const double a = med(p99), ac = med(p99c), b = *std::max_element(mx.begin(), mx.end()),
                       bc = *std::max_element(mxc.begin(), mxc.end());
          std::string dp = "-", dm = "-";
          if (have_first) {
            auto sign = [](double d, int dec) { return (d >= 0 ? "+" : "") + fixed(d, dec); };
            dp = sign(a - first_p99, 1) + ", " + sign(ac - first_p99c, 0);
            dm = sign(b - first_max, 1) + ", " + sign(bc - first_maxc, 0);
          } else {
            first_p99 = a;
            first_p99c = ac;
            first_max = b;
            first_maxc = bc;
            have_first = true;
          }
          out += "| " + f + " | " + v + " | " + fixed(a, 1) + " | " + fixed(ac, 0) + " | " + fixed(b, 1) + " | " +
                 fixed(bc, 0) + " | " + dp + " | " + dm + " |\n";
        }
      }
    }
  }
  std::vector<const PointRecord*> bad;
  for (const auto& p : points) {
    if (!p.ok) bad.push_back(&p);
  }
  if (!bad.empty()) {
    out += "\n## Points that failed\n\n";
    for (const auto* p : bad) {
      out += "- `" + point_name(*p) + "`: " + p->outcome;
      for (const auto& f : p->failures) out += "; " + f;
      out += "\n";
    }
  }
  return out;
}

std::string junit_xml(const SweepInfo& info, const std::vector<PointRecord>& points) {
  size_t failures = 0, errors = 0;
  double total_s = 0;
  std::string timestamp, hostname;
  for (const auto& p : points) {
    if (p.broken()) {
      ++errors;
    } else if (!p.ok) {
      ++failures;
    }
    // Sum of what the testcases show, so the suite's time adds up in any reporter.
    if (p.host_seconds >= 0) total_s += std::stod(fixed(p.host_seconds, 3));
    if (!p.started.empty() && (timestamp.empty() || p.started < timestamp)) timestamp = p.started;
    if (hostname.empty()) hostname = p.hostname;
  }
  // Unknown (points from before host.json): the epoch, and the name the Ant schema asks for.
  if (timestamp.empty()) timestamp = "1970-01-01T00:00:00";
  if (hostname.empty()) hostname = "localhost";
  // The Ant JUnit schema allows no attributes on <testsuites> and requires package, id,
  // timestamp, hostname and time on a testsuite, properties before the testcases and
  // system-out/system-err after them; Jenkins' junit-10.xsd accepts that too.
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  out += "  <testsuite name=\"" + xml_escape(info.name) + "\" package=\"quiesce\" id=\"0\" tests=\"" +
         std::to_string(points.size()) + "\" failures=\"" + std::to_string(failures) + "\" errors=\"" +
         std::to_string(errors) + "\" skipped=\"0\" time=\"" + fixed(total_s, 3) + "\" timestamp=\"" + timestamp +
         "\" hostname=\"" + xml_escape(hostname) + "\">\n";
  out += "    <properties>\n      <property name=\"scenario\" value=\"" + xml_escape(info.file) + "\"/>\n" +
         "      <property name=\"points\" value=\"" + std::to_string(info.total) + "\"/>\n    </properties>\n";
  for (const auto& p : points) {
    out += "    <testcase classname=\"" + xml_escape(info.name) + "\" name=\"" + xml_escape(point_name(p)) +
           "\" time=\"" + fixed(std::max(0.0, p.host_seconds), 3) + "\"";
    if (p.ok) {
      out += "/>\n";
      continue;
    }
    std::string msg = p.outcome;
    for (const auto& f : p.failures) msg += "; " + f;
    const char* tag = p.broken() ? "error" : "failure";
    out += ">\n      <" + std::string(tag) + " message=\"" + xml_escape(msg) + "\" type=\"" + xml_escape(p.outcome) +
           "\">" + xml_escape(p.stderr_tail) + "</" + tag + ">\n    </testcase>\n";
  }
  out += "    <system-out>" +
         xml_escape(std::to_string(points.size()) + " of " + std::to_string(info.total) + " points of " + info.file +
                    "; each point's files are in points/<id>/") +
         "</system-out>\n    <system-err></system-err>\n  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace quiesce
