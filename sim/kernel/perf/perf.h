#pragma once
// perf's per-task event contexts, in Linux's shape (kernel/events/core.c): each context has
// a ctx->lock at a simulated address, taken by perf's sched-out/sched-in hooks under
// rq->lock (so ctx->lock nests under rq->lock), and by perf_lock_task_context(), in its three
// historical shapes:
//   rcu_only (before 3.11): rcu_read_lock; read task->perf_event_ctxp; raw_spin_lock_irqsave
//                   (ctx->lock); rcu_read_unlock: a reader that may be preempted, then
//                   unlocks with ctx->lock held (what 058ebd0eba3a fixed)
//   preempt_disable (3.11-4.3): the same inside preempt_disable; the expedited IPI of 4.4
//                   can still mark the reader, so rcu_read_unlock_special may take
//                   rnp->lock, pi_lock, rq->lock under ctx->lock (the 2015 bug)
//   irq_save (2fd59077755c, 4.4): local_irq_save across the reader, so no IPI lands inside it.
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
  enum class Mode { RcuOnly, PreemptDisable, IrqSave };
  Perf(Kernel& k, Mode mode, int64_t lookup_cost);
  ~Perf();
  // perf_event_alloc() on a task: gives it a context (idempotent).
  PerfContext& attach(Task& t);
  // Returns the task's context locked (and *flags to pass to perf_unlock_context), or null.
  PerfContext* perf_lock_task_context(Task& task, bool* flags);
  void perf_unlock_context(PerfContext* ctx, bool flags);
  // The scheduler's hooks, with rq->lock held and interrupts off.
  void sched_out(Task& prev);
  void sched_in(Task& next);

 private:
  Kernel& k_;
  const Mode mode_;
  const int64_t lookup_cost_;
  std::vector<std::unique_ptr<PerfContext>> contexts_;
  Addr null_ctxp_ = 0;
};

}  // namespace quiesce::kernel
