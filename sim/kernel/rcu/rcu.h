#pragma once
// Preemptible tree RCU in Linux's shape (kernel/rcu/tree.c, tree_plugin.h), as the release
// in kernel.release has it (release.h keys each change to its commit). An rcu_node tree
// (leaf fanout from the parameters) with each rnp->lock at a simulated address, lockdep
// classes rcu_node_<level>; per-task read nesting and special flags; blocked-task lists;
// the rcu_preempt GP kthread, woken after the root lock is released (3.15+: needwake;
// 3.10-3.14: an irq_work); quiescent states from the tick, context switches and idle;
// call_rcu callbacks queued and invoked per CPU from RCU_SOFTIRQ; stall warnings; and
// expedited grace periods: v4.4's single-stage IPIs (not the caller, not idle CPUs), or
// before 4.4 a context switch forced on every CPU by the stopper.
//
// rcu_read_unlock_special() reports an expedited quiescent state as the variant says:
//   v4.4               at once: rnp->lock up the tree, and at the root wake the expedited
//                      waiter (its pi_lock, then its rq->lock), whatever locks are held
//   deferred_softirq   v5.0: mark it deferred; irqs off: raise RCU_SOFTIRQ (may wake
//                      ksoftirqd), else need_resched
//   deferred_workqueue mark it deferred, queue a work item (wakes a kworker)
//   deferred_irq_work  v5.3: mark it deferred, need_resched, and a self-IPI irq_work
// The deferred variants defer only when irqs, bh or preemption are off at the unlock.
//
// A guarantee checker watches every grace period: one that ends while a reader that began
// before it is still inside its critical section is a violation (rcutorture's failure).
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "sim/base/params.h"
#include "sim/base/stats.h"
#include "sim/kernel/arch.h"
#include "sim/kernel/release.h"

namespace quiesce::kernel {

class Kernel;
struct Task;
struct RawSpinLock;
struct WaitQueue;
struct IrqWork;
struct WorkItem;
struct Completion;

// The kernel variants the flagship study compares (and RCU's own parameters). Every
// Choice here is a variant: `quiesce list variants` prints them from these declarations.
struct VariantParams : ParamGroup {
  VariantParams() : ParamGroup("kernel", "the Linux release modelled, and kernel variants: RCU, perf, printk") {
    lock_task_context.choices({"release", "rcu_only", "preempt_disable", "irq_save"});
    unlock_special.choices({"release", "v4.4", "deferred_softirq", "deferred_workqueue", "deferred_irq_work"});
    stall_warning.choices({"under_rnp_lock", "deferred"});
    test_break.choices({"none", "exp_ignores_readers"});
    fanout_leaf.range(2, 64);
    hrtimer_expired_start.choices({"release", "run_in_caller", "softirq", "reprogram"});
    nocbs.choices({"none", "all"});
    lookup_cost.range(0, 1e6);
  }
  // Checked by the scenario loader (Release::parse); a variant set to `release` behaves as
  // that release does.
  Param<std::string> release{this, "release", "4.4",
                             "the Linux release the kernel model behaves as (2.6.39 to 5.10; quiesce list releases)"};
  Param<Choice> lock_task_context{this, "perf.lock_task_context", "release",
                                  "perf_lock_task_context(): rcu_only (before 3.11), preempt_disable (3.11-4.3: the "
                                  "2015 bug with 4.4's expedited IPIs), irq_save (2fd59077755c, 4.4: the fix); "
                                  "release: as kernel.release has it"};
  Param<Cycles> lookup_cost{this, "perf.lookup_cost", "200",
                            "cycles perf spends in its RCU reader before taking ctx->lock (the IPI's window)"};
  Param<Choice> unlock_special{this, "rcu.unlock_special", "release",
                               "how rcu_read_unlock_special() reports an expedited quiescent state: v4.4 (at once), "
                               "deferred_softirq (v5.0), deferred_workqueue, deferred_irq_work (v5.3); release: as "
                               "kernel.release has it"};
  Param<int64_t> fanout_leaf{this, "rcu.fanout_leaf", "16", "CPUs per leaf rcu_node (CONFIG_RCU_FANOUT_LEAF)"};
  Param<Choice> nocbs{this, "rcu.nocbs", "none",
                      "the rcu_nocbs= boot option (CONFIG_RCU_NOCB_CPU): all: every CPU's callbacks are invoked by its "
                      "rcuop/N kthread (bh off), woken by call_rcu (deferred to RCU_SOFTIRQ when irqs were off) and "
                      "at each grace period's end; none: from RCU_SOFTIRQ"};
  Param<Duration> stall_timeout{this, "rcu.stall_timeout", "21s", "grace-period age that triggers a CPU-stall warning"};
  Param<Choice> stall_warning{this, "printk.stall_warning", "under_rnp_lock",
                              "RCU stall warnings printk under rnp->lock (per leaf, as v4.4), or after dropping it"};
  Param<Choice> hrtimer_expired_start{
      this, "hrtimer.expired_start", "release",
      "what hrtimer_start() does with a timer already expired: run_in_caller (before a6037b61c2f5, 2.6.29: the "
      "callback runs at once under the caller's locks), softirq (2.6.29-4.1: HRTIMER_SOFTIRQ runs it), reprogram "
      "(4.2+, c6eb3f70d448: the clock event fires at once); release: as kernel.release has it"};
  Param<Choice> test_break{this, "rcu.test_break", "none",
                           "test only: exp_ignores_readers makes the expedited IPI report readers as quiescent"};
};

class Rcu {
 public:
  Rcu(Kernel& k, const VariantParams& p, const Release& release, StatRegistry* stats);
  ~Rcu();
  // Creates the rcu_preempt GP kthread, the stoppers (before 4.4) and the softirq handler
  // (during elaboration).
  void start();

