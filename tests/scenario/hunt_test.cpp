// `quiesce hunt` (issue 18 point 3): a directed search finds a detection the scenario's own
// seed misses, and the reproducer it writes gives the same detection under plain `quiesce
// run`; a forced timing outside what its distribution can draw is refused; forcing one
// IPI's latency leaves the run before that IPI's send as it was; `--target deadlock` finds
// the flagship's actual deadlock by aiming the IPI at a reader whose report meets the other
// CPU in __schedule, and says when a fixed IPI latency leaves nothing to aim.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

const std::string kSmall = std::string(QUIESCE_SOURCE_DIR) + "/tests/scenario/hunt/small.yaml";
const std::string kFlagship = std::string(QUIESCE_SOURCE_DIR) + "/scenarios/perf-rcu-2015.yaml";

// The result.json of the hunt in DIR/hunt's detecting run and that of a plain `quiesce run` of
// its reproducer (empty when the hunt forced nothing or the run failed).
std::pair<std::string, std::string> found_and_replayed(const std::string& dir) {
  const int runs = static_cast<int>(json_metric(read_file(dir + "/hunt/hunt.json"), "runs"));
  EXPECT_GE(runs, 2);  // the base run missed: something was forced
  if (runs < 2) return {};
  char id[16];
  std::snprintf(id, sizeof id, "p%06d", runs - 1);
  const std::string found = read_file(dir + "/hunt/points/" + id + "/result.json");
  CliResult rep = run_cli({"run", dir + "/hunt/reproducer.yaml", "-q", "--out", dir + "/rep"});
  EXPECT_EQ(rep.code, 0) << rep.err;
  if (rep.code != 0) return {};
  return {found, read_file(dir + "/rep/result.json")};
}

// The text of result.json's "outcome" detail: the deadlock's chain and each CPU's state.
std::string outcome_detail(const std::string& json) {
  static const std::regex detail(R"re("outcome": "(deadlock at (?:[^"\\]|\\.)*)")re");
  std::smatch m;
  return std::regex_search(json, m, detail) ? m[1].str() : "";
}

// The ftrace lines stamped before `before_us`.
std::vector<std::string> lines_before(const std::string& ftrace, double before_us) {
  static const std::regex stamp(R"re(\]\s+\S+\s+([0-9]+\.[0-9]+):)re");
  std::vector<std::string> out;
  std::istringstream in(ftrace);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, stamp)) continue;
    if (std::stod(m[1]) * 1e6 >= before_us) break;
    out.push_back(line);
  }
  return out;
}

TEST(Hunt, FindsWhatTheSeedMissesAndTheReproducerReproducesIt) {
  const std::string dir = temp_dir("hunt-find");
  // The scenario's own seed does not detect.
  CliResult plain = run_cli({"run", kSmall, "-q", "--out", dir + "/plain"});
  ASSERT_EQ(plain.code, 0) << plain.err;
  ASSERT_EQ(json_metric(read_file(dir + "/plain/result.json"), "lockdep_reports"), 0);

  CliResult hunt = run_cli({"hunt", kSmall, "--budget", "12", "--out", dir + "/hunt"});
  ASSERT_EQ(hunt.code, 0) << hunt.out << hunt.err;
  EXPECT_NE(hunt.out.find("found in "), std::string::npos) << hunt.out;
  const std::string hj = read_file(dir + "/hunt/hunt.json");
  EXPECT_NE(hj.find("\"found\": true"), std::string::npos) << hj;
  EXPECT_NE(hj.find("\"quantile\""), std::string::npos) << hj;
  const auto [found, again] = found_and_replayed(dir);
  ASSERT_FALSE(again.empty());
  EXPECT_GE(json_metric(again, "lockdep_reports"), 1);
  EXPECT_EQ(json_metric(again, "detection.first_ns"), json_metric(found, "detection.first_ns"));
  EXPECT_EQ(json_metric(again, "detection.first_ns"), json_metric(hj, "detection_first_ns"));
  // Recording the windows observed the hunt's run without changing it: the same bytes.
  EXPECT_EQ(again, found);
  std::filesystem::remove_all(dir);
}

