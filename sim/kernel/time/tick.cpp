// The per-CPU tick and the task hrtimers behind sleeps: programming the clock event, the
// timer interrupt (tick, hrtimer expiry), NO_HZ idle's stopped tick (kernel/time/tick-sched.c)
// and the sleeps built on them.
#include <algorithm>

#include "sim/kernel/kernel.h"

namespace quiesce::kernel {

// --- timers -------------------------------------------------------------------------------

void Kernel::hrtimer_start(Time expires, Task* t) {
  Cpu& c = this_cpu_data();
  c.timers.push_back(HrTimer{expires, timer_seq_++, t, nullptr});
  std::push_heap(c.timers.begin(), c.timers.end(), std::greater<HrTimer>());
  program_timer(c);
}

void Kernel::hrtimer_cancel(Task* t) {
  // Not reprogrammed: an expiry already programmed for it finds nothing to do (as a
  // cancelled hrtimer's lazily left clock event does).
  for (Cpu& c : cpus_) {
    auto it = std::remove_if(c.timers.begin(), c.timers.end(), [t](const HrTimer& h) { return h.task == t; });
    if (it == c.timers.end()) continue;
    c.timers.erase(it, c.timers.end());
    std::make_heap(c.timers.begin(), c.timers.end(), std::greater<HrTimer>());
  }
}

void Kernel::program_timer(Cpu& c) {
  Time next = c.next_tick;
  if (!c.timers.empty()) next = std::min(next, c.timers.front().expires);
  if (next == c.programmed) return;
  c.programmed = next;
  if (next == kTimeMax) {
    core(c.id).cancel_timer();  // a stopped tick and nothing else due
  } else {
    core(c.id).set_timer(next);
  }
}

// tick_nohz_idle_enter() -> tick_nohz_stop_sched_tick(), v4.4: in idle, with no softirq or
// irq_work pending, no RCU callbacks on this CPU (rcu_needs_cpu()) and no timer due within the
// next tick, the tick stops; the next timer_list expiry (if any) is programmed instead.
// Entered again after each interrupt in idle, it restarts the tick if something became due.
void Kernel::tick_nohz_idle_enter() {
  Cpu& c = this_cpu_data();
  const bool flags = local_irq_save();
  const Time t = now();
  Time wheel = kTimeMax;
  for (const KTimer* k : c.wheel) wheel = std::min(wheel, k->expires);
  const Time next_event = c.timers.empty() ? wheel : std::min(wheel, c.timers.front().expires);
  const bool busy = c.softirq_pending || !c.irq_work_list.empty() || (rcu_ && rcu_->cpu_needs_tick(c.id));
  if (!busy && (next_event == kTimeMax || next_event - t > tick_period_)) {
    c.tick_stopped = true;
    c.next_tick = wheel;
  } else if (c.tick_stopped) {
    c.tick_stopped = false;
    c.next_tick = (t / tick_period_ + 1) * tick_period_;
    c.last_tick = t;  // the watchdog counts from the restart: an idle CPU owes it no ticks
  }
  program_timer(c);
  local_irq_restore(flags);
}

// tick_nohz_idle_exit(): the tick restarts on the next period boundary.
void Kernel::tick_nohz_idle_exit() {
  Cpu& c = this_cpu_data();
  if (!c.tick_stopped) return;
  const bool flags = local_irq_save();
  c.tick_stopped = false;
  c.next_tick = (now() / tick_period_ + 1) * tick_period_;
  c.last_tick = now();
  program_timer(c);
  local_irq_restore(flags);
}

void Kernel::timer_interrupt() {
  Cpu& c = this_cpu_data();
  const Time now = this_core().now();
  c.programmed = -1;
  if (now >= c.next_tick) {
    ++ticks;
    c.last_tick = now;
    while (c.next_tick <= now) c.next_tick += tick_period_;
    run_hook(Hook::Tick, current());  // update_process_times(), before scheduler_tick()
    // run_local_timers(): the wheel's expired timers run from TIMER_SOFTIRQ.
    for (const KTimer* t : c.wheel) {
      if (t->expires <= now) {
        raise_softirq_irqoff(TIMER_SOFTIRQ);
        break;
      }
    }
    scheduler_tick();
    if (c.printk_pending) {  // printk_tick() from update_process_times(), before 3.9
      Frame pf(*this, "printk_tick");
      c.printk_pending = false;
      ++klogd_tick_wakeups;
      wake_up(log_wait_);
    }
  }
  while (!c.timers.empty() && c.timers.front().expires <= now) {
    std::pop_heap(c.timers.begin(), c.timers.end(), std::greater<HrTimer>());
    HrTimer t = c.timers.back();
    c.timers.pop_back();
    if (t.timer) {
      run_hrtimer(c, *t.timer);
      continue;
    }
    Frame f(*this, "hrtimer_wakeup");
    t.task->expected_wake = t.expires;
    if (!try_to_wake_up(*t.task)) t.task->expected_wake = -1;
  }
  program_timer(c);
}

void Kernel::sleep_until(Time t) {
  Frame f(*this, "schedule_hrtimeout");
  might_sleep();
  while (now() < t) {
    // The state first: a timer that fires before schedule() then finds a sleeper to wake.
    set_current_state(TaskState::Sleeping);
    hrtimer_start(t, &current());
    schedule();
  }
  set_current_state(TaskState::Running);
}

void Kernel::sleep_for(Time d) { sleep_until(now() + d); }

void Kernel::schedule_timeout(Time d) {
  Frame f(*this, "schedule_timeout");
  set_current_state(TaskState::Sleeping);
  hrtimer_start(now() + d, &current());
  schedule();
  set_current_state(TaskState::Running);
}

}  // namespace quiesce::kernel
