#include "sim/scenario/scenario.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <tuple>

namespace quiesce {
namespace {

const std::vector<std::string> kScenarioKeys = {"name",     "description", "duration", "seed",  "sim",
                                                "workload", "platform",    "set",      "kernel", "locks",
                                                "expect",   "sweep",       "timing"};

const std::string kOutcomeKey = "outcome";
const std::string kExpectPrefix = "expect.";

// "< 20us", ">= 1", "0", "false", "deadlock": an expectation on one metric.
Expectation parse_expectation(const std::string& key, const ConfigNode& v) {
  Expectation e;
  e.key = key;
  e.where = v.where();
  std::string s = v.scalar("a value or a comparison such as \"< 20us\"");
  e.text = s;
  size_t i = 0;
  for (const char* op : {"<=", ">=", "==", "!=", "<", ">"}) {
    size_t n = std::string(op).size();
    if (s.compare(0, n, op) == 0) {
      e.op = op;
      i = n;
      break;
    }
  }
  if (e.op.empty()) e.op = "==";
  std::string rest = s.substr(i);
  while (!rest.empty() && rest.front() == ' ') rest.erase(rest.begin());
  e.text = rest;
  if (rest == "true" || rest == "false") {
    e.number = rest == "true" ? 1 : 0;
    return e;
  }
  char* end = nullptr;
  double num = std::strtod(rest.c_str(), &end);
  if (!rest.empty() && *end == '\0') {
    e.number = num;
    return e;
  }
  try {
    e.number = static_cast<double>(parse_time(rest)) / 1e3;  // metrics carry times in ns
    return e;
  } catch (const UnitError&) {
  }
  if (e.op != "==" && e.op != "!=") v.fail("'" + rest + "' is not a number or a time to compare with " + e.op);
  // Only `outcome` is a word; a metric held to one would fail on every point, found only
  // after the sweep had run.
  if (key != kOutcomeKey) v.fail("'" + rest + "' is not a number, a time or true/false (only `outcome` takes a word)");
  e.is_number = false;
  e.text = rest;
  return e;
}

// One path component of sane length: what a scenario's name (its output directory) and a
// platform's name (a file in platforms/) must be. A 300-character scenario name failed to
// create its directory, and a 1,000-byte platform name made the file system throw (exit 3,
// internal error; found by fuzzing); '../x' reached outside results/ or platforms/.
bool plain_name(const std::string& name) {
  bool plain = !name.empty() && name.size() <= kMaxNameBytes && name.front() != '.';
  for (unsigned char c : name) plain = plain && c >= 0x20 && c != 0x7F && c != '/' && c != '\\';
  return plain;
}

ConfigNode load_platform(const ConfigNode& spec, const std::string& text) {
  if (!spec.present()) return load_yaml_file(platforms_dir() + "/generic-smp.yaml");
  if (spec.is_map()) {
    // Inline platform: a copy, so overrides don't write into the scenario document. Parsed
    // again rather than YAML::Clone()d, which loses every line and column (errors said 1:1).
    ConfigNode copy = parse_yaml(text, spec.source()->file);
    return ConfigNode(copy.yaml()["platform"], spec.source(), "", spec.where());
  }
  std::string name = spec.scalar("a platform name or an inline mapping");
  const std::string path = platforms_dir() + "/" + name + ".yaml";
  std::error_code ec;
  if (!plain_name(name) || !std::filesystem::is_regular_file(path, ec)) {
    auto names = list_platforms();
    std::string msg = "unknown platform '" + name + "'";
    std::string hint = did_you_mean(name, names);
    if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
    std::string all;
    for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
    msg += " (available: " + all + ")";
    spec.fail(msg);
  }
  return load_yaml_file(path);
}

// Loads and validates a scenario from its text; `with_sweep` false skips expanding the sweep.
std::unique_ptr<Scenario> load(const std::string& text, const std::string& file, const std::vector<Override>& overrides,
                               std::optional<uint64_t> seed, bool with_sweep);

// The name becomes a directory (results/<name>/).
void check_name(const std::string& name, const ConfigNode& at) {
  if (!plain_name(name)) {
    at.fail("the name names the output directory: 1 to " + std::to_string(kMaxNameBytes) +
            " bytes, no '/', '\\' or control characters, not beginning with '.'");
  }
}

// `expect.METRIC: VALUE` (in `set:`, `--set` or a sweep axis) holds this run to one more
// expectation, or to another value of one the file has; a null value (`~`) drops it, for
// the points where it does not hold. A metric's name may have dots of its own
// (`expect.rcu.violations`), so the rest of the path is one key of `expect:`.
void apply_expect_override(Scenario& s, const std::string& key, const YAML::Node& value, const std::string& origin,
                           const std::string& value_origin) {
  const std::string metric = key.substr(kExpectPrefix.size());
  for (const auto& part : split_path(metric)) {
    if (part.empty()) throw ConfigError(origin, key, "expected expect.METRIC, e.g. expect.deadlock or expect.outcome");
  }
  YAML::Node root = s.doc.yaml();  // shares the tree (yaml-cpp nodes are references)
  YAML::Node expect = root["expect"];
  if (expect.IsDefined() && !expect.IsNull() && !expect.IsMap()) {
    throw ConfigError(origin, key, "cannot set '" + key + "': 'expect' is not a mapping");
  }
  if (value.IsNull()) {
    if (expect.IsMap()) expect.remove(metric);
    return;
  }
  if (!expect.IsMap()) {
    root["expect"] = YAML::Node(YAML::NodeType::Map);
    s.doc.source()->origins.emplace("expect", ConfigOrigin{origin, origin});
  }
  root["expect"][metric] = value;
  s.doc.source()->origins[key] = ConfigOrigin{origin, value_origin.empty() ? origin : value_origin};
}

void apply_override(Scenario& s, const std::string& key, const YAML::Node& value, const std::string& origin,
                    const std::string& value_origin = "") {
  if (key.empty()) throw ConfigError(origin, "", "empty key in override");
  if (key.compare(0, kExpectPrefix.size(), kExpectPrefix) == 0) {
    apply_expect_override(s, key, value, origin, value_origin);
    return;
  }
  const std::vector<std::string> path = split_path(key);
  const std::string first = path.front();
  // A sweep's settings (precision, ...) may be set from outside; its axes are the file's.
  if (first == "sweep" && path.size() == 2 && SweepParams::is_setting(path[1])) {
    set_by_path(s.doc, key, value, origin, value_origin);
    return;
  }
  if (first == "platform" || first == "set" || first == "sweep") {
    throw ConfigError(origin, key,
                      "'" + first + "' cannot be overridden by a path" +
                          (first == "platform" ? "; override its keys directly (e.g. cores=8), or name another "
                                                 "preset with platform=NAME"
                                               : first == "sweep" ? "; edit the file (only its settings, e.g. sweep.precision, may be set)"
                                                                  : "; edit the file"));
  }
  if (is_scenario_key(first)) {
    set_by_path(s.doc, key, value, origin, value_origin);
  } else {
    set_by_path(s.platform_tree, key, value, origin, value_origin);
  }
}

}  // namespace

bool is_scenario_key(const std::string& first) {
  for (const auto& k : kScenarioKeys) {
    if (k == first) return true;
  }
  return false;
}

Override parse_set(const std::string& kv) {
  std::string origin = "--set " + kv;
  auto eq = kv.find('=');
  if (eq == std::string::npos) throw ConfigError(origin, "", "expected key=value");
  Override o;
  o.key = kv.substr(0, eq);
  o.key_origin = o.value_origin = origin;
  // `--set cores=` would load as null and leave the default in place: a silent no-op.
  if (kv.find_first_not_of(" \t", eq + 1) == std::string::npos) {
    throw ConfigError(origin, o.key, "has no value (write key=value; an empty string is key='')");
  }
  try {
    o.value = load_yaml_text(kv.substr(eq + 1));
  } catch (const YamlTextError& e) {
    throw ConfigError(origin, o.key, "in the value: " + e.message);
  }
  return o;
}

std::unique_ptr<Scenario> load_scenario(const std::string& path, const std::vector<std::string>& sets,
                                        std::optional<uint64_t> seed) {
  std::vector<Override> ov;
  for (const auto& kv : sets) ov.push_back(parse_set(kv));
  return load_scenario(path, ov, seed);
}

std::vector<Override> point_overrides(const SweepSpec& spec, uint64_t index, const std::vector<Override>& base) {
  std::vector<Override> out = base;
  for (const auto& p : spec.point(index)) {
    Override o;
    o.key = p.key;
    o.value = YAML::Load(p.value->text);
    o.key_origin = p.key_where.empty() ? p.value->where : p.key_where;
    o.value_origin = p.value->where;
    out.push_back(o);
  }
  return out;
}

void validate_sweep_values(const std::string& path, const SweepSpec& spec, const std::vector<Override>& base) {
  validate_sweep_values_text(read_yaml_file(path), path, spec, base);
}

void validate_sweep_values_text(const std::string& text, const std::string& file, const SweepSpec& spec,
                                const std::vector<Override>& base) {
  // A --set of a swept key would be overridden at every point by the axis: refused, not
  // silently dropped.
  for (const auto& o : base) {
    for (const auto& axis : spec.axes) {
      for (size_t k = 0; k < axis.keys.size(); ++k) {
        const std::string& key = axis.keys[k];
        const bool overlaps = o.key == key || key.rfind(o.key + ".", 0) == 0 || o.key.rfind(key + ".", 0) == 0;
        if (!overlaps) continue;
        const std::string where = k < axis.key_wheres.size() && !axis.key_wheres[k].empty() ? axis.key_wheres[k] : axis.where;
        throw ConfigError(o.key_origin, o.key,
                          "'" + key + "' is an axis of this sweep (" + where +
                              "), which sets it at every point; drop the --set, or edit the axis to the value(s) wanted");
      }
    }
  }
  for (size_t a = 0; a < spec.axes.size(); ++a) {
    for (size_t i = 0; i < spec.axes[a].rows.size(); ++i) {
      std::vector<Override> ov = base;
      for (size_t b = 0; b < spec.axes.size(); ++b) {
        const auto& row = spec.axes[b].rows[b == a ? i : 0];
        for (size_t k = 0; k < spec.axes[b].keys.size(); ++k) {
          const std::string kw = k < spec.axes[b].key_wheres.size() ? spec.axes[b].key_wheres[k] : row[k].where;
          ov.push_back(Override{spec.axes[b].keys[k], YAML::Load(row[k].text), kw, row[k].where});
        }
      }
      // The sweep itself is not expanded again: once per value would be quadratic.
      load(text, file, ov, std::nullopt, false);
    }
  }
}

std::unique_ptr<Scenario> load_scenario(const std::string& path, const std::vector<Override>& overrides,
                                        std::optional<uint64_t> seed) {
  return load(read_yaml_file(path), path, overrides, seed, true);
}

std::unique_ptr<Scenario> load_scenario_text(const std::string& text, const std::string& file,
                                             const std::vector<Override>& overrides, std::optional<uint64_t> seed) {
  return load(text, file, overrides, seed, true);
}

namespace {

uint64_t count_at(const ConfigNode& n, const char* what, uint64_t max) {
  const std::string text = n.scalar(what);
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end != '\0' || errno != 0 || v > max) {
    n.fail("expected " + std::string(what) + " from 0 to " + std::to_string(max) + ", got \"" + text + "\"");
  }
  return v;
}

// `timing: {ipi: [{from, to, index, latency}, ...]}`: each forced latency must be one the
// pair's latency distribution can draw (the exact mode's lookahead rests on its floor).
std::vector<ForcedIpi> parse_timing(const ConfigNode& timing, const PlatformConfig& platform) {
  std::vector<ForcedIpi> out;
  if (!timing.present()) return out;
  if (!timing.is_map()) timing.fail("'timing:' is a mapping: {ipi: [{from, to, index, latency}, ...]}");
  timing.expect_keys({"ipi"});
  ConfigNode ipis = timing["ipi"];
  if (!ipis.present()) return out;
  if (!ipis.is_list()) ipis.fail("'timing.ipi' is a list of {from, to, index, latency}");
  const int cores = platform.topology().cores;
  std::set<std::tuple<int, int, uint64_t>> seen;
  for (const auto& e : ipis.items()) {
    if (!e.is_map()) e.fail("a forced IPI is {from: CPU, to: CPU, index: N, latency: TIME}");
    e.expect_keys({"from", "to", "index", "latency"});
    for (const char* k : {"from", "to", "index", "latency"}) {
      if (!e[k].present()) e.fail(std::string("missing '") + k + "'");
    }
    ForcedIpi f;
    f.from = static_cast<int>(count_at(e["from"], "a CPU number", static_cast<uint64_t>(cores - 1)));
    f.to = static_cast<int>(count_at(e["to"], "a CPU number", static_cast<uint64_t>(cores - 1)));
    f.index = count_at(e["index"], "an index", uint64_t{1} << 48);
    try {
      f.latency = parse_time(e["latency"].scalar("a time"));
    } catch (const UnitError& err) {
      e["latency"].fail(err.what());
    }
    const Distribution& dist = platform.ipi_latency_between(f.from, f.to);
    if (!dist.contains(f.latency)) {
      e["latency"].fail("latency " + format_time(f.latency) + " is outside what the IPI latency from CPU" +
                        std::to_string(f.from) + " to CPU" + std::to_string(f.to) + " can draw, " + dist.describe() +
                        " (from " + format_time(dist.lower_bound()) + " to " + format_time(dist.upper_bound()) +
                        "); a forced timing must be a legal one");
    }
    if (!seen.insert({f.from, f.to, f.index}).second) e.fail("this IPI is forced twice");
    out.push_back(f);
  }
  return out;
}

std::unique_ptr<Scenario> load(const std::string& text, const std::string& file, const std::vector<Override>& overrides,
                               std::optional<uint64_t> seed, bool with_sweep) {
  auto s = std::make_unique<Scenario>();
  s->file = file;
  s->doc = parse_yaml(text, file);
  if (!s->doc.present()) s->doc.fail("the scenario file is empty");
  if (!s->doc.is_map()) s->doc.fail("a scenario is a mapping (name:, platform:, workload:, ...)");
  s->doc.expect_keys(kScenarioKeys);
  // `platform` in `set:`, `--set` or a sweep axis names another preset: it replaces the
  // file's before any other override applies (the last one given wins).
  ConfigNode set = s->doc["set"];
  if (set.present() && !set.is_map()) set.fail("'set:' is a mapping of dotted paths to values");
  auto choose_platform = [&](const YAML::Node& v, const std::string& origin, const std::string& value_origin) {
    if (!v.IsScalar()) {
      throw ConfigError(origin, "platform", "an override of platform names a preset (quiesce list platforms); "
                                            "an inline platform goes in the file");
    }
    set_by_path(s->doc, "platform", YAML::Clone(v), origin, value_origin);
  };
  if (set.present() && set["platform"].present()) {
    choose_platform(set["platform"].yaml(), set.key_where("platform"), set["platform"].where());
  }
  for (const auto& o : overrides) {
    if (o.key == "platform") choose_platform(o.value, o.key_origin, o.value_origin);
  }
  s->platform_tree = load_platform(s->doc["platform"], text);
  if (!s->platform_tree.is_map()) s->platform_tree.fail("a platform is a mapping of parameters");

  if (set.present()) {
    for (const auto& key : set.keys()) {
      if (key == "platform") continue;
      ConfigNode v = set[key];
      apply_override(*s, key, YAML::Clone(v.yaml()), set.key_where(key), v.where());
    }
  }
  for (const auto& o : overrides) {
    if (o.key != "platform") apply_override(*s, o.key, YAML::Clone(o.value), o.key_origin, o.value_origin);
  }
  if (seed) set_by_path(s->doc, "seed", YAML::Node(std::to_string(*seed)), "--seed");

  check_known_keys(s->doc, {&s->params, &s->sim, &s->kernel, &s->variants},
                   {"platform", "set", "workload", "locks", "expect", "sweep", "timing"});
  s->sweep_params.load(s->doc);
  if (with_sweep) s->sweep = parse_sweep(s->doc["sweep"], static_cast<uint64_t>(s->sweep_params.max_points()));
  s->params.load(s->doc);
  s->sim.load(s->doc);
  s->kernel.load(s->doc);
  s->variants.load(s->doc);
  try {
    (void)kernel::Release::parse(s->variants.release());
  } catch (const std::invalid_argument& e) {
    ConfigNode at = s->doc.at_path("kernel.release");
    (at.present() ? at : s->doc).fail(e.what());
  }
  s->locks = parse_locks(s->doc["locks"]);
  ConfigNode expect = s->doc["expect"];
  if (expect.present()) {
    if (!expect.is_map()) expect.fail("'expect:' maps metrics (or outcome) to values or comparisons");
    for (const auto& key : expect.keys()) s->expect.push_back(parse_expectation(key, expect[key]));
  }
  if (s->params.duration().ps <= 0 || s->params.duration().ps > kMaxDuration) {
    s->doc["duration"].fail("duration must be above 0 and at most 3600s");
  }
  if (s->params.seed() < 0) s->doc["seed"].fail("seed must be 0 or more");
  check_name(s->params.name(), s->doc["name"]);
  s->platform.load(s->platform_tree);
  s->forced_ipis = parse_timing(s->doc["timing"], s->platform);

  ConfigNode wl = s->doc["workload"];
  if (!wl.present()) s->doc.fail("missing 'workload:' (what to run)");
  if (!wl.is_list() || wl.size() == 0) wl.fail("'workload:' is a non-empty list of entries");
  int irqs = 0;  // counted once here, not per entry in env_for(): there may be thousands
  for (const auto& entry : wl.items()) {
    s->irq_sources_before.push_back(irqs);
    if (entry["irq"].present() || (entry["task"].is_scalar() && entry["task"].scalar() == "irq_load")) ++irqs;
    s->workload.push_back(entry);
  }
  // Task names first (wake targets, duplicates), then each entry with the whole picture.
  std::vector<std::string> names;
  std::set<std::string> seen;  // a workload may have thousands of entries
  for (size_t i = 0; i < s->workload.size(); ++i) {
    for (const auto& n : entry_task_names(s->workload[i], i, s->platform.topology())) {
      if (!seen.insert(n).second) {
        ConfigNode at = s->workload[i]["name"].present() ? s->workload[i]["name"] : s->workload[i];
        at.fail("duplicate task name '" + n + "'");
      }
      names.push_back(n);
    }
  }
  s->task_names = names;
  bool bare = false, kern = false;
  for (size_t i = 0; i < s->workload.size(); ++i) {
    const WorkloadType& t = validate_workload_entry(s->workload[i], s->env_for(i));
    (t.needs_kernel ? kern : bare) = true;
    if (bare && kern) s->workload[i].fail("bare-metal workloads (hw_pingpong) cannot share a run with kernel tasks");
  }
  s->needs_kernel = kern;
  return s;
}

}  // namespace