  // Read side.
  void rcu_read_lock();
  void rcu_read_unlock();
  bool in_reader();
  int lock_map() const { return rcu_lock_map_; }  // lockdep's "rcu_read_lock" class
  // Update side.
  void synchronize_rcu();
  void synchronize_rcu_expedited();
  void call_rcu(std::function<void()> func);
  // rcu_barrier(), v4.4 (_rcu_barrier): under barrier_mutex, a callback posted on every CPU
  // that has callbacks (from that CPU, by a cross-CPU call), then wait for all of them.
  void rcu_barrier();

  // The tree's objects, as scenarios reach them: node 0 is the root, leaves come last.
  int nodes() const;
  int leaf_of(int cpu) const;
  // rcu_needs_cpu() without RCU_FAST_NO_HZ, v4.4: the CPU has callbacks queued (none count
  // with every CPU offloaded), or it still has to ask for a grace period or wake its rcuop
  // kthread (what rcu_prepare_for_idle() would otherwise do).
  bool cpu_needs_tick(int cpu) const;
  // rcu_gp_fqs() -> force_qs_rnp(), v4.4: a CPU that owes the current grace period a
  // quiescent state and is in dyntick-idle (its tick stopped, running idle), or has entered
  // idle since the grace period began (rcu_implicit_dynticks_qs), is reported by the GP
  // kthread. Only with NO_HZ idle: a ticking idle CPU reports from its own tick.
  void force_qs_idle_cpus();
  RawSpinLock& node_lock(int node);
  WaitQueue& gp_wq() { return *gp_wq_; }

  // Hooks from the scheduler and the tick (called by the kernel).
  void note_context_switch(bool preempt);  // before rq->lock, irqs off
  void check_callbacks();                  // from the tick, in hardirq

  enum class Variant { V44, Softirq, Workqueue, IrqWork };  // rcu.unlock_special
  uint64_t completed() const { return completed_; }
  // `t` holds some rcu_node lock now (the wakeup-placement check counts wakeups made so).
  bool holds_node_lock(const Task& t) const;

  StatGroup stats_;
  Counter gps{&stats_, "gps", "normal grace periods completed", "count"};
  Counter exp_gps{&stats_, "exp_gps", "expedited grace periods completed", "count"};
  Counter violations{&stats_, "violations", "grace periods that ended under a pre-existing reader", "count"};
  Counter blocked_readers{&stats_, "blocked_readers", "readers preempted inside their critical section", "count"};
  Counter deferred_qs{&stats_, "deferred_qs", "expedited quiescent states deferred by the variant", "count"};
  Counter stall_warnings{&stats_, "stall_warnings", "RCU CPU-stall warnings printed (normal and expedited)", "count"};
  Counter exp_stall_warnings{&stats_, "exp_stall_warnings", "expedited-GP stall warnings printed", "count"};
  Counter callbacks{&stats_, "callbacks", "call_rcu callbacks invoked", "count"};
  Counter exp_ipis{&stats_, "exp_ipis", "expedited-GP IPIs sent (v4.4+)", "count"};
  Counter exp_no_ipi{&stats_, "exp_no_ipi", "CPUs an expedited GP reported without an IPI (idle or its own)", "count"};
  Counter exp_qs_at_switch{&stats_, "exp_qs_at_switch",
                           "IPI'd readers preempted before their unlock: the CPU reported at the switch (v4.4)", "count"};
  Counter exp_unblock_reports{&stats_, "exp_unblock_reports",
                              "blocked readers whose unlock cleared their leaf for the expedited GP (reporting on "
                              "their own behalf)", "count"};
  Counter wakeups_under_rnp_lock{&stats_, "wakeups_under_rnp_lock",
                                 "wakeups made while holding an rcu_node lock (none from 3.0 on)", "count"};
  Counter callbacks_elsewhere{&stats_, "callbacks_elsewhere",
                              "callbacks invoked on another CPU than the one that queued them", "count"};
  Histogram gp_latency{&stats_, "gp_latency", "synchronize_rcu() call to return", "ps"};
  Histogram exp_latency{&stats_, "exp_latency", "synchronize_rcu_expedited() call to return", "ps"};

