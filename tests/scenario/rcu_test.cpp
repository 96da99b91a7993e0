// The perf/RCU study's acceptance: the 2015 bug reproduced and its remedies compared, with
// the RCU guarantee checker watching every run.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

double metric(const std::string& json, const std::string& name) { return json_metric(json, name); }

const char* kFlagship = "scenarios/perf-rcu-2015.yaml";

// The first circular splat's dependency chain lists these classes (either release layout).
bool chain_through(const std::string& log, const std::vector<std::string>& classes) {
  size_t start = log.find("possible circular locking dependency detected");
  if (start == std::string::npos) return false;
  const size_t end = log.find("*** DEADLOCK ***", start);
  const std::string splat = log.substr(start, end - start);
  for (const auto& c : classes) {
    if (splat.find("(" + c + ")") == std::string::npos) return false;
  }
  return true;
}

// v4.4 wakes the expedited waiter after dropping the root rcu_node lock: the cycle runs
// through the wait queue's lock, not rcu_node_0 (docs/kernel-model.md).
TEST(Flagship, BuggyKernelWarnsThroughRqCtxWaitQueueAndPiAndDeadlocksOnSomeSeeds) {
  int warned = 0, deadlocks = 0;
  for (int seed = 1; seed <= 5; ++seed) {
    Point p = run_point(kFlagship, {"--seed", std::to_string(seed)});
    ASSERT_NE(p.json, "") << p.err;
    EXPECT_EQ(metric(p.json, "rcu.violations"), 0);
    if (chain_through(p.lockdep, {"&rq->lock", "&ctx->lock", "&rsp->expedited_wq->lock", "&p->pi_lock"})) {
      ++warned;
      // As Linux lists them: rcu_lock_map first, then ctx->lock, both at perf_lock_task_context.
      EXPECT_NE(p.lockdep.find(" #0:  (rcu_read_lock){......}, at: perf_lock_task_context\n"
                               " #1:  (&ctx->lock){......}, at: perf_lock_task_context\n"),
                std::string::npos)
          << p.lockdep;
    }
    EXPECT_NE(p.lockdep.find("[ INFO: possible circular locking dependency detected ]"), std::string::npos)
        << "v4.4's layout\n" << p.lockdep;
    if (p.outcome() == "deadlock") {
      ++deadlocks;
      EXPECT_NE(p.json.find("spins on rq[1].lock (&rq->lock)"), std::string::npos) << p.json;
      EXPECT_NE(p.json.find("spins on victim.perf_ctx.lock (&ctx->lock)"), std::string::npos) << p.json;
      // The bug deadlocks on some seeds by design: the file expects no `deadlock` of it.
      EXPECT_EQ(p.code, 0) << "its expect holds it to rcu.violations only";
    }
  }
  EXPECT_GE(warned, 4) << "most seeds";
  EXPECT_GE(deadlocks, 1);
}

TEST(Flagship, IrqSaveFixHasNoReportsNoDeadlocksAndCostsIrqOffTime) {
  double fixed_p99 = 0, buggy_p99 = 0;
  for (int seed = 1; seed <= 3; ++seed) {
    Point p = run_point(kFlagship, {"--seed", std::to_string(seed), "--set", "kernel.perf.lock_task_context=irq_save"});
    EXPECT_EQ(p.code, 0) << p.err << p.json;
    EXPECT_EQ(metric(p.json, "lockdep_reports"), 0) << p.lockdep;
    EXPECT_EQ(metric(p.json, "deadlock"), 0);
    EXPECT_EQ(metric(p.json, "rcu.violations"), 0);
    fixed_p99 = std::max(fixed_p99, metric(p.json, "irqs_off_by_site.perf_lock_task_context.p99_ns"));
    EXPECT_GT(metric(p.json, "irqs_off_by_site.perf_lock_task_context.max_cycles"), 0);
  }
  Point bug = run_point(kFlagship, {"--seed", "2", "--set", "duration=2ms"});
  buggy_p99 = metric(bug.json, "irqs_off_by_site.perf_lock_task_context.p99_ns");
  EXPECT_GT(buggy_p99, 0);
  EXPECT_GT(fixed_p99, buggy_p99) << "irqs now stay off across the RCU reader's lookup too";
}

