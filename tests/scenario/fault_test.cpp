// Injected hardware faults (sim/hw/fault.h) through the real binary: the kernel reacts as
// Linux would and the point ends with a named outcome, never a hang; with every fault off
// the outputs are those of a fault-free run, byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

struct FaultRun {
  CliResult cli;
  std::string dir, json, dmesg;
};

FaultRun run(const std::string& scenario, const std::vector<std::string>& extra = {},
             const std::string& name = "f") {
  FaultRun r;
  r.dir = temp_dir("fault-" + name);
  std::vector<std::string> args = {"run", scenario, "--out", r.dir};
  args.insert(args.end(), extra.begin(), extra.end());
  r.cli = run_cli(args);
  r.json = read_file(r.dir + "/result.json");
  r.dmesg = read_file(r.dir + "/dmesg.txt");
  return r;
}

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

TEST(Faults, LostIpiDuringAnExpeditedGracePeriodEndsInAReportedStall) {
  FaultRun r = run("tests/scenario/fault/lost_ipi_exp_gp.yaml");
  EXPECT_EQ(r.cli.code, 0) << "its expect: block holds (outcome rcu_stall)\n"
                           << r.cli.out << r.cli.err;
  EXPECT_LT(r.cli.seconds, 10) << "no hang";
  EXPECT_TRUE(has(
      r.dmesg, "INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 2-... }"))
      << r.dmesg;
  EXPECT_TRUE(has(r.dmesg, "Task dump for CPU 2:\nCPU2: busy/"))
      << "names the task on each stalled CPU\n"
      << r.dmesg;
  // First warning at the stall timeout (2 ms after the GP began), the next three later.
  EXPECT_TRUE(std::regex_search(
      r.dmesg, std::regex(R"(\[    0\.002\d{3}\] INFO: rcu_preempt detected expedited)")))
      << r.dmesg;
  EXPECT_TRUE(has(r.json, "\"outcome\": \"rcu_stall\"")) << r.json;
  CliResult why = run_cli({"explain", r.dir});
  EXPECT_EQ(why.code, 0) << why.err;
  EXPECT_TRUE(has(why.out, "What happened: RCU stall warnings (dmesg.txt); the first:\nINFO: rcu_preempt detected "
                           "expedited stalls on CPUs/tasks: { 2-... }"))
      << why.out;
}

TEST(Faults, AStalledCoreTripsTheHardLockupWatchdog) {
  FaultRun r = run("tests/scenario/fault/stalled_core.yaml");
  EXPECT_EQ(r.cli.code, 0) << r.cli.out << r.cli.err;
  EXPECT_TRUE(
      has(r.cli.out,
          "NMI watchdog: Watchdog detected hard LOCKUP on cpu 1: no timer interrupt served since"))
      << r.cli.out;
  EXPECT_TRUE(has(r.json, "\"outcome\": \"hard_lockup\"")) << r.json;
  // Within the threshold (10 ms) plus a tick and a watchdog period of the stall's start.
  EXPECT_TRUE(
      std::regex_search(r.cli.out, std::regex(R"(outcome: hard_lockup after 1[2-5](\.\d+)?ms)")))
      << r.cli.out;
  EXPECT_TRUE(has(read_file(r.dir + "/stats.txt"), "cpu1.fault.stalls")) << "the stall is counted";
}

TEST(Faults, AStuckInterruptIsReportedAndDisabled) {
  FaultRun r = run("tests/scenario/fault/stuck_irq.yaml");
  EXPECT_EQ(r.cli.code, 0) << r.cli.out << r.cli.err;
  EXPECT_TRUE(has(r.dmesg, "irq 32: nobody cared (try booting with the \"irqpoll\" option)"))
      << r.dmesg;
  EXPECT_TRUE(has(r.dmesg, "handlers:\n[<32>] sensor\nDisabling IRQ #32")) << r.dmesg;
  EXPECT_TRUE(has(r.cli.out, "Disabling IRQ #32\n")) << "the outcome's detail ends its line\n"
                                                     << r.cli.out;
  EXPECT_TRUE(has(r.json, "\"outcome\": \"stuck_irq\"")) << r.json;
  EXPECT_LT(r.cli.seconds, 10);
}

