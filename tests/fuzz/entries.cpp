#include "tests/fuzz/entries.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <sstream>
#include <string>

#include "sim/base/config.h"
#include "sim/base/dist.h"
#include "sim/base/error.h"
#include "sim/base/params.h"
#include "sim/base/rng.h"
#include "sim/base/units.h"
#include "sim/hw/platform.h"
#include "sim/scenario/scenario.h"
#include "sim/output/files.h"
#include "sim/run/explain.h"
#include "sim/run/sweep.h"
#include "sim/scenario/sweep.h"

namespace quiesce::fuzz {
namespace {

// Sweeps are validated value by value only when they are this small (each value loads the
// scenario again); parse_sweep's own limits are fuzzed in full by the sweep target.
constexpr size_t kMaxSweepValuesValidated = 32;
// The sweep target's cap on points: the checks are the same as at the default cap, and
// materialising up to a million values per input would only slow the fuzzer down.
constexpr uint64_t kFuzzMaxPoints = 10000;

// A broken invariant: report it and abort, so that libFuzzer (or the test) sees a crash.
void check(bool ok, const char* what, const std::string& detail = "") {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %s %s\n", what, detail.c_str());
  std::abort();
}

// A refusal is one line of bounded length (printable() keeps it so).
Outcome refused(const ConfigError& e) {
  const std::string what = e.what();
  check(what.find('\n') == std::string::npos && what.find('\r') == std::string::npos,
        "message spans lines:", what);
  check(what.size() < 2000, "message too long:", what.substr(0, 200));
  check(what.find("error: ") != std::string::npos, "message without 'error: ':", what);
  return kRefused;
}

std::string text_of(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

size_t sweep_values(const SweepSpec& spec) {
  size_t n = 0;
  for (const auto& a : spec.axes) n += a.rows.size();
  return n;
}

void check_sweep(const SweepSpec& spec, uint64_t max_points) {
  uint64_t product = 1;
  size_t keys = 0;
  for (const auto& a : spec.axes) {
    check(!a.rows.empty(), "an axis without values");
    for (const auto& row : a.rows)
      check(row.size() == a.keys.size(), "a row without a value per key");
    product *= a.rows.size();
    keys += a.keys.size();
  }
  check(product == spec.total, "total is not the product of the axes");
  check(spec.total >= 1 && spec.total <= max_points, "total outside [1, max_points]");
  for (uint64_t i : {uint64_t{0}, spec.total / 2, spec.total - 1}) {
    auto point = spec.point(i);
    check(point.size() == keys, "a point without a value per key");
    // Point values travel as YAML flow text (to child processes and into points.csv): each
    // must parse back to itself, so that writing it again gives the same text.
    for (const auto& p : point) {
      YAML::Node n;
      try {
        n = YAML::Load(p.value->text);
      } catch (const YAML::Exception& e) {
        check(false, "a sweep value does not parse back:", p.value->text + " (" + e.what() + ")");
      }
      const std::string again = sweep_value_text(n);
      check(p.value->text == again,
            "a sweep value changes when written again:", p.value->text + " -> " + again);
    }
  }
}

// Every distribution and latency of a loaded platform, sampled and converted at its clock.
void check_platform(const PlatformConfig& pc) {
  const Time period = pc.platform.clock().period_ps();
  check(period >= 1, "clock period below 1ps");
  Rng rng(1, "fuzz");
  for (const ParamGroup* g : pc.groups()) {
    for (const ParamBase* p : g->params()) {
      if (const auto* d = dynamic_cast<const Param<Distribution>*>(p)) {
        const Time lo = (*d)().lower_bound();
        check(lo >= 0, "negative lower bound:", p->name());
        for (int i = 0; i < 8; ++i) {
          const Time t = (*d)().sample(rng);
          check(t >= lo, "a sample below the lower bound:", p->name());
        }
        (void)(*d)().describe();
      } else if (const auto* l = dynamic_cast<const Param<Latency>*>(p)) {
        check((*l)().to_ps(period) >= 0, "negative latency:", p->name());
      }
    }
  }
  const Topology& t = pc.topology();
  check(t.cores >= 1 && t.physical_cores() >= 1, "empty topology");
  for (int c : {0, t.cores - 1}) {
    const Distance d = t.distance(0, c);
    check(d < t.distance_names().size(), "a distance without a name");
    check(c == 0 || pc.distance_latencies().handoff.at(d).value >= 0, "a negative hand-off");
  }
}

const char* const kSetBase = R"(name: fuzz-set
locks:
  A: {class: lock_A}
  B: {class: lock_B, share_line_with: A}
workload:
  - task: program
    name: t0
    cpu: 0
    program:
      - repeat: 2
        do: [{lock: A}, {compute: 100}, {unlock: A}, {sleep: 1us}]
  - {task: cyclictest, interval: 50us}
  - {irq: nic, cpu: 1, period: {dist: exponential, mean: 50us}, program: [{lock: B}, {unlock: B}]}
duration: 1ms
sim: {quantum: 0ns}
expect: {deadlock: false, irq_latency.max: "< 20us"}
sweep:
  seed: {range: [1, 2]}
  cores: [2, 4]
)";

}  // namespace

Outcome scenario(const uint8_t* data, size_t size) {
  const std::string text = text_of(data, size);
  try {
    auto sc = load_scenario_text(text, "fuzz.yaml", {});
    check_sweep(sc->sweep, static_cast<uint64_t>(sc->sweep_params.max_points()));
    check_platform(sc->platform);
    check(sc->params.duration().ps > 0 && sc->params.duration().ps <= kMaxDuration,
          "duration out of range");
    for (size_t i = 0; i < sc->workload.size(); ++i) (void)sc->env_for(i);
    if (sweep_values(sc->sweep) <= kMaxSweepValuesValidated) {
      validate_sweep_values_text(text, "fuzz.yaml", sc->sweep, {});
    }
    return kAccepted;
  } catch (const ConfigError& e) {
    return refused(e);
  }
}

Outcome platform(const uint8_t* data, size_t size) {
  try {
    ConfigNode doc = parse_yaml(text_of(data, size), "fuzz-platform.yaml");
    if (!doc.present()) doc.fail("the file is empty");
    PlatformConfig pc;
    pc.load(doc);
    check(pc.platform.cores() >= 1 && pc.platform.cores() <= kMaxCores, "cores out of range");
    check_platform(pc);
    return kAccepted;
  } catch (const ConfigError& e) {
    return refused(e);
  }
}

Outcome set(const uint8_t* data, size_t size) {
  const std::string text = text_of(data, size);
  try {
    std::vector<Override> overrides;
    size_t start = 0;
    while (start <= text.size() && overrides.size() < 8) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      overrides.push_back(parse_set(text.substr(start, end - start)));
      start = end + 1;
    }
    auto sc = load_scenario_text(kSetBase, "base.yaml", overrides);
    check_platform(sc->platform);
    validate_sweep_values_text(kSetBase, "base.yaml", sc->sweep, overrides);
    return kAccepted;
  } catch (const ConfigError& e) {
    return refused(e);
  }
}