TEST(Flagship, DeferredRemediesNeverDeadlockAndReportWhatTheirWakeupsDo) {
  for (const char* v : {"deferred_softirq", "deferred_workqueue", "deferred_irq_work"}) {
    for (int seed = 1; seed <= 2; ++seed) {
      Point p = run_point(kFlagship, {"--seed", std::to_string(seed), "--set", std::string("kernel.rcu.unlock_special=") + v});
      EXPECT_EQ(metric(p.json, "deadlock"), 0) << v;
      EXPECT_EQ(metric(p.json, "rcu.violations"), 0) << v;
      EXPECT_GT(metric(p.json, "rcu.exp_latency.count"), 100) << v;
      EXPECT_GT(metric(p.json, "rcu.deferred_qs"), 0) << v << ": the variant deferred some reports";
      const std::string which(v);
      if (which == "deferred_irq_work") {
        EXPECT_EQ(metric(p.json, "lockdep_reports"), 0) << p.lockdep;
      } else {
        // raise_softirq wakes ksoftirqd, queue_work wakes a kworker: a wakeup under ctx->lock.
        EXPECT_TRUE(chain_through(p.lockdep, {"&p->pi_lock", "&rq->lock", "&ctx->lock"})) << v << "\n" << p.lockdep;
      }
    }
  }
}

// might_wake sits in printk() and on the wakeup paths, not inside RCU (docs/kernel-model.md):
// in the flagship it flags rcu_read_unlock_special()'s wake_up() under ctx->lock, so it finds
// the bug wherever lockdep does, no later, and names a wakeup site.
TEST(Flagship, MightWakeFlagsTheWakeupWhereverLockdepFindsTheCycle) {
  // The window is narrow: a few seeds in forty see it (5 of 40 with the issue 17 memory model;
  // an RMW no longer adds its atomic to its transfer, so readers are shorter) (a shift of a few
  // cycles in the IPI path, such as the csd_lock() of the release's cross-CPU call, moves
  // which seeds those are).
  int plain = 0;
  const int seeds = 40;
  for (int seed = 1; seed <= seeds; ++seed) {
    Point off = run_point("tests/scenario/rcu/might_wake_coverage.yaml", {"--seed", std::to_string(seed)});
    Point on = run_point("tests/scenario/rcu/might_wake_coverage.yaml",
                         {"--seed", std::to_string(seed), "--set", "kernel.lockdep.might_wake=true"});
    EXPECT_EQ(metric(on.json, "rcu.violations"), 0);
    EXPECT_EQ(on.lockdep.find("at: rcu_read_unlock"), std::string::npos) << on.lockdep;
    if (metric(off.json, "lockdep_reports") <= 0) continue;
    ++plain;
    EXPECT_GT(metric(on.json, "lockdep.might_wake"), 0) << seed;
    EXPECT_LE(metric(on.json, "detection.first_ns"), metric(off.json, "detection.first_ns")) << seed;
    EXPECT_NE(on.lockdep.find("is trying to wake a task, which takes scheduler lock:\n (&rq->lock){"),
              std::string::npos)
        << on.lockdep;
    EXPECT_NE(on.lockdep.find("at: __wake_up\n"), std::string::npos) << on.lockdep;
  }
  EXPECT_GE(plain, 1) << "some seed sees the IPI inside perf's reader";
  EXPECT_LT(plain, seeds) << "and some do not: the window is narrow";
}

// The irq_save cost study compares like with like: the unfixed kernel cannot deadlock there
// (the expedited updater's runqueue is not the perf target's), so both variants run the
// whole time and see the same device events, whose latency is measured apart from IPIs.
TEST(Flagship, IrqSaveStudyComparesEqualTimeAndEqualDeviceEvents) {
  for (int seed = 1; seed <= 2; ++seed) {
    std::vector<Point> v;
    for (const char* ltc : {"preempt_disable", "irq_save"}) {
      v.push_back(run_point("scenarios/remedy-irq-save.yaml",
                            {"--seed", std::to_string(seed), "--set", "duration=5ms", "--set",
                             std::string("kernel.perf.lock_task_context=") + ltc, "--set", "kernel.perf.lookup_cost=2000"}));
    }
    for (const Point& p : v) {
      EXPECT_EQ(p.code, 0) << p.err << p.json;
      EXPECT_EQ(p.outcome(), "ok");
      EXPECT_NE(p.json.find("\"simulated_time_ps\": 5000000000,"), std::string::npos);
      EXPECT_GT(metric(p.json, "device_event_latency.count"), 100);
      EXPECT_GT(metric(p.json, "irq_latency.sgi.count"), 0) << "IPIs, counted apart";
    }
    EXPECT_EQ(metric(v[0].json, "device_event_latency.count"), metric(v[1].json, "device_event_latency.count"));
    EXPECT_GT(metric(v[0].json, "lockdep_reports"), 0) << "the bug still warns";
  }
}