WorkloadEnv Scenario::env_for(size_t entry_index) const {
  WorkloadEnv env;
  env.topology = platform.topology();
  env.locks = locks;
  env.task_names = task_names;
  env.entry_index = entry_index;
  env.seed = static_cast<uint64_t>(params.seed());
  env.release = variants.release();
  if (entry_index < irq_sources_before.size()) env.irq_index = irq_sources_before[entry_index];
  return env;
}

std::vector<ParamTable> all_param_tables() {
  std::vector<ParamTable> out;
  ScenarioParams sp;
  SimParams sim;
  SweepParams sweep;
  out.push_back({"Scenario (top-level keys)", describe(sp)});
  out.push_back({"Simulation (sim.*)", describe(sim)});
  out.push_back({"Sweep settings (in `sweep:`, beside the axes)", describe(sweep)});
  kernel::KernelParams kp;
  out.push_back({"Kernel (kernel.*)", describe(kp)});
  kernel::VariantParams vp;
  out.push_back({"Kernel variants (kernel.*; `quiesce list variants`)", describe(vp)});
  PlatformConfig pc;
  for (const ParamGroup* g : pc.groups()) {
    out.push_back({"Platform: " + g->doc(), describe(*g)});
  }
  for (const auto& t : workload_types()) {
    auto g = t.params();
    out.push_back({"Workload `task: " + t.name + "`: " + t.doc, describe(*g)});
  }
  return out;
}

}  // namespace quiesce
