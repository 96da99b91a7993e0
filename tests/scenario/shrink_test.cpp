// `quiesce shrink` end to end: the flagship's deadlock shrunk to a smaller scenario that a
// plain `quiesce run` still deadlocks with, through the same lock classes.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

// A point of the flagship that deadlocks: the 2015 bug, 4 cores, 500 ns IPIs.
const std::vector<std::string> kDeadlockingPoint = {"--set", "cores=4", "--set", "irq.ipi.latency=500ns", "--seed",
                                                    "SEED", "--set", "duration=DURATION"};

std::string detail(const std::string& json, const std::string& name) {
  std::smatch m;
  const std::regex re("\"" + std::regex_replace(name, std::regex(R"([.])"), R"(\.)") + R"re(": "([^"]*)")re");
  return std::regex_search(json, m, re) ? m[1].str() : "";
}

std::set<std::string> classes_of(const std::string& chain) {
  std::set<std::string> out;
  for (size_t from = 0; !chain.empty() && from <= chain.size();) {
    const size_t to = std::min(chain.find(" -> ", from), chain.size());
    out.insert(chain.substr(from, to - from));
    from = to + 4;
  }
  return out;
}

std::vector<std::string> point_args(const std::string& out) {
  std::vector<std::string> args = {"run", "scenarios/perf-rcu-2015.yaml", "--out", out, "-q"};
  for (std::string a : kDeadlockingPoint) {
    if (a == "SEED") a = "SHRINK_SEED";
    if (a == "DURATION") a = "SHRINK_DURATION";
    args.push_back(a);
  }
  return args;
}

}  // namespace
}  // namespace quiesce::test
