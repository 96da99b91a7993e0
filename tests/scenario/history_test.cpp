// scenarios/history: each historical bug is detected on its buggy release (or variant), with
// the lock classes its commit message shows, and silent on the fixing one over 20 seeds; the
// control is silent over 20 seeds on 4 and 16 CPUs (5 seeds under the sanitizers).
#include <gtest/gtest.h>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

struct History {
  const char* file;
  std::vector<std::string> buggy, fixed;  // extra arguments
  std::vector<std::string> classes;      // the lock classes the commit message names
  std::string evidence = "";             // text the detection must show (for a hang lockdep cannot see)
  int seeds = 3, at_least = 3;           // buggy seeds run, and how many of them must detect it (a race)
  std::string exercised = "";            // a metric the fixed code path moves (silence must not be idleness)
};

std::ostream& operator<<(std::ostream& o, const History& h) { return o << h.file; }

std::string path_of(const History& h) { return std::string("scenarios/history/") + h.file + ".yaml"; }

bool detected(const Point& p) {
  return json_metric(p.json, "lockdep_reports", 0) > 0 || p.outcome() == "deadlock" || p.outcome() == "hard_lockup" ||
         p.outcome() == "stall";
}

std::vector<std::string> with_seed(std::vector<std::string> extra, int seed) {
  extra.push_back("--seed");
  extra.push_back(std::to_string(seed));
  return extra;
}

class HistoryBug : public ::testing::TestWithParam<History> {};

TEST_P(HistoryBug, DetectedOnTheBuggyReleaseWithItsClasses) {
  const History& h = GetParam();
  int found = 0;
  for (int seed = 1; seed <= h.seeds; ++seed) {
    Point p = run_point(path_of(h), with_seed(h.buggy, seed));
    ASSERT_EQ(p.code, 0) << p.err;
    if (!detected(p)) continue;
    ++found;
    if (!h.evidence.empty()) {
      EXPECT_NE(p.json.find(h.evidence), std::string::npos) << p.json;
    }
    for (const auto& cls : h.classes) {
      // In a lockdep splat, or in the deadlock's account of the held locks.
      EXPECT_TRUE(p.lockdep.find("(" + cls + ")") != std::string::npos || p.json.find("(" + cls + ")") != std::string::npos ||
                  p.json.find(cls + " at ") != std::string::npos)
          << cls << " not named, seed " << seed << "\n" << p.lockdep << p.json;
    }
  }
  EXPECT_GE(found, h.at_least) << "of " << h.seeds << " seeds";
}

TEST_P(HistoryBug, SilentOnTheFixingReleaseOverTwentySeeds) {
  const History& h = GetParam();
  for (int seed = 1, seeds = repetitions(20, 5); seed <= seeds; ++seed) {
    Point p = run_point(path_of(h), with_seed(h.fixed, seed));
    ASSERT_EQ(p.code, 0) << p.err;
    EXPECT_FALSE(detected(p)) << "seed " << seed << "\n" << p.lockdep << p.json;
    EXPECT_EQ(json_metric(p.json, "deadlock", -1), 0) << "seed " << seed;
    EXPECT_GT(json_metric(p.json, h.exercised, 0), 0) << h.exercised << ", seed " << seed << ": the fixed path ran";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, HistoryBug,
    ::testing::Values(
        History{"8826f3b03975-rcu-timer-wakeup", {"--set", "kernel.release=2.6.39"}, {"--set", "kernel.release=3.0"},
                {"&p->pi_lock", "&rq->lock", "rcu_node_level_0"}, "", 3, 3, "timers"},
        History{"bcd5cff7216f-cputimer-inversion", {"--set", "kernel.release=3.0"}, {"--set", "kernel.release=3.1"},
                {"&(&sig->cputimer.lock)->rlock", "&p->pi_lock", "&rq->lock"}, "", 3, 3, "hook.update_curr.runs"},
        History{"a6037b61c2f5-hrtimer-expired-start", {"--set", "kernel.hrtimer.expired_start=run_in_caller"},
                {"--set", "kernel.hrtimer.expired_start=softirq"}, {"&foo->lock"}, "", 3, 3, "hrtimers"},
        History{"eac9153f2b58-bpf-stackmap-rwsem", {"--set", "kernel.release=5.4"}, {"--set", "kernel.release=5.5"},
                {"&rq->lock", "&p->pi_lock"}, "", 3, 3, "irq_works"},
        History{"1bc7896e9ef4-bpf-send-signal", {"--set", "kernel.release=5.5"}, {"--set", "kernel.release=5.6"},
                {"&(&sighand->siglock)->rlock", "&p->pi_lock", "&rq->lock"}, "", 3, 3, "signals"},
        // A race (about one 100 ms run in five): the NMI watchdog's hard lockup, in csd_lock() under
        // the nested tick's kick. Lockdep never sees a csd.
        History{"ca38062e57e9-nohz-kick-csd", {"--set", "kernel.release=3.1"}, {"--set", "kernel.release=3.2"}, {},
                "csd_lock __smp_call_function_single nohz_balancer_kick scheduler_tick", 10, 1, "nohz_kicks"}),
    [](const ::testing::TestParamInfo<History>& i) {
      std::string n = i.param.file;
      return "c" + n.substr(0, n.find('-'));
    });

// a6037b61c2f5's fix as 4.2 reshaped it: the clock event fires at once, still never in the caller.
TEST(HistoryBugA6037b61c2f5, SilentWithTheReleaseBehaviourOf4_2AndLater) {
  for (int seed = 1; seed <= 5; ++seed) {
    Point p = run_point("scenarios/history/a6037b61c2f5-hrtimer-expired-start.yaml",
                        {"--set", "kernel.release=4.4", "--set", "kernel.hrtimer.expired_start=release", "--seed",
                         std::to_string(seed)});
    ASSERT_EQ(p.code, 0) << p.err;
    EXPECT_FALSE(detected(p)) << p.json;
  }
}

TEST(HistoryControl, NoReportNoDeadlockOverTwentySeedsOnFourAndSixteenCpus) {
  for (const char* cores : {"4", "16"}) {
    for (int seed = 1, seeds = repetitions(20, 5); seed <= seeds; ++seed) {
      Point p = run_point("scenarios/history/control-clean-kernel-objects.yaml",
                          {"--set", std::string("cores=") + cores, "--seed", std::to_string(seed)});
      ASSERT_EQ(p.code, 0) << p.err << p.json;
      EXPECT_EQ(json_metric(p.json, "lockdep_reports", -1), 0) << cores << " cores, seed " << seed << "\n" << p.lockdep;
      EXPECT_EQ(json_metric(p.json, "deadlock", -1), 0) << cores << " cores, seed " << seed;
      EXPECT_GT(json_metric(p.json, "hook.sched_switch.runs", 0), 100) << "the hooks must be exercised";
    }
  }
}

}  // namespace
}  // namespace quiesce::test
