// The kernel's own objects as scenarios reach them (operands, kernel threads, the lock
// classes the model owns) and the hook points where scenario programs run inside it.
#include <algorithm>

#include "sim/kernel/kernel.h"

namespace quiesce::kernel {

// task_rq_lock(), kernel/sched/core.c v4.4: pi_lock first, then the task's rq->lock; if the
// task moved between the two, drop the rq->lock and retry.
bool Kernel::task_rq_lock(Task& p) {
  Frame f(*this, "task_rq_lock");
  const bool flags = raw_spin_lock_irqsave(*p.pi_lock);
  while (true) {
    const int cpu = p.cpu;
    RawSpinLock& l = *cpu_of(cpu).rq.lock;
    raw_spin_lock(l);
    if (p.cpu == cpu) return flags;
    raw_spin_unlock(l);
  }
}

// task_rq_unlock(), v4.4: rq->lock, then pi_lock with the saved flags.
void Kernel::task_rq_unlock(Task& p, bool flags) {
  Frame f(*this, "task_rq_unlock");
  raw_spin_unlock(*cpu_of(p.cpu).rq.lock);
  raw_spin_unlock_irqrestore(*p.pi_lock, flags);
}

WaitQueue* Kernel::kernel_wait_queue(const std::string& name) {
  if (name == "log_wait") return &log_wait_;
  if (name == "rsp->gp_wq" && rcu_) return &rcu_->gp_wq();
  return nullptr;
}

std::vector<std::string> Kernel::kernel_thread_names(int cores, const Release& release) {
  std::vector<std::string> v;
  for (int c = 0; c < cores; ++c) {
    v.push_back("swapper/" + std::to_string(c));
    v.push_back("ksoftirqd/" + std::to_string(c));
    v.push_back("kworker/" + std::to_string(c) + ":0");
    // synchronize_sched_expedited()'s stoppers, until 4.4's IPIs replaced them.
    if (!release.has(Change::ExpIpi)) v.push_back("migration/" + std::to_string(c));
  }
  v.push_back("klogd");
  v.push_back("rcu_preempt");
  return v;
}

const std::vector<Kernel::KernelLockClass>& Kernel::kernel_lock_classes() {
  static const std::vector<KernelLockClass> classes = {
      {"&rq->lock", "this_rq()->lock, cpu_rq(N)->lock, task_rq(TASK)->lock, or {task_rq_lock: TASK}"},
      {"&p->pi_lock", "TASK->pi_lock"},
      {"&ctx->lock", "TASK->perf_event_ctxp->lock"},
      {"rcu_node_0", "rcu_get_root()->lock or rcu_node(N)->lock"},
      {"rcu_node_1", "rcu_node(N)->lock or rdp(CPU)->mynode->lock"},
      {"rcu_node_2", "rcu_node(N)->lock or rdp(CPU)->mynode->lock"},
      {"rcu_node_3", "rcu_node(N)->lock or rdp(CPU)->mynode->lock"},
      {"rcu_read_lock", "the rcu_read_lock / rcu_read_unlock primitives"},
      {"&pool->lock", "the queue_work primitive (it takes the pool's lock)"},
      {"logbuf_lock", "the printk primitive"},
      {"(console_sem).lock", "the console_lock / console_unlock primitives"},
      {"console_lock", "the console_lock / console_unlock primitives"},
      {"&log_wait->lock", "the wait queue log_wait ({wake_up: log_wait})"},
      {"&rsp->gp_wq->lock", "the wait queue rsp->gp_wq ({wake_up: rsp->gp_wq})"},
      {"&rsp->expedited_wq->lock", "the synchronize_rcu_expedited primitive"},
      {"&rsp->expedited_mutex", "the synchronize_rcu_expedited primitive"},
      {"&rsp->barrier_mutex", "the rcu_barrier primitive"},
      {"&lock->wait_lock", "a declared mutex's own wait_lock (taken by mutex_lock/mutex_unlock)"},
      {"&sem->wait_lock", "a declared rwsem's own wait_lock (taken by down_read/up_read/...)"},
      {"&sp->queue_lock", "the SRCU primitives (synchronize_srcu, call_srcu)"},
      {"hrtimer_bases.lock", "the hrtimer_start / hrtimer_cancel primitives"},
      {"&(&base->lock)->rlock", "the mod_timer / del_timer / del_timer_sync primitives"},
      {"&(&sighand->siglock)->rlock", "TASK->sighand->siglock (or the send_sig primitive)"},
      {"&sighand->siglock", "TASK->sighand->siglock (or the send_sig primitive)"},
  };
  return classes;
}

const char* Kernel::hook_name(Hook h) {
  switch (h) {
    case Hook::SchedSwitch: return "sched_switch";
    case Hook::Enqueue: return "enqueue";
    case Hook::Dequeue: return "dequeue";
    case Hook::UpdateCurr: return "update_curr";
    case Hook::SelectTaskRq: return "select_task_rq";
    case Hook::Tick: return "tick";
    case Hook::IrqExit: return "irq_exit";
    case Hook::Count: break;
  }
  return "?";
}

const char* Kernel::hook_doc(Hook h) {
  switch (h) {
    case Hook::SchedSwitch:
      return "__schedule() at the switch, prev != next, rq->lock held, irqs off (trace_sched_switch: the "
             "sched_switch tracepoint, perf software events, BPF programs on it); the task is prev";
    case Hook::Enqueue:
      return "activate_task() -> enqueue_task(), rq->lock held, irqs off (a wakeup making the task runnable); "
             "the task is the one enqueued";
    case Hook::Dequeue:
      return "deactivate_task() -> dequeue_task() in __schedule() as a task goes to sleep, rq->lock held, irqs "
             "off; the task is the sleeper";
    case Hook::UpdateCurr:
      return "update_curr(): runtime accounting from the tick (task_tick) and from __schedule() (put_prev_task), "
             "rq->lock held, irqs off (account_group_exec_runtime runs here); the task is the current one";
    case Hook::SelectTaskRq:
      return "try_to_wake_up() -> select_task_rq(), the woken task's pi_lock held, irqs off, no rq->lock; the "
             "task is the one being woken";
    case Hook::Tick:
      return "update_process_times() from the tick interrupt, hardirq, before scheduler_tick() (where "
             "run_posix_cpu_timers and the perf tick run); the task is the interrupted one";
    case Hook::IrqExit:
      return "irq_exit(): after a hardirq handler, before pending softirqs run, irqs off, outside hardirq "
             "(tick_irq_exit, rcu_irq_exit); the task is the interrupted one";
    case Hook::Count: break;
  }
  return "";
}

void Kernel::attach_hook(Hook h, std::function<void(Task&)> fn) { hooks_[static_cast<int>(h)].push_back(std::move(fn)); }

void Kernel::run_hook(Hook h, Task& subject) {
  auto& fns = hooks_[static_cast<int>(h)];
  if (fns.empty()) return;
  Cpu& c = this_cpu_data();
  if (c.in_hook) {
    ++hook_recursion;
    return;
  }
  c.in_hook = true;
  Frame f(*this, hook_name(h));
  for (auto& fn : fns) {
    ++hook_runs;
    fn(subject);
  }
  c.in_hook = false;
}

}  // namespace quiesce::kernel
