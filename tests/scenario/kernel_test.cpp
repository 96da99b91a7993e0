// The kernel issue's scenario acceptance: real YAML scenarios through the real binary,
// asserting outcomes from result.json and lockdep.log.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

double metric(const std::string& json, const std::string& name) { return json_metric(json, name, -12345); }

std::string outcome(const std::string& json) {
  std::smatch m;
  std::regex re(R"re("outcome": "([a-z_]+)")re");
  return std::regex_search(json, m, re) ? m[1].str() : "";
}

struct PointRun {
  CliResult cli;
  std::string json, lockdep;
};

PointRun run(const std::string& scenario, const std::vector<std::string>& extra = {}) {
  std::string out = temp_dir("k");
  std::vector<std::string> args = {"run", "tests/scenario/kernel/" + scenario, "--out", out, "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  PointRun r;
  r.cli = run_cli(args);
  r.json = read_file(out + "/result.json");
  r.lockdep = read_file(out + "/lockdep.log");
  return r;
}

// Each scenario's own `expect:` block holds: exit code 0.
class KernelScenario : public ::testing::TestWithParam<const char*> {};
TEST_P(KernelScenario, MeetsItsExpectations) {
  PointRun r = run(GetParam());
  EXPECT_EQ(r.cli.code, 0) << r.cli.out << r.cli.err << r.json;
}
INSTANTIATE_TEST_SUITE_P(Files, KernelScenario,
                         ::testing::Values("aa_recursive.yaml", "irq_inconsistent.yaml", "clean_hierarchy.yaml",
                                           "sleep_in_atomic.yaml", "might_wake.yaml", "hard_lockup.yaml", "deferred_work.yaml",
                                           "cyclictest.yaml", "rcu_sleep.yaml", "bad_unlock.yaml", "held_at_exit.yaml",
                                           "lock_nested.yaml", "same_class_nested.yaml"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           std::string n = i.param;
                           return n.substr(0, n.find('.'));
                         });

TEST(Abba, EverySeedWarnsAndOverlappingSeedsDeadlock) {
  int deadlocks = 0, warnings_only = 0;
  for (int seed = 1; seed <= 6; ++seed) {
    PointRun r = run("abba.yaml", {"--seed", std::to_string(seed)});
    ASSERT_EQ(r.cli.code, 0) << r.cli.err;
    EXPECT_EQ(metric(r.json, "lockdep.circular"), 1) << "seed " << seed;
    EXPECT_NE(r.lockdep.find("possible circular locking dependency detected"), std::string::npos);
    EXPECT_NE(r.lockdep.find("lock(lock_A);"), std::string::npos);
    if (outcome(r.json) == "deadlock") {
      ++deadlocks;
      EXPECT_EQ(metric(r.json, "deadlock"), 1);
      EXPECT_NE(r.json.find("CPU0 spins on"), std::string::npos) << r.json;
      EXPECT_NE(r.json.find("CPU1 spins on"), std::string::npos) << r.json;
    } else {
      EXPECT_EQ(outcome(r.json), "ok");
      ++warnings_only;
    }
  }
  EXPECT_GE(deadlocks, 1);
  EXPECT_GE(warnings_only, 1);
}

TEST(Abba, PinnedSeedsDeadlockOrOnlyWarn) {
  PointRun a = run("abba.yaml", {"--seed", "1"});
  EXPECT_EQ(outcome(a.json), "deadlock");
  PointRun b = run("abba.yaml", {"--seed", "2"});
  EXPECT_EQ(outcome(b.json), "ok");
  EXPECT_EQ(metric(b.json, "lockdep.circular"), 1);
}

TEST(MightWake, OffReportsNothing) {
  PointRun r = run("might_wake.yaml", {"--set", "kernel.lockdep.might_wake=false"});
  EXPECT_EQ(r.cli.code, 1) << "its expect: asks for the report";
  EXPECT_EQ(metric(r.json, "lockdep_reports"), 0);
  EXPECT_EQ(r.lockdep, "");
}

// Linux's debug_locks_off(): one report, then lockdep is quiet; after_report=continue goes on.
TEST(AfterReport, OffStopsAtTheFirstReport) {
  PointRun off = run("might_wake.yaml", {"--set", "kernel.lockdep.after_report=off"});
  EXPECT_EQ(off.cli.code, 1) << "its expect: asks for two reports";
  EXPECT_EQ(metric(off.json, "lockdep_reports"), 1);
  PointRun on = run("might_wake.yaml");
  EXPECT_EQ(on.cli.code, 0) << on.cli.err;
  EXPECT_EQ(metric(on.json, "lockdep_reports"), 2);
}

TEST(BadUnlock, ReportsAndLeavesTheTicketLockWorking) {
  PointRun r = run("bad_unlock.yaml");
  ASSERT_EQ(r.cli.code, 0) << r.cli.err << r.json;
  EXPECT_EQ(outcome(r.json), "ok") << "both programs took the lock again and finished";
  EXPECT_NE(r.lockdep.find("[ BUG: bad unlock balance detected! ]\n"), std::string::npos) << "v4.4's layout\n"
                                                                                            << r.lockdep;
  EXPECT_NE(r.lockdep.find(" is trying to release lock (lock_A) at:\ndouble_unlock\n"
                           "but there are no more locks to release!\n"),
            std::string::npos)
      << r.lockdep;
  EXPECT_NE(r.lockdep.find("no locks held by doubler/"), std::string::npos) << r.lockdep;
  EXPECT_NE(r.lockdep.find(" is trying to release lock (&dev->mutex) at:\nmutex_unlock\n"), std::string::npos)
      << r.lockdep;
}

TEST(RcuSleep, SleepInAReaderIsASleepingFunctionBugOutsideAtomicContext) {
  PointRun r = run("rcu_sleep.yaml");
  ASSERT_EQ(r.cli.code, 0) << r.cli.err << r.json;
  EXPECT_NE(r.lockdep.find("BUG: sleeping function called from invalid context at "), std::string::npos);
  EXPECT_NE(r.lockdep.find("in_atomic(): 0, irqs_disabled(): 0, pid: "), std::string::npos) << r.lockdep;
  EXPECT_NE(r.lockdep.find("bad_reader"), std::string::npos) << r.lockdep;
}

TEST(HeldAtExit, ListsTheLocksTheTaskDiedWith) {
  PointRun r = run("held_at_exit.yaml");
  ASSERT_EQ(r.cli.code, 0) << r.cli.err << r.json;
  EXPECT_NE(r.lockdep.find("still has locks held!"), std::string::npos) << r.lockdep;
  EXPECT_NE(r.lockdep.find(" #0:  (&dev->mutex){"), std::string::npos) << r.lockdep;
  EXPECT_NE(r.lockdep.find(" debug_check_no_locks_held\n do_exit\n"), std::string::npos) << r.lockdep;
}

TEST(LockNested, ASubclassSilencesRecursionBetweenTwoInstances) {
  PointRun nested = run("lock_nested.yaml");
  EXPECT_EQ(nested.cli.code, 0) << nested.cli.err << nested.json;
  EXPECT_EQ(nested.lockdep, "");
  PointRun plain = run("same_class_nested.yaml");
  EXPECT_EQ(plain.cli.code, 0) << plain.cli.err << plain.json;
  EXPECT_NE(plain.lockdep.find("possible recursive locking detected"), std::string::npos) << plain.lockdep;
  EXPECT_NE(plain.lockdep.find(" (&dev->lock){"), std::string::npos) << plain.lockdep;
}

TEST(KernelInput, LockNestedTakesALockAndASubclass) {
  std::string dir = temp_dir("knest");
  std::string p = write_temp(dir, "s.yaml",
                             "name: x\nlocks: {A: {}}\nworkload:\n  - task: program\n"
                             "    program: [{lock_nested: {lock: A, subclass: 8}}]\n");
  CliResult r = run_cli({"run", p});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("expected a lockdep subclass from 0 to 7, got \"8\""), std::string::npos) << r.err;
  p = write_temp(dir, "t.yaml",
                 "name: x\nlocks: {A: {}}\nworkload:\n  - task: program\n"
                 "    program: [{lock_nested: {lock: A, subclas: 1}}]\n");
  r = run_cli({"run", p});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean 'subclass'?"), std::string::npos) << r.err;
}