 private:
  struct Node;
  struct CpuData;
  struct Callback;
  enum class GpWake { AfterUnlock, IrqWork, Needwake };

  void rcu_read_unlock_special(Task& t);
  void report_deferred_qs(int cpu);
  // Expedited: these CPUs of a leaf have passed (rcu_report_exp_cpu_mult) / a node cleared.
  void report_exp_cpu(int cpu, bool wake);
  void report_exp_cpu_mult(int leaf, uint64_t mask, bool wake);
  void report_exp_node(int node, bool wake, bool flags);  // called with nodes[node].lock held
  void exp_handler();                                     // the IPI, on each CPU
  bool exp_done(const Node& n) const;
  void sync_rcu_exp_select_cpus();  // v4.4: IPIs
  void exp_stop_cpus();             // before 4.4: synchronize_sched_expedited()'s stoppers
  void stopper_loop(int cpu);
  // Normal GPs.
  void report_qs_cpu(int cpu);
  void report_qs_node(int node, uint64_t mask, bool flags);  // with the node's lock held
  bool cpu_needs_another_gp(int cpu) const;
  void start_gp_from_softirq();
  void rcu_gp_kthread_wake();
  bool gp_done() const;
  void gp_kthread();
  void rcu_softirq();
  void nocb_kthread(int cpu);  // rcu_nocb_kthread(), per offloaded CPU
  void do_nocb_deferred_wakeup(int cpu);
  void check_stall();
  void exp_stall_warning();
  void check_guarantee(Time gp_start, const char* what);

  Kernel& k_;
  const int rcu_lock_map_;  // lockdep's "rcu_read_lock" class
  const Variant variant_;
  const GpWake gp_wake_;
  const bool exp_ipi_;            // 8203d6d0ee78 (4.4)
  const bool exp_stop_skip_idle_;  // 3.19
  const bool exp_wake_after_unlock_;  // 131906b0062d (3.0)
  const Time stall_timeout_;
  const bool stall_printk_under_lock_;
  const bool break_exp_;
  const int fanout_leaf_;
  const bool nocbs_;  // rcu_nocbs=all
  std::vector<std::unique_ptr<WaitQueue>> nocb_wq_;  // per CPU: rdp->nocb_wq
  std::unique_ptr<WaitQueue> nocb_gp_wq_;            // rnp->nocb_gp_wq: grace-period ends
  std::vector<Node> nodes_;  // nodes_[0] is the root; leaves last
  std::vector<CpuData> cpus_;
  // Normal grace periods.
  uint64_t completed_ = 0;
  bool gp_in_progress_ = false;
  bool gp_requested_ = false;  // rsp->gp_flags & RCU_GP_FLAG_INIT
  bool gp_fqs_ = false;        // rsp->gp_flags & RCU_GP_FLAG_FQS
  Time gp_start_ = 0;
  Time stall_warned_at_ = -1;
  std::unique_ptr<WaitQueue> gp_wq_;
  Task* gp_task_ = nullptr;
  std::unique_ptr<IrqWork> gp_wake_work_;  // rsp->wakeup_work (3.10-3.14)
  // Expedited grace periods.
  uint64_t exp_seq_ = 0;
  bool exp_in_progress_ = false;
  Time exp_start_ = 0;
  std::unique_ptr<WaitQueue> exp_wq_;
  struct Mutex* exp_mutex_ = nullptr;
  std::unique_ptr<struct Mutex> exp_mutex_owned_;
  std::unique_ptr<struct Mutex> barrier_mutex_;
  std::vector<std::unique_ptr<IrqWork>> irq_works_;
  std::vector<std::unique_ptr<WorkItem>> works_;
  // Before 4.4: the per-CPU stoppers and the CPUs still to pass through one.
  std::vector<Task*> stoppers_;
  int stop_pending_ = 0;
  std::unique_ptr<WaitQueue> stop_wq_;
};

}  // namespace quiesce::kernel