TEST(Faults, DuplicatedAndDelayedIpisKeepTheKernelCorrect) {
  for (const char* fault : {"fault.ipi.duplicate=0.5", "fault.ipi.delay_probability=0.5"}) {
    FaultRun r =
        run("scenarios/perf-rcu-2015.yaml", {"--set", fault, "--set", "duration=5ms", "-q"}, "dup");
    EXPECT_LE(r.cli.code, 1) << fault << r.cli.err;
    EXPECT_TRUE(std::regex_search(r.json, std::regex(R"re("rcu\.violations": 0\b)re")))
        << fault << r.json;
    EXPECT_TRUE(std::regex_search(r.json, std::regex(R"re("rcu\.exp_gps": [1-9])re")))
        << fault << ": GPs still end";
    const std::string stats = read_file(r.dir + "/stats.txt");
    EXPECT_TRUE(
        std::regex_search(stats, std::regex(R"(irq\.fault\.ipis_(duplicated|delayed) +[1-9])")))
        << stats;
  }
}

// With every fault at zero (and a fault's distribution set but never drawn), every output
// file equals the fault-free run's, byte for byte.
TEST(Faults, ZeroProbabilitiesEqualTheFaultFreeRunByteForByte) {
  FaultRun plain = run("scenarios/perf-rcu-2015.yaml", {"--set", "duration=12ms", "-q"}, "plain");
  FaultRun zero = run(
      "scenarios/perf-rcu-2015.yaml",
      {"--set", "duration=12ms", "-q", "--set", "fault.ipi.loss=0", "--set", "fault.ipi.duplicate=0",
       "--set", "fault.ipi.delay_probability=0", "--set", "fault.ipi.delay=50us", "--set",
       "fault.core.stall.cpu=-1", "--set", "fault.irq.stuck.id=-1"},
      "zero");
  ASSERT_LE(plain.cli.code, 1) << plain.cli.err;
  ASSERT_LE(zero.cli.code, 1) << zero.cli.err;
  for (const char* f : {"/stats.txt", "/lockdep.log", "/dmesg.txt"}) {
    EXPECT_EQ(read_file(plain.dir + f), read_file(zero.dir + f)) << f;
  }
  // result.json holds no host timing; only its echo of the configuration names the settings.
  auto results = [](const std::string& json) { return json.substr(0, json.find("\"config\": {")); };
  EXPECT_EQ(results(plain.json), results(zero.json));
  EXPECT_NE(read_file(plain.dir + "/lockdep.log").find("circular locking"), std::string::npos)
      << "a run with events";
}

// A sleeping-lock deadlock: no CPU spins, so only the stall watchdog can see it. It ends
// the run as soon as nothing pending can wake either task, naming both and their mutexes.
TEST(Progress, TasksThatCanNeverBeWokenEndTheRunAsAStall) {
  FaultRun r = run("tests/scenario/fault/mutex_abba.yaml");
  EXPECT_EQ(r.cli.code, 0) << r.cli.out << r.cli.err;
  EXPECT_TRUE(has(r.cli.out, "every task sleeps and nothing pending can wake one")) << r.cli.out;
  EXPECT_TRUE(has(r.cli.out, "ab/15 (CPU0) in __schedule schedule mutex_lock take_a_then_b"))
      << r.cli.out;
  EXPECT_TRUE(has(r.cli.out, "waiting for mutex B (mutex_B), held by ba/16")) << r.cli.out;
  EXPECT_TRUE(has(r.cli.out, "waiting for mutex A (mutex_A), held by ab/15")) << r.cli.out;
  // Within two watchdog periods (2.5 ms each) of the deadlock, not kernel.watchdog.stall (1 s).
  EXPECT_TRUE(
      std::regex_search(r.cli.out, std::regex(R"(outcome: stall after [0-9.]+ms simulated)")))
      << r.cli.out;
  EXPECT_LT(r.cli.seconds, 5);
}

