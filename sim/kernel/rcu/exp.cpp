// Expedited grace periods (Linux's tree_exp.h, tree_plugin.h): v4.4's single-stage IPIs
// (sync_rcu_exp_select_cpus), or before 4.4 a context switch forced on every CPU by the
// stoppers; reports up the rcu_node tree and the waiter's wakeup. See rcu.h.
#include <sstream>

#include "sim/kernel/kernel.h"
#include "sim/kernel/rcu/internal/tree_data.h"
#include "sim/kernel/rcu/rcu.h"

namespace quiesce::kernel {

bool Rcu::exp_done(const Node& n) const {
  if (n.expmask) return false;
  for (Task* t : n.blkd_tasks) {
    if (t->rcu.blocks_exp == exp_seq_) return false;
  }
  return true;
}

// rcu_report_exp_rdp(), v4.4.
void Rcu::report_exp_cpu(int cpu, bool wake) {
  const CpuData& d = cpus_[static_cast<size_t>(cpu)];
  report_exp_cpu_mult(d.leaf, d.bit, wake);
}

// rcu_report_exp_cpu_mult(), v4.4: clear these CPUs' bits in their leaf and report upwards.
void Rcu::report_exp_cpu_mult(int leaf, uint64_t mask, bool wake) {
  Kernel::Frame f(k_, "rcu_report_exp_rdp");
  Node& n = nodes_[static_cast<size_t>(leaf)];
  const bool flags = k_.raw_spin_lock_irqsave(*n.lock);
  if (!exp_in_progress_ || !(n.expmask & mask)) {
    k_.raw_spin_unlock_irqrestore(*n.lock, flags);
    return;
  }
  n.expmask &= ~mask;
  report_exp_node(leaf, wake, flags);
}

// __rcu_report_exp_rnp(): up the tree while nodes clear; at the root wake the waiter, after
// dropping the root lock from 3.0 on (131906b0062d), while still holding it in 2.6.39.
void Rcu::report_exp_node(int node, bool wake, bool flags) {
  Kernel::Frame f(k_, "rcu_report_exp_rnp");
  while (true) {
    Node& n = nodes_[static_cast<size_t>(node)];
    if (!exp_done(n)) {
      k_.raw_spin_unlock_irqrestore(*n.lock, flags);
      return;
    }
    if (n.parent < 0) {
      if (wake && !exp_wake_after_unlock_) k_.wake_up(*exp_wq_);
      k_.raw_spin_unlock_irqrestore(*n.lock, flags);
      if (wake && exp_wake_after_unlock_) k_.wake_up(*exp_wq_);
      return;
    }
    const uint64_t mask = n.grpmask;
    k_.raw_spin_unlock(*n.lock);
    node = n.parent;
    k_.raw_spin_lock(*nodes_[static_cast<size_t>(node)].lock);
    nodes_[static_cast<size_t>(node)].expmask &= ~mask;
  }
}

// sync_rcu_exp_handler(), v4.4: a reader that has not blocked reports at its unlock;
// anything else (not in a reader, in its unlock, already blocked) reports now.
void Rcu::exp_handler() {
  Kernel::Frame f(k_, "sync_rcu_exp_handler");
  Task& t = k_.current();
  if (!break_exp_ && t.rcu.nesting > 0 && !t.rcu.blocked) {
    t.rcu.exp_need_qs = true;  // the reader reports at rcu_read_unlock()
    t.rcu.exp_ipi_from = k_.current_irq().source;
    t.rcu.exp_ipi_raised = k_.current_irq().raised;
    t.rcu.exp_ipi_handled = k_.now();
    return;
  }
  report_exp_cpu(t.cpu, true);
}

// sync_rcu_exp_select_cpus(), v4.4: every node owes the GP its children (sync_exp_reset_tree);
// per leaf, under its lock, the initiator's own CPU and CPUs in dyntick-idle are set aside,
// the blocked readers snapshotted (exp_tasks); each other CPU gets an IPI; the set-aside CPUs
// are reported by the initiator without a wakeup.
void Rcu::sync_rcu_exp_select_cpus() {
  Kernel::Frame f(k_, "sync_rcu_exp_select_cpus");
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    const bool flags = k_.raw_spin_lock_irqsave(*n.lock);
    n.expmask = 0;
    if (n.leaf) {
      for (int c = n.grplo; c <= n.grphi; ++c) n.expmask |= cpus_[static_cast<size_t>(c)].bit;
    } else {
      for (const Node& child : nodes_) {
        if (child.parent == static_cast<int>(i)) n.expmask |= child.grpmask;
      }
    }
    k_.raw_spin_unlock_irqrestore(*n.lock, flags);
  }
  const int me = k_.this_cpu();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (!n.leaf) continue;
    const bool flags = k_.raw_spin_lock_irqsave(*n.lock);
    uint64_t mask_ofl_test = 0;
    for (int c = n.grplo; c <= n.grphi; ++c) {
      const CpuData& d = cpus_[static_cast<size_t>(c)];
      if (c == me) {
        mask_ofl_test |= d.bit;
        continue;
      }
      k_.this_core().load(d.dynticks);  // atomic_add_return(0, &rdtp->dynticks)
      if (k_.cpu_in_idle(c)) mask_ofl_test |= d.bit;
    }
    const uint64_t mask_ofl_ipi = n.expmask & ~mask_ofl_test;
    for (Task* t : n.blkd_tasks) t->rcu.blocks_exp = exp_seq_;  // rnp->exp_tasks = blkd_tasks.next
    k_.raw_spin_unlock_irqrestore(*n.lock, flags);
    for (int c = n.grplo; c <= n.grphi; ++c) {
      const uint64_t bit = cpus_[static_cast<size_t>(c)].bit;
      if (mask_ofl_ipi & bit) {
        ++exp_ipis;
        k_.smp_call_function_single(c, [this] { exp_handler(); }, false);
      } else if (mask_ofl_test & bit) {
        ++exp_no_ipi;
      }
    }
    if (mask_ofl_test) report_exp_cpu_mult(static_cast<int>(i), mask_ofl_test, false);
  }
}