TEST(Hunt, ForcedLatencyOutsideTheDistributionIsRefused) {
  const std::string dir = temp_dir("hunt-refuse");
  std::string text = read_file(kSmall);
  // generic-smp's IPI latency is lognormal(median 1us, sigma 0.25), cut at 6 sigma: 4.48us.
  text += "timing:\n  ipi:\n    - {from: 1, to: 0, index: 0, latency: 5us}\n";
  const std::string path = write_temp(dir, "outside.yaml", text);
  CliResult r = run_cli({"run", path, "-q", "--out", dir + "/o"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("outside what the IPI latency from CPU1 to CPU0 can draw"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("outside.yaml:"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

TEST(Hunt, ForcingAnIpiLeavesTheRunBeforeItsSendAsItWas) {
  const std::string dir = temp_dir("hunt-prefix");
  // The base run's record (a budget of one run: the base run alone).
  CliResult hunt = run_cli({"hunt", kSmall, "--budget", "1", "-q", "--out", dir + "/h"});
  ASSERT_EQ(hunt.code, 1) << hunt.err;
  std::istringstream rec(read_file(dir + "/h/points/p000000/windows.txt"));
  std::string kind, line;
  int from = -1, to = -1;
  long long index = -1, raised = -1;
  while (std::getline(rec, line)) {
    std::istringstream ls(line);
    int f, t, sgi;
    long long i, r;
    if (!(ls >> kind >> f >> t >> i >> sgi >> r) || kind != "ipi") continue;
    if (r < 100000000) continue;  // an IPI from the middle of the run (after 100us)
    from = f, to = t, index = i, raised = r;
    break;
  }
  ASSERT_GE(raised, 0) << "no IPI after 100us in the base run";
  std::string text = read_file(kSmall);
  text += "timing:\n  ipi:\n    - {from: " + std::to_string(from) + ", to: " + std::to_string(to) +
          ", index: " + std::to_string(index) + ", latency: 4us}\n";
  const std::string forced = write_temp(dir, "forced.yaml", text);
  ASSERT_EQ(run_cli({"run", kSmall, "-q", "--out", dir + "/a", "--trace", dir + "/a.txt"}).code, 0);
  ASSERT_EQ(run_cli({"run", forced, "-q", "--out", dir + "/b", "--trace", dir + "/b.txt"}).code, 0);
  const std::string a = read_file(dir + "/a.txt"), b = read_file(dir + "/b.txt");
  const auto before_a = lines_before(a, static_cast<double>(raised) / 1e6 - 1);
  const auto before_b = lines_before(b, static_cast<double>(raised) / 1e6 - 1);
  ASSERT_GT(before_a.size(), 100u);
  EXPECT_EQ(before_a, before_b);
  EXPECT_NE(a, b);  // and the forced latency did change what came after
  std::filesystem::remove_all(dir);
}

TEST(Hunt, DeadlockTargetFindsTheFlagshipDeadlockAndTheReproducerDeadlocksTheSameWay) {
  const std::string dir = temp_dir("hunt-deadlock");
  const std::vector<std::string> sets = {"--set", "cores=8", "--set", "duration=250us"};
  // Seed 4 does not deadlock as drawn.
  std::vector<std::string> plain = {"run", kFlagship, "-q", "--seed", "4", "--out", dir + "/plain"};
  plain.insert(plain.end(), sets.begin(), sets.end());
  ASSERT_EQ(run_cli(plain).code, 0);
  ASSERT_EQ(json_metric(read_file(dir + "/plain/result.json"), "deadlock"), 0);

  std::vector<std::string> hunt = {"hunt", kFlagship,  "--target", "deadlock", "--seed",
                                   "4",    "--budget", "4",        "--out",    dir + "/hunt"};
  hunt.insert(hunt.end(), sets.begin(), sets.end());
  CliResult h = run_cli(hunt);
  ASSERT_EQ(h.code, 0) << h.out << h.err;
  EXPECT_NE(h.out.find("its reader's report meets CPU1 holding &rq->lock"), std::string::npos)
      << h.out;
  const std::string hj = read_file(dir + "/hunt/hunt.json");
  EXPECT_NE(hj.find("\"outcome\": \"deadlock\""), std::string::npos) << hj;
  const auto [found, again] = found_and_replayed(dir);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(json_metric(again, "deadlock"), 1);
  // The same chain: perf's reader holds ctx->lock and waits for rq[1]->lock, which CPU1
  // holds in __schedule on its way to ctx->lock.
  const std::string chain = outcome_detail(again);
  EXPECT_EQ(chain, outcome_detail(found));
  EXPECT_NE(chain.find("CPU1 spins on victim.perf_ctx.lock (&ctx->lock), held by CPU0"),
            std::string::npos)
      << chain;
  EXPECT_NE(chain.find("CPU0 spins on rq[1].lock (&rq->lock), held by CPU1"), std::string::npos)
      << chain;
  EXPECT_NE(chain.find("taken at __schedule"), std::string::npos) << chain;
  std::filesystem::remove_all(dir);
}

TEST(Hunt, AFixedIpiLatencyIsSaidOnceAndSeedsAreTried) {
  const std::string dir = temp_dir("hunt-fixed");
  // Sweep point 0 of the flagship: 4 CPUs, IPIs at a fixed 500 ns.
  CliResult h = run_cli({"hunt", kFlagship, "--point", "0", "--set", "duration=20us", "--budget",
                         "2", "--out", dir + "/h"});
  ASSERT_EQ(h.code, 1) << h.out << h.err;
  const std::string said =
      "irq.ipi.latency is fixed at 500ns: no IPI timing to search; trying seeds\n";
  const size_t at = h.out.find(said);
  ASSERT_NE(at, std::string::npos) << h.out;
  EXPECT_EQ(h.out.find(said, at + 1), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("run 2: seed 2, 0 forced"), std::string::npos) << h.out;
  EXPECT_NE(read_file(dir + "/h/hunt.json").find("\"ipi_latency_fixed\": true"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace quiesce::test