Outcome units(const uint8_t* data, size_t size) {
  const std::string text = text_of(data, size);
  bool any = false;
  try {
    const Time t = parse_time(text);
    check(t >= 0, "negative time from", text);
    const std::string shown = format_time(t);
    check(parse_time(shown) == t, "format_time does not parse back:", text + " -> " + shown);
    any = true;
  } catch (const UnitError&) {
  }
  try {
    const int64_t c = parse_cycles(text);
    check(c >= 0, "negative cycles from", text);
    any = true;
  } catch (const UnitError&) {
  }
  try {
    const Latency l = parse_latency(text);
    for (Time period : {Time{1}, Time{500}, Time{1000000}}) {
      check(l.to_ps(period) >= 0, "negative or overflowing latency from", text);
    }
    any = true;
  } catch (const UnitError&) {
  }
  try {
    const double hz = parse_frequency(text);
    check(hz > 0 && hz <= 1e12, "frequency out of range from", text);
    check(Frequency{hz}.period_ps() >= 1, "clock period below 1ps from", text);
    any = true;
  } catch (const UnitError&) {
  }
  try {
    check(parse_size(text) >= 0, "negative size from", text);
    any = true;
  } catch (const UnitError&) {
  }
  // Rendering never fails, for any 64-bit value.
  if (size >= 8) {
    int64_t v = 0;
    std::memcpy(&v, data, sizeof v);
    (void)format_time(v);
    (void)format_time_approx(static_cast<double>(v));
  }
  return any ? kAccepted : kRefused;
}

Outcome sweep(const uint8_t* data, size_t size) {
  try {
    ConfigNode doc = parse_yaml(text_of(data, size), "fuzz-sweep.yaml");
    SweepSpec spec = parse_sweep(doc, kFuzzMaxPoints);
    check_sweep(spec, kFuzzMaxPoints);
    return kAccepted;
  } catch (const ConfigError& e) {
    return refused(e);
  }
}

namespace {

// A well-formed two-point sweep (axis seed: 1, 2) with one point done, the other missing.
const char* kSweepJson = R"({"format": 2, "scenario": "f", "file": "f.yaml", "identity": "0000000000000001",
 "binary": "x", "set": [], "total_points": 2, "axes": [{"key": "seed", "values": ["1", "2"]}],
 "resolved": {"duration": "1ms"}, "scenario_text": "name: f\n"})";
const char* kResultJson = R"({"outcome": "ok", "simulated_time_ps": 1000, "metrics": {"lockdep_reports": 0},
 "expectations": [{"key": "deadlock", "expected": "== false", "actual": "false", "ok": true}]})";

}  // namespace

Outcome sweep_files(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  static const std::string root = fs::temp_directory_path().string() + "/quiesce-fuzz-files-" + std::to_string(::getpid());
  const std::string dir = root + "/sweep", merged = root + "/merged";
  std::error_code ec;
  fs::remove_all(root, ec);
  make_dirs(dir + "/points/p000000");
  const bool manifest = size > 0 && data[0] == '0';
  const std::string text = size > 0 ? text_of(data + 1, size - 1) : "";
  write_file_atomic(dir + "/sweep.json", manifest ? text : kSweepJson);
  write_file_atomic(dir + "/points/p000000/result.json", manifest ? kResultJson : text);
  std::ostringstream sink;
  int refusals = 0;
  for (int step = 0; step < 4; ++step) {
    try {
      switch (step) {
        case 0: {
          const SweepCensus c = census(dir);
          check(c.ok + c.failed + c.broken + c.missing.size() == c.total, "census does not add up");
          break;
        }
        case 1: explain_point(dir, sink); break;
        case 2: explain_point(dir + "/points/p000000", sink); break;
        default: merge_sweeps({dir}, merged, false, sink); break;
      }
    } catch (const ConfigError& e) {
      refused(e);
      ++refusals;
    }
  }
  fs::remove_all(root, ec);
  return refusals ? kRefused : kAccepted;
}

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {{"scenario", &scenario},
                                          {"platform", &platform},
                                          {"set", &set},
                                          {"units", &units},
                                          {"sweep", &sweep},
                                          {"sweep_files", &sweep_files}};
  return all;
}

}  // namespace quiesce::fuzz
