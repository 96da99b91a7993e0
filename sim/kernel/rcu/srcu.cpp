// SRCU, the classic per-CPU-counter implementation of 4.4 (kernel/rcu/srcu.c), as far as its
// locks, sleeps and lockdep annotations go.
#include "sim/kernel/kernel.h"

namespace quiesce::kernel {

std::unique_ptr<SrcuStruct> Kernel::make_srcu(const std::string& name) {
  auto s = std::make_unique<SrcuStruct>();
  s->name = name;
  s->map = &lock_class(name, WaitType::Sleep);  // DEFINE_SRCU(name): the map is named after it
  s->queue_lock = owned_locks_.emplace_back(make_lock(name + ".queue_lock", lock_class("&sp->queue_lock"))).get();
  s->counters = alloc(8);
  s->work.name = "process_srcu";
  return s;
}

// __srcu_read_lock(), v4.4: preemption off around the per-CPU counter increments; lockdep
// holds sp->dep_map (rcu_lock_acquire: read, unchecked).
int Kernel::srcu_read_lock(SrcuStruct& s) {
  Frame f(*this, "__srcu_read_lock");
  preempt_disable();
  const int idx = s.idx;
  ++s.readers[idx];
  this_core().fetch_add(s.counters, 1);
  preempt_enable();
  lockdep_hold_unchecked(s.map->id);
  return idx;
}

void Kernel::srcu_read_unlock(SrcuStruct& s, int idx) {
  Frame f(*this, "__srcu_read_unlock");
  lockdep_release_unchecked(s.map->id);
  if (s.readers[idx] == 0) {
    warn_once("srcu_read_unlock:" + s.name, "kernel/rcu/srcu.c srcu_read_unlock",
              "srcu_read_unlock(" + s.name + ") without srcu_read_lock");
    return;
  }
  --s.readers[idx];
  this_core().fetch_add(s.counters, 1);
}

// synchronize_srcu() -> __synchronize_srcu(), v4.4: might_sleep; lockdep's assertion that the
// caller is in no reader of the same domain (nor in RCU); then a grace period: flip the index
// under sp->queue_lock and wait for the old index's readers to drain, checking twice at
// SRCU_RETRY_CHECK_DELAY (5 us) and then every jiffy (SRCU_INTERVAL).
void Kernel::synchronize_srcu(SrcuStruct& s) {
  Frame f(*this, "synchronize_srcu");
  might_sleep();
  for (const HeldLock& h : current().held_locks) {
    if (h.cls != s.map->id && h.cls != rcu_->lock_map()) continue;
    if (lockdep_watching()) {
      lockdep_.suspicious_rcu(lockdep_ctx(), current().held_locks, "kernel/rcu/srcu.c synchronize_srcu",
                              "Illegal synchronize_srcu() in same-type SRCU (or in RCU) read-side critical section!");
    }
    if (tracer_) trace_new_reports();
    break;
  }
  bool flags = raw_spin_lock_irqsave(*s.queue_lock);
  const int old = s.idx;
  s.idx ^= 1;
  raw_spin_unlock_irqrestore(*s.queue_lock, flags);
  for (int trial = 0; s.readers[old] > 0; ++trial) {
    this_core().load(s.counters);
    if (trial < 2) {
      compute_for(5 * kUs);  // udelay(SRCU_RETRY_CHECK_DELAY)
    } else {
      schedule_timeout(tick_period_);
    }
  }
}

// call_srcu(), v4.4: the callback queued under sp->queue_lock; process_srcu() (a work item on
// this CPU) runs the grace period and invokes the callbacks.
void Kernel::call_srcu(SrcuStruct& s, std::function<void()> fn) {
  Frame f(*this, "call_srcu");
  const bool flags = raw_spin_lock_irqsave(*s.queue_lock);
  s.cbs.push_back(std::move(fn));
  const bool start = !s.gp_running;
  s.gp_running = true;
  raw_spin_unlock_irqrestore(*s.queue_lock, flags);
  if (!start) return;
  SrcuStruct* sp = &s;
  s.work.func = [this, sp] {
    while (true) {
      bool fl = raw_spin_lock_irqsave(*sp->queue_lock);
      std::deque<std::function<void()>> batch;
      batch.swap(sp->cbs);
      if (batch.empty()) sp->gp_running = false;
      raw_spin_unlock_irqrestore(*sp->queue_lock, fl);
      if (batch.empty()) return;
      synchronize_srcu(*sp);
      Frame cb(*this, "srcu_invoke_callbacks");
      local_bh_disable();
      for (auto& c : batch) c();
      local_bh_enable();
    }
  };
  queue_work_on(this_cpu(), s.work);
}

}  // namespace quiesce::kernel
