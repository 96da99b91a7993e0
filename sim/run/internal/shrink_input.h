#pragma once
// What `quiesce shrink` starts from and how it judges a run: the input (a scenario file
// with its --set, a point of a sweep, or a `quiesce run` directory) made into one
// self-contained scenario, and a run's ending read from its result.json.
#include <yaml-cpp/yaml.h>

#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/units.h"
#include "sim/output/json.h"
#include "sim/run/shrink.h"

namespace quiesce::run_internal {

// The name candidates are loaded under (it appears in their error messages only).
inline constexpr const char* kShrunkFile = "shrunk.yaml";

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

Json read_json(const std::string& path);                // a result.json (bounded), or a ConfigError
std::string text_at(const Json& obj, const char* key);  // "" unless a string is there
Ending ending_of(const Json& result);
std::string yaml_text(const YAML::Node& doc);

using PlatformSets = std::vector<std::pair<std::string, YAML::Node>>;
// A scenario that needs nothing but itself: the resolved document (scenario overrides
// applied), its `set:` reduced to platform overrides with `sets` after them, and no sweep or
// expectations (it is one point, and held to its ending, not to the study's bounds).
YAML::Node self_contained(const YAML::Node& resolved, const PlatformSets& sets,
                          const std::string& name, const std::string& description = "");

// What shrinking starts from.
struct ShrinkInput {
  YAML::Node doc;  // self-contained
  std::string default_out;
  std::string original;  // the input's own result.json, if it has one
};
ShrinkInput read_input(const std::string& input, const ShrinkOptions& opt, std::ostream& warn);

}  // namespace quiesce::run_internal
