// kernel.release: every listed release runs the flagship, a sweep over releases has a row
// per release, and each behaviour the model keys to a release behaves as that release's
// source has it (release.h names the commits).
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

double metric(const std::string& json, const std::string& name) { return json_metric(json, name); }

Point run(const std::string& scenario, const std::vector<std::string>& sets) {
  std::vector<std::string> args;
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  return run_point(scenario, args);
}

const std::vector<std::string> kListed = {"2.6.39", "3.0",  "3.4",  "3.10", "3.14", "3.16", "3.18", "4.1",
                                          "4.4",    "4.9",  "4.14", "4.19", "5.0",  "5.3",  "5.4",  "5.10"};

TEST(Releases, ListNamesTheRangeTheReleasesAndEachChangeWithItsCommit) {
  CliResult r = run_cli({"list", "releases"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("releases: 2.6.39 to 5.10"), std::string::npos) << r.out;
  for (const auto& v : kListed) EXPECT_NE(r.out.find(" " + v), std::string::npos) << v;
  for (const char* line : {"8203d6d0ee78  rcu.exp_ipi", "2fd59077755c  perf.lock_task_context_irq_save",
                           "058ebd0eba3a  perf.lock_task_context_preempt_disable", "131906b0062d  rcu.exp_wake_after_unlock",
                           "48a7639ce80c? rcu.gp_wake_needwake", "rcu.deferred_qs_irq_work", "printk.lockdep_visible"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
  }
}

class EveryRelease : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryRelease, RunsTheFlagshipAndSaysWhichReleaseItModelled) {
  Point r = run("scenarios/perf-rcu-2015.yaml", {"kernel.release=" + GetParam(), "duration=5ms"});
  ASSERT_NE(r.json, "") << r.err;
  EXPECT_TRUE(r.code == 0 || r.code == 1) << r.err;  // 1: the bug's deadlock fails `expect`
  EXPECT_NE(r.json.find("\"kernel.release\": \"" + GetParam() + "\""), std::string::npos);
  EXPECT_EQ(metric(r.json, "rcu.violations"), 0);
  EXPECT_GT(metric(r.json, "rcu.exp_gps"), 10);
}

INSTANTIATE_TEST_SUITE_P(Listed, EveryRelease, ::testing::ValuesIn(kListed), [](const auto& info) {
  return "v" + std::regex_replace(info.param, std::regex("[.]"), "_");
});

TEST(Releases, OutsideTheRangeOrMalformedIsOneLineAndExit2) {
  for (const auto& [value, text] : std::vector<std::pair<std::string, std::string>>{
           {"6.1", "release 6.1 is outside the modelled range 2.6.39 to 5.10"},
           {"2.6.32", "release 2.6.32 is outside the modelled range"},
           {"4.x", "expected a Linux release such as 4.4 or 3.10.4, got \"4.x\""}}) {
    CliResult r = run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--set", "kernel.release=" + value});
    EXPECT_EQ(r.code, 2) << value;
    EXPECT_NE(r.err.find("'kernel.release': " + text), std::string::npos) << r.err;
  }
}

TEST(Releases, ASweepOverReleasesHasARowPerRelease) {
  const std::string out = temp_dir("release-sweep");
  CliResult r = run_cli({"sweep", "tests/scenario/release/sweep.yaml", "--out", out, "--jobs", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string summary = read_file(out + "/summary.md");
  ASSERT_NE(summary.find("## By kernel.release"), std::string::npos) << summary;
  for (const char* v : {"| 3.10 | 1 |", "| 4.4 | 1 |", "| 5.10 | 1 |"}) {
    EXPECT_NE(summary.find(v), std::string::npos) << v << "\n" << summary;
  }
}

// The placement of every wakeup in RCU: from 3.0 on none happens while an rcu_node lock is
// held (GP kthread wakeups after the unlock: needwake from 3.15, an irq_work in 3.10-3.14;
// the expedited waiter after the root lock: 131906b0062d); in 2.6.39 the expedited waiter
// is woken under the root lock.
TEST(Releases, NoWakeupUnderAnRcuNodeLockFrom3_0AndSomeIn2_6_39) {
  for (const auto& v : kListed) {
    Point r = run("tests/scenario/release/wakeup_stress.yaml", {"kernel.release=" + v});
    ASSERT_EQ(r.code, 0) << v << ": " << r.err << r.json;
    EXPECT_GT(metric(r.json, "rcu.blocked_readers"), 0) << v;
    EXPECT_GT(metric(r.json, "rcu.stall_warnings"), 0) << v;
    EXPECT_EQ(metric(r.json, "rcu.callbacks_elsewhere"), 0) << v << ": callbacks run where they were queued";
    EXPECT_GT(metric(r.json, "rcu.callbacks"), 0) << v;
    if (v == "2.6.39") {
      EXPECT_GT(metric(r.json, "rcu.wakeups_under_rnp_lock"), 0) << "rcu_report_exp_rnp woke under the root lock";
    } else {
      EXPECT_EQ(metric(r.json, "rcu.wakeups_under_rnp_lock"), 0) << v;
    }
  }
}

// v4.4's sync_rcu_exp_select_cpus(): an IPI only to CPUs that are neither the caller's nor
// dyntick-idle; before 4.4 the stoppers force context switches and nothing is IPI'd.
TEST(Releases, ExpeditedIpisGoOnlyToBusyOtherCpusFrom4_4) {
  Point now = run("tests/scenario/release/exp_targets.yaml", {"kernel.release=4.4"});
  ASSERT_EQ(now.code, 0) << now.err;
  const double gps = metric(now.json, "rcu.exp_gps");
  EXPECT_EQ(metric(now.json, "rcu.exp_ipis"), gps) << "CPU2 only";
  EXPECT_EQ(metric(now.json, "rcu.exp_no_ipi"), 3 * gps) << "CPU1 (the caller's) and the idle CPUs 0 and 3";
  Point before = run("tests/scenario/release/exp_targets.yaml", {"kernel.release=4.1"});
  ASSERT_EQ(before.code, 0) << before.err;
  EXPECT_EQ(metric(before.json, "rcu.exp_ipis"), 0);
  EXPECT_GT(metric(before.json, "rcu.exp_gps"), 10);
}

// Readers preempted during expedited GPs (v4.4's rcu_preempt_note_context_switch() and the
// blocked path of rcu_read_unlock_special()): an IPI'd reader preempted before its unlock
// reports its CPU at the switch, keeps holding the GP, and its unlock reports on its own
// behalf; before 4.4 the stoppers preempt readers and only the unlock reports. Every GP
// waits for them (the checker).
TEST(Releases, PreemptedReadersHoldExpeditedGpsAndReportAtTheirUnlock) {
  for (const char* v : {"4.1", "4.4"}) {
    Point r = run("tests/scenario/release/preempted_readers.yaml", {std::string("kernel.release=") + v});
    ASSERT_EQ(r.code, 0) << v << r.err << r.json;
    EXPECT_EQ(metric(r.json, "rcu.violations"), 0) << v;
    EXPECT_GT(metric(r.json, "rcu.exp_gps"), 50) << v;
    EXPECT_GT(metric(r.json, "rcu.blocked_readers"), 50) << v;
    EXPECT_GT(metric(r.json, "rcu.exp_unblock_reports"), 50) << v;
    if (std::string(v) == "4.4") {
      EXPECT_GT(metric(r.json, "rcu.exp_qs_at_switch"), 0);
    } else {
      EXPECT_EQ(metric(r.json, "rcu.exp_qs_at_switch"), 0) << "no IPIs, no exp_need_qs";
    }
  }
}

// printk: lockdep sees nothing of it before 4.11 (lockdep_off()), and from 4.11 the
// caller's lock before logbuf_lock and (console_sem).lock; klogd is woken from the tick
// before 3.9 and from an irq_work after.
TEST(Releases, PrintkIsInvisibleToLockdepBefore4_11AndWakesKlogdAsTheReleaseDoes) {
  Point r34 = run("tests/scenario/release/printk.yaml", {"kernel.release=3.4"});
  Point r44 = run("tests/scenario/release/printk.yaml", {"kernel.release=4.4"});
  Point r414 = run("tests/scenario/release/printk.yaml", {"kernel.release=4.14"});
  for (const Point* r : {&r34, &r44, &r414}) ASSERT_EQ(r->code, 0) << r->err;
  EXPECT_EQ(metric(r44.json, "lockdep.dependencies"), metric(r34.json, "lockdep.dependencies"));
  EXPECT_EQ(metric(r414.json, "lockdep.dependencies"), metric(r44.json, "lockdep.dependencies") + 2)
      << "lock_A -> logbuf_lock and lock_A -> (console_sem).lock";
  EXPECT_GT(metric(r34.json, "klogd_tick_wakeups"), 0);
  EXPECT_EQ(metric(r34.json, "klogd_irq_work_wakeups"), 0);
  EXPECT_EQ(metric(r44.json, "klogd_tick_wakeups"), 0);
  EXPECT_GT(metric(r44.json, "klogd_irq_work_wakeups"), 0);
  Point direct = run("tests/scenario/release/printk.yaml", {"kernel.release=4.4", "kernel.printk.wakeup=direct"});
  EXPECT_EQ(metric(direct.json, "klogd_irq_work_wakeups"), 0);
}

// A task sleeping in console_lock() while printk holds the console (a slow console driver):
// printk's up(&console_sem) wakes it under the semaphore's lock. From 4.11 lockdep sees that
// wakeup too: one dependency more than printk without a waiter,
// (console_sem).lock -> &p->pi_lock.
TEST(Releases, PrintkWakesAConsoleWaiterAndLockdepSeesItFrom4_11) {
  Point r44 = run("tests/scenario/release/console_waiter.yaml", {"kernel.release=4.4"});
  Point r414 = run("tests/scenario/release/console_waiter.yaml", {"kernel.release=4.14"});
  ASSERT_EQ(r44.code, 0) << r44.err;
  ASSERT_EQ(r414.code, 0) << r414.err;
  EXPECT_EQ(metric(r414.json, "lockdep.dependencies"), metric(r44.json, "lockdep.dependencies") + 3)
      << "lock_A -> logbuf_lock, lock_A -> (console_sem).lock, (console_sem).lock -> &p->pi_lock";
}

// TTWU_QUEUE: no queueing in 2.6.39; every remote wakeup queued in 3.0-3.2; from 3.3 only
// to a CPU sharing no cache (another socket).
TEST(Releases, RemoteWakeupsQueuedToTheTargetAsTheReleaseDoes) {
  auto queued = [](const std::string& v, int sockets) {
    Point r = run("scenarios/perf-rcu-2015.yaml",
                {"kernel.release=" + v, "duration=5ms",
                 "topology.levels=[{name: cluster, size: 2}, {name: socket, size: " + std::to_string(3 - sockets) +
                     "}]"});
    return metric(r.json, "ttwu_queued");
  };
  EXPECT_EQ(queued("2.6.39", 2), 0);
  EXPECT_GT(queued("3.0", 1), 100);
  EXPECT_EQ(queued("4.4", 1), 0) << "one socket: every CPU shares the last-level cache";
  EXPECT_GT(queued("4.4", 2), 0);
}

// perf_lock_task_context() per release: `release` follows 058ebd0eba3a (3.11) and
// 2fd59077755c (4.4); only 4.4's expedited IPIs turn the preempt_disable form into the bug.
TEST(Releases, PerfLockTaskContextFollowsTheRelease) {
  Point fixed = run("scenarios/perf-rcu-2015.yaml", {"kernel.release=4.4", "kernel.perf.lock_task_context=release"});
  EXPECT_EQ(fixed.code, 0) << fixed.err;
  EXPECT_EQ(metric(fixed.json, "lockdep_reports"), 0) << fixed.lockdep;
  EXPECT_GT(metric(fixed.json, "irqs_off_by_site.perf_lock_task_context.max_cycles"), 0) << "irq_save";
  Point old = run("scenarios/perf-rcu-2015.yaml", {"kernel.release=4.1", "kernel.perf.lock_task_context=release"});
  EXPECT_EQ(metric(old.json, "deadlock"), 0) << "no expedited IPIs before 4.4: the reader is never marked";
  EXPECT_EQ(metric(old.json, "rcu.exp_ipis"), 0);
}

// lockdep's wait-type check exists from 5.7 (de8f5e4f2dc1) only.
TEST(Releases, WaitTypeCheckFrom5_7) {
  Point before = run("tests/scenario/release/wait_context.yaml", {"kernel.release=5.4"});
  Point after = run("tests/scenario/release/wait_context.yaml", {"kernel.release=5.10"});
  ASSERT_EQ(before.code, 0) << before.err;
  ASSERT_EQ(after.code, 0) << after.err;
  EXPECT_EQ(metric(before.json, "lockdep.invalid_wait_context"), 0) << before.lockdep;
  EXPECT_EQ(metric(after.json, "lockdep.invalid_wait_context"), 1);
  EXPECT_NE(after.lockdep.find("[ BUG: Invalid wait context ]"), std::string::npos) << after.lockdep;
}

// docs/kernel-model.md's table against `quiesce list releases`: every change has its row
// with its release and commit, and every row's model code names functions that exist there.
TEST(KernelModelDoc, EveryChangeIsDocumentedWithItsCodeAndCommit) {
  const std::string root = QUIESCE_SOURCE_DIR;
  const std::string doc = read_file(root + "/docs/kernel-model.md");
  ASSERT_FALSE(doc.empty());
  CliResult r = run_cli({"list", "releases"});
  ASSERT_EQ(r.code, 0);
  std::regex change_line(R"(^(\d+\.\d+(?:\.\d+)?)\s+([0-9a-f]{12})?\??\s*-?\s+([a-z_]+\.[a-z_.]+)\s)");
  int changes = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, change_line)) continue;
    ++changes;
    const std::string key = m[3], since = m[1], commit = m[2];
    const size_t row = doc.find("| `" + key + "` | " + since + " | ");
    ASSERT_NE(row, std::string::npos) << key << " " << since;
    const std::string text = doc.substr(row, doc.find('\n', row) - row);
    if (!commit.empty()) {
      EXPECT_NE(text.find(commit), std::string::npos) << key;
    }
    // The last cell: `file`: `Fn`, `Fn` ...
    std::smatch code;
    ASSERT_TRUE(std::regex_search(text, code, std::regex(R"(\| `([a-z_/]+\.cpp)`[^|]*\|\s*$)"))) << text;
    const std::string source = read_file(root + "/sim/kernel/" + code[1].str());
    ASSERT_FALSE(source.empty()) << code[1];
    const std::string cell = code[0];
    std::regex fn(R"(`([A-Za-z]+::[a-z_]+)`)");
    for (auto it = std::sregex_iterator(cell.begin(), cell.end(), fn); it != std::sregex_iterator(); ++it) {
      EXPECT_NE(source.find((*it)[1].str() + "("), std::string::npos) << (*it)[1] << " in " << code[1];
    }
  }
  EXPECT_GE(changes, 18);
}

}  // namespace
}  // namespace quiesce::test
