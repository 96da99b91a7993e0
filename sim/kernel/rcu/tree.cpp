// Preemptible tree RCU: the rcu_node tree, normal grace periods (the rcu_preempt kthread,
// quiescent states from the tick and context switches, call_rcu callbacks in RCU_SOFTIRQ,
// stall warnings), expedited grace periods (v4.4 single-stage IPIs), and the read side with
// rcu_read_unlock_special()'s variants. See rcu.h.
#include <algorithm>
#include <sstream>

#include "sim/kernel/kernel.h"
#include "sim/kernel/rcu/rcu.h"

namespace quiesce::kernel {

struct Rcu::Node {
  std::unique_ptr<RawSpinLock> lock;
  int parent = -1;
  int level = 0;
  uint64_t grpmask = 0;  // this node's bit in its parent's masks
  int grplo = 0, grphi = 0;
  uint64_t qsmask = 0;   // children that owe the current normal GP a quiescent state
  uint64_t expmask = 0;  // children that owe the current expedited GP one
  bool leaf = false;
  std::deque<Task*> blkd_tasks;
};

struct Rcu::CpuData {
  int leaf = 0;
  uint64_t bit = 0;          // in the leaf's masks
  bool qs_pending = false;   // owes the current normal GP a quiescent state
  bool passed_qs = false;    // passed one, not yet reported to the tree
  bool deferred_qs = false;  // an expedited QS the variant deferred
  bool irq_work_pending = false;
};

struct Rcu::Callback {
  uint64_t gp;  // runs once `completed_` reaches it
  std::function<void()> func;
};

const char* Rcu::variant() const {
  switch (variant_) {
    case Variant::V44: return "v4.4";
    case Variant::Softirq: return "deferred_softirq";
    case Variant::Workqueue: return "deferred_workqueue";
    case Variant::IrqWork: return "deferred_irq_work";
  }
  return "?";
}

Rcu::Rcu(Kernel& k, const VariantParams& p, StatRegistry* stats)
    : stats_(stats, "rcu"),
      k_(k),
      variant_(p.unlock_special().value == "deferred_softirq"     ? Variant::Softirq
               : p.unlock_special().value == "deferred_workqueue" ? Variant::Workqueue
               : p.unlock_special().value == "deferred_irq_work"  ? Variant::IrqWork
                                                                  : Variant::V44),
      stall_timeout_(p.stall_timeout().ps),
      stall_printk_under_lock_(p.stall_warning().value != "deferred"),
      break_exp_(p.test_break().value == "exp_ignores_readers"),
      fanout_leaf_(static_cast<int>(p.fanout_leaf())),
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
                            k.lock_class("rcu_node_" + std::to_string(depth)));
    }
  }
  for (int c = 0; c < n; ++c) {
    CpuData& d = cpus_[static_cast<size_t>(c)];
    d.leaf = first_of_level[0] + c / fanout_leaf_;
    d.bit = uint64_t{1} << (c % fanout_leaf_);
  }
  gp_wq_ = std::make_unique<WaitQueue>(k.make_wait_queue("rsp->gp_wq"));
  exp_wq_ = std::make_unique<WaitQueue>(k.make_wait_queue("rsp->expedited_wq"));
  exp_mutex_owned_ = k.make_mutex("rsp->expedited_mutex", k.lock_class("&rsp->expedited_mutex", WaitType::Sleep));
  exp_mutex_ = exp_mutex_owned_.get();
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

void Rcu::start() {
  k_.open_softirq(RCU_SOFTIRQ, [this] { rcu_softirq(); });
  gp_task_ = &k_.create_task("rcu_preempt", TaskSpec{}, [this] { gp_kthread(); });
  gp_task_->kthread = true;
}

// --- read side -------------------------------------------------------------------------------

bool Rcu::in_reader() { return k_.current().rcu.nesting > 0; }

void Rcu::rcu_read_lock() {
  Task& t = k_.current();
  if (t.rcu.nesting++ == 0) {
    k_.trace(TraceKind::RcuReadLock);
    t.rcu.read_start = k_.now();
    t.rcu.irqs_on_inside = !k_.irqs_disabled();
  }
  k_.this_core().alu();  // ++nesting; barrier()
}

