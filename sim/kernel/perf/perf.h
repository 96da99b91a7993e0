#pragma once
// perf's per-task event contexts, in Linux's shape (kernel/events/core.c): each context has
// a ctx->lock at a simulated address, taken by perf's sched-out/sched-in hooks under
// rq->lock (so ctx->lock nests under rq->lock), and by perf_lock_task_context(), whose two
// variants are the 2015 bug and its fix:
//   preempt_disable (v4.3): preempt_disable; rcu_read_lock; read task->perf_event_ctxp;
//                   raw_spin_lock_irqsave(ctx->lock); rcu_read_unlock (with ctx->lock
//                   held, so rcu_read_unlock_special may take rnp->lock, pi_lock, rq->lock)
//   irq_save (2fd59077755c): local_irq_save across the reader, so no IPI lands inside it.
#include <memory>
#include <string>
#include <vector>

#include "sim/kernel/arch.h"

namespace quiesce::kernel {

class Kernel;
struct Task;
struct RawSpinLock;

struct PerfContext {
  std::unique_ptr<RawSpinLock> lock;
  Task* task = nullptr;
  Addr ctxp = 0;  // where task->perf_event_ctxp lives
  int refcount = 1;
};

class Perf {
 public:
  Perf(Kernel& k, bool irq_save, int64_t lookup_cost);
  ~Perf();
  // perf_event_alloc() on a task: gives it a context (idempotent).
  PerfContext& attach(Task& t);
  // Returns the task's context locked (and *flags to pass to perf_unlock_context), or null.
  PerfContext* perf_lock_task_context(Task& task, bool* flags);
  void perf_unlock_context(PerfContext* ctx, bool flags);
  // The scheduler's hooks, with rq->lock held and interrupts off.
  void sched_out(Task& prev);
  void sched_in(Task& next);
  bool irq_save() const { return irq_save_; }

 private:
  Kernel& k_;
  const bool irq_save_;
  const int64_t lookup_cost_;
  std::vector<std::unique_ptr<PerfContext>> contexts_;
  Addr null_ctxp_ = 0;
};

}  // namespace quiesce::kernel
