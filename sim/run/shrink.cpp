#include "sim/run/shrink.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <ostream>
#include <regex>
#include <set>
#include <sstream>

#include "sim/base/error.h"
#include "sim/output/files.h"
#include "sim/output/json.h"
#include "sim/run/internal/ddmin.h"
#include "sim/run/internal/point_pool.h"
#include "sim/run/internal/sweep_state.h"
#include "sim/run/point.h"
#include "sim/run/sweep.h"
#include "sim/scenario/scenario.h"

namespace fs = std::filesystem;

namespace quiesce {
namespace {

// The name candidates are loaded under (it appears in their error messages only).
const char* const kShrunkFile = "shrunk.yaml";

// Host seconds a candidate may always take, however quick the input's own run was.
constexpr double kMinCandidateTimeout = 30;

// The shrunk scenario's name: the original's, marked (and still a valid name).
std::string shrunk_name(const std::string& name) {
  const std::string base = name.empty() ? "scenario" : name;
  return base.substr(0, kMaxNameBytes - 7) + "-shrunk";
}

std::string shrunk_description(const std::string& name) {
  return "a smaller reproducer of " + name + ", found by quiesce shrink";
}

// How a run ended, as far as shrinking cares: what must recur, and when it was seen.
struct Ending {
  std::string outcome;  // deadlock, hard_lockup, stall, ..., or lockdep (ran on, reported)
  std::string kind;     // lockdep's report kind (circular, ...)
  std::vector<std::string> chain;  // the lock classes as reported, in chain order
  std::set<std::string> classes;   // the same as a set: what a candidate must show again
  Time detected = 0;
  bool detects() const { return !outcome.empty(); }
  bool same(const Ending& o) const {
    return outcome == o.outcome && kind == o.kind && classes == o.classes;
  }
  std::string text() const {
    std::string s = outcome == "lockdep" ? "lockdep " + kind + " report" : outcome;
    for (size_t i = 0; i < chain.size(); ++i) s += (i ? " -> " : " of ") + chain[i];
    return s;
  }
};

std::string text_at(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

double number_at(const Json& obj, const char* key) {
  if (!obj.is_object()) return -1;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<double>() : -1;
}

Json read_json(const std::string& path) {
  try {
    return Json::parse(read_file_bounded(path, run_internal::kMaxResultBytes));
  } catch (const Json::exception& e) {
    throw ConfigError(path, "", std::string("malformed JSON: ") + e.what());
  }
}

// Detections that end a run (a lockdep report does not: it is told by its details).
bool is_detection(const std::string& outcome) {
  for (const char* o : {"deadlock", "hard_lockup", "stall", "rcu_stall", "stuck_irq", "livelock"}) {
    if (outcome == o) return true;
  }
  return false;
}

Ending ending_of(const Json& r) {
  Ending e;
  const std::string outcome = text_at(r, "outcome");
  const Json& metrics = r.contains("metrics") ? r["metrics"] : Json();
  const Json& details = r.contains("details") ? r["details"] : Json();
  std::string chain;
  if (is_detection(outcome)) {
    e.outcome = outcome;
    chain = text_at(details, (outcome + ".classes").c_str());
    const double when = outcome == "deadlock" ? number_at(metrics, "deadlock.time_ns") * 1e3 : -1;
    e.detected =
        static_cast<Time>(when >= 0 ? when : std::max(0.0, number_at(r, "simulated_time_ps")));
  } else if ((outcome == "ok" || outcome == "incomplete") &&
             number_at(metrics, "lockdep_reports") > 0) {
    e.outcome = "lockdep";
    e.kind = text_at(details, "lockdep.first_report.kind");
    chain = text_at(details, "lockdep.first_report.classes");
    e.detected =
        static_cast<Time>(std::max(0.0, number_at(metrics, "lockdep.first_report_ns") * 1e3));
  }
  for (size_t from = 0; !chain.empty() && from <= chain.size();) {
    const size_t to = std::min(chain.find(" -> ", from), chain.size());
    e.chain.push_back(chain.substr(from, to - from));
    from = to + 4;
  }
  e.classes.insert(e.chain.begin(), e.chain.end());
  return e;
}

std::string yaml_text(const YAML::Node& doc) {
  YAML::Emitter out;
  out << doc;
  return std::string(out.c_str()) + "\n";
}

// A duration a little past `t`: two significant digits, rounded up, in a readable unit.
std::string duration_past(Time t) {
  int64_t ns = t / kNs + 1, step = 1;
  while (ns / step >= 100) step *= 10;
  ns = (ns + step - 1) / step * step;
  if (ns >= 1000000) return format_number(static_cast<double>(ns) / 1e6) + "ms";
  if (ns >= 1000) return format_number(static_cast<double>(ns) / 1e3) + "us";
  return std::to_string(ns) + "ns";
}

// Platform overrides: what `set:` keeps in a scenario of its own (scenario keys are written
// into the document itself, `platform` chooses the preset).
bool is_platform_key(const std::string& key) {
  return !key.empty() && key != "platform" && key.rfind("expect.", 0) != 0 &&
         !is_scenario_key(split_path(key).front());
}

using PlatformSets = std::vector<std::pair<std::string, YAML::Node>>;

// A scenario that needs nothing but itself: the resolved document (scenario overrides
// applied), its `set:` reduced to platform overrides with `sets` after them, and no sweep or
// expectations (it is one point, and held to its ending, not to the study's bounds).
YAML::Node self_contained(const YAML::Node& resolved, const PlatformSets& sets,
                          const std::string& name, const std::string& description = "") {
  YAML::Node set(YAML::NodeType::Map);
  if (resolved["set"] && resolved["set"].IsMap()) {
    for (const auto& kv : resolved["set"]) {
      const std::string key = kv.first.as<std::string>();
      if (is_platform_key(key)) set[key] = YAML::Clone(kv.second);
    }
  }
  for (const auto& [key, value] : sets) {
    set.remove(key);
    set[key] = YAML::Clone(value);
  }
  YAML::Node doc(YAML::NodeType::Map);
  bool set_written = false;
  auto write_set = [&] {
    if (set.size() > 0) doc["set"] = set;
    set_written = true;
  };
  for (const auto& kv : resolved) {
    const std::string key = kv.first.as<std::string>();
    if (key == "set" || key == "sweep" || key == "expect" ||
        (key == "description" && !description.empty())) {
      continue;
    }
    if (key == "workload" && !set_written) write_set();
    doc[key] = key == "name" ? YAML::Node(name) : YAML::Clone(kv.second);
    if (key == "name" && !description.empty()) doc["description"] = description;
    if (key == "platform") write_set();
  }
  if (!set_written) write_set();
  if (!doc["name"]) doc["name"] = name;
  if (!description.empty() && !doc["description"]) doc["description"] = description;
  return doc;
}

PlatformSets platform_sets(const std::vector<Override>& overrides) {
  PlatformSets out;
  for (const auto& o : overrides) {
    if (is_platform_key(o.key)) out.emplace_back(o.key, o.value);
  }
  return out;
}

// "" when two resolved configurations (resolved_config()) run the same point; else the first
// setting that differs. Names, descriptions, overrides, sweeps and expectations don't count.
std::string config_difference(Json a, Json b) {
  for (Json* c : {&a, &b}) {
    for (const char* k : {"name", "description", "set", "sweep", "expect"}) {
      (*c)["scenario"].erase(k);
    }
  }
  for (const char* part : {"scenario", "platform", "sim", "kernel"}) {
    const Json& x = a[part];
    const Json& y = b[part];
    if (!x.is_object() || !y.is_object()) {
      if (x != y) return part;
      continue;
    }
    for (const auto& [key, value] : x.items()) {
      if (!y.contains(key) || y[key] != value) return std::string(part) + "." + key;
    }
    for (const auto& [key, value] : y.items()) {
      if (!x.contains(key)) return std::string(part) + "." + key;
    }
  }
  return "";
}

// What shrinking starts from.
struct Input {
  YAML::Node doc;  // self-contained
  std::string default_out;
  std::string original;  // the input's own result.json, if it has one
};

Input from_scenario(const Scenario& sc, const std::vector<Override>& overrides,
                    const std::string& where) {
  Input in;
  in.doc = self_contained(sc.doc.yaml(), platform_sets(overrides), shrunk_name(sc.params.name()),
                          shrunk_description(sc.params.name()));
  const auto again = load_scenario_text(yaml_text(in.doc), kShrunkFile, {});
  const std::string diff = config_difference(resolved_config(sc), resolved_config(*again));
  if (!diff.empty()) {
    throw ConfigError(where, "",
                      "cannot write this scenario on its own: " + diff + " comes out different");
  }
  return in;
}

// A parameter's value as result.json gives it, as YAML again: a distribution's description
// ("fixed(500ns)", "lognormal(median=1.5us, sigma=0.300)", "uniform(1us, 2us)") as the
// mapping that writes it; any other text as itself.
YAML::Node distribution_yaml(const std::string& text) {
  static const std::regex call(R"(([a-z]+)\((.*)\))");
  std::smatch m;
  if (!std::regex_match(text, m, call)) return load_yaml_text(text);
  const std::string kind = m[1].str();
  std::vector<std::string> args;
  std::stringstream in(m[2].str());
  for (std::string a; std::getline(in, a, ',');) {
    const size_t from = a.find_first_not_of(' ');
    args.push_back(from == std::string::npos ? "" : a.substr(from));
  }
  if (kind == "fixed" && args.size() == 1) return YAML::Node(args[0]);
  YAML::Node d(YAML::NodeType::Map);
  d["dist"] = kind;
  for (size_t i = 0; i < args.size(); ++i) {
    const size_t eq = args[i].find('=');
    if (eq != std::string::npos) {
      d[args[i].substr(0, eq)] = args[i].substr(eq + 1);
    } else if (kind == "uniform" && args.size() == 2) {
      d[i == 0 ? "min" : "max"] = args[i];
    } else {
      return load_yaml_text(text);
    }
  }
  return d;
}

// A `quiesce run` output directory: its scenario rebuilt from result.json's resolved
// configuration (the document, and every platform setting that differs from the preset's).
Input from_run_dir(const std::string& dir) {
  const std::string path = dir + "/result.json";
  const Json r = read_json(path);
  const Json& config = r.contains("config") ? r["config"] : Json();
  if (!config.is_object() || !config.contains("scenario") || !config["scenario"].is_object() ||
      !config.contains("platform") || !config["platform"].is_object()) {
    throw ConfigError(path, "config", "has no resolved configuration to rebuild the scenario from");
  }
  const std::string name = text_at(config["scenario"], "name");
  const std::string label = path + " (config)";
  auto yaml_of = [&](const Json& j) {
    try {
      return j.is_string() ? distribution_yaml(j.get<std::string>())
                           : load_yaml_text(j.dump());  // JSON is YAML
    } catch (const YamlTextError& e) {
      throw ConfigError(label, "", "cannot read back " + j.dump() + ": " + e.message);
    }
  };
  const YAML::Node resolved = yaml_of(config["scenario"]);
  const auto preset = load_scenario_text(yaml_text(self_contained(resolved, {}, name)), label, {});
  const Json have = resolved_config(*preset)["platform"];
  PlatformSets sets;
  for (const auto& [key, value] : config["platform"].items()) {
    if (!have.contains(key) || have[key] != value) sets.emplace_back(key, yaml_of(value));
  }
  Input in;
  in.doc = self_contained(resolved, sets, shrunk_name(name), shrunk_description(name));
  const auto again = load_scenario_text(yaml_text(in.doc), label, {});
  const std::string diff = config_difference(config, resolved_config(*again));
  if (!diff.empty()) {
    throw ConfigError(
        path, "config",
        "cannot rebuild the scenario this run ran (" + diff +
            " comes out different); shrink its scenario file with the same --set instead");
  }
  in.original = path;
  return in;
}

Input read_input(const std::string& input, const ShrinkOptions& opt, std::ostream& warn) {
  fs::path p(input);
  if (p.filename().empty()) p = p.parent_path();
  std::error_code ec;
  Input in;
  if (fs::is_directory(p, ec)) {
    if (!opt.sets.empty() || opt.seed) {
      throw ConfigError(
          input, "",
          "--set and --seed go with a scenario file; a point directory is shrunk as it ran");
    }
    static const std::regex id_re("p[0-9]{6,18}");
    if (p.parent_path().filename() == "points" && std::regex_match(p.filename().string(), id_re)) {
      const PointRerun pr = prepare_rerun(p.string(), warn);
      in = from_scenario(*pr.scenario, pr.overrides, input);
      // Beside the sweep, as rerun's default is: a sweep tree holds only the sweep's files
      // (merge copies point directories whole).
      in.default_out = "results/" + pr.scenario->params.name() + "-" + pr.id + "-shrink";
    } else if (fs::exists(p / "result.json", ec)) {
      in = from_run_dir(p.string());
    } else {
      throw ConfigError(input, "", "not a point directory (no result.json) nor a scenario file");
    }
    if (fs::exists(p / "result.json", ec)) in.original = (p / "result.json").string();
    if (in.default_out.empty()) in.default_out = p.string() + "-shrink";
  } else {
    std::vector<Override> overrides;
    for (const auto& kv : opt.sets) overrides.push_back(parse_set(kv));
    const auto sc = load_scenario(input, overrides, opt.seed);
    in = from_scenario(*sc, overrides, input);
    in.default_out = "results/" + sc->params.name() + "-shrink";
  }
  return in;
}

// Candidate runs: each a child process in DIR/points/pNNNNNN, `jobs` at a time, at most
// `budget` in all. Only the runs of accepted candidates are kept.
class Runner {
 public:
  Runner(std::string dir, int jobs, int budget)
      : dir_(std::move(dir)), jobs_(std::max(1, jobs)), budget_(budget) {}

  // The first of `texts`, in order, whose run ends as `want` (its ending in *got, its run's
  // id in *id); "" texts (invalid candidates) are skipped without a run. -1 when none does,
  // or the budget ran out, or a signal stopped the runs.
  int first_reproducing(const std::vector<std::string>& texts, const Ending& want, Ending* got,
                        std::string* id) {
    size_t next = 0;
    while (next < texts.size() && !stopped()) {
      std::vector<size_t> chunk;
      for (; next < texts.size() && static_cast<int>(chunk.size()) < jobs_; ++next) {
        if (texts[next].empty()) continue;
        if (used_ + static_cast<int>(chunk.size()) >= budget_) {
          exhausted_ = true;
          break;
        }
        chunk.push_back(next);
      }
      if (chunk.empty()) break;
      const std::vector<Ending> ends = run(texts, chunk);
      int found = -1;
      for (size_t k = 0; k < chunk.size(); ++k) {
        const std::string run_id = point_id(first_id_ + k);
        if (found < 0 && !signal_ && ends[k].same(want)) {
          found = static_cast<int>(chunk[k]);
          *got = ends[k];
          *id = run_id;
        } else {
          std::error_code ec;
          fs::remove_all(dir_ + "/points/" + run_id, ec);
        }
      }
      if (found >= 0) return found;
    }
    return -1;
  }

  // Runs one text whatever its ending (the input as it is), and keeps its run.
  Ending run_one(const std::string& text, std::string* id) {
    const Ending e = run({text}, {0}).front();
    *id = point_id(first_id_);
    return e;
  }

  bool stopped() const { return exhausted_ || signal(); }
  bool exhausted() const { return exhausted_; }
  // Also a signal caught between runs (while candidates are made and checked).
  int signal() const { return signal_ ? signal_ : run_internal::pool_signal(); }
  int used() const { return used_; }
  int budget() const { return budget_; }
  // Host seconds after which a run is killed (and counts as not reproducing); 0: none.
  void set_timeout(double seconds) { timeout_s_ = seconds; }

 private:
  std::vector<Ending> run(const std::vector<std::string>& texts, const std::vector<size_t>& chunk) {
    first_id_ = next_id_;
    std::vector<uint64_t> ids;
    for (size_t k = 0; k < chunk.size(); ++k) ids.push_back(next_id_++);
    run_internal::PoolOptions po;
    po.jobs = jobs_;
    po.quiet = true;
    po.point_timeout_s = timeout_s_;
    const auto pool = run_internal::run_pool(
        dir_, ids, po,
        [&](uint64_t runid, const std::string& pdir) {
          const std::string& text = texts[chunk[runid - first_id_]];
          return run_internal::run_point_child(
              [&] { return load_scenario_text(text, kShrunkFile, {}); }, pdir);
        },
        [](uint64_t) { return false; });
    used_ += static_cast<int>(chunk.size());
    signal_ = pool.signal;
    std::vector<Ending> out;
    for (uint64_t runid : ids) {
      try {
        out.push_back(ending_of(read_json(dir_ + "/points/" + point_id(runid) + "/result.json")));
      } catch (const std::exception&) {
        out.emplace_back();  // no result (stopped by a signal): ends as nothing
      }
    }
    return out;
  }

  std::string dir_;
  int jobs_, budget_;
  int used_ = 0;
  uint64_t next_id_ = 0, first_id_ = 0;
  bool exhausted_ = false;
  int signal_ = 0;
  double timeout_s_ = 0;
};

// The size of a scenario, before and after.
struct Shape {
  size_t entries = 0, tasks = 0, steps = 0;
  int cores = 0;
  Time duration = 0;
  Json json() const {
    return Json{{"workload_entries", entries},
                {"tasks", tasks},
                {"cores", cores},
                {"duration", format_time(duration)},
                {"program_steps", steps}};
  }
};

// Steps of an op-program, those nested in `do:` lists included.
size_t step_count(const YAML::Node& list) {
  if (!list || !list.IsSequence()) return 0;
  size_t n = 0;
  for (const auto& step : list) n += 1 + (step.IsMap() ? step_count(step["do"]) : 0);
  return n;
}

Shape shape_of(const YAML::Node& doc) {
  const auto sc = load_scenario_text(yaml_text(doc), kShrunkFile, {});
  Shape s;
  s.entries = sc->workload.size();
  s.tasks = sc->task_names.size();
  s.cores = sc->platform.topology().cores;
  s.duration = sc->params.duration().ps;
  for (const auto& e : doc["workload"]) s.steps += step_count(e["program"]);
  return s;
}

// How an entry is named in the report: its name, else its type and position.
std::string entry_label(const YAML::Node& entry, size_t index) {
  if (entry["name"] && entry["name"].IsScalar()) return entry["name"].as<std::string>();
  for (const char* k : {"task", "irq", "softirq", "hook"}) {
    if (entry[k] && entry[k].IsScalar()) {
      return entry[k].as<std::string>() + "#" + std::to_string(index);
    }
  }
  return "entry #" + std::to_string(index);
}

// The candidate's text, or "" when it does not load (then it costs no run).
std::string runnable(const YAML::Node& doc) {
  const std::string text = yaml_text(doc);
  try {
    (void)load_scenario_text(text, kShrunkFile, {});
  } catch (const ConfigError&) {
    return "";
  }
  return text;
}

class Shrinker {
 public:
  Shrinker(Runner& runner, YAML::Node doc, Ending want, std::ostream& human, bool quiet)
      : runner_(runner),
        doc_(YAML::Clone(doc)),
        want_(std::move(want)),
        now_(want_),
        human_(human),
        quiet_(quiet) {}

  // One round of every reduction; whether any was accepted.
  bool round() {
    bool changed = false;
    changed |= cut_time();
    changed |= drop_entries();
    changed |= narrow_cpus();
    changed |= fewer_cores();
    changed |= drop_steps();
    changed |= fix_distributions();
    return changed;
  }

  const YAML::Node& doc() const { return doc_; }
  const Ending& now() const { return now_; }
  const Json& steps() const { return steps_; }

 private:
  // Tries `candidates` (documents with what each changes); keeps the first that reproduces.
  bool accept_first(const std::vector<std::pair<YAML::Node, std::string>>& candidates) {
    return accept_index(candidates) >= 0;
  }

  int accept_index(const std::vector<std::pair<YAML::Node, std::string>>& candidates) {
    if (runner_.stopped()) return -1;  // not even checked: ddmin asks on until it gives up
    std::vector<std::string> texts;
    for (const auto& c : candidates) texts.push_back(runnable(c.first));
    Ending got;
    std::string id;
    const int i = runner_.first_reproducing(texts, want_, &got, &id);
    if (i < 0) return -1;
    const auto& [doc, what] = candidates[static_cast<size_t>(i)];
    doc_.reset(YAML::Clone(doc));  // not operator=, which writes through to what doc_ shared
    now_ = got;
    steps_.push_back(Json{{"run", id}, {"change", what}, {"detected", format_time(got.detected)}});
    if (!quiet_) {
      human_ << "  " << id << ": " << what << " (still " << got.text() << " at "
             << format_time(got.detected) << ")\n";
    }
    return i;
  }

  YAML::Node with_set(const std::string& key, const YAML::Node& value) const {
    PlatformSets sets{{key, value}};
    return self_contained(doc_, sets, doc_["name"].as<std::string>());
  }

  // (1) Simulated time: just past the detection.
  bool cut_time() {
    const Time duration = shape_of(doc_).duration;
    std::vector<std::pair<YAML::Node, std::string>> cs;
    for (Time t : {now_.detected, 2 * now_.detected}) {
      if (t <= 0) continue;
      const std::string text = duration_past(t);
      if (parse_time(text) >= duration) continue;
      YAML::Node d = YAML::Clone(doc_);
      d["duration"] = text;
      cs.emplace_back(d, "duration " + format_time(duration) + " -> " + text);
    }
    return accept_first(cs);
  }

  // ddmin over the YAML list `items`: each candidate is the document as it is now with the
  // shorter list put in by `place`, and told by `what` (the indices kept before, and now).
  using Place = std::function<void(YAML::Node& doc, const YAML::Node& shorter)>;
  using What = std::function<std::string(const std::vector<size_t>& before,
                                         const std::vector<size_t>& keep)>;
  bool ddmin_list(const std::vector<YAML::Node>& items, const Place& place, const What& what) {
    std::vector<size_t> kept(items.size());
    for (size_t i = 0; i < kept.size(); ++i) kept[i] = i;
    const YAML::Node base = YAML::Clone(doc_);
    bool changed = false;
    run_internal::ddmin(items.size(), [&](const std::vector<std::vector<size_t>>& subsets) {
      std::vector<std::pair<YAML::Node, std::string>> cs;
      for (const auto& keep : subsets) {
        YAML::Node d = YAML::Clone(base);
        YAML::Node shorter(YAML::NodeType::Sequence);
        for (size_t k : keep) shorter.push_back(YAML::Clone(items[k]));
        place(d, shorter);
        cs.emplace_back(d, what(kept, keep));
      }
      const int hit = accept_index(cs);
      if (hit >= 0) kept = subsets[static_cast<size_t>(hit)];
      changed = changed || hit >= 0;
      return hit;
    });
    return changed;
  }

  // (2) Workload entries, by ddmin (an entry that expands to every CPU is one entry).
  bool drop_entries() {
    std::vector<YAML::Node> entries;
    for (const auto& e : doc_["workload"]) entries.push_back(YAML::Clone(e));
    return ddmin_list(
        entries, [](YAML::Node& d, const YAML::Node& shorter) { d["workload"] = shorter; },
        [&](const std::vector<size_t>& before, const std::vector<size_t>& keep) {
          std::string removed;
          for (size_t i : before) {
            if (std::binary_search(keep.begin(), keep.end(), i)) continue;
            removed += (removed.empty() ? "" : ", ") + entry_label(entries[i], i);
          }
          return "workload: removed " + removed;
        });
  }

  // (2b) An entry on every CPU (`cpus: all`) on one CPU instead.
  bool narrow_cpus() {
    const auto sc = load_scenario_text(yaml_text(doc_), kShrunkFile, {});
    bool changed = false;
    for (size_t i = 0; i < sc->workload.size() && !runner_.stopped(); ++i) {
      const auto params = entry_type(sc->workload[i]).params();
      bool has_cpus = false;
      for (const ParamBase* p : params->params()) has_cpus = has_cpus || p->name() == "cpus";
      const YAML::Node cpus = doc_["workload"][i]["cpus"];
      if (!has_cpus || (cpus && !(cpus.IsScalar() && cpus.as<std::string>() == "all"))) continue;
      std::vector<std::pair<YAML::Node, std::string>> cs;
      for (int c = 0; c < sc->platform.topology().cores; ++c) {
        YAML::Node d = YAML::Clone(doc_);
        d["workload"][i]["cpus"] = c;
        cs.emplace_back(
            d, entry_label(d["workload"][i], i) + ": every CPU -> CPU" + std::to_string(c));
      }
      changed = accept_first(cs) || changed;
    }
    return changed;
  }

  // (3) CPUs: the fewest cores every remaining entry still fits on.
  bool fewer_cores() {
    const int cores = shape_of(doc_).cores;
    std::vector<std::pair<YAML::Node, std::string>> cs;
    for (int k = 1; k < cores; ++k) {
      cs.emplace_back(with_set("cores", YAML::Node(k)),
                      "cores " + std::to_string(cores) + " -> " + std::to_string(k));
    }
    return accept_first(cs);
  }

  // (4) The steps of each op-program, by ddmin: its list, then each nested `do:` list; and
  // each `repeat:` count down to 1 or half.
  bool drop_steps() {
    bool changed = false;
    for (size_t i = 0; i < doc_["workload"].size() && !runner_.stopped(); ++i) {
      const YAML::Node program = doc_["workload"][i]["program"];
      if (program && program.IsSequence()) changed = reduce_steps(i, {}) || changed;
    }
    return changed;
  }

  // The step list of entry `i` at `path` (indices of steps whose `do:` leads to it) in `doc`.
  static YAML::Node steps_at(YAML::Node doc, size_t i, const std::vector<size_t>& path) {
    YAML::Node list = doc["workload"][i]["program"];
    for (size_t k : path) list.reset(list[k]["do"]);  // reset: `=` would write through into doc
    return list;
  }

  std::string steps_label(size_t i, const std::vector<size_t>& path) {
    std::string s = entry_label(doc_["workload"][i], i) + ": program";
    for (size_t k : path) s += " step " + std::to_string(k + 1);
    return s;
  }

  bool reduce_steps(size_t i, const std::vector<size_t>& path) {
    bool changed = false;
    std::vector<YAML::Node> steps;
    for (const auto& step : steps_at(doc_, i, path)) steps.push_back(YAML::Clone(step));
    if (steps.size() >= 2) {
      changed = ddmin_list(
          steps,
          [&](YAML::Node& d, const YAML::Node& shorter) {
            if (path.empty()) {
              d["workload"][i]["program"] = shorter;
              return;
            }
            const std::vector<size_t> up(path.begin(), path.end() - 1);
            steps_at(d, i, up)[path.back()]["do"] = shorter;
          },
          [&](const std::vector<size_t>& before, const std::vector<size_t>& keep) {
            return steps_label(i, path) + ": steps " + std::to_string(before.size()) + " -> " +
                   std::to_string(keep.size());
          });
    }
    for (size_t k = 0; k < steps_at(doc_, i, path).size() && !runner_.stopped(); ++k) {
      std::vector<size_t> inner = path;
      inner.push_back(k);
      const YAML::Node step = steps_at(doc_, i, path)[k];
      if (!step.IsMap()) continue;
      if (step["repeat"] && step["repeat"].IsScalar()) changed = fewer_repeats(i, inner) || changed;
      if (step["do"] && step["do"].IsSequence()) changed = reduce_steps(i, inner) || changed;
    }
    return changed;
  }

  bool fewer_repeats(size_t i, const std::vector<size_t>& at) {
    std::vector<size_t> up(at.begin(), at.end() - 1);
    long long count = 0;
    try {
      count = steps_at(doc_, i, up)[at.back()]["repeat"].as<long long>();
    } catch (const YAML::Exception&) {
      return false;
    }
    std::vector<std::pair<YAML::Node, std::string>> cs;
    for (long long fewer : {1LL, count / 2}) {
      if (fewer < 1 || fewer >= count || (!cs.empty() && fewer == 1)) continue;
      YAML::Node d = YAML::Clone(doc_);
      steps_at(d, i, up)[at.back()]["repeat"] = fewer;
      cs.emplace_back(d, steps_label(i, at) + ": repeat " + std::to_string(count) + " -> " +
                             std::to_string(fewer));
    }
    return accept_first(cs);
  }

  // (5) A random distribution in an entry as its mean (or median): one fewer draw to explain.
  bool fix_distributions() {
    bool changed = false;
    for (size_t i = 0; i < doc_["workload"].size() && !runner_.stopped(); ++i) {
      std::vector<std::string> keys;
      for (const auto& kv : doc_["workload"][i]) keys.push_back(kv.first.as<std::string>());
      for (const auto& key : keys) {
        const YAML::Node v = doc_["workload"][i][key];
        if (!v.IsMap() || !v["dist"]) continue;
        for (const char* typical : {"mean", "median", "value"}) {
          if (!v[typical] || !v[typical].IsScalar()) continue;
          YAML::Node d = YAML::Clone(doc_);
          d["workload"][i][key] = v[typical].as<std::string>();
          const std::string what = entry_label(d["workload"][i], i) + ": " + key + " " +
                                   v["dist"].as<std::string>() + " -> fixed " +
                                   v[typical].as<std::string>();
          changed = accept_first({{d, what}}) || changed;
          break;
        }
      }
    }
    return changed;
  }

  Runner& runner_;
  YAML::Node doc_;
  const Ending want_;
  Ending now_;
  Json steps_ = Json::array();
  std::ostream& human_;
  bool quiet_;
};

// "a -> b" for one figure of the report.
template <class T>
std::string before_after(const T& a, const T& b) {
  std::ostringstream s;
  s << a;
  if (!(a == b)) s << " -> " << b;
  return s.str();
}

}  // namespace

int shrink(const std::string& input, const ShrinkOptions& opt, std::ostream& human) {
  const auto t0 = std::chrono::steady_clock::now();
  Input in = read_input(input, opt, std::cerr);
  Ending original;
  if (!in.original.empty()) {
    const Json r = read_json(in.original);
    original = ending_of(r);
    if (!original.detects()) {
      throw ConfigError(input, "",
                        "nothing to shrink: the point ended " + text_at(r, "outcome") +
                            " with no deadlock, lockup, stall or lockdep report");
    }
  }
  const std::string out = opt.out_dir.empty() ? in.default_out : opt.out_dir;
  make_dirs(out);
  std::error_code ec;
  fs::remove_all(out + "/runs", ec);  // a previous shrink's runs (ours only)
  make_dirs(out + "/runs/points");

  Runner runner(out + "/runs", opt.jobs, std::max(1, opt.budget));
  const Shape before = shape_of(in.doc);
  std::string first_id;
  const auto first_start = std::chrono::steady_clock::now();
  const Ending want = runner.run_one(yaml_text(in.doc), &first_id);
  // A candidate runs no longer than the input (its duration is cut first); one that takes
  // ten times as long has lost its way (a livelock of the smaller machine), and is dropped.
  const double first_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - first_start).count();
  runner.set_timeout(std::max(kMinCandidateTimeout, 10 * first_s));
  // Stopped before the input's own run ended: nothing found yet. Stopped after it: the
  // input is the smallest found so far, and is written like any other result.
  if (runner.signal() && !want.detects()) return 128 + runner.signal();
  if (!want.detects()) {
    if (original.detects()) {
      throw ConfigError(input, "",
                        "does not reproduce: it ended as " + original.text() +
                            ", run again it detects nothing (see " + out + "/runs/points/" +
                            first_id + ")");
    }
    throw ConfigError(
        input, "",
        "nothing to shrink: the scenario ends with no deadlock, lockup, stall or lockdep report");
  }
  if (original.detects() &&
      !(original.outcome == want.outcome && (original.classes.empty() || original.same(want)))) {
    throw ConfigError(
        input, "",
        "does not reproduce: it ended as " + original.text() + ", run again as " + want.text());
  }
  if (!opt.quiet) {
    human << "shrink " << input << ": " << want.text() << " at " << format_time(want.detected)
          << "; budget " << runner.budget() << " runs, " << std::max(1, opt.jobs) << " at a time\n";
  }
  Shrinker s(runner, in.doc, want, human, opt.quiet);
  while (!runner.stopped() && s.round()) {
  }
  const Shape after = shape_of(s.doc());
  const double host = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::ostringstream report;
  report << "shrink of " << input << ": " << want.text() << "\n"
         << "  workload entries " << before_after(before.entries, after.entries) << " (tasks "
         << before_after(before.tasks, after.tasks) << "), cores "
         << before_after(before.cores, after.cores) << ", duration "
         << before_after(format_time(before.duration), format_time(after.duration))
         << ", program steps " << before_after(before.steps, after.steps) << "\n"
         << "  detected at "
         << before_after(format_time(want.detected), format_time(s.now().detected)) << "; "
         << s.steps().size() << " step(s) accepted, " << runner.used() << " run(s) of a budget of "
         << runner.budget()
         << (runner.exhausted() ? " (spent: a larger --budget may shrink it further)" : "")
         << (runner.signal() ? " (interrupted: the smallest found so far)" : "") << ", "
         << format_number(std::round(host * 10) / 10) << " s host time\n";
  for (const auto& step : s.steps()) report << "    " << step["change"].get<std::string>() << "\n";

