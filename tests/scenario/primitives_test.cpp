// Every op-program primitive and hook point on the kernel's own objects: the lock classes it
// takes and the wakeups it makes, measured against the same scenario without it (so the
// kernel's own traffic cancels out); and its misuse: a clear error or report, never a hang
// or a crash.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

// stats.txt rows "lock.<class>.acquisitions N" and "kernel.<counter> N".
std::map<std::string, double> stats_of(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string name;
  double v;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    if (l >> name >> v) out[name] = v;
  }
  return out;
}

struct PrimRun {
  int code;
  std::string json, lockdep, err;
  std::map<std::string, double> stats;
};

const char* kHeader = R"(name: prim
set: {cores: 2}
duration: 30ms
kernel: {lockdep: {after_report: continue}}
locks:
  S: {class: "&mm->mmap_sem", kind: rwsem}
  SEM: {class: "test_sem", kind: semaphore, count: 0}
  H: {class: "&hook->lock"}
  RW: {class: tasklist_lock, kind: rwlock}
)";

// kHeader's locks and `workload` (or a whole scenario `text`), run with `extra` arguments.
PrimRun run_text(const std::string& text, const std::vector<std::string>& extra = {}) {
  std::string dir = temp_dir("prim");
  std::string file = write_temp(dir, "s.yaml", text);
  std::string out = dir + "/out";
  std::vector<std::string> args = {"run", file, "--out", out, "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  CliResult r = run_cli(args);
  return {r.code, read_file(out + "/result.json"), read_file(out + "/lockdep.log"), r.err,
          stats_of(read_file(out + "/stats.txt"))};
}

PrimRun run_yaml(const std::string& workload, const std::vector<std::string>& extra = {}) {
  return run_text(std::string(kHeader) + "workload:\n" + workload, extra);
}

// The actor on CPU0 runs `prim` `n` times (then sleeps 50us); `waiter` runs on CPU1.
std::string actor(const std::string& prim, int n, const std::string& waiter) {
  std::string w = "  - {task: program, name: actor, cpu: 0, program: [{repeat: " + std::to_string(n) +
                  ", do: [" + prim + (prim.empty() ? "" : ", ") + "{sleep: 50us}]}]}\n";
  w += "  - {task: program, name: waiter, cpu: 1, program: [" + (waiter.empty() ? "{compute: 10}" : waiter) + "]}\n";
  return w;
}

struct Case {
  const char* name;
  std::string prim, waiter;
  int n;
  std::vector<std::pair<std::string, double>> deltas;  // stats.txt row -> least increase
};

std::ostream& operator<<(std::ostream& o, const Case& c) { return o << c.name; }

class Primitive : public ::testing::TestWithParam<Case> {};

TEST_P(Primitive, TakesItsLocksAndMakesItsWakeups) {
  const Case& c = GetParam();
  PrimRun with = run_yaml(actor(c.prim, c.n, c.waiter));
  PrimRun without = run_yaml(actor("", c.n, c.waiter));
  ASSERT_EQ(with.code, 0) << with.err << with.json;
  ASSERT_EQ(without.code, 0) << without.err;
  for (const auto& [row, least] : c.deltas) {
    const double d = with.stats[row] - without.stats[row];
    EXPECT_GE(d, least) << row << ": " << with.stats[row] << " with, " << without.stats[row] << " without";
  }
  EXPECT_EQ(json_metric(with.json, "lockdep_reports", -1), 0) << with.lockdep;
  EXPECT_EQ(json_metric(with.json, "deadlock", -1), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Ops, Primitive,
    ::testing::Values(
        Case{"task_rq_lock", "{task_rq_lock: waiter}, {task_rq_unlock: waiter}", "", 10,
             {{"lock.p_pi_lock.acquisitions", 10}, {"lock.rq_lock.acquisitions", 10}}},
        Case{"kernel_operands",
             "{lock_irqsave: cpu_rq(1)->lock}, {unlock_irqrestore: cpu_rq(1)->lock}, {lock_irqsave: rcu_get_root()->lock}, "
             "{unlock_irqrestore: rcu_get_root()->lock}, {lock_irqsave: rdp(1)->mynode->lock}, "
             "{unlock_irqrestore: rdp(1)->mynode->lock}, {lock_irqsave: waiter->perf_event_ctxp->lock}, "
             "{unlock_irqrestore: waiter->perf_event_ctxp->lock}, {lock_irqsave: task_rq(waiter)->lock}, "
             "{unlock_irqrestore: task_rq(waiter)->lock}, {lock_irqsave: waiter->pi_lock}, {unlock_irqrestore: waiter->pi_lock}",
             "", 10,
             {{"lock.rq_lock.acquisitions", 20}, {"lock.rcu_node_0.acquisitions", 20}, {"lock.ctx_lock.acquisitions", 10},
              {"lock.p_pi_lock.acquisitions", 10}}},
        Case{"wake_kthread", "{wake: ksoftirqd/1}", "", 10,
             {{"lock.p_pi_lock.acquisitions", 10}, {"lock.rq_lock.acquisitions", 10}, {"kernel.wakeups", 10}}},
        Case{"send_sig", "{send_sig: waiter}", "{repeat: 10, do: [wait]}", 10,
             {{"lock.sighand_siglock_rlock.acquisitions", 10}, {"lock.p_pi_lock.acquisitions", 10}, {"kernel.wakeups", 10},
              {"kernel.signals", 10}}},
        Case{"rwsem", "{down_read: S}, {sleep: 20us}, {up_read: S}",
             "{repeat: 10, do: [{sleep: 5us}, {down_write: S}, {up_write: S}, {sleep: 45us}]}", 10,
             {{"lock.mm_mmap_sem.acquisitions", 10}, {"lock.sem_wait_lock.acquisitions", 20}, {"kernel.wakeups", 1}}},
        Case{"semaphore", "{up: SEM}", "{repeat: 10, do: [{down: SEM}]}", 10,
             {{"lock.test_sem_lock.acquisitions", 20}, {"kernel.wakeups", 5}}},
        Case{"mod_timer", "{mod_timer: {timer: t, after: 10us, do: [{complete: fired}]}}, {wait_for_completion: fired}", "", 2,
             {{"lock.base_lock_rlock.acquisitions", 4}, {"kernel.timers", 2}, {"lock.fired_lock.acquisitions", 2}}},
        Case{"hrtimer_start", "{hrtimer_start: {timer: h, after: 10us, do: [{complete: fired}]}}, {wait_for_completion: fired}",
             "", 10, {{"lock.hrtimer_bases_lock.acquisitions", 10}, {"kernel.hrtimers", 10}, {"kernel.wakeups", 10}}},
        Case{"irq_work_queue", "{irq_work_queue: [{complete: fired}]}, {wait_for_completion: fired}", "", 10,
             {{"kernel.irq_works", 10}, {"lock.fired_lock.acquisitions", 10}}},
        Case{"smp_call_function_single", "{smp_call_function_single: {cpu: 1, wait: true, do: [{complete: fired}]}}", "", 10,
             {{"lock.fired_lock.acquisitions", 10}}},
        Case{"smp_call_function_many", "{smp_call_function_many: {cpus: all, wait: false, do: [{complete: fired}]}}", "", 10,
             {{"lock.fired_lock.acquisitions", 10}}},
        Case{"call_rcu", "{call_rcu: [{complete: fired}]}, {wait_for_completion: fired}", "", 3,
             {{"rcu.callbacks", 3}, {"lock.fired_lock.acquisitions", 3}}},
        Case{"rcu_barrier", "{call_rcu: [{compute: 10}]}, rcu_barrier", "", 3,
             {{"lock.rsp_barrier_mutex.acquisitions", 3}, {"rcu.callbacks", 6}}},
        Case{"rwlock",
             "{read_lock: RW}, {read_unlock: RW}, {write_lock_irq: RW}, {write_unlock_irq: RW}, {read_lock_irqsave: RW}, "
             "{read_unlock_irqrestore: RW}, {write_lock_bh: RW}, {write_unlock_bh: RW}",
             "", 10, {{"lock.tasklist_lock.acquisitions", 40}}},
        Case{"del_timer", "{mod_timer: {timer: t, after: 2ms, do: [{compute: 1}]}}, {del_timer: t}", "", 10,
             {{"lock.base_lock_rlock.acquisitions", 20}}},
        Case{"down_read_trylock", "{down_read_trylock: {sem: S, do: [{compute: 100}, {up_read: S}]}}", "", 10,
             {{"lock.mm_mmap_sem.acquisitions", 10}}},
        Case{"srcu", "{srcu_read_lock: ss}, {compute: 200}, {srcu_read_unlock: ss}, {synchronize_srcu: ss}", "", 10,
             {{"lock.sp_queue_lock.acquisitions", 10}}},
        Case{"call_srcu", "{call_srcu: {srcu: ss, do: [{complete: fired}]}}, {wait_for_completion: fired}", "", 5,
             {{"lock.sp_queue_lock.acquisitions", 10}, {"kernel.works", 5}, {"lock.fired_lock.acquisitions", 5}}},
        Case{"queue_and_flush_work", "{queue_work: {cpu: 1, name: w, do: [{compute: 2000}]}}, {flush_work: w}", "", 10,
             {{"lock.pool_lock.acquisitions", 10}, {"kernel.works", 10}, {"kernel.wakeups", 10}}}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

// Each hook point: its program runs (taking a lock of its own), in a context where sleeping
// is illegal, so a sleep there is reported (might_sleep) and skipped: no hang.
class HookPoint : public ::testing::TestWithParam<const char*> {};

TEST_P(HookPoint, RunsWithItsLocksHeldAndASleepThereIsReported) {
  const std::string hook = GetParam();
  std::string w = actor("{wake: waiter}", 20, "{repeat: 20, do: [wait, {compute: 3us}]}");
  PrimRun quiet = run_yaml(w + "  - {hook: " + hook + ", program: [{lock: H}, {compute: 50}, {unlock: H}]}\n");
  ASSERT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_GT(json_metric(quiet.json, "hook." + hook + ".runs", 0), 0) << quiet.json;
  EXPECT_GT(quiet.stats["lock.hook_lock.acquisitions"], 0);
  EXPECT_EQ(json_metric(quiet.json, "lockdep_reports", -1), 0) << quiet.lockdep;

  PrimRun sleepy = run_yaml(w + "  - {hook: " + hook + ", program: [{sleep: 10us}]}\n");
  ASSERT_EQ(sleepy.code, 0) << sleepy.err;
  EXPECT_GE(json_metric(sleepy.json, "lockdep.invalid_context", 0), 1) << sleepy.lockdep;
  EXPECT_NE(sleepy.lockdep.find("BUG: sleeping function called from invalid context"), std::string::npos);
  EXPECT_EQ(json_metric(sleepy.json, "deadlock", -1), 0);
  EXPECT_EQ(sleepy.json.find("\"outcome\": \"stall\""), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Points, HookPoint,
                         ::testing::Values("sched_switch", "enqueue", "dequeue", "update_curr", "select_task_rq", "tick",
                                           "irq_exit"));

// A wakeup from sched_switch (rq->lock held) is the recursion lockdep and the deadlock
// detector catch; the hook does not run from inside itself (bpf_prog_active).
TEST(HookPointMisuse, WakingFromSchedSwitchIsCaught) {
  PrimRun r = run_yaml(actor("{compute: 10}", 20, "{repeat: 20, do: [wait]}") +
                   "  - {hook: sched_switch, cpu: 0, program: [{wake: waiter}]}\n"
                   "  - {hook: enqueue, program: [{compute: 10}]}\n");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GE(json_metric(r.json, "lockdep_reports", 0), 1) << r.json;
  EXPECT_NE(r.lockdep.find("&rq->lock"), std::string::npos);
  EXPECT_GT(json_metric(r.json, "hook_recursion", 0), 0) << "the wakeup's enqueue hook inside sched_switch is skipped";
}

// Misuse that validation refuses: exit 2, one clear line naming what to write instead.
struct Refused {
  const char* name;
  std::string locks, workload, message;
};
std::ostream& operator<<(std::ostream& o, const Refused& c) { return o << c.name; }

class Refusal : public ::testing::TestWithParam<Refused> {};

TEST_P(Refusal, IsAClearError) {
  const Refused& c = GetParam();
  std::string dir = temp_dir("refuse");
  std::string file = write_temp(dir, "s.yaml", "name: r\nset: {cores: 2}\nduration: 1ms\n" + c.locks + "workload:\n" + c.workload);
  CliResult r = run_cli({"run", file, "--out", dir + "/out", "-q"});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Refusal,
    ::testing::Values(
        Refused{"borrowed_rq_lock", "locks: {RQ: {class: \"&rq->lock\"}}\n",
                "  - {task: program, program: [{lock: RQ}, {unlock: RQ}]}\n",
                "would borrow the kernel's lock class '&rq->lock'"},
        Refused{"borrowed_rq_lock_names_operand", "locks: {RQ: {class: \"rq->lock/1\"}}\n",
                "  - {task: program, program: [{lock: RQ}, {unlock: RQ}]}\n", "this_rq()->lock, cpu_rq(N)->lock"},
        Refused{"borrowed_pi_lock", "locks: {P: {class: \"&p->pi_lock\"}}\n", "  - {task: program, program: [compute: 1]}\n",
                "Use the kernel's own lock: TASK->pi_lock"},
        Refused{"borrowed_rcu_node", "locks: {N: {class: rcu_node_0}}\n", "  - {task: program, program: [compute: 1]}\n",
                "rcu_get_root()->lock"},
        Refused{"unknown_kernel_lock", "", "  - {task: program, program: [{lock: current->mm->mmap_lock}]}\n",
                "is no kernel lock the model has"},
        Refused{"kernel_lock_as_mutex", "", "  - {task: program, program: [{mutex_lock: this_rq()->lock}]}\n",
                "one of the kernel's spinlocks, not a mutex"},
        Refused{"unknown_task", "", "  - {task: program, program: [{wake: ksoftirqd/7}]}\n", "no task named 'ksoftirqd/7'"},
        Refused{"cpu_rq_past_cores", "", "  - {task: program, program: [{lock: cpu_rq(5)->lock}]}\n", "CPU '5' is not one of 0..1"},
        Refused{"unknown_hook", "", "  - {hook: sched_swtich, program: [compute: 1]}\n", "did you mean 'sched_switch'"},
        Refused{"hook_for_unknown_task", "", "  - {hook: tick, task: nobody, program: [compute: 1]}\n",
                "no task named 'nobody'"},
        Refused{"bad_since", "", "  - {task: program, program: [{since: five, do: [compute: 1]}]}\n",
                "expected a Linux release like"},
        Refused{"rwsem_op_on_spinlock", "locks: {L: {}}\n", "  - {task: program, program: [{down_read: L}]}\n",
                "lock 'L' is a raw_spin, not a rwsem"}),
    [](const ::testing::TestParamInfo<Refused>& i) { return std::string(i.param.name); });

// Misuse at run time: a kernel WARNING or a report, and the run ends normally.
TEST(PrimitiveMisuse, DelTimerSyncFromItsOwnCallbackWarnsInsteadOfHanging) {
  PrimRun r = run_yaml(actor("{mod_timer: {timer: t, after: 10us, do: [{del_timer_sync: t}]}}, {sleep: 3ms}", 1, ""));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GE(json_metric(r.json, "kernel.warnings", 0), 1) << r.json;
  EXPECT_NE(r.json.find("del_timer_sync(t)"), std::string::npos) << r.json;
}

TEST(PrimitiveMisuse, HrtimerCancelFromItsOwnCallbackWarnsInsteadOfHanging) {
  PrimRun r = run_yaml(actor("{hrtimer_start: {timer: h, after: 10us, do: [{hrtimer_cancel: h}]}}", 3, ""));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GE(json_metric(r.json, "kernel.warnings", 0), 1) << r.json;
}

TEST(PrimitiveMisuse, SmpCallFunctionManyWithIrqsOffWarns) {
  PrimRun r = run_yaml(actor("local_irq_disable, {smp_call_function_many: {cpus: all, wait: false, do: [{compute: 1}]}}, "
                         "local_irq_enable",
                         3, ""));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GE(json_metric(r.json, "kernel.warnings", 0), 1) << r.json;
}

// The stall watchdog samples while every task sleeps and only a callback timer is queued: it
// must see the timer as something that can wake a task (it once read a null task there).
TEST(PrimitiveTimers, TheStallWatchdogCountsCallbackTimersAsPendingWork) {
  for (const char* arm : {"{hrtimer_start: {timer: h, after: 8ms, do: [{wake: actor}]}}",
                          "{mod_timer: {timer: t, after: 8ms, do: [{wake: actor}]}}"}) {
    PrimRun r = run_yaml(actor(std::string(arm) + ", wait", 1, ""));
    ASSERT_EQ(r.code, 0) << arm << r.err << r.json;
    EXPECT_NE(r.json.find("\"outcome\": \"ok\""), std::string::npos) << arm << r.json;
  }
}

TEST(PrimitiveMisuse, SmpCallFunctionSingleWithIrqsOffWarns) {
  PrimRun r = run_yaml(actor("local_irq_disable, {smp_call_function_single: {cpu: 1, wait: false, do: [{compute: 1}]}}, "
                             "local_irq_enable",
                             3, ""));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GE(json_metric(r.json, "kernel.warnings", 0), 1) << r.json;
}

// A program that cannot go on ends the run as outcome error with exit code 2 and the place
// in the scenario, from whichever stack it runs on.
TEST(PrimitiveMisuse, AnUnbalancedRestoreEndsTheRunAsAnError) {
  for (const char* prim : {"{task_rq_unlock: waiter}", "local_irq_restore"}) {
    PrimRun r = run_yaml(actor(prim, 1, ""));
    EXPECT_EQ(r.code, 2) << prim << r.err;
    EXPECT_NE(r.err.find("s.yaml:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("without"), std::string::npos) << r.err;
    EXPECT_NE(r.json.find("\"outcome\": \"error\""), std::string::npos) << r.json;
  }
}

TEST(PrimitiveMisuse, UpReadWithoutDownReadIsABadUnlock) {
  PrimRun r = run_yaml(actor("{up_read: S}", 1, ""));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GE(json_metric(r.json, "lockdep.bad_unlock", 0), 1) << r.lockdep;
}

TEST(PrimitiveMisuse, SleepingPrimitivesInACallbackAreReported) {
  // Each from its own call site (lockdep reports each site once).
  PrimRun r = run_yaml(actor("{queue_work: {name: w, do: [{compute: 1}]}}, "
                             "{irq_work_queue: [{frame: cb_down, do: [{down: SEM}]}, {frame: cb_sync, do: [synchronize_rcu]}, "
                             "{frame: cb_flush, do: [{flush_work: w}]}]}",
                             2, ""));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GE(json_metric(r.json, "lockdep.invalid_context", 0), 3) << r.lockdep;
  for (const char* site : {"cb_down", "cb_sync", "cb_flush"}) {
    EXPECT_NE(r.lockdep.find(site), std::string::npos) << site << "\n" << r.lockdep;
  }
}

// synchronize_srcu() inside a reader of the same domain: lockdep's suspicious RCU usage (and
// the wait never ends: the run reaches its duration, the simulator does not hang).
TEST(PrimitiveMisuse, SynchronizeSrcuInsideItsOwnReaderIsSuspiciousRcuUsage) {
  PrimRun r = run_yaml(actor("{srcu_read_lock: ss}, {synchronize_srcu: ss}, {srcu_read_unlock: ss}", 1, ""));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json_metric(r.json, "lockdep.suspicious_rcu", 0), 1) << r.lockdep;
  EXPECT_NE(r.lockdep.find("Illegal synchronize_srcu() in same-type SRCU (or in RCU) read-side critical section!"),
            std::string::npos)
      << r.lockdep;
  EXPECT_NE(r.lockdep.find("(ss){"), std::string::npos) << "the domain's map is listed as held\n" << r.lockdep;
}

TEST(PrimitiveMisuse, AMissingRcuNodeIsAClearRunTimeError) {
  PrimRun r = run_yaml(actor("{lock: rcu_node(9)->lock}", 1, ""));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("rcu_node(9) does not exist: this tree has 1 nodes"), std::string::npos) << r.err;
}

TEST(PrimitiveMisuse, FlushingAWorkNeverQueuedIsAClearRunTimeError) {
  PrimRun r = run_yaml(actor("{flush_work: nothing}", 1, ""));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("flush_work: no work item named 'nothing'"), std::string::npos) << r.err;
}

// rwlock readers are recursive reads to lockdep (v4.4): a reader nests in a reader, and a
// read-side order against another lock is checked but not stored, so only write-side
// dependencies can close a cycle. CPU1 starts 10us late, so CPU0's order is stored first
// (the other way round the read-side order is never stored, and the two can deadlock with
// lockdep silent, as in v4.4).
TEST(RwlockLockdep, ReadersNestAndOnlyWriteSideDependenciesCount) {
  auto reports = [](const std::string& cpu0, const std::string& cpu1) {
    PrimRun r = run_yaml("  - {task: program, name: a, cpu: 0, program: [{repeat: 20, do: [" + cpu0 +
                         ", {sleep: 20us}]}]}\n  - {task: program, name: b, cpu: 1, program: [{sleep: 10us}, {repeat: 20, do: [" + cpu1 +
                         ", {sleep: 30us}]}]}\n");
    EXPECT_EQ(r.code, 0) << r.err;
    return std::make_pair(json_metric(r.json, "lockdep_reports", -1), r.lockdep);
  };
  auto nested = reports("{read_lock: RW}, {read_lock: RW}, {read_unlock: RW}, {read_unlock: RW}", "{compute: 10}");
  EXPECT_EQ(nested.first, 0) << nested.second;
  auto inverted_reads = reports("{read_lock: RW}, {lock: H}, {unlock: H}, {read_unlock: RW}",
                                "{lock: H}, {read_lock: RW}, {read_unlock: RW}, {unlock: H}");
  EXPECT_EQ(inverted_reads.first, 0) << inverted_reads.second;
  auto writer = reports("{write_lock: RW}, {lock: H}, {unlock: H}, {write_unlock: RW}",
                        "{lock: H}, {read_lock: RW}, {read_unlock: RW}, {unlock: H}");
  EXPECT_EQ(writer.first, 1) << writer.second;
  EXPECT_NE(writer.second.find("possible circular locking dependency"), std::string::npos) << writer.second;
  auto write_in_read = reports("{read_lock: RW}, {write_lock: RW}, {write_unlock: RW}, {read_unlock: RW}", "{compute: 10}");
  EXPECT_NE(write_in_read.second.find("possible recursive locking detected"), std::string::npos) << write_in_read.second;
}

// Kernel configs: NO_HZ idle stops an idle CPU's tick (far fewer ticks served) without the
// hard-lockup watchdog taking a CPU whose tick keeps stopping and restarting for a stalled one.
TEST(KernelConfigs, NohzIdleStopsTheTickAndTheWatchdogStaysQuiet) {
  const std::string w =
      "  - {task: sleeper, name: b, cpu: 1, run: 200us, sleep: {dist: uniform, min: 1100us, max: 2ms}}\n"
      "  - {task: sleeper, name: a, cpu: 0, run: 50us, sleep: 4ms}\n";
  auto run = [&](const char* nohz) {
    PrimRun r = run_text(std::string("name: n\nset: {cores: 2}\nduration: 400ms\nkernel: {nohz_idle: ") + nohz +
                         "}\nworkload:\n" + w);
    EXPECT_EQ(r.code, 0) << r.err;
    return r;
  };
  PrimRun on = run("true"), off = run("false");
  EXPECT_EQ(on.json.find("hard_lockup"), std::string::npos) << on.json;
  const double ticks_on = on.stats["kernel.ticks"], ticks_off = off.stats["kernel.ticks"];
  EXPECT_GT(ticks_off, 790);  // two CPUs, 400 ticks each
  EXPECT_LT(ticks_on, ticks_off / 2) << "idle CPUs stop their tick";
}

// With NO_HZ idle, CPUs whose tick is stopped owe grace periods nothing: the GP kthread's
// force-quiescent-state scan reports them (force_qs_rnp), so synchronize_rcu() and
// rcu_barrier() return on a mostly idle machine, with every CPU offloaded too.
TEST(KernelConfigs, GracePeriodsEndWithIdleCpusTickStopped) {
  for (const char* nocbs : {"none", "all"}) {
    PrimRun r = run_text("name: g\nset: {cores: 4}\nduration: 200ms\nkernel: {nohz_idle: true, rcu: {nocbs: " +
                             std::string(nocbs) +
                             "}}\nworkload:\n  - {task: program, name: u, cpu: 0, program: [{repeat: 5, do: [synchronize_rcu, "
                             "{call_rcu: [{compute: 10}]}, rcu_barrier, {sleep: 3ms}]}]}\n");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.json.find("\"outcome\": \"ok\""), std::string::npos) << nocbs << "\n" << r.json;
    EXPECT_GE(json_metric(r.json, "rcu.gps", 0), 5) << nocbs;
  }
}

// sched_feat(TTWU_QUEUE) forced off takes the target's rq->lock in the waker, as before 3.0.
TEST(KernelConfigs, TtwuQueueOffWakesUnderTheTargetsRqLock) {
  const std::string w = actor("{wake: waiter}", 20, "{repeat: 20, do: [wait]}");
  auto queued = [&](const char* mode) {
    PrimRun r = run_yaml(w, {"--set", "kernel.release=3.0", "--set", std::string("kernel.sched.ttwu_queue=") + mode});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.stats["kernel.ttwu_queued"];
  };
  EXPECT_GE(queued("on"), 10);
  EXPECT_EQ(queued("off"), 0);
}

// threadirqs moves a device handler into its irq thread (process context, bh off): a lock
// it shares with a task that takes it with irqs on is no longer an irq-safety violation.
TEST(KernelConfigs, ThreadirqsRunsHandlersInTheirThreadsAndEndsTheHardirqInversion) {
  const std::string w =
      "  - {irq: nic, cpu: 0, period: 20us, program: [{lock: H}, {compute: 100}, {unlock: H}]}\n"
      "  - {task: program, name: t, cpu: 0, program: [{repeat: 50, do: [{lock: H}, {compute: 300}, {unlock: H}, "
      "{sleep: 10us}]}]}\n";
  PrimRun hard = run_yaml(w);
  ASSERT_EQ(hard.code, 0) << hard.err;
  EXPECT_EQ(json_metric(hard.json, "lockdep.inconsistent", 0), 1) << hard.lockdep;
  PrimRun r = run_yaml(w, {"--set", "kernel.threadirqs=true"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json_metric(r.json, "lockdep_reports", -1), 0) << r.lockdep;
  EXPECT_GT(json_metric(r.json, "irq_thread_latency.count", 0), 10) << r.json;
  EXPECT_GT(json_metric(r.json, "irq_thread_latency.p50_ns", 0), json_metric(r.json, "device_event_latency.p50_ns", 0))
      << "the thread runs after the hardirq";
}

// rcu_nocbs=all: callbacks run in the rcuop kthreads, in process context with bh off, so a
// lock a callback shares with a task taking it with bh on is no longer a softirq inversion.
TEST(KernelConfigs, RcuNocbsInvokesCallbacksFromKthreads) {
  const std::string w =
      "  - {task: program, name: actor, cpu: 0, program: [{repeat: 20, do: [{call_rcu: [{lock: H}, {unlock: H}]}, "
      "{lock: H}, {compute: 100}, {unlock: H}, {sleep: 50us}]}, rcu_barrier]}\n";
  PrimRun soft = run_yaml(w);
  ASSERT_EQ(soft.code, 0) << soft.err;
  EXPECT_EQ(json_metric(soft.json, "lockdep.inconsistent", 0), 1) << soft.lockdep;
  PrimRun r = run_yaml(w, {"--set", "kernel.rcu.nocbs=all"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json_metric(r.json, "lockdep_reports", -1), 0) << r.lockdep;
  EXPECT_GE(json_metric(r.json, "rcu.callbacks", 0), 10) << r.json;
}

// README ("Kernel scenarios" and "Writing your own kernel bug") documents every hook,
// primitive, operand and config the binary lists (a new one without documentation fails here).
TEST(KernelBugDocs, ReadmeNamesEveryHookPrimitiveOperandAndConfig) {
  const std::string readme = read_file(std::string(QUIESCE_SOURCE_DIR) + "/README.md");
  ASSERT_NE(readme.find("## Writing your own kernel bug"), std::string::npos);
  const size_t at = readme.find("## Kernel scenarios");
  ASSERT_NE(at, std::string::npos);
  const std::string section = readme.substr(at, readme.find("## Sweeps: from one command") - at);
  auto first_words = [](const std::string& text) {
    std::vector<std::string> v;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream l(line);
      std::string w;
      if (!line.empty() && line[0] != ' ' && (l >> w)) v.push_back(w);
    }
    return v;
  };
  CliResult hooks = run_cli({"list", "hooks"}), prims = run_cli({"list", "primitives", "--names"}),
            configs = run_cli({"list", "configs"}), operands = run_cli({"list", "operands"});
  ASSERT_EQ(hooks.code, 0);
  ASSERT_EQ(prims.code, 0);
  ASSERT_EQ(configs.code, 0);
  ASSERT_EQ(operands.code, 0);
  std::vector<std::string> names;
  for (auto* list : {&hooks.out, &prims.out, &configs.out}) {
    for (const auto& w : first_words(*list)) names.push_back(w);
  }
  std::istringstream in(operands.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("  ", 0) == 0 && line.find("->") != std::string::npos && line.find(" -> ") == std::string::npos) {
      std::istringstream l(line);
      std::string w;
      l >> w;
      names.push_back(w);
    }
  }
  EXPECT_GT(names.size(), 60u);
  for (const auto& n : names) EXPECT_NE(section.find("`" + n), std::string::npos) << "README does not document " << n;
}

}  // namespace
}  // namespace quiesce::test