TEST(Caps, TheEventCapStopsAPointWithAClearErrorAndExitCode2) {
  FaultRun r = run("scenarios/perf-rcu-2015.yaml", {"--set", "sim.max_events=20000", "-q"}, "cap");
  EXPECT_EQ(r.cli.code, 2);
  EXPECT_TRUE(has(r.cli.err, "error: more than 20000 events (sim.max_events) by ")) << r.cli.err;
  EXPECT_TRUE(has(r.cli.err, "raise the cap with --set sim.max_events=N")) << r.cli.err;
  EXPECT_EQ(std::count(r.cli.err.begin(), r.cli.err.end(), '\n'), 1) << r.cli.err;
  EXPECT_TRUE(has(r.json, "\"outcome\": \"event_limit\"")) << r.json;
  // result.json's simulated time is where the run stopped, as the message says: the cores
  // run ahead of SystemC time, which a run stopped by them need not reach (it said 0).
  std::smatch when, simulated;
  ASSERT_TRUE(std::regex_search(r.cli.err, when, std::regex(R"(by ([0-9.]+)us simulated)")))
      << r.cli.err;
  ASSERT_TRUE(std::regex_search(r.json, simulated, std::regex(R"("simulated_time_ps": (\d+))")))
      << r.json;
  EXPECT_GT(std::stod(when[1].str()), 0.0);
  EXPECT_NEAR(std::stod(simulated[1].str()) / 1e6, std::stod(when[1].str()), 1e-6) << r.cli.err;
  EXPECT_LT(r.cli.seconds, 5);
  CliResult bad =
      run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--set", "sim.max_events=0", "-q"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(has(bad.err, "sim.max_events")) << bad.err;
}

TEST(Caps, TheTraceKeepsItsNewestEventsAndSaysHowManyWereDropped) {
  const std::string dir = temp_dir("trace-cap");
  CliResult r = run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--set", "duration=2ms", "-q",
                         "--out", dir, "--trace", dir + "/t.txt", "--trace-max-events", "1000"});
  EXPECT_LE(r.code, 1) << r.err;
  EXPECT_TRUE(std::regex_search(
      r.err,
      std::regex(
          R"(warning: .*t\.txt holds the last 1000 trace events; [0-9]+ earlier ones were dropped)")))
      << r.err;
  const std::string trace = read_file(dir + "/t.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(trace, m,
                                std::regex(R"(# entries-in-buffer/entries-written: (\d+)/(\d+))")));
  EXPECT_LE(std::stoul(m[1]), 1000u) << "at most the cap is kept";
  EXPECT_GT(std::stoul(m[2]), 10000u) << "and the header counts every event written";
  for (const char* n : {"999", "60000000"}) {
    CliResult bad = run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--trace", dir + "/u.txt",
                             "--trace-max-events", n});
    EXPECT_EQ(bad.code, 2) << n;
    EXPECT_TRUE(has(bad.err, "must be between 1000 and 50000000")) << bad.err;
  }
}

TEST(Faults, BadFaultSettingsAreInputErrors) {
  struct Case {
    std::string set, message;
  };
  for (const Case& c : std::vector<Case>{
           {"fault.ipi.loss=1.5", "fault.ipi.loss"},
           {"fault.core.stall.cpu=9", "no CPU 9 on a 4-core platform"},
           {"fault.irq.stuck.id=5", "a stuck line is a device interrupt"},
           {"fault.ipi.delay=-3us", "fault.ipi.delay"},
       }) {
    CliResult r = run_cli({"run", "tests/scenario/fault/stalled_core.yaml", "--set", c.set, "-q"});
    EXPECT_EQ(r.code, 2) << c.set << ": " << r.err;
    EXPECT_TRUE(has(r.err, c.message)) << c.set << ": " << r.err;
  }
}

}  // namespace
}  // namespace quiesce::test