  const std::string text = yaml_text(s.doc());
  // One line each, whatever the paths hold (a line break would end the comment).
  write_file_atomic(out + "/shrunk.yaml", "# Shrunk by `quiesce shrink " + printable(input) +
                                              "`: it ends as " + printable(s.now().text()) +
                                              ".\n# quiesce run " + printable(out) +
                                              "/shrunk.yaml reproduces it.\n" + text);
  const Json j = {
      {"input", input},
      {"ending", Json{{"outcome", want.outcome}, {"kind", want.kind}, {"classes", want.chain}}},
      {"runs", runner.used()},
      {"budget", runner.budget()},
      {"budget_spent", runner.exhausted()},
      {"interrupted", runner.signal() != 0},
      {"jobs", std::max(1, opt.jobs)},
      {"host_seconds", host},
      {"first_run", first_id},
      {"before", before.json()},
      {"after", after.json()},
      {"detected",
       Json{{"before", format_time(want.detected)}, {"after", format_time(s.now().detected)}}},
      {"steps", s.steps()}};
  write_file_atomic(out + "/shrink.json", json_text(j));
  write_file_atomic(out + "/report.txt", report.str());
  if (!opt.quiet) {
    human << report.str() << "wrote " << out
          << "/shrunk.yaml (quiesce run reproduces it), shrink.json, report.txt\n";
  }
  return runner.signal() ? 128 + runner.signal() : 0;
}

}  // namespace quiesce