// The issue that made the release model: the report was on every point up to 16 CPUs and on
// none from 17 (the GP kthread woken under the root rcu_node lock, an edge that closed the
// cycle only while the leaf was the root). v4.4 wakes after the unlock: no step.
TEST(Flagship, NoStepBetween16And17Cpus) {
  for (const char* cores : {"16", "17"}) {
    int reports = 0;
    for (int seed = 1; seed <= 3; ++seed) {
      Point p = run_point(kFlagship, {"--seed", std::to_string(seed), "--set", std::string("cores=") + cores, "--set",
                                      "duration=20ms"});
      ASSERT_NE(p.json, "") << p.err;
      if (metric(p.json, "lockdep_reports") > 0) ++reports;
      EXPECT_EQ(metric(p.json, "rcu.wakeups_under_rnp_lock"), 0);
    }
    EXPECT_EQ(reports, 3) << cores << " CPUs";
  }
}

TEST(RcuChecker, BrokenVariantFiresAndTheRealOneHolds) {
  Point broken = run_point("tests/scenario/rcu/broken_checker.yaml", {});
  EXPECT_EQ(broken.code, 0) << broken.json;
  EXPECT_GT(metric(broken.json, "rcu.violations"), 0);
  EXPECT_NE(broken.json.find("was still in a reader it entered at"), std::string::npos);
  Point sound = run_point("tests/scenario/rcu/broken_checker.yaml", {"--set", "kernel.rcu.test_break=none"});
  EXPECT_EQ(metric(sound.json, "rcu.violations"), 0);
}

class RcuVariants : public ::testing::TestWithParam<const char*> {};
TEST_P(RcuVariants, ReadersBlockedAndGracePeriodsKeepTheGuarantee) {
  Point p = run_point("tests/scenario/rcu/readers_and_gps.yaml", {"--set", std::string("kernel.rcu.unlock_special=") + GetParam()});
  EXPECT_EQ(p.code, 0) << p.json;
}
INSTANTIATE_TEST_SUITE_P(All, RcuVariants,
                         ::testing::Values("v4.4", "deferred_softirq", "deferred_workqueue", "deferred_irq_work"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           std::string n = i.param;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

TEST(RcuTree, MultiLevelTreeKeepsTheGuarantee) {
  // Leaves of two CPUs on eight cores: a root over four leaves; quiescent states and
  // expedited reports climb the tree.
  Point p = run_point("tests/scenario/rcu/readers_and_gps.yaml",
                      {"--set", "kernel.rcu.fanout_leaf=2", "--set", "cores=8"});
  EXPECT_EQ(p.code, 0) << p.json;
  EXPECT_EQ(metric(p.json, "rcu.violations"), 0);
  EXPECT_GT(metric(p.json, "rcu.exp_gps"), 50);
}

}  // namespace
}  // namespace quiesce::test

namespace quiesce::test {
namespace {

// A run that ends with a task inside synchronize_rcu(): its Completion lives on the task's
// stack, which is never unwound, so the wait queue must own no memory (LeakSanitizer
// reported its std::deque under ASan when a point ended there).
TEST(RunEnd, ATaskStillInSynchronizeRcuLeavesNothingBehind) {
  const std::string dir = temp_dir("gp-at-end");
  const std::string scen = write_temp(dir, "s.yaml",
                                      "name: gp-at-end\nworkload:\n"
                                      "  - {task: gp_updater, cpu: 1, period: 10us}\n"
                                      "  - {task: exp_gp_updater, cpu: 2, period: 10us}\n"
                                      "duration: 500us\n");
  CliResult r = run_cli({"run", scen, "--out", dir + "/out", "-q"});
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string json = read_file(dir + "/out/result.json");
  EXPECT_EQ(json_metric(json, "rcu.gps", -1), 0) << "the normal grace period outlasts the run";
}

}  // namespace
}  // namespace quiesce::test

namespace quiesce::test {
namespace {

// A spinlock deadlock ends the run with both spinners' stacks never unwound: the chain the
// detector found must not be owned by them (LeakSanitizer reported it under ASan).
TEST(RunEnd, ADeadlockLeavesNothingBehind) {
  int deadlocks = 0;
  for (int seed = 1; seed <= 3; ++seed) {
    Point p = run_point("tests/scenario/kernel/abba.yaml", {"--seed", std::to_string(seed)});
    EXPECT_EQ(p.code, 0) << p.err;
    deadlocks += p.outcome() == "deadlock";
  }
  EXPECT_GE(deadlocks, 1);
}

}  // namespace
}  // namespace quiesce::test
