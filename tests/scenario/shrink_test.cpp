// `quiesce shrink` end to end: the flagship's deadlock shrunk to a smaller scenario that a
// plain `quiesce run` still deadlocks with, through the same lock classes.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include "sim/base/units.h"
#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

// A point of the flagship that deadlocks: the 2015 bug, 4 cores, 500 ns IPIs, cut to 5 ms
// so that the test stays short under the sanitizers too, and the first seed from 1 that
// deadlocks there (about 4 seeds in 10 do; which ones moves whenever the model's event order
// does, so the test finds its own; see deadlocking_point()).
const std::vector<std::string> kPoint = {"--set", "cores=4", "--set", "irq.ipi.latency=500ns", "--set",
                                         "duration=5ms"};
const Time kDuration = 5 * kMs;

std::string detail(const std::string& json, const std::string& name) {
  std::smatch m;
  const std::regex re("\"" + std::regex_replace(name, std::regex(R"([.])"), R"(\.)") +
                      R"re(": "([^"]*)")re");
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

// The first seed of 1..30 that deadlocks at kPoint (0: not looked for yet).
int deadlocking_seed = 0;

// The flagship at the deadlocking point, run into a fresh directory.
std::string deadlocking_run() {
  for (int seed = deadlocking_seed ? deadlocking_seed : 1; seed <= 30; ++seed) {
    const std::string out = temp_dir("shrink-run");
    std::vector<std::string> args = {"run", "scenarios/perf-rcu-2015.yaml", "--out", out, "-q", "--seed",
                                     std::to_string(seed)};
    args.insert(args.end(), kPoint.begin(), kPoint.end());
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.code, 0) << r.err;
    if (read_file(out + "/result.json").find("\"outcome\": \"deadlock\"") != std::string::npos) {
      deadlocking_seed = seed;
      return out;
    }
    std::filesystem::remove_all(out);
  }
  ADD_FAILURE() << "no seed of 1..30 deadlocks at the flagship's 4-core 500 ns point";
  return temp_dir("shrink-none");
}

// Its command-line settings, seed included.
std::vector<std::string> deadlocking_point() {
  if (!deadlocking_seed) std::filesystem::remove_all(deadlocking_run());
  std::vector<std::string> args = kPoint;
  args.insert(args.end(), {"--seed", std::to_string(deadlocking_seed)});
  return args;
}

// What a shrunk scenario keeps: its entries' names, cores and duration.
struct Kept {
  std::vector<std::string> entries;
  int cores = 0;
  Time duration = 0;
};

Kept kept_in(const std::string& path) {
  const YAML::Node doc = YAML::LoadFile(path);
  Kept k;
  for (const auto& e : doc["workload"]) {
    k.entries.push_back(e["name"] ? e["name"].as<std::string>() : e["task"].as<std::string>());
  }
  k.cores = doc["set"] && doc["set"]["cores"] ? doc["set"]["cores"].as<int>() : 0;
  k.duration = parse_time(doc["duration"].as<std::string>());
  return k;
}

