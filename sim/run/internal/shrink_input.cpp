#include "sim/run/internal/shrink_input.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>

#include "sim/base/error.h"
#include "sim/output/files.h"
#include "sim/run/internal/sweep_state.h"
#include "sim/run/point.h"
#include "sim/run/sweep.h"
#include "sim/scenario/scenario.h"

namespace fs = std::filesystem;

namespace quiesce::run_internal {
namespace {

// The shrunk scenario's name: the original's, marked (and still a valid name).
std::string shrunk_name(const std::string& name) {
  const std::string base = name.empty() ? "scenario" : name;
  return base.substr(0, kMaxNameBytes - 7) + "-shrunk";
}

std::string shrunk_description(const std::string& name) {
  return "a smaller reproducer of " + name + ", found by quiesce shrink";
}

double number_at(const Json& obj, const char* key) {
  if (!obj.is_object()) return -1;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<double>() : -1;
}

// Detections that end a run (a lockdep report does not: it is told by its details).
bool is_detection(const std::string& outcome) {
  for (const char* o : {"deadlock", "hard_lockup", "stall", "rcu_stall", "stuck_irq", "livelock"}) {
    if (outcome == o) return true;
  }
  return false;
}

// Platform overrides: what `set:` keeps in a scenario of its own (scenario keys are written
// into the document itself, `platform` chooses the preset).
bool is_platform_key(const std::string& key) {
  return !key.empty() && key != "platform" && key.rfind("expect.", 0) != 0 &&
         !is_scenario_key(split_path(key).front());
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

}  // namespace

std::string text_at(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

Json read_json(const std::string& path) {
  try {
    return Json::parse(read_file_bounded(path, run_internal::kMaxResultBytes));
  } catch (const Json::exception& e) {
    throw ConfigError(path, "", std::string("malformed JSON: ") + e.what());
  }
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

YAML::Node self_contained(const YAML::Node& resolved, const PlatformSets& sets,
                          const std::string& name, const std::string& description) {
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

namespace {

ShrinkInput from_scenario(const Scenario& sc, const std::vector<Override>& overrides,
                          const std::string& where) {
  ShrinkInput in;
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
ShrinkInput from_run_dir(const std::string& dir) {
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
  ShrinkInput in;
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

}  // namespace

ShrinkInput read_input(const std::string& input, const ShrinkOptions& opt, std::ostream& warn) {
  fs::path p(input);
  if (p.filename().empty()) p = p.parent_path();
  std::error_code ec;
  ShrinkInput in;
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

}  // namespace quiesce::run_internal
