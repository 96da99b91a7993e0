// How a run ends (end_run) and what the kernel says then: each CPU's state, the tasks
// asleep; and the watchdogs: the NMI watchdog's hard-lockup check (v4.4 kernel/watchdog.c)
// and the stall check that ends a run nothing can move on any more.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "sim/kernel/kernel.h"

namespace quiesce::kernel {

void Kernel::end_run(const std::string& kind, const std::string& detail, Time when) {
  if (!outcome_.kind.empty()) return;
  const Time at = when >= 0 ? when : CoreScheduler::simulated_now();
  if (tracer_) {
    tracer_->trigger(at);
    TraceEvent e;
    e.t = at;
    e.kind = TraceKind::Report;
    tracer_->record(e, kind);
  }
  outcome_.kind = kind;
  outcome_.when = at;
  outcome_.detail = detail;
  sc_core::sc_stop();
}

std::string Kernel::describe_cpu(int cpu) {
  Cpu& c = cpu_of(cpu);
  Core& co = core(cpu);
  Task* t = c.rq.curr;
  std::ostringstream s;
  s << "CPU" << cpu << ": " << (t ? t->comm + "/" + std::to_string(t->pid) : "?") << ", irqs "
    << (co.irqs_enabled() ? "on" : "off") << ", preempt_count " << co.preempt_count()
    << (co.hardirq_depth() ? ", in hardirq" : "") << (c.softirq_count ? ", bh/softirq" : "");
  if (t) {
    bool in_special = false;
    for (const char* f : t->frames)
      in_special = in_special || std::string(f) == "rcu_read_unlock_special";
    if (in_special && t->rcu.exp_ipi_from >= 0) {
      s << "\n  in rcu_read_unlock_special(): the expedited-GP IPI from CPU" << t->rcu.exp_ipi_from
        << " (raised at " << format_time(t->rcu.exp_ipi_raised) << ", handled at "
        << format_time(t->rcu.exp_ipi_handled)
        << ") found it inside an RCU reader; rcu_read_unlock() is reporting the quiescent state";
    }
  }
  // The spinlocks it holds apart from the one it spins on (lockdep's list below has that one
  // too: lock_acquire() comes before the spin).
  s << "\n  holds:";
  if (c.spinlocks_held.empty()) s << " no spinlock";
  for (size_t i = 0; i < c.spinlocks_held.size(); ++i) {
    const RawSpinLock& l = *c.spinlocks_held[i];
    s << (i ? ", " : " ") << l.name << " (" << l.cls->name << ", since "
      << format_time(l.acquired_at) << " at " << l.acquired_site << ")";
  }
  const RawSpinLock* spun = deadlock_.waiting_on(cpu);
  if (spun) {
    s << "\n  spins on: " << spun->name << " (" << spun->cls->name << "), held by "
      << (spun->owner_cpu >= 0 ? "CPU" + std::to_string(spun->owner_cpu) : std::string("nobody"));
  }
  if (t) {
    s << "\n  call stack:";
    for (auto it = t->frames.rbegin(); it != t->frames.rend(); ++it) s << " " << *it;
    s << "\n  lockdep's held locks:";
    if (t->held_locks.empty()) s << " none";
    for (size_t i = 0; i < t->held_locks.size(); ++i) {
      const HeldLock& h = t->held_locks[i];
      const std::string& name = classes_[static_cast<size_t>(h.cls)]->name;
      s << "\n    " << name << " at " << h.site << " since " << format_time(h.since);
      if (spun && i + 1 == t->held_locks.size() &&
          name.compare(0, spun->cls->name.size(), spun->cls->name) == 0) {
        s << " (being acquired: spinning)";
      }
    }
  }
  return s.str();
}

bool Kernel::nothing_can_wake() const {
  if (!device_handlers_.empty()) return false;  // a device may yet interrupt
  bool user_sleeps = false;
  for (const auto& t : tasks_) {
    if (t->is_idle || t->state == TaskState::Dead) continue;
    if (t->state != TaskState::Sleeping) return false;
    user_sleeps = user_sleeps || !t->kthread;
  }
  if (!user_sleeps) return false;  // only kernel threads waiting for work: an idle system
  for (const Cpu& c : cpus_) {
    for (const HrTimer& h : c.timers) {
      if (h.timer || !h.task->is_idle)
        return false;  // a timer will wake someone, or run a callback
    }
    if (!c.wheel.empty() || !c.softirq_hrtimers.empty()) return false;  // timer callbacks to come
    if (c.softirq_pending || !c.call_queue.empty() || !c.irq_work_list.empty() ||
        !c.worklist.empty())
      return false;
  }
  return true;
}

std::string Kernel::sleepers() const {
  std::ostringstream s;
  s << "sleeping tasks:";
  for (const auto& t : tasks_) {
    if (t->is_idle || t->kthread || t->state != TaskState::Sleeping) continue;
    s << "\n  " << t->comm << "/" << t->pid << " (CPU" << t->cpu << ") in";
    for (auto it = t->frames.rbegin(); it != t->frames.rend(); ++it) s << " " << *it;
    if (const Mutex* m = t->blocked_on) {
      s << "\n    waiting for mutex " << m->name << " (" << m->cls->name << "), held by "
        << (m->owner ? m->owner->comm + "/" + std::to_string(m->owner->pid)
                     : std::string("nobody"));
    }
  }
  return s.str();
}

void Kernel::start_watchdog() {
  if (hardlockup_ <= 0 && stall_ <= 0) return;
  Time period = kTimeMax;
  if (hardlockup_ > 0) period = std::min(period, hardlockup_ / 4);
  if (stall_ > 0) period = std::min(period, stall_ / 4);
  period = std::max<Time>(period, kUs);
  sc_core::sc_spawn_options opts;
  opts.set_stack_size(64 * 1024);
  sc_core::sc_spawn(
      [this, period] {
        uint64_t last_switches = 0;
        Time last_change = 0;
        int quiet_samples = 0;
        while (true) {
          sc_core::wait(
              sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(period)));
          const Time now = static_cast<Time>(sc_core::sc_time_stamp().value());
          if (hardlockup_ > 0) {
            for (Cpu& c : cpus_) {
              if (c.irqoff_since >= 0 && now - c.irqoff_since > hardlockup_) {
                end_run("hard_lockup", "NMI watchdog: Watchdog detected hard LOCKUP on cpu " +
                                           std::to_string(c.id) + ": interrupts off since " +
                                           format_time(c.irqoff_since) + " (" + c.irqoff_site +
                                           ")\n" + describe_cpu(c.id));
                return;
              }
              // The NMI watchdog's own test: the CPU has served no timer interrupt for the
              // threshold, with interrupts on as far as the kernel knows (a stalled core).
              if (c.irqoff_since < 0 && !c.tick_stopped &&
                  now - c.last_tick > hardlockup_ + tick_period_) {
                end_run("hard_lockup",
                        "NMI watchdog: Watchdog detected hard LOCKUP on cpu " +
                            std::to_string(c.id) + ": no timer interrupt served since " +
                            format_time(c.last_tick) + " although interrupts are enabled\n" +
                            describe_cpu(c.id));
                return;
              }
            }
          }
          if (stall_ > 0) {
            bool busy = false;
            for (Cpu& c : cpus_) busy = busy || (c.rq.curr && !c.rq.curr->is_idle);
            if (busy || context_switches.value() != last_switches) {
              last_switches = context_switches.value();
              last_change = now;
              quiet_samples = 0;
            } else if (now - last_change > stall_) {
              end_run("stall", "no task but idle has run for " + format_time(now - last_change) +
                                   "\n" + sleepers());
              return;
            } else if (nothing_can_wake() && ++quiet_samples >= 2) {
              // Two samples a watchdog period apart with nothing run and nothing pending:
              // waiting longer cannot change anything.
              end_run("stall", "every task sleeps and nothing pending can wake one\n" + sleepers());
              return;
            }
          }
        }
      },
      "kernel_watchdog", &opts);
}

}  // namespace quiesce::kernel