void Rcu::rcu_read_unlock() {
  Task& t = k_.current();
  k_.this_core().alu();
  if (t.rcu.nesting != 1) {
    --t.rcu.nesting;
    return;
  }
  t.rcu.nesting = -1;  // Linux's INT_MIN sentinel: leaving, not in a reader
  t.rcu.read_start = -1;
  // rcu_read_unlock() may reach rcu_read_unlock_special() and wake the expedited waiter
  // whenever an interrupt could have marked the reader: the might_wake() annotation says so
  // on every such outermost unlock, whether or not an IPI landed this time.
  if (t.rcu.irqs_on_inside) k_.might_wake();
  if (t.rcu.blocked || t.rcu.need_qs || t.rcu.exp_need_qs) rcu_read_unlock_special(t);
  t.rcu.nesting = 0;
  k_.trace(TraceKind::RcuReadUnlock);
}

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
      report_exp_cpu(cpu, true);
    } else {
      d.deferred_qs = true;
      ++deferred_qs;
      switch (variant_) {
        case Variant::Softirq:
          k_.raise_softirq_irqoff(RCU_SOFTIRQ);
          break;
        case Variant::Workqueue:
          k_.queue_work_on(cpu, *works_[static_cast<size_t>(cpu)]);
          break;
        case Variant::IrqWork:
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
    Node& n = nodes_[static_cast<size_t>(t.rcu.blocked_node)];
    const int node = t.rcu.blocked_node;
    k_.raw_spin_lock(*n.lock);
    n.blkd_tasks.erase(std::remove(n.blkd_tasks.begin(), n.blkd_tasks.end(), &t), n.blkd_tasks.end());
    t.rcu.blocked = false;
    t.rcu.blocked_node = -1;
    const bool held_gp = gp_in_progress_ && t.rcu.blocks_gp == completed_ + 1;
    const bool held_exp = exp_in_progress_ && t.rcu.blocks_exp == exp_seq_;
    t.rcu.blocks_gp = t.rcu.blocks_exp = 0;
    if (held_exp && exp_done(n)) {
      report_exp_node(node, true, false);  // unlocks
      k_.raw_spin_lock(*n.lock);
    }
    if (held_gp) {
      report_qs_node(node, 0, false);  // unlocks
    } else {
      k_.raw_spin_unlock(*n.lock);
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
    if (exp_in_progress_ && (n.expmask & d.bit)) t.rcu.blocks_exp = exp_seq_;
    ++blocked_readers;
    k_.raw_spin_unlock_irqrestore(*n.lock, flags);
  }
  if (d.qs_pending) d.passed_qs = true;  // a context switch is a quiescent state
  if (d.deferred_qs && t.rcu.nesting <= 0) report_deferred_qs(cpu);
}

void Rcu::check_callbacks() {
  Task& t = k_.current();
  CpuData& d = cpus_[static_cast<size_t>(t.cpu)];
  if (t.rcu.nesting <= 0) {
    if (d.qs_pending) d.passed_qs = true;
  } else if (d.qs_pending) {
    t.rcu.need_qs = true;  // the reader reports when it leaves
  }
  const bool ready = !callbacks_.empty() && callbacks_.front().gp <= completed_;
  if ((d.passed_qs && gp_in_progress_) || d.deferred_qs || ready) k_.raise_softirq_irqoff(RCU_SOFTIRQ);
}

void Rcu::rcu_softirq() {
  Kernel::Frame f(k_, "rcu_process_callbacks");
  const int cpu = k_.this_cpu();
  report_deferred_qs(cpu);
  if (cpus_[static_cast<size_t>(cpu)].passed_qs) report_qs_cpu(cpu);
  while (!callbacks_.empty() && callbacks_.front().gp <= completed_) {
    auto func = std::move(callbacks_.front().func);
    callbacks_.pop_front();
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
      k_.raw_spin_unlock_irqrestore(*n.lock, flags);
      if (gp_task_) k_.wake_up_process(*gp_task_);  // rcu_gp_kthread_wake
      return;
    }
    const uint64_t mask = n.grpmask;
    k_.raw_spin_unlock(*n.lock);
    node = n.parent;
    k_.raw_spin_lock(*nodes_[static_cast<size_t>(node)].lock);
    nodes_[static_cast<size_t>(node)].qsmask &= ~mask;
  }
}

void Rcu::call_rcu(std::function<void()> func) {
  Kernel::Frame f(k_, "call_rcu");
  const bool flags = k_.local_irq_save();
  callbacks_.push_back({completed_ + (gp_in_progress_ ? 2 : 1), std::move(func)});
  if (!gp_in_progress_ && !gp_requested_) {
    // rcu_start_gp(): under the root's lock, flag a GP and wake the GP kthread.
    Node& root = nodes_[0];
    k_.raw_spin_lock(*root.lock);
    gp_requested_ = true;
    k_.wake_up(*gp_wq_);
    k_.raw_spin_unlock(*root.lock);
  }
  k_.local_irq_restore(flags);
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
    const uint64_t gp = completed_ + 1;
    gp_start_ = k_.now();
    stall_warned_at_ = -1;
    for (auto& d : cpus_) {
      d.qs_pending = true;
      d.passed_qs = false;
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
    // Wait for the tree to clear, checking for stalls (force-quiescent-state scans).
    while (true) {
      Node& root = nodes_[0];
      bool blocked = false;
      for (Task* t : root.blkd_tasks) blocked = blocked || t->rcu.blocks_gp == gp;
      if (root.qsmask == 0 && !blocked) break;
      k_.schedule_timeout(fqs);
      check_stall();
    }
    // rcu_gp_cleanup()
    gp_in_progress_ = false;
    check_guarantee(gp_start_, "grace period");
    completed_ = gp;
    ++gps;
    k_.trace(TraceKind::Counter, static_cast<int>(completed_), "rcu.gp_seq");
    if (!callbacks_.empty() && callbacks_.back().gp > completed_) gp_requested_ = true;
    // Ready callbacks run in RCU_SOFTIRQ at the next tick on any CPU.
  }
}

