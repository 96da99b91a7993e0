#pragma once
// Preemptible tree RCU in Linux's shape (kernel/rcu/tree.c, tree_plugin.h, v4.4, with the
// v5.x deferred-quiescent-state variants). An rcu_node tree (leaf fanout from the kernel
// parameters) with each rnp->lock at a simulated address, lockdep classes rcu_node_<level>;
// per-task read nesting and special flags; blocked-task lists; a GP kthread (rcu_preempt)
// that starts normal grace periods, collects quiescent states from the tick, context
// switches and idle, and warns of stalls; call_rcu callbacks run from RCU_SOFTIRQ;
// synchronize_rcu_expedited() with v4.4's single-stage IPIs.
//
// rcu_read_unlock_special() reports an expedited quiescent state as the variant says:
//   v4.4               at once: rnp->lock up the tree, and at the root wake the expedited
//                      waiter (its pi_lock, then its rq->lock), whatever locks are held
//   deferred_softirq   mark it deferred, raise RCU_SOFTIRQ (may wake ksoftirqd)
//   deferred_workqueue mark it deferred, queue a work item (wakes a kworker)
//   deferred_irq_work  mark it deferred, need_resched, and a self-IPI irq_work (v5.3)
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
  VariantParams() : ParamGroup("kernel", "kernel variants: RCU, perf, printk") {
    lock_task_context.choices({"preempt_disable", "irq_save"});
    unlock_special.choices({"v4.4", "deferred_softirq", "deferred_workqueue", "deferred_irq_work"});
    stall_warning.choices({"under_rnp_lock", "deferred"});
    test_break.choices({"none", "exp_ignores_readers"});
    fanout_leaf.range(2, 64);
    lookup_cost.range(0, 1e6);
  }
  Param<Choice> lock_task_context{this, "perf.lock_task_context", "preempt_disable",
                                  "perf_lock_task_context(): preempt_disable (v4.3, the bug) or irq_save (the 2015 fix)"};
  Param<Cycles> lookup_cost{this, "perf.lookup_cost", "200",
                            "cycles perf spends in its RCU reader before taking ctx->lock (the IPI's window)"};
  Param<Choice> unlock_special{this, "rcu.unlock_special", "v4.4",
                               "how rcu_read_unlock_special() reports an expedited quiescent state"};
  Param<int64_t> fanout_leaf{this, "rcu.fanout_leaf", "16", "CPUs per leaf rcu_node (CONFIG_RCU_FANOUT_LEAF)"};
  Param<Duration> stall_timeout{this, "rcu.stall_timeout", "21s", "grace-period age that triggers a CPU-stall warning"};
  Param<Choice> stall_warning{this, "printk.stall_warning", "under_rnp_lock",
                              "RCU stall warnings printk under rnp->lock, or after dropping it"};
  Param<Choice> test_break{this, "rcu.test_break", "none",
                           "test only: exp_ignores_readers makes the expedited IPI report readers as quiescent"};
};

class Rcu {
 public:
  Rcu(Kernel& k, const VariantParams& p, StatRegistry* stats);
  ~Rcu();
  // Creates the rcu_preempt GP kthread and the softirq handler (during elaboration).
  void start();

  // Read side.
  void rcu_read_lock();
  void rcu_read_unlock();
  bool in_reader();
  // Update side.
  void synchronize_rcu();
  void synchronize_rcu_expedited();
  void call_rcu(std::function<void()> func);

  // Hooks from the scheduler and the tick (called by the kernel).
  void note_context_switch(bool preempt);  // before rq->lock, irqs off
  void check_callbacks();                  // from the tick, in hardirq

  uint64_t completed() const { return completed_; }
  const char* variant() const;

  StatGroup stats_;
  Counter gps{&stats_, "gps", "normal grace periods completed", "count"};
  Counter exp_gps{&stats_, "exp_gps", "expedited grace periods completed", "count"};
  Counter violations{&stats_, "violations", "grace periods that ended under a pre-existing reader", "count"};
  Counter blocked_readers{&stats_, "blocked_readers", "readers preempted inside their critical section", "count"};
  Counter deferred_qs{&stats_, "deferred_qs", "expedited quiescent states deferred by the variant", "count"};
  Counter stall_warnings{&stats_, "stall_warnings", "RCU CPU-stall warnings printed (normal and expedited)", "count"};
  Counter exp_stall_warnings{&stats_, "exp_stall_warnings", "expedited-GP stall warnings printed", "count"};
  Counter callbacks{&stats_, "callbacks", "call_rcu callbacks invoked", "count"};
  Histogram gp_latency{&stats_, "gp_latency", "synchronize_rcu() call to return", "ps"};
  Histogram exp_latency{&stats_, "exp_latency", "synchronize_rcu_expedited() call to return", "ps"};

 private:
  struct Node;
  struct CpuData;
  struct Callback;
  enum class Variant { V44, Softirq, Workqueue, IrqWork };

  void rcu_read_unlock_special(Task& t);
  void report_deferred_qs(int cpu);
  // Expedited: this CPU has passed (rcu_report_exp_rdp) / a blocked reader left.
  void report_exp_cpu(int cpu, bool wake);
  void report_exp_node(int node, bool wake, bool flags);  // called with nodes[node].lock held
  void exp_handler();                                     // the IPI, on each CPU
  bool exp_done(const Node& n) const;
  // Normal GPs.
  void report_qs_cpu(int cpu);
  void report_qs_node(int node, uint64_t mask, bool flags);  // with the node's lock held
  void gp_kthread();
  void end_gp();
  void rcu_softirq();
  void check_stall();
  void exp_stall_warning();
  void check_guarantee(Time gp_start, const char* what);

  Kernel& k_;
  const Variant variant_;
  const Time stall_timeout_;
  const bool stall_printk_under_lock_;
  const bool break_exp_;
  const int fanout_leaf_;
  std::vector<Node> nodes_;  // nodes_[0] is the root; leaves last
  std::vector<CpuData> cpus_;
  // Normal grace periods.
  uint64_t completed_ = 0;
  bool gp_in_progress_ = false;
  bool gp_requested_ = false;
  Time gp_start_ = 0;
  Time stall_warned_at_ = -1;
  std::unique_ptr<WaitQueue> gp_wq_;
  Task* gp_task_ = nullptr;
  std::deque<Callback> callbacks_;
  // Expedited grace periods.
  uint64_t exp_seq_ = 0;
  bool exp_in_progress_ = false;
  Time exp_start_ = 0;
  std::unique_ptr<WaitQueue> exp_wq_;
  struct Mutex* exp_mutex_ = nullptr;
  std::unique_ptr<struct Mutex> exp_mutex_owned_;
  std::vector<std::unique_ptr<IrqWork>> irq_works_;
  std::vector<std::unique_ptr<WorkItem>> works_;
};

}  // namespace quiesce::kernel
