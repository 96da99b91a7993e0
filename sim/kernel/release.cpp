#include "sim/kernel/release.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace quiesce::kernel {
namespace {

bool parse_version(const std::string& s, Version* out) {
  int part[3] = {0, 0, 0};
  int n = 0;
  size_t i = 0;
  while (n < 3) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    int v = 0;
    size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (++digits > 3) return false;
      v = v * 10 + (s[i++] - '0');
    }
    part[n++] = v;
    if (i == s.size()) break;
    if (s[i++] != '.') return false;
  }
  if (i != s.size() || n < 2) return false;
  *out = Version{part[0], part[1], part[2]};
  return true;
}

Version must_parse(const char* s) {
  Version v;
  if (!parse_version(s, &v)) throw std::logic_error(std::string("bad version in the release table: ") + s);
  return v;
}

}  // namespace

std::string Version::text() const {
  char buf[48];
  if (patch) {
    std::snprintf(buf, sizeof buf, "%d.%d.%d", major, minor, patch);
  } else {
    std::snprintf(buf, sizeof buf, "%d.%d", major, minor);
  }
  return buf;
}

const std::vector<ChangeInfo>& release_changes() {
  static const std::vector<ChangeInfo> table = {
      {Change::ExpWakeAfterUnlock, "rcu.exp_wake_after_unlock", "3.0", "131906b0062d", true,
       "rcu: decrease rcu_report_exp_rnp coupling with scheduler",
       "the last expedited report wakes the waiter while holding the root rcu_node lock",
       "it drops the root lock first, then wakes the waiter", "rcu/exp.cpp: Rcu::report_exp_node"},
      {Change::TtwuQueue, "sched.ttwu_queue", "3.0", "317f394160e9", false,
       "sched: Move the second half of ttwu() to the remote cpu",
       "try_to_wake_up() takes the target CPU's rq->lock itself",
       "a remote wakeup is queued on the target CPU's wake list and finished by its scheduler IPI",
       "sched/core.cpp: Kernel::ttwu_queue"},
      {Change::TtwuQueueLlc, "sched.ttwu_queue_llc", "3.3", "518cd6234178", false,
       "sched: Only queue remote wakeups when crossing cache boundaries",
       "every remote wakeup is queued to the target CPU",
       "only wakeups to a CPU in another socket (no shared last-level cache) are queued",
       "sched/core.cpp: Kernel::ttwu_queue"},
      {Change::PerfPreemptDisable, "perf.lock_task_context_preempt_disable", "3.11", "058ebd0eba3a", true,
       "perf: Fix perf_lock_task_context() vs RCU",
       "perf_lock_task_context() runs a preemptible RCU reader (rcu_read_lock, then ctx->lock irqsave)",
       "it disables preemption around the reader", "perf/perf.cpp: Perf::perf_lock_task_context"},
      {Change::GpKthread, "rcu.gp_kthread", "3.7", "b3dbec76e533", true,
       "rcu: Move RCU grace-period initialization into a kthread",
       "rcu_start_gp() set up the grace period itself under the root lock (modelled by the 3.7 kthread, "
       "woken after the unlock: see docs/kernel-model.md)",
       "the rcu_preempt kthread runs grace periods; a GP start flags it under the root lock and wakes it after",
       "rcu/tree.cpp: Rcu::start_gp_from_softirq"},
      {Change::GpWakeIrqWork, "rcu.gp_wake_irq_work", "3.10", "016a8d5be6dd", false,
       "rcu: Don't call wakeup() with rcu_node structure ->lock held",
       "the GP kthread is woken right after the root lock is released",
       "rcu_start_gp_advanced() runs under the root lock and wakes the kthread through an irq_work "
       "(rsp_wakeup, in hardirq)",
       "rcu/tree.cpp: Rcu::rcu_gp_kthread_wake"},
      {Change::GpWakeNeedwake, "rcu.gp_wake_needwake", "3.15", "48a7639ce80c", false,
       "rcu: Make callers awaken grace-period kthread",
       "irq_work wakeup (3.10-3.14)",
       "rcu_start_gp() returns needwake and the caller wakes the kthread after the unlock, unless it is the "
       "kthread itself",
       "rcu/tree.cpp: Rcu::rcu_gp_kthread_wake"},
      {Change::ExpSkipIdleStop, "rcu.exp_stop_skips_idle", "3.19", "", false,
       "(in synchronize_sched_expedited(); commit not identified)",
       "the expedited GP stops every online CPU, its own included",
       "it stops only the other CPUs that are not idle", "rcu/exp.cpp: Rcu::exp_stop_cpus"},
      {Change::HrtimerNoSoftirq, "hrtimer.no_softirq", "4.2", "c6eb3f70d448", false,
       "hrtimer: Get rid of hrtimer softirq",
       "hrtimer_start() of an already expired timer leaves it to HRTIMER_SOFTIRQ (since a6037b61c2f5, 2.6.29)",
       "the clock event is reprogrammed to fire at once: the callback runs from the timer interrupt",
       "time/timer.cpp: Kernel::hrtimer_start"},
      {Change::ExpIpi, "rcu.exp_ipi", "4.4", "8203d6d0ee78", true,
       "rcu: Use single-stage IPI algorithm for RCU expedited grace period",
       "synchronize_rcu_expedited() forces a context switch on every CPU through the stopper (a reader still "
       "running is queued as blocked) and waits for blocked readers",
       "it IPIs each other non-idle CPU; the handler sets exp_need_qs in a reader, which reports at "
       "rcu_read_unlock(); the caller reports idle CPUs and its own without an IPI",
       "rcu/exp.cpp: Rcu::sync_rcu_exp_select_cpus"},
      {Change::RcuNodeNames, "rcu.node_lock_names", "3.7", "394f2769aa0d", false,
       "rcu: Prevent force_quiescent_state() memory contention",
       "the rcu_node locks' lockdep classes are rcu_node_level_0, rcu_node_level_1, ...",
       "they are rcu_node_0, rcu_node_1, ... (named with the new fqslock's rcu_node_fqs_N)",
       "rcu/tree.cpp: Rcu::Rcu"},
      {Change::NohzKickResched, "sched.nohz_kick_resched_ipi", "3.2", "ca38062e57e9", false,
       "sched: Use resched IPI to kick off the nohz idle balance",
       "nohz_balancer_kick() queues this CPU's remote_sched_softirq_cb csd to the idle CPU (__smp_call_function_single, "
       "csd_lock spinning while it is still queued)",
       "it sets NOHZ_BALANCE_KICK and sends a reschedule IPI; scheduler_ipi() raises SCHED_SOFTIRQ",
       "sched/core.cpp: Kernel::nohz_balancer_kick"},
      {Change::CallSingleLlist, "smp.call_single_llist", "3.14", "6897fc22ea01", false,
       "kernel: use lockless list for smp_call_function_single",
       "generic_exec_single() queues the csd under the target's call_single_queue lock (irqs saved), then sends "
       "the IPI if the list was empty",
       "llist_add() queues it with one atomic exchange, then the IPI if the list was empty",
       "softirq.cpp: Kernel::call_function_single_csd"},
      {Change::CsdUnlockBeforeAsync, "smp.csd_unlock_before_async", "4.1", "8053871d0f7f", true,
       "smp: Fix smp_call_function_single_async() locking",
       "the target runs each queued call's function, then unlocks its csd",
       "an asynchronous call's csd is unlocked first (CSD_FLAG_SYNCHRONOUS ones still after the function)",
       "softirq.cpp: Kernel::call_function_single_csd"},
      {Change::PrintkKlogdIrqWork, "printk.klogd_irq_work", "3.9", "74876a98a87a", false,
       "printk: Wake up klogd using irq_work",
       "wake_up_klogd() sets a per-CPU flag the next tick acts on (printk_tick)",
       "wake_up_klogd() queues a per-CPU irq_work that wakes klogd", "softirq.cpp: Kernel::wake_up_klogd"},
      {Change::PerfIrqSave, "perf.lock_task_context_irq_save", "4.4", "2fd59077755c", true,
       "perf: Disable IRQs across RCU RS CS that acquires scheduler lock",
       "perf_lock_task_context() disables preemption around its RCU reader and takes ctx->lock irqsave",
       "it disables interrupts around the reader (local_irq_save) and takes ctx->lock plainly",
       "perf/perf.cpp: Perf::perf_lock_task_context"},
      {Change::RwsemWakeQ, "locking.rwsem_wake_q", "4.7", "133e89ef5ef3", true,
       "locking/rwsem: Enable lockless waiter wakeup(s)",
       "rwsem_wake() wakes the waiters it grants the semaphore to while holding sem->wait_lock",
       "it collects them on a wake_q and wakes them after dropping sem->wait_lock",
       "locking/rwsem.cpp: Kernel::up_read, Kernel::up_write"},
      {Change::PrintkLockdepVisible, "printk.lockdep_visible", "4.11", "099f1c84c005", true,
       "printk: introduce per-cpu safe_print seq buffer (the printk_safe series; the patch that dropped "
       "lockdep_off() not identified)",
       "vprintk_emit() runs its locks and the console wakeup under lockdep_off(): lockdep records nothing",
       "lockdep sees logbuf_lock, (console_sem).lock and the console wakeup under whatever printk's caller "
       "holds",
       "softirq.cpp: Kernel::printk"},
      {Change::LockdepNoReclaimFs, "lockdep.no_reclaim_fs", "4.14", "d92a8cfcb37e", false,
       "locking/lockdep: Rework FS_RECLAIM annotation",
       "usage strings have six characters: hardirq, softirq and reclaim_fs, each write and read",
       "four characters: hardirq and softirq", "locking/lockdep.cpp: Lockdep::lock_name"},
      {Change::LockdepWarningLayout, "lockdep.warning_layout", "4.12", "", false,
       "lockdep: Use \"WARNING\" tag on lockdep splats (upstream id not identified)",
       "headings are '[ INFO: ... ]' and '[ BUG: ... ]' between rows of '='",
       "headings are 'WARNING: ...'", "locking/lockdep.cpp: Lockdep::banner"},
      {Change::PrintkConsoleOwner, "printk.console_owner", "4.16", "dbdda842fe96", false,
       "printk: Add console owner and waiter logic to load balance console writes",
       "a printk that finds console_sem taken leaves its record to the owner",
       "it may spin for the console owner and take the console over (not modelled: see docs)",
       "softirq.cpp: Kernel::vprintk_emit"},
      {Change::LockdepWaitTypes, "lockdep.wait_types", "5.7", "de8f5e4f2dc1", false,
       "lockdep: Introduce wait-type checks",
       "no wait-type check", "a spinlock_t (sleeping on PREEMPT_RT) or a sleeping lock taken under a raw spinlock "
       "is reported as an invalid wait context",
       "locking/lockdep.cpp: Lockdep::check_wait_context"},
      {Change::DeferredQs, "rcu.deferred_qs", "5.0", "3e3100989869", false,
       "rcu: Defer reporting RCU-preempt quiescent states when disabled",
       "rcu_read_unlock_special() reports an expedited quiescent state at once, whatever is held",
       "with irqs off it raises RCU_SOFTIRQ, with only preemption or bh off it sets need_resched; the report "
       "happens later in a clean context",
       "rcu/tree.cpp: Rcu::rcu_read_unlock_special"},
      {Change::DeferredQsIrqWork, "rcu.deferred_qs_irq_work", "5.3", "0864f057b050", false,
       "rcu: Use irq_work to get scheduler's attention in clean context",
       "the deferral is a softirq or need_resched",
       "with irqs off during an expedited GP it sets need_resched and queues a self-IPI irq_work",
       "rcu/tree.cpp: Rcu::rcu_read_unlock_special"},
  };
  static const std::vector<ChangeInfo> sorted = [] {
    std::vector<ChangeInfo> t = table;
    std::stable_sort(t.begin(), t.end(),
                     [](const ChangeInfo& a, const ChangeInfo& b) { return must_parse(a.since) < must_parse(b.since); });
    return t;
  }();
  return sorted;
}