TEST(KernelDeterminism, SameSeedSameBytes) {
  std::string a = temp_dir("kd-a"), b = temp_dir("kd-b");
  for (const std::string& out : {a, b}) {
    CliResult r = run_cli({"run", "tests/scenario/kernel/clean_hierarchy.yaml", "--out", out, "-q", "--seed", "3"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  for (const char* f : {"/result.json", "/stats.txt", "/lockdep.log"}) {
    EXPECT_EQ(read_file(a + f), read_file(b + f)) << f;
  }
  EXPECT_FALSE(read_file(a + "/stats.txt").empty());
}

TEST(KernelInput, UndeclaredLocksAndUnknownPrimitivesAreClearErrors) {
  std::string dir = temp_dir("kbad");
  std::string p = write_temp(dir, "s.yaml",
                             "name: x\nlocks: {A: {}}\nworkload:\n  - task: program\n    program: [{lock: B}]\n");
  CliResult r = run_cli({"run", p});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(p + ":5:22: error: 'workload[0].program[0].lock': lock 'B' is not declared"), std::string::npos)
      << r.err;
  p = write_temp(dir, "t.yaml", "name: x\nworkload:\n  - task: program\n    program: [local_irq_sav]\n");
  r = run_cli({"run", p});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean 'local_irq_save'?"), std::string::npos) << r.err;
  // A primitive without an argument given as a mapping (it said "did you mean" itself).
  p = write_temp(dir, "m.yaml", "name: x\nworkload:\n  - task: program\n    program: [{console_lock: }]\n");
  r = run_cli({"run", p});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'console_lock' takes no argument: write it as a plain item (- console_lock)"),
            std::string::npos)
      << r.err;
  p = write_temp(dir, "u.yaml",
                 "name: x\nworkload:\n  - {task: sleeper, name: a}\n  - {task: sleeper, name: a}\n");
  r = run_cli({"run", p});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("duplicate task name 'a'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace quiesce::test

namespace quiesce::test {
namespace {

TEST(Cyclictest, LatencyHistInCyclictestLayout) {
  std::string out = temp_dir("ct");
  CliResult r = run_cli({"run", "tests/scenario/kernel/cyclictest.yaml", "--out", out, "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream in(read_file(out + "/latency.hist"));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "# Histogram");
  const std::regex row(R"(^\d{6} \d{6}\t\d{6}\t\d{6}\t\d{6}$)");
  std::vector<uint64_t> sums(4, 0);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(std::getline(in, line));
    ASSERT_TRUE(std::regex_match(line, row)) << line;
    EXPECT_EQ(std::stoi(line.substr(0, 6)), i);
    for (int c = 0; c < 4; ++c) sums[static_cast<size_t>(c)] += std::stoull(line.substr(7 + 7 * static_cast<size_t>(c), 6));
  }
  std::getline(in, line);
  char expect[128];
  std::snprintf(expect, sizeof expect, "# Total: %09llu %09llu %09llu %09llu", static_cast<unsigned long long>(sums[0]),
                static_cast<unsigned long long>(sums[1]), static_cast<unsigned long long>(sums[2]),
                static_cast<unsigned long long>(sums[3]));
  EXPECT_EQ(line, expect);
  for (const char* prefix : {"# Min Latencies:", "# Avg Latencies:", "# Max Latencies:", "# Histogram Overflows:",
                             "# Histogram Overflow at cycle number:", "# Thread 0:"}) {
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(line.rfind(prefix, 0), 0u) << line;
  }
  EXPECT_GE(sums[1], 40u) << "each CPU's thread woke every 100us for 5ms";
}

// The layout of a file from rt-tests 2.4's `cyclictest -m -q -D1 -h 100 -t2 -i 1000
// --histfile=...` (tests/scenario/golden/cyclictest-2.4.hist), line by line: each digit
// reads as 9 (numbers differ, widths must not), the histogram rows as one line and the
// overflow cycle list as its length, which rt-tests caps at the number of rows.
struct HistLayout {
  std::vector<std::string> lines;
  size_t rows = 0;
  std::vector<size_t> listed;  // per thread: cycle numbers listed before "# N others"
};

HistLayout hist_layout(const std::string& text) {
  HistLayout l;
  const std::regex digit("[0-9]"), row(R"(^\d{6} \d{6}(\t\d{6})*$)"), thread(R"(^(# Thread \d+:)((?: \d{5,})*)( # \d{5,} others)?$)");
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t end = text.find('\n', begin);
    const std::string line = text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    std::smatch m;
    if (std::regex_match(line, row)) {
      if (l.rows++ == 0) l.lines.push_back(std::regex_replace(line, digit, "9") + " (rows)");
    } else if (std::regex_match(line, m, thread)) {
      const std::string list = m[2];
      l.listed.push_back(static_cast<size_t>(std::count(list.begin(), list.end(), ' ')));
      l.lines.push_back(std::regex_replace(m[1].str(), digit, "9") + " LIST" + std::regex_replace(m[3].str(), digit, "9"));
    } else {
      l.lines.push_back(std::regex_replace(line, digit, "9"));
    }
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return l;
}

TEST(Cyclictest, LatencyHistHasRtTestsLayoutLineByLine) {
  const HistLayout real = hist_layout(read_file(std::string(QUIESCE_SOURCE_DIR) + "/tests/scenario/golden/cyclictest-2.4.hist"));
  ASSERT_EQ(real.rows, 100u);
  ASSERT_EQ(real.listed, (std::vector<size_t>{100, 100})) << "rt-tests lists as many cycles as there are rows";
  ASSERT_EQ(real.lines.back(), "") << "and ends the file with an empty line";

  // Two CPUs, two 1 us rows, a busy interrupt on each CPU: more overflows than rows.
  const std::string dir = temp_dir("ct-layout");
  const std::string p = write_temp(dir, "ct.yaml",
                                   "name: ct\nset: {cores: 2}\nworkload:\n  - {task: cyclictest, interval: 50us, histogram: 2}\n"
                                   "  - {irq: nic, cpu: 1, period: {dist: exponential, mean: 30us}, handler: 5us}\n"
                                   "  - {irq: disk, cpu: 0, period: {dist: exponential, mean: 30us}, handler: 5us}\n"
                                   "duration: 5ms\n");
  CliResult r = run_cli({"run", p, "--out", dir + "/out", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string text = read_file(dir + "/out/latency.hist");
  const HistLayout ours = hist_layout(text);
  EXPECT_EQ(ours.rows, 2u);
  EXPECT_EQ(ours.listed, (std::vector<size_t>{2, 2})) << text;
  EXPECT_EQ(ours.lines, real.lines) << text;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out/cyclictest0.hist")) << "one file per histogram: latency.hist";
}

}  // namespace
}  // namespace quiesce::test
