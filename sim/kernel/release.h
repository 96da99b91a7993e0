#pragma once
// The Linux release the kernel model behaves as (`kernel.release`). Every modelled behaviour
// that changed between releases is a Change here, keyed to the commit that changed it and
// the first release containing that commit; the model asks Release::has(change) instead of
// comparing versions itself. The table is also what `quiesce list releases` prints and what
// docs/kernel-model.md explains (a test keeps the two in step).
//
// The modelled range is 2.6.39 to 5.10. Within it any version parses ("4.4", "3.10.4"); the
// listed releases are the ones the studies and tests run.
#include <string>
#include <vector>

namespace quiesce::kernel {

struct Version {
  int major = 0, minor = 0, patch = 0;
  bool operator<(const Version& o) const {
    if (major != o.major) return major < o.major;
    if (minor != o.minor) return minor < o.minor;
    return patch < o.patch;
  }
  bool operator>=(const Version& o) const { return !(*this < o); }
  bool operator==(const Version& o) const { return major == o.major && minor == o.minor && patch == o.patch; }
  std::string text() const;
};

enum class Change {
  ExpWakeAfterUnlock,   // rcu_report_exp_rnp() wakes the expedited waiter after dropping the root lock
  GpKthread,            // grace periods run in the rcu_preempt kthread
  GpWakeIrqWork,        // a GP start under the root lock wakes the kthread through an irq_work
  GpWakeNeedwake,       // ... through needwake: rcu_gp_kthread_wake() after the unlock
  ExpSkipIdleStop,      // synchronize_sched_expedited() stops only non-idle CPUs other than its own
  ExpIpi,               // expedited GPs by IPI: exp_need_qs in rcu_read_unlock_special
  DeferredQs,           // rcu_read_unlock_special() defers the report when irqs/bh/preempt are off
  DeferredQsIrqWork,    // ... and asks for a clean context through an irq_work
  PerfPreemptDisable,   // perf_lock_task_context() disables preemption across its RCU reader
  PerfIrqSave,          // ... interrupts
  TtwuQueue,            // remote wakeups queued to the target CPU (TTWU_QUEUE)
  TtwuQueueLlc,         // ... only between CPUs that share no cache
  PrintkKlogdIrqWork,   // printk wakes klogd from an irq_work, not from the tick
  PrintkLockdepVisible, // printk no longer runs under lockdep_off(): lockdep sees its locks
  PrintkConsoleOwner,   // console_unlock() hands the console over to a spinning waiter
  LockdepWarningLayout, // lockdep headings "WARNING: ..." (no brackets)
  LockdepNoReclaimFs,   // lockdep usage strings without the RECLAIM_FS pair (four characters)
  LockdepWaitTypes,     // lockdep checks wait-type nesting (a spinlock_t under a raw spinlock)
  HrtimerNoSoftirq,     // hrtimer_start() of an expired timer reprograms the clock event (no HRTIMER_SOFTIRQ)
  RcuNodeNames,         // rcu_node lock classes "rcu_node_0".. (were "rcu_node_level_0"..)
  RwsemWakeQ,           // rwsem_wake() wakes the waiters after dropping sem->wait_lock (wake_q)
  NohzKickResched,      // the nohz idle-balance kick is a reschedule IPI, not a cross-CPU call
  CallSingleLlist,      // cross-CPU calls queue on a lockless llist, not under call_single_queue's lock
  CsdUnlockBeforeAsync, // an asynchronous cross-CPU call's csd is unlocked before its function runs
};

struct ChangeInfo {
  Change id;
  const char* key;      // a stable name: "rcu.gp_wake_needwake"
  const char* since;    // the first release containing the commit
  const char* commit;   // 12 hex digits ("" when not identified)
  bool id_checked;      // the id was seen on the commit itself (else: release bracketed from trees only)
  const char* subject;  // the commit's subject line
  const char* before;   // what the model does in earlier releases
  const char* after;    // ... and from `since` on
  const char* code;     // where the model implements it (file: function)
};

// Every change, oldest first.
const std::vector<ChangeInfo>& release_changes();
const ChangeInfo& change_info(Change c);

class Release {
 public:
  // The flagship's release.
  Release();
  // Parses "X.Y" or "X.Y.Z" within the modelled range; throws std::invalid_argument with a
  // one-line reason (what is wrong and the range) otherwise.
  static Release parse(const std::string& text);
  bool has(Change c) const;
  const Version& version() const { return v_; }
  std::string name() const { return v_.text(); }
  // "4.4.0-quiesce", as uname -r (lockdep's banner) prints it.
  std::string uname() const;

 private:
  explicit Release(Version v) : v_(v) {}
  Version v_;
};

// The releases `quiesce list releases` names (the LTS lines and the ones the changes begin).
const std::vector<std::string>& listed_releases();
inline constexpr const char* kOldestRelease = "2.6.39";
inline constexpr const char* kNewestRelease = "5.10";

}  // namespace quiesce::kernel