void Rcu::check_stall() {
  if (!gp_in_progress_ || stall_timeout_ <= 0) return;
  const Time now = k_.now();
  if (now - gp_start_ < stall_timeout_) return;
  if (stall_warned_at_ >= 0 && now - stall_warned_at_ < 3 * stall_timeout_) return;
  stall_warned_at_ = now;
  ++stall_warnings;
  Kernel::Frame f(k_, "print_other_cpu_stall");
  Node& root = nodes_[0];
  const bool flags = k_.raw_spin_lock_irqsave(*root.lock);
  std::ostringstream msg;
  msg << "INFO: rcu_preempt detected stalls on CPUs/tasks: {";
  for (size_t c = 0; c < cpus_.size(); ++c) {
    const CpuData& d = cpus_[c];
    if (nodes_[static_cast<size_t>(d.leaf)].qsmask & d.bit) msg << " " << c;
  }
  for (const Node& n : nodes_) {
    for (Task* t : n.blkd_tasks) {
      if (t->rcu.blocks_gp == completed_ + 1) msg << " P" << t->pid;
    }
  }
  msg << " } (detected by " << k_.this_cpu() << ", t=" << (now - gp_start_) / k_.tick_period() << " jiffies, g="
      << completed_ + 1 << ", c=" << completed_ << ")";
  if (stall_printk_under_lock_) {
    k_.printk(msg.str());  // printk (and its klogd wakeup) under rnp->lock
    k_.raw_spin_unlock_irqrestore(*root.lock, flags);
  } else {
    k_.raw_spin_unlock_irqrestore(*root.lock, flags);
    k_.printk(msg.str());
  }
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

// --- expedited grace periods -----------------------------------------------------------------------

bool Rcu::exp_done(const Node& n) const {
  if (n.expmask) return false;
  for (Task* t : n.blkd_tasks) {
    if (t->rcu.blocks_exp == exp_seq_) return false;
  }
  return true;
}

void Rcu::report_exp_cpu(int cpu, bool wake) {
  Kernel::Frame f(k_, "rcu_report_exp_rdp");
  CpuData& d = cpus_[static_cast<size_t>(cpu)];
  Node& n = nodes_[static_cast<size_t>(d.leaf)];
  const bool flags = k_.raw_spin_lock_irqsave(*n.lock);
  if (!exp_in_progress_ || !(n.expmask & d.bit)) {
    k_.raw_spin_unlock_irqrestore(*n.lock, flags);
    return;
  }
  n.expmask &= ~d.bit;
  report_exp_node(d.leaf, wake, flags);
}

void Rcu::report_exp_node(int node, bool wake, bool flags) {
  Kernel::Frame f(k_, "rcu_report_exp_rnp");
  while (true) {
    Node& n = nodes_[static_cast<size_t>(node)];
    if (!exp_done(n)) {
      k_.raw_spin_unlock_irqrestore(*n.lock, flags);
      return;
    }
    if (n.parent < 0) {
      // At the root: drop the lock, then wake the expedited waiter (its pi_lock, rq->lock).
      k_.raw_spin_unlock_irqrestore(*n.lock, flags);
      if (wake) k_.wake_up(*exp_wq_);
      return;
    }
    const uint64_t mask = n.grpmask;
    k_.raw_spin_unlock(*n.lock);
    node = n.parent;
    k_.raw_spin_lock(*nodes_[static_cast<size_t>(node)].lock);
    nodes_[static_cast<size_t>(node)].expmask &= ~mask;
  }
}

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

void Rcu::synchronize_rcu_expedited() {
  Kernel::Frame f(k_, "synchronize_rcu_expedited");
  k_.might_sleep();
  const Time start = k_.now();
  k_.mutex_lock(*exp_mutex_);
  ++exp_seq_;
  exp_start_ = k_.now();
  // sync_rcu_preempt_exp_init(): each leaf owes it its CPUs and its blocked readers,
  // interior nodes their children. In progress first, nodes top-down (as for normal GPs).
  exp_in_progress_ = true;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    const bool flags = k_.raw_spin_lock_irqsave(*n.lock);
    n.expmask = 0;
    if (n.leaf) {
      for (int c = n.grplo; c <= n.grphi; ++c) n.expmask |= cpus_[static_cast<size_t>(c)].bit;
      for (Task* t : n.blkd_tasks) {
        if (t->rcu.nesting > 0) t->rcu.blocks_exp = exp_seq_;
      }
    } else {
      for (const Node& child : nodes_) {
        if (child.parent == static_cast<int>(i)) n.expmask |= child.grpmask;
      }
    }
    k_.raw_spin_unlock_irqrestore(*n.lock, flags);
  }
  // One IPI per CPU; this CPU runs the handler itself.
  const int me = k_.this_cpu();
  for (int c = 0; c < k_.nr_cpus(); ++c) {
    if (c == me) {
      const bool flags = k_.local_irq_save();
      exp_handler();
      k_.local_irq_restore(flags);
    } else {
      k_.smp_call_function_single(c, [this] { exp_handler(); }, false);
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