TEST(Shrink, FlagshipDeadlockShrinksToFewerTasksAndLessTimeWithTheSameChain) {
  const std::string run = deadlocking_run();
  const std::string original = read_file(run + "/result.json");
  ASSERT_NE(original.find("\"outcome\": \"deadlock\""), std::string::npos);
  const std::set<std::string> chain = classes_of(detail(original, "deadlock.classes"));
  ASSERT_EQ(chain, (std::set<std::string>{"&ctx->lock", "&rq->lock"}));

  const std::string out = temp_dir("shrink-out");
  const CliResult s = run_cli({"shrink", run, "--out", out, "--budget", "120", "-q"});
  ASSERT_EQ(s.code, 0) << s.err;
  const Kept k = kept_in(out + "/shrunk.yaml");
  EXPECT_LT(k.entries.size(), 5u);  // of victim, perf, exp_updater, gp_updater, cyclictest
  EXPECT_LT(k.duration, kDuration);
  EXPECT_GT(k.cores, 0);
  EXPECT_LT(k.cores, 4);
  for (const char* needed : {"victim", "perf", "exp_updater"}) {
    EXPECT_NE(std::find(k.entries.begin(), k.entries.end(), needed), k.entries.end()) << needed;
  }
  const std::string report = read_file(out + "/shrink.json");
  EXPECT_LE(json_metric(report, "runs"), 120);
  EXPECT_NE(report.find("\"steps\""), std::string::npos);

  // A plain run of the shrunk scenario deadlocks through the same classes.
  const std::string again = temp_dir("shrink-again");
  const CliResult r = run_cli({"run", out + "/shrunk.yaml", "--out", again, "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string json = read_file(again + "/result.json");
  EXPECT_NE(json.find("\"outcome\": \"deadlock\""), std::string::npos);
  EXPECT_EQ(classes_of(detail(json, "deadlock.classes")), chain);
  EXPECT_LT(json_metric(json, "deadlock.time_ns"), static_cast<double>(kDuration) / 1e3);
  std::filesystem::remove_all(run);
  std::filesystem::remove_all(out);
  std::filesystem::remove_all(again);
}

TEST(Shrink, TheScenarioFileGivesTheSameResultWhateverJobs) {
  const std::string run = deadlocking_run();
  const std::string one = temp_dir("shrink-one"), two = temp_dir("shrink-two");
  ASSERT_EQ(run_cli({"shrink", run, "--out", one, "--budget", "120", "-q"}).code, 0);
  std::vector<std::string> args = {
      "shrink", "scenarios/perf-rcu-2015.yaml", "--out", two, "--budget", "120", "--jobs", "2",
      "-q"};
  const std::vector<std::string> point = deadlocking_point();
  args.insert(args.end(), point.begin(), point.end());
  const CliResult s = run_cli(args);
  ASSERT_EQ(s.code, 0) << s.err;
  const Kept a = kept_in(one + "/shrunk.yaml"), b = kept_in(two + "/shrunk.yaml");
  EXPECT_EQ(a.entries, b.entries);
  EXPECT_EQ(a.cores, b.cores);
  EXPECT_EQ(a.duration, b.duration);
  std::filesystem::remove_all(run);
  std::filesystem::remove_all(one);
  std::filesystem::remove_all(two);
}

// An op-program's steps (nested `do:` lists and `repeat:` counts too) shrink with the rest:
// the ABBA scenario keeps deadlocking through lock_A and lock_B with fewer steps.
TEST(Shrink, OpProgramStepsShrinkAndTheDeadlockStays) {
  const std::string out = temp_dir("shrink-abba");
  const CliResult s =
      run_cli({"shrink", "tests/scenario/kernel/abba.yaml", "--out", out, "--budget", "40", "-q"});
  ASSERT_EQ(s.code, 0) << s.err;
  const std::string report = read_file(out + "/shrink.json");
  const std::regex steps(R"re("program_steps": ([0-9]+))re");
  std::vector<int> counts;
  for (std::sregex_iterator it(report.begin(), report.end(), steps), end; it != end; ++it) {
    counts.push_back(std::stoi((*it)[1]));
  }
  ASSERT_EQ(counts.size(), 2u);  // before, after
  EXPECT_EQ(counts[0], 20);
  EXPECT_LT(counts[1], counts[0]);
  EXPECT_EQ(json_metric(report, "runs"), 40);  // the budget, spent
  EXPECT_NE(report.find("\"budget_spent\": true"), std::string::npos);

  const std::string again = temp_dir("shrink-abba-again");
  ASSERT_EQ(run_cli({"run", out + "/shrunk.yaml", "--out", again, "-q"}).code, 0);
  const std::string json = read_file(again + "/result.json");
  EXPECT_NE(json.find("\"outcome\": \"deadlock\""), std::string::npos);
  EXPECT_EQ(classes_of(detail(json, "deadlock.classes")),
            (std::set<std::string>{"lock_A", "lock_B"}));
  std::filesystem::remove_all(out);
  std::filesystem::remove_all(again);
}

// Interrupted between or during candidate runs, it stops with 130 and still writes the
// smallest scenario found so far, which reproduces.
TEST(Shrink, SigintWritesTheSmallestFoundSoFarAndExits130) {
  const std::string out = temp_dir("shrink-int");
  const pid_t pid =
      spawn_cli({"shrink", std::string(QUIESCE_SOURCE_DIR) + "/tests/scenario/kernel/abba.yaml",
                 "--out", out, "-q"});
  ASSERT_GT(pid, 0);
  // Once the input has run (its run is kept), the runs' signal handling is in place.
  for (int i = 0; i < 6000 && !std::filesystem::exists(out + "/runs/points/p000000"); ++i) {
    ::usleep(10000);
  }
  ::kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 130);
  const std::string report = read_file(out + "/shrink.json");
  EXPECT_NE(report.find("\"interrupted\": true"), std::string::npos) << report;
  const std::string again = temp_dir("shrink-int-again");
  ASSERT_EQ(run_cli({"run", out + "/shrunk.yaml", "--out", again, "-q"}).code, 0);
  EXPECT_NE(read_file(again + "/result.json").find("\"outcome\": \"deadlock\""), std::string::npos);
  std::filesystem::remove_all(out);
  std::filesystem::remove_all(again);
}

TEST(Shrink, APointThatEndedOkHasNothingToShrink) {
  const std::string run = temp_dir("shrink-ok");
  ASSERT_EQ(run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--set",
                     "kernel.perf.lock_task_context=irq_save", "--set", "duration=300us", "--out",
                     run, "-q"})
                .code,
            0);
  const CliResult s = run_cli({"shrink", run, "-q"});
  EXPECT_EQ(s.code, 2);
  EXPECT_NE(s.err.find("nothing to shrink: the point ended ok"), std::string::npos) << s.err;
  EXPECT_FALSE(std::filesystem::exists(run + "-shrink/shrunk.yaml"));
  std::filesystem::remove_all(run);
}

}  // namespace
}  // namespace quiesce::test