// synchronize_sched_expedited() before 4.4: force a context switch on each CPU through its
// stopper (all online CPUs; from 3.19 not the caller's or idle ones), so that every reader
// still running is preempted and queued as blocked.
void Rcu::exp_stop_cpus() {
  Kernel::Frame f(k_, "synchronize_sched_expedited");
  const int me = k_.this_cpu();
  stop_pending_ = 0;
  for (int c = 0; c < k_.nr_cpus(); ++c) {
    if (exp_stop_skip_idle_) {
      if (c == me) continue;
      k_.this_core().load(cpus_[static_cast<size_t>(c)].dynticks);
      if (k_.cpu_in_idle(c)) continue;
    }
    ++stop_pending_;
    cpus_[static_cast<size_t>(c)].stop_requested = true;
    k_.wake_up_process(*stoppers_[static_cast<size_t>(c)]);
  }
  k_.wait_event(*stop_wq_, [this] { return stop_pending_ == 0; });
}

// cpu_stopper_thread() running synchronize_sched_expedited_cpu_stop(): being switched in was
// the point; say so and sleep again.
void Rcu::stopper_loop(int cpu) {
  Kernel::Frame f(k_, "cpu_stopper_thread");
  CpuData& d = cpus_[static_cast<size_t>(cpu)];
  while (true) {
    k_.set_current_state(TaskState::Sleeping);
    if (!d.stop_requested) k_.schedule();
    k_.set_current_state(TaskState::Running);
    if (!d.stop_requested) continue;
    d.stop_requested = false;
    --stop_pending_;
    if (stop_pending_ == 0) k_.wake_up(*stop_wq_);
  }
}

// synchronize_sched_expedited_wait()'s warning, v4.4.
void Rcu::exp_stall_warning() {
  ++stall_warnings;
  ++exp_stall_warnings;
  Kernel::Frame f(k_, "synchronize_sched_expedited_wait");
  const Time now = k_.now();
  std::ostringstream msg;
  msg << "INFO: rcu_preempt detected expedited stalls on CPUs/tasks: {";
  std::vector<int> stalled;
  for (size_t c = 0; c < cpus_.size(); ++c) {
    const CpuData& d = cpus_[c];
    if (nodes_[static_cast<size_t>(d.leaf)].expmask & d.bit) {
      msg << " " << c << "-...";
      stalled.push_back(static_cast<int>(c));
    }
  }
  for (const Node& n : nodes_) {
    for (Task* t : n.blkd_tasks) {
      if (t->rcu.blocks_exp == exp_seq_) msg << " P" << t->pid;
    }
  }
  msg << " } " << (now - exp_start_) / k_.tick_period() << " jiffies s: " << exp_seq_ << " root: 0x" << std::hex
      << nodes_[0].expmask << std::dec << "/" << (nodes_[0].blkd_tasks.empty() ? "." : "T");
  for (int c : stalled) msg << "\nTask dump for CPU " << c << ":\n" << k_.describe_cpu(c);
  k_.printk(msg.str());
}

// synchronize_rcu_expedited(): one at a time (the funnel mutex); v4.4's IPIs or, before, the
// stoppers and a snapshot of the blocked readers; then wait, warning of stalls.
void Rcu::synchronize_rcu_expedited() {
  Kernel::Frame f(k_, "synchronize_rcu_expedited");
  k_.might_sleep();
  const Time start = k_.now();
  k_.mutex_lock(*exp_mutex_);
  ++exp_seq_;
  exp_start_ = k_.now();
  if (exp_ipi_) {
    exp_in_progress_ = true;
    sync_rcu_exp_select_cpus();
  } else {
    exp_stop_cpus();
    // sync_rcu_preempt_exp_init(): only the blocked readers hold the GP; a leaf that has
    // some makes its ancestors owe it (children before parents: leaves come last).
    for (Node& n : nodes_) n.expmask = 0;
    exp_in_progress_ = true;
    for (size_t i = nodes_.size(); i-- > 0;) {
      Node& n = nodes_[i];
      const bool flags = k_.raw_spin_lock_irqsave(*n.lock);
      if (n.leaf) {
        for (Task* t : n.blkd_tasks) t->rcu.blocks_exp = exp_seq_;
      }
      const bool owes = !exp_done(n);
      k_.raw_spin_unlock_irqrestore(*n.lock, flags);
      if (owes && n.parent >= 0) nodes_[static_cast<size_t>(n.parent)].expmask |= n.grpmask;
    }
  }
  // synchronize_sched_expedited_wait(): warn of a stall after the stall timeout, then
  // every three timeouts, and go on waiting.
  if (stall_timeout_ > 0) {
    Time wait = stall_timeout_;
    while (!k_.wait_event_timeout(*exp_wq_, [this] { return exp_done(nodes_[0]); }, wait)) {
      exp_stall_warning();
      wait = 3 * stall_timeout_;
    }
  } else {
    k_.wait_event(*exp_wq_, [this] { return exp_done(nodes_[0]); });
  }
  exp_in_progress_ = false;
  check_guarantee(exp_start_, "expedited grace period");
  ++exp_gps;
  k_.trace(TraceKind::Counter, static_cast<int>(exp_seq_), "rcu.exp_seq");
  k_.mutex_unlock(*exp_mutex_);
  exp_latency.record(k_.now() - start);
}

}  // namespace quiesce::kernel
