#include "sim/kernel/perf/perf.h"

#include "sim/kernel/kernel.h"

namespace quiesce::kernel {

Perf::Perf(Kernel& k, Mode mode, int64_t lookup_cost) : k_(k), mode_(mode), lookup_cost_(lookup_cost) {}

Perf::~Perf() = default;

PerfContext& Perf::attach(Task& t) {
  if (t.perf_ctx) return *t.perf_ctx;
  auto ctx = std::make_unique<PerfContext>();
  ctx->lock = k_.make_lock(t.comm + ".perf_ctx.lock", k_.lock_class("&ctx->lock"));
  ctx->task = &t;
  ctx->ctxp = k_.alloc(8);
  t.perf_ctx = ctx.get();
  k_.platform().mem().poke(ctx->ctxp, 1);
  contexts_.push_back(std::move(ctx));
  return *contexts_.back();
}

// perf_lock_task_context(), kernel/events/core.c: before 3.11, 3.11-4.3 (058ebd0eba3a) or
// 4.4+ (2fd59077755c), as mode_ says.
PerfContext* Perf::perf_lock_task_context(Task& task, bool* flags) {
  Kernel::Frame f(k_, "perf_lock_task_context");
  if (mode_ == Mode::IrqSave) {
    *flags = k_.local_irq_save();
  } else if (mode_ == Mode::PreemptDisable) {
    k_.preempt_disable();
  }
  k_.rcu().rcu_read_lock();
  Core& core = k_.this_core();
  if (!task.perf_ctx && !null_ctxp_) null_ctxp_ = k_.alloc(8);
  core.load(task.perf_ctx ? task.perf_ctx->ctxp : null_ctxp_);  // ctx = rcu_dereference(task->perf_event_ctxp)
  core.compute(static_cast<uint64_t>(lookup_cost_));
  PerfContext* ctx = task.perf_ctx;
  if (ctx) {
    if (mode_ == Mode::IrqSave) {
      k_.raw_spin_lock(*ctx->lock);
    } else {
      *flags = k_.raw_spin_lock_irqsave(*ctx->lock);
    }
    core.fetch_add(ctx->ctxp, 0);  // atomic_inc_not_zero(&ctx->refcount)
  }
  k_.rcu().rcu_read_unlock();
  if (mode_ == Mode::PreemptDisable) {
    k_.preempt_enable();
  } else if (mode_ == Mode::IrqSave && !ctx) {
    k_.local_irq_restore(*flags);
  }
  return ctx;
}

void Perf::perf_unlock_context(PerfContext* ctx, bool flags) {
  Kernel::Frame f(k_, "perf_unlock_context");
  k_.raw_spin_unlock_irqrestore(*ctx->lock, flags);
}

void Perf::sched_out(Task& prev) {
  if (!prev.perf_ctx) return;
  Kernel::Frame f(k_, "perf_event_task_sched_out");
  k_.raw_spin_lock(*prev.perf_ctx->lock);
  k_.compute(100);
  k_.raw_spin_unlock(*prev.perf_ctx->lock);
}

void Perf::sched_in(Task& next) {
  if (!next.perf_ctx) return;
  Kernel::Frame f(k_, "perf_event_task_sched_in");
  k_.raw_spin_lock(*next.perf_ctx->lock);
  k_.compute(100);
  k_.raw_spin_unlock(*next.perf_ctx->lock);
}

}  // namespace quiesce::kernel
