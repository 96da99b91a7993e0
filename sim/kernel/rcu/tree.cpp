// Preemptible tree RCU: the rcu_node tree, normal grace periods (the rcu_preempt kthread,
// quiescent states from the tick and context switches, per-CPU call_rcu callbacks in
// RCU_SOFTIRQ, stall warnings) and the read side with rcu_read_unlock_special()'s variants.
// Expedited grace periods are in exp.cpp (Linux's tree_exp.h). See rcu.h.
#include <algorithm>
#include <sstream>

#include "sim/kernel/kernel.h"
#include "sim/kernel/rcu/internal/tree_data.h"
#include "sim/kernel/rcu/rcu.h"

namespace quiesce::kernel {

namespace {
// rcu_read_unlock_special()'s variant; `release`: the release's (DeferredQs, DeferredQsIrqWork).
Rcu::Variant variant_of(const std::string& choice, const Release& r) {
  if (choice == "deferred_softirq") return Rcu::Variant::Softirq;
  if (choice == "deferred_workqueue") return Rcu::Variant::Workqueue;
  if (choice == "deferred_irq_work") return Rcu::Variant::IrqWork;
  if (choice == "release" && r.has(Change::DeferredQsIrqWork)) return Rcu::Variant::IrqWork;
  if (choice == "release" && r.has(Change::DeferredQs)) return Rcu::Variant::Softirq;
  return Rcu::Variant::V44;
}
}  // namespace

Rcu::Rcu(Kernel& k, const VariantParams& p, const Release& release, StatRegistry* stats)
    : stats_(stats, "rcu"),
      k_(k),
      rcu_lock_map_(k.lock_class("rcu_read_lock", WaitType::Sleep).id),
      variant_(variant_of(p.unlock_special().value, release)),
      gp_wake_(release.has(Change::GpWakeNeedwake)  ? GpWake::Needwake
               : release.has(Change::GpWakeIrqWork) ? GpWake::IrqWork
                                                    : GpWake::AfterUnlock),
      exp_ipi_(release.has(Change::ExpIpi)),
      exp_stop_skip_idle_(release.has(Change::ExpSkipIdleStop)),
      exp_wake_after_unlock_(release.has(Change::ExpWakeAfterUnlock)),
      stall_timeout_(p.stall_timeout().ps),
      stall_printk_under_lock_(p.stall_warning().value != "deferred"),
      break_exp_(p.test_break().value == "exp_ignores_readers"),
      fanout_leaf_(static_cast<int>(p.fanout_leaf())),
      nocbs_(p.nocbs().value == "all"),
      cpus_(static_cast<size_t>(k.nr_cpus())) {
  // Build the tree bottom-up: leaves of fanout_leaf CPUs, then levels of up to 64 children.
  const int n = k.nr_cpus();
  std::vector<std::vector<Node>> levels;
  std::vector<Node> leaves;
  for (int lo = 0; lo < n; lo += fanout_leaf_) {
    Node nd;
    nd.leaf = true;
    nd.grplo = lo;
    nd.grphi = std::min(n, lo + fanout_leaf_) - 1;
    leaves.push_back(std::move(nd));
  }
  levels.push_back(std::move(leaves));
  while (levels.back().size() > 1) {
    std::vector<Node>& below = levels.back();
    std::vector<Node> above;
    for (size_t i = 0; i < below.size(); i += 64) {
      Node nd;
      nd.grplo = below[i].grplo;
      nd.grphi = below[std::min(below.size(), i + 64) - 1].grphi;
      above.push_back(std::move(nd));
    }
    levels.push_back(std::move(above));
  }
  // Flatten root first; record parents and group masks.
  std::vector<int> first_of_level(levels.size());
  int idx = 0;
  for (size_t l = levels.size(); l-- > 0;) {
    first_of_level[l] = idx;
    idx += static_cast<int>(levels[l].size());
  }
  nodes_.resize(static_cast<size_t>(idx));
  for (size_t l = levels.size(); l-- > 0;) {
    const int depth = static_cast<int>(levels.size() - 1 - l);
    for (size_t i = 0; i < levels[l].size(); ++i) {
      Node& nd = nodes_[static_cast<size_t>(first_of_level[l]) + i];
      nd = std::move(levels[l][i]);
      nd.level = depth;
      if (l + 1 < levels.size()) {
        nd.parent = first_of_level[l + 1] + static_cast<int>(i / 64);
        nd.grpmask = uint64_t{1} << (i % 64);
      }
      nd.lock = k.make_lock("rcu_node[" + std::to_string(first_of_level[l] + static_cast<int>(i)) + "].lock",
                            k.lock_class((release.has(Change::RcuNodeNames) ? "rcu_node_" : "rcu_node_level_") +
                                         std::to_string(depth)));
    }
  }
  for (int c = 0; c < n; ++c) {
    CpuData& d = cpus_[static_cast<size_t>(c)];
    d.leaf = first_of_level[0] + c / fanout_leaf_;
    d.bit = uint64_t{1} << (c % fanout_leaf_);
    d.dynticks = k.alloc(8);
  }
  gp_wq_ = std::make_unique<WaitQueue>(k.make_wait_queue("rsp->gp_wq"));
  exp_wq_ = std::make_unique<WaitQueue>(k.make_wait_queue("rsp->expedited_wq"));
  gp_wake_work_ = std::make_unique<IrqWork>();
  gp_wake_work_->name = "rsp_wakeup";
  gp_wake_work_->func = [this] { k_.wake_up(*gp_wq_); };  // rsp_wakeup(), 3.10-3.14
  exp_mutex_owned_ = k.make_mutex("rsp->expedited_mutex", k.lock_class("&rsp->expedited_mutex", WaitType::Sleep));
  exp_mutex_ = exp_mutex_owned_.get();
  barrier_mutex_ = k.make_mutex("rsp->barrier_mutex", k.lock_class("&rsp->barrier_mutex", WaitType::Sleep));
  for (int c = 0; c < n; ++c) {
    auto iw = std::make_unique<IrqWork>();
    iw->name = "rcu_preempt_deferred_qs_handler";
    iw->func = [this, c] {
      cpus_[static_cast<size_t>(c)].irq_work_pending = false;
      report_deferred_qs(c);
    };
    irq_works_.push_back(std::move(iw));
    auto w = std::make_unique<WorkItem>();
    w->name = "rcu_exp_deferred_qs_work";
    w->func = [this, c] { report_deferred_qs(c); };
    works_.push_back(std::move(w));
  }
}

Rcu::~Rcu() = default;

bool Rcu::holds_node_lock(const Task& t) const {
  for (const Node& n : nodes_) {
    if (n.lock->owner == &t) return true;
  }
  return false;
}

void Rcu::start() {
  k_.open_softirq(RCU_SOFTIRQ, [this] { rcu_softirq(); });
  gp_task_ = &k_.create_task("rcu_preempt", TaskSpec{}, [this] { gp_kthread(); });
  gp_task_->kthread = true;
  if (nocbs_) {
    nocb_gp_wq_ = std::make_unique<WaitQueue>(k_.make_wait_queue("rnp->nocb_gp_wq"));
    for (int c = 0; c < k_.nr_cpus(); ++c) {
      nocb_wq_.push_back(std::make_unique<WaitQueue>(k_.make_wait_queue("rdp->nocb_wq")));
      Task& t = k_.create_task("rcuop/" + std::to_string(c), TaskSpec{}, [this, c] { nocb_kthread(c); });
      t.kthread = true;
    }
  }
  if (exp_ipi_) return;
  // Before 4.4 an expedited GP forces a context switch through each CPU's stopper
  // (cpu_stopper_thread, SCHED_FIFO at the top priority).
  stop_wq_ = std::make_unique<WaitQueue>(k_.make_wait_queue("stop_cpus_wq"));
  for (int c = 0; c < k_.nr_cpus(); ++c) {
    Task& t = k_.create_task("migration/" + std::to_string(c), TaskSpec{c, Policy::Fifo, 99, false},
                             [this, c] { stopper_loop(c); });
    t.kthread = true;
    stoppers_.push_back(&t);
  }
}

// --- read side -------------------------------------------------------------------------------

bool Rcu::in_reader() { return k_.current().rcu.nesting > 0; }

void Rcu::rcu_read_lock() {
  Task& t = k_.current();
  if (t.rcu.nesting++ == 0) {
    k_.trace(TraceKind::RcuReadLock);
    t.rcu.read_start = k_.now();
  }
  k_.lockdep_hold_unchecked(rcu_lock_map_);  // rcu_lock_acquire(&rcu_lock_map), per nesting level
  k_.this_core().alu();  // ++nesting; barrier()
}

// __rcu_read_unlock(), v4.4: the INT_MIN sentinel while the special processing runs.
void Rcu::rcu_read_unlock() {
  Task& t = k_.current();
  k_.this_core().alu();
  if (t.rcu.nesting != 1) {
    --t.rcu.nesting;
    k_.lockdep_release_unchecked(rcu_lock_map_);
    return;
  }
  t.rcu.nesting = -1;  // Linux's INT_MIN sentinel: leaving, not in a reader
  t.rcu.read_start = -1;
  if (t.rcu.blocked || t.rcu.need_qs || t.rcu.exp_need_qs) rcu_read_unlock_special(t);
  t.rcu.nesting = 0;
  k_.lockdep_release_unchecked(rcu_lock_map_);  // rcu_lock_release(), after __rcu_read_unlock()
  k_.trace(TraceKind::RcuReadUnlock);
}

// rcu_read_unlock_special(), tree_plugin.h v4.4 (the deferred variants: v5.0 / v5.3).
void Rcu::rcu_read_unlock_special(Task& t) {
  Kernel::Frame f(k_, "rcu_read_unlock_special");
  const bool flags = k_.local_irq_save();
  const int cpu = t.cpu;
  CpuData& d = cpus_[static_cast<size_t>(cpu)];
  if (t.rcu.need_qs) {
    t.rcu.need_qs = false;
    if (d.qs_pending) d.passed_qs = true;  // rcu_preempt_qs(): no locks
  }
  if (t.rcu.exp_need_qs) {
    t.rcu.exp_need_qs = false;
    // The deferred variants report at once only from a clean context.
    const bool clean = flags && k_.preempt_count() == 0 && !k_.in_interrupt() && !k_.bh_disabled();
    if (variant_ == Variant::V44 || clean) {
      report_exp_cpu(cpu, true);  // rcu_report_exp_rdp()
    } else {
      d.deferred_qs = true;
      ++deferred_qs;
      switch (variant_) {
        case Variant::Softirq:
          // v5.0: irqs were off: RCU_SOFTIRQ; only preemption or bh off: need_resched.
          if (!flags) {
            k_.raise_softirq_irqoff(RCU_SOFTIRQ);
          } else {
            k_.set_need_resched();
          }
          break;
        case Variant::Workqueue:
          k_.queue_work_on(cpu, *works_[static_cast<size_t>(cpu)]);
          break;
        case Variant::IrqWork:
          // v5.3 (v5.10's conditions): need_resched, and with irqs off during an expedited
          // GP a self-IPI irq_work, once while one is pending.
          k_.set_need_resched();
          if (!flags && !d.irq_work_pending && exp_in_progress_) {
            d.irq_work_pending = true;
            k_.irq_work_queue(*irq_works_[static_cast<size_t>(cpu)]);
          }
          break;
        case Variant::V44:
          break;
      }
    }
  }
  if (t.rcu.blocked) {
    // The task leaves its leaf's blocked list; if it was the last task holding the
    // expedited GP there, it reports on its own behalf (rcu_report_exp_rnp, wake).
    const int node = t.rcu.blocked_node;
    Node& n = nodes_[static_cast<size_t>(node)];
    k_.raw_spin_lock(*n.lock);
    const bool empty_exp = exp_done(n);
    n.blkd_tasks.erase(std::remove(n.blkd_tasks.begin(), n.blkd_tasks.end(), &t), n.blkd_tasks.end());
    t.rcu.blocked = false;
    t.rcu.blocked_node = -1;
    const bool held_gp = gp_in_progress_ && t.rcu.blocks_gp == completed_ + 1;
    t.rcu.blocks_gp = t.rcu.blocks_exp = 0;
    const bool empty_exp_now = exp_done(n);
    if (held_gp) {
      report_qs_node(node, 0, false);  // rcu_report_unblock_qs_rnp(): unlocks
    } else {
      k_.raw_spin_unlock(*n.lock);
    }
    if (exp_in_progress_ && !empty_exp && empty_exp_now) {
      ++exp_unblock_reports;
      k_.raw_spin_lock(*n.lock);
      report_exp_node(node, true, false);  // unlocks
    }
  }
  k_.local_irq_restore(flags);
}

void Rcu::report_deferred_qs(int cpu) {
  CpuData& d = cpus_[static_cast<size_t>(cpu)];
  if (!d.deferred_qs) return;
  Kernel::Frame f(k_, "rcu_preempt_deferred_qs");
  d.deferred_qs = false;
  const bool flags = k_.local_irq_save();
  report_exp_cpu(cpu, true);
  k_.local_irq_restore(flags);
}

// --- scheduler and tick hooks ----------------------------------------------------------------------

// rcu_preempt_note_context_switch(), v4.4.
void Rcu::note_context_switch(bool) {
  Kernel::Frame f(k_, "rcu_note_context_switch");
  Task& t = k_.current();
  const int cpu = t.cpu;
  CpuData& d = cpus_[static_cast<size_t>(cpu)];
  if (t.rcu.nesting > 0 && !t.rcu.blocked) {
    // Preempted inside a reader: queue it on the leaf, holding the GPs that need this CPU.
    Node& n = nodes_[static_cast<size_t>(d.leaf)];
    const bool flags = k_.raw_spin_lock_irqsave(*n.lock);
    t.rcu.blocked = true;
    t.rcu.blocked_node = d.leaf;
    n.blkd_tasks.push_back(&t);
    if (gp_in_progress_ && (n.qsmask & d.bit)) t.rcu.blocks_gp = completed_ + 1;
    const bool cpu_owes_exp = exp_in_progress_ && (n.expmask & d.bit);
    if (cpu_owes_exp) t.rcu.blocks_exp = exp_seq_;
    ++blocked_readers;
    k_.raw_spin_unlock_irqrestore(*n.lock, flags);
    // v4.4: an IPI'd reader preempted before its unlock reports the CPU's expedited
    // quiescent state now; the task itself still holds the GP from the blocked list.
    if (cpu_owes_exp && t.rcu.exp_need_qs) {
      t.rcu.exp_need_qs = false;
      ++exp_qs_at_switch;
      report_exp_cpu(cpu, true);
    }
  }
  if (d.qs_pending) d.passed_qs = true;  // a context switch is a quiescent state
  if (d.deferred_qs && t.rcu.nesting <= 0) report_deferred_qs(cpu);
}

// rcu_check_callbacks() -> rcu_pending(): raise RCU_SOFTIRQ when this CPU has work for it.
void Rcu::check_callbacks() {
  Task& t = k_.current();
  const int cpu = t.cpu;
  CpuData& d = cpus_[static_cast<size_t>(cpu)];
  if (t.rcu.nesting <= 0) {
    if (d.qs_pending) d.passed_qs = true;
  } else if (d.qs_pending) {
    t.rcu.need_qs = true;  // the reader reports when it leaves
  }
  const bool ready = !nocbs_ && !d.cbs.empty() && d.cbs.front().gp <= completed_;
  if ((d.passed_qs && gp_in_progress_) || d.deferred_qs || ready || d.nocb_defer_wakeup || cpu_needs_another_gp(cpu)) {
    k_.raise_softirq_irqoff(RCU_SOFTIRQ);
  }
}

// rcu_process_callbacks() -> __rcu_process_callbacks(), on this CPU's own data.
void Rcu::rcu_softirq() {
  Kernel::Frame f(k_, "rcu_process_callbacks");
  const int cpu = k_.this_cpu();
  CpuData& d = cpus_[static_cast<size_t>(cpu)];
  report_deferred_qs(cpu);
  if (d.passed_qs) report_qs_cpu(cpu);
  if (cpu_needs_another_gp(cpu)) start_gp_from_softirq();
  if (nocbs_) {  // an offloaded CPU's callbacks are its rcuop kthread's
    do_nocb_deferred_wakeup(cpu);
    return;
  }
  // rcu_do_batch(): the callbacks this CPU queued whose grace period has ended.
  while (!d.cbs.empty() && d.cbs.front().gp <= completed_) {
    auto func = std::move(d.cbs.front().func);
    if (d.cbs.front().cpu != cpu) ++callbacks_elsewhere;
    d.cbs.pop_front();
    ++callbacks;
    func();
  }
}

// --- normal grace periods -------------------------------------------------------------------------

void Rcu::report_qs_cpu(int cpu) {
  CpuData& d = cpus_[static_cast<size_t>(cpu)];
  Node& n = nodes_[static_cast<size_t>(d.leaf)];
  const bool flags = k_.raw_spin_lock_irqsave(*n.lock);
  d.passed_qs = false;
  if (!gp_in_progress_ || !d.qs_pending || !(n.qsmask & d.bit)) {
    k_.raw_spin_unlock_irqrestore(*n.lock, flags);
    return;
  }
  d.qs_pending = false;
  n.qsmask &= ~d.bit;
  report_qs_node(d.leaf, 0, flags);
}

// rcu_report_qs_rnp() up the tree (each child's lock dropped before the parent's is taken),
// then rcu_report_qs_rsp(): flag the GP kthread, drop the root lock, wake it.
void Rcu::report_qs_node(int node, uint64_t, bool flags) {
  const uint64_t gp = completed_ + 1;
  while (true) {
    Node& n = nodes_[static_cast<size_t>(node)];
    bool blocked = false;
    for (Task* t : n.blkd_tasks) blocked = blocked || t->rcu.blocks_gp == gp;
    if (n.qsmask || blocked || !gp_in_progress_) {
      k_.raw_spin_unlock_irqrestore(*n.lock, flags);
      return;
    }
    if (n.parent < 0) {
      gp_fqs_ = true;
      k_.raw_spin_unlock_irqrestore(*n.lock, flags);
      if (gp_wake_ == GpWake::Needwake) {
        rcu_gp_kthread_wake();
      } else {
        k_.wake_up(*gp_wq_);  // before 3.19: a plain wake_up() after the unlock
      }
      return;
    }
    const uint64_t mask = n.grpmask;
    k_.raw_spin_unlock(*n.lock);
    node = n.parent;
    k_.raw_spin_lock(*nodes_[static_cast<size_t>(node)].lock);
    nodes_[static_cast<size_t>(node)].qsmask &= ~mask;
  }
}

// cpu_needs_another_gp(): callbacks here wait for a GP that nobody has started or asked for.
bool Rcu::cpu_needs_another_gp(int cpu) const {
  if (gp_in_progress_ || gp_requested_) return false;
  const CpuData& d = cpus_[static_cast<size_t>(cpu)];
  return !d.cbs.empty() && d.cbs.back().gp > completed_;
}

// From RCU_SOFTIRQ: rcu_start_gp() flags a new GP under the root lock; the kthread is woken
// as the release does it (GpWakeNeedwake / GpWakeIrqWork in release.h).
void Rcu::start_gp_from_softirq() {
  Kernel::Frame f(k_, "rcu_start_gp");
  Node& root = nodes_[0];
  const bool flags = k_.raw_spin_lock_irqsave(*root.lock);
  const bool needwake = !gp_in_progress_ && !gp_requested_;
  if (needwake) gp_requested_ = true;
  if (needwake && gp_wake_ == GpWake::IrqWork && &k_.current() != gp_task_) {
    k_.irq_work_queue(*gp_wake_work_);  // rcu_start_gp_advanced(), 3.10-3.14: no wakeup under the lock
  }
  k_.raw_spin_unlock_irqrestore(*root.lock, flags);
  if (!needwake) return;
  if (gp_wake_ == GpWake::Needwake) {
    rcu_gp_kthread_wake();  // 3.15+: after the unlock
  } else if (gp_wake_ == GpWake::AfterUnlock) {
    k_.wake_up(*gp_wq_);  // 3.7-3.9: rcu_start_gp() drops the root lock, then wakes
  }
}

// rcu_gp_kthread_wake(), 3.15+: not the kthread itself, and only with a flag to act on.
void Rcu::rcu_gp_kthread_wake() {
  if (!gp_task_ || &k_.current() == gp_task_ || (!gp_requested_ && !gp_fqs_)) return;
  k_.wake_up(*gp_wq_);
}

// call_rcu() -> __call_rcu(), v4.4: onto this CPU's own list with irqs off, no lock taken; the
// GP it needs is asked for from this CPU's RCU_SOFTIRQ (__call_rcu_core() starts one itself
// only past qhimark, 10,000 callbacks, which the model does not reach).
void Rcu::call_rcu(std::function<void()> func) {
  Kernel::Frame f(k_, "call_rcu");
  const bool flags = k_.local_irq_save();
  const int cpu = k_.this_cpu();
  CpuData& d = cpus_[static_cast<size_t>(cpu)];
  const bool was_empty = d.cbs.empty();
  d.cbs.push_back({completed_ + (gp_in_progress_ ? 2 : 1), std::move(func), cpu});
  k_.this_core().alu();
  if (nocbs_ && was_empty) {
    // __call_rcu_nocb_enqueue(), v4.4: wake the rcuop kthread, unless irqs were off at the
    // call: then the wakeup is deferred (rdp->nocb_defer_wakeup) to RCU_SOFTIRQ.
    if (flags) {
      k_.local_irq_restore(flags);
      k_.wake_up(*nocb_wq_[static_cast<size_t>(cpu)]);
      return;
    }
    d.nocb_defer_wakeup = true;
  }
  k_.local_irq_restore(flags);
}

void Rcu::do_nocb_deferred_wakeup(int cpu) {
  CpuData& d = cpus_[static_cast<size_t>(cpu)];
  if (!d.nocb_defer_wakeup) return;
  Kernel::Frame f(k_, "do_nocb_deferred_wakeup");
  d.nocb_defer_wakeup = false;
  k_.wake_up(*nocb_wq_[static_cast<size_t>(cpu)]);
}

// rcu_nocb_kthread() (rcuop/N), v4.4 without leader/follower grouping: wait for callbacks,
// wait for their grace period (rcu_nocb_wait_gp: woken at its end), then invoke them with
// bh disabled, in process context, on whatever CPU the kthread runs on.
void Rcu::nocb_kthread(int cpu) {
  Kernel::Frame f(k_, "rcu_nocb_kthread");
  CpuData& d = cpus_[static_cast<size_t>(cpu)];
  while (true) {
    k_.wait_event(*nocb_wq_[static_cast<size_t>(cpu)], [&d] { return !d.cbs.empty(); });
    k_.wait_event(*nocb_gp_wq_, [this, &d] { return d.cbs.empty() || d.cbs.front().gp <= completed_; });
    k_.local_bh_disable();
    while (!d.cbs.empty() && d.cbs.front().gp <= completed_) {
      auto func = std::move(d.cbs.front().func);
      d.cbs.pop_front();
      ++callbacks;
      func();
    }
    k_.local_bh_enable();
    k_.cond_resched();
  }
}

void Rcu::synchronize_rcu() {
  Kernel::Frame f(k_, "synchronize_rcu");
  k_.might_sleep();
  const Time start = k_.now();
  Completion done;
  k_.init_completion(done, "rcu_synchronize");
  call_rcu([this, &done] { k_.complete(done); });  // wakeme_after_rcu
  k_.wait_for_completion(done);
  gp_latency.record(k_.now() - start);
}

// _rcu_barrier(), v4.4: barrier_mutex; on each CPU with callbacks, rcu_barrier_func() by a
// waiting cross-CPU call posts rcu_barrier_callback() there; the last callback completes
// barrier_completion (the count starts at 1 so none completes it early).
void Rcu::rcu_barrier() {
  Kernel::Frame f(k_, "rcu_barrier");
  k_.might_sleep();
  k_.mutex_lock(*barrier_mutex_);
  Completion done;
  k_.init_completion(done, "rsp->barrier_completion");
  int count = 1;
  auto callback = [this, &done, &count] {
    if (--count == 0) k_.complete(done);
  };
  for (int cpu = 0; cpu < k_.nr_cpus(); ++cpu) {
    if (cpus_[static_cast<size_t>(cpu)].cbs.empty()) continue;
    ++count;
    k_.smp_call_function_single(cpu, [this, callback] { call_rcu(callback); }, true);
  }
  if (--count == 0) k_.complete(done);
  k_.wait_for_completion(done);
  k_.mutex_unlock(*barrier_mutex_);
}

bool Rcu::cpu_needs_tick(int cpu) const {
  const CpuData& d = cpus_.at(static_cast<size_t>(cpu));
  if (d.nocb_defer_wakeup || cpu_needs_another_gp(cpu)) return true;
  return !nocbs_ && !d.cbs.empty();  // CONFIG_RCU_NOCB_CPU_ALL: callbacks keep no tick
}

void Rcu::force_qs_idle_cpus() {
  for (int cpu = 0; cpu < k_.nr_cpus(); ++cpu) {
    CpuData& d = cpus_[static_cast<size_t>(cpu)];
    if (!d.qs_pending) continue;
    const bool in_eqs = k_.tick_stopped(cpu) && k_.cpu_in_idle(cpu);
    if (!in_eqs && k_.idle_entries(cpu) == d.dynticks_snap) continue;
    Kernel::Frame f(k_, "force_qs_rnp");
    k_.this_core().load(d.dynticks);  // dyntick_save_progress_counter()
    d.passed_qs = true;
    report_qs_cpu(cpu);
  }
}

int Rcu::nodes() const { return static_cast<int>(nodes_.size()); }

int Rcu::leaf_of(int cpu) const { return cpus_.at(static_cast<size_t>(cpu)).leaf; }

RawSpinLock& Rcu::node_lock(int node) { return *nodes_.at(static_cast<size_t>(node)).lock; }

bool Rcu::gp_done() const {
  const Node& root = nodes_[0];
  if (root.qsmask) return false;
  for (Task* t : root.blkd_tasks) {
    if (t->rcu.blocks_gp == completed_ + 1) return false;
  }
  return true;
}

// rcu_gp_kthread(): wait for a GP to be asked for, set it up, wait for it to end on gp_wq
// (with force-quiescent-state scans every 3 jiffies), clean up.
void Rcu::gp_kthread() {
  Kernel::Frame f(k_, "rcu_gp_kthread");
  const Time fqs = 3 * k_.tick_period();
  while (true) {
    k_.wait_event(*gp_wq_, [this] { return gp_requested_; });
    // rcu_gp_init(): every node owes the new GP; readers already blocked hold it open.
    // The GP is in progress before any node is set up, and nodes are set up top-down: a
    // reader preempted while this runs is either on its leaf's list when the leaf is set up
    // or sees the leaf's bit and the GP in progress; a leaf that finishes early finds its
    // parent ready.
    gp_requested_ = false;
    gp_fqs_ = false;
    const uint64_t gp = completed_ + 1;
    gp_start_ = k_.now();
    stall_warned_at_ = -1;
    for (size_t c = 0; c < cpus_.size(); ++c) {
      CpuData& d = cpus_[c];
      d.qs_pending = true;
      d.passed_qs = false;
      d.dynticks_snap = k_.idle_entries(static_cast<int>(c));
    }
    gp_in_progress_ = true;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      const bool flags = k_.raw_spin_lock_irqsave(*n.lock);
      if (n.leaf) {
        n.qsmask = 0;
        for (int c = n.grplo; c <= n.grphi; ++c) n.qsmask |= cpus_[static_cast<size_t>(c)].bit;
        for (Task* t : n.blkd_tasks) t->rcu.blocks_gp = gp;
      } else {
        n.qsmask = 0;
        for (const Node& child : nodes_) {
          if (child.parent == static_cast<int>(i)) n.qsmask |= child.grpmask;
        }
      }
      k_.raw_spin_unlock_irqrestore(*n.lock, flags);
    }
    // Wait for the tree to clear, checking for stalls at each force-quiescent-state scan.
    while (!k_.wait_event_timeout(*gp_wq_, [this] { return gp_done(); }, fqs)) {
      gp_fqs_ = false;
      force_qs_idle_cpus();  // only CPUs whose tick is stopped (NO_HZ idle) need it
      check_stall();
    }
    // rcu_gp_cleanup()
    gp_in_progress_ = false;
    gp_fqs_ = false;
    check_guarantee(gp_start_, "grace period");
    completed_ = gp;
    ++gps;
    if (nocbs_) k_.wake_up(*nocb_gp_wq_);  // rcu_nocb_gp_cleanup()
    k_.trace(TraceKind::Counter, static_cast<int>(completed_), "rcu.gp_seq");
    // Its own CPU's callbacks may want another GP at once; other CPUs ask from their softirq.
    if (cpu_needs_another_gp(k_.this_cpu())) gp_requested_ = true;
  }
}