const ChangeInfo& change_info(Change c) {
  for (const ChangeInfo& i : release_changes()) {
    if (i.id == c) return i;
  }
  throw std::logic_error("change missing from the release table");
}

Release::Release() : v_(must_parse("4.4")) {}

Release Release::parse(const std::string& text) {
  Version v;
  if (!parse_version(text, &v)) {
    throw std::invalid_argument("expected a Linux release such as 4.4 or 3.10.4, got \"" + text + "\"");
  }
  const Version lo = must_parse(kOldestRelease), hi = must_parse(kNewestRelease);
  if (v < lo || !(v < Version{hi.major, hi.minor + 1, 0})) {
    throw std::invalid_argument("release " + v.text() + " is outside the modelled range " + kOldestRelease + " to " +
                                kNewestRelease + " (quiesce list releases)");
  }
  return Release(v);
}

bool Release::has(Change c) const { return v_ >= must_parse(change_info(c).since); }

std::string Release::uname() const {
  return std::to_string(v_.major) + "." + std::to_string(v_.minor) + "." + std::to_string(v_.patch) + "-quiesce";
}

const std::vector<std::string>& listed_releases() {
  static const std::vector<std::string> list = {"2.6.39", "3.0",  "3.4",  "3.10", "3.14", "3.16", "3.18", "4.1",
                                                "4.4",    "4.9",  "4.14", "4.19", "5.0",  "5.3",  "5.4",  "5.10"};
  return list;
}

}  // namespace quiesce::kernel