// print_other_cpu_stall(), v4.4: the root lock only to note the warning, the heading with no
// lock, each leaf's stalled CPUs and blocked tasks under that leaf's lock.
void Rcu::check_stall() {
  if (!gp_in_progress_ || stall_timeout_ <= 0) return;
  const Time now = k_.now();
  if (now - gp_start_ < stall_timeout_) return;
  if (stall_warned_at_ >= 0 && now - stall_warned_at_ < 3 * stall_timeout_) return;
  Kernel::Frame f(k_, "print_other_cpu_stall");
  Node& root = nodes_[0];
  bool flags = k_.raw_spin_lock_irqsave(*root.lock);
  stall_warned_at_ = now;
  k_.raw_spin_unlock_irqrestore(*root.lock, flags);
  ++stall_warnings;
  k_.printk("INFO: rcu_preempt detected stalls on CPUs/tasks:");
  std::vector<std::string> deferred;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (!n.leaf) continue;
    flags = k_.raw_spin_lock_irqsave(*n.lock);
    std::ostringstream msg;
    for (int c = n.grplo; c <= n.grphi; ++c) {
      if (n.qsmask & cpus_[static_cast<size_t>(c)].bit) msg << "\t" << c << "-...: (" << (now - gp_start_) / k_.tick_period() << " ticks this GP)\n";
    }
    bool tasks = false;
    for (Task* t : n.blkd_tasks) {
      if (t->rcu.blocks_gp != completed_ + 1) continue;
      if (!tasks) msg << "\tTasks blocked on level-" << n.level << " rcu_node (CPUs " << n.grplo << "-" << n.grphi << "):";
      tasks = true;
      msg << " P" << t->pid;
    }
    std::string text = msg.str();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (!text.empty() && stall_printk_under_lock_) k_.printk(text);  // printk under this leaf's rnp->lock
    if (!text.empty() && !stall_printk_under_lock_) deferred.push_back(text);
    k_.raw_spin_unlock_irqrestore(*n.lock, flags);
  }
  for (const std::string& text : deferred) k_.printk(text);
  std::ostringstream tail;
  tail << "\t(detected by " << k_.this_cpu() << ", t=" << (now - gp_start_) / k_.tick_period() << " jiffies, g="
       << completed_ + 1 << ", c=" << completed_ << ")";
  k_.printk(tail.str());
}

void Rcu::check_guarantee(Time gp_start, const char* what) {
  for (const auto& t : k_.tasks()) {
    if (t->rcu.nesting > 0 && t->rcu.read_start >= 0 && t->rcu.read_start < gp_start) {
      ++violations;
      if (violations.value() == 1) {
        k_.note_event("rcu.violation", std::string(what) + " that began at " + format_time(gp_start) + " ended at " +
                                           format_time(k_.now()) + " while " + t->comm + "/" + std::to_string(t->pid) +
                                           " was still in a reader it entered at " + format_time(t->rcu.read_start));
      }
    }
  }
}

}  // namespace quiesce::kernel
