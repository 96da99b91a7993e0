// Timers with callbacks: the timer wheel (timer_list, run from TIMER_SOFTIRQ at tick
// resolution) and hrtimers (run from the timer interrupt in hardirq), each CPU's under its
// own base lock, as kernel/time/timer.c and hrtimer.c have them.
#include <algorithm>

#include "sim/kernel/kernel.h"

namespace quiesce::kernel {

void Kernel::init_timer(KTimer& t, const std::string& name, bool hr, std::function<void()> fn) {
  t.name = name;
  t.hr = hr;
  t.fn = std::move(fn);
  t.cpu = -1;
  t.running_on = -1;
  // timer->lockdep_map (4.4: init_timer_key names it after the timer); hrtimers have none.
  if (!hr) t.map = &lock_class(name, WaitType::Spin);
}

// Takes `t` off whichever wheel holds it now (the caller holds a base lock; the check and
// the removal are one step, so a timer re-armed concurrently is never on two wheels).
void Kernel::detach_timer(KTimer& t) {
  if (t.cpu < 0) return;
  auto& wheel = cpu_of(t.cpu).wheel;
  wheel.erase(std::remove(wheel.begin(), wheel.end(), &t), wheel.end());
  t.cpu = -1;
}

// mod_timer(), v4.4: lock the base the timer is on (lock_timer_base()), take it off, and
// queue it on this CPU's base at `expires` rounded up to a tick. Returns whether it was
// pending. (The model switches bases under the new base's lock alone.)
bool Kernel::mod_timer(KTimer& t, Time expires) {
  Frame f(*this, "mod_timer");
  const bool flags = local_irq_save();
  if (t.cpu >= 0 && t.cpu != this_cpu()) {
    Cpu& old = cpu_of(t.cpu);
    raw_spin_lock(*old.timer_base_lock);
    raw_spin_unlock(*old.timer_base_lock);
  }
  Cpu& c = this_cpu_data();
  raw_spin_lock(*c.timer_base_lock);
  const bool was_pending = t.cpu >= 0;
  detach_timer(t);
  t.expires = (std::max(expires, now()) + tick_period_ - 1) / tick_period_ * tick_period_;
  t.cpu = c.id;
  c.wheel.push_back(&t);
  raw_spin_unlock(*c.timer_base_lock);
  local_irq_restore(flags);
  return was_pending;
}

bool Kernel::del_timer(KTimer& t) {
  Frame f(*this, "del_timer");
  if (t.cpu < 0) return false;
  Cpu& c = cpu_of(t.cpu);
  const bool flags = raw_spin_lock_irqsave(*c.timer_base_lock);
  const bool was = t.cpu >= 0;
  detach_timer(t);
  raw_spin_unlock_irqrestore(*c.timer_base_lock, flags);
  return was;
}

// del_timer_sync(), v4.4: lockdep takes and drops the timer's map with irqs off (the callback
// runs holding it, so a lock the callback takes must not be held here), then deletes it,
// spinning while its callback runs on another CPU. From the timer's own callback, or in
// hardirq, Linux warns (WARN_ON(in_irq())): reported here, and the wait is skipped.
bool Kernel::del_timer_sync(KTimer& t) {
  Frame f(*this, "del_timer_sync");
  const bool flags = local_irq_save();
  lock_map_acquire(*t.map);
  lock_map_release(*t.map);
  local_irq_restore(flags);
  if (in_irq() || t.running_on == this_cpu()) {
    warn_once("del_timer_sync:" + t.name, "kernel/time/timer.c del_timer_sync",
              "del_timer_sync(" + t.name + ") from interrupt context or from its own callback");
    return del_timer(t);
  }
  const bool was = del_timer(t);
  while (t.running_on >= 0) compute(100);  // cpu_relax() until the callback is done
  return was;
}

// run_timer_softirq() -> __run_timers(), v4.4: under base->lock (irqs off) take each expired
// timer off, mark it running, drop the lock and run the callback with its lockdep map held.
void Kernel::run_timer_softirq() {
  Frame f(*this, "run_timer_softirq");
  Cpu& c = this_cpu_data();
  raw_spin_lock_irq(*c.timer_base_lock);
  while (true) {
    auto it = std::find_if(c.wheel.begin(), c.wheel.end(), [&](const KTimer* t) { return t->expires <= now(); });
    if (it == c.wheel.end()) break;
    KTimer& t = **it;
    c.wheel.erase(it);
    t.cpu = -1;
    t.running_on = c.id;
    c.running_timer = &t;
    raw_spin_unlock_irq(*c.timer_base_lock);
    {
      Frame cb(*this, t.name.c_str());  // call_timer_fn
      ++timers_run;
      lock_map_acquire(*t.map);
      t.fn();
      lock_map_release(*t.map);
    }
    raw_spin_lock_irq(*c.timer_base_lock);
    t.running_on = -1;
    c.running_timer = nullptr;
  }
  raw_spin_unlock_irq(*c.timer_base_lock);
}

// hrtimer_start(), under the base's lock (hrtimer_bases.lock, irqs off): queue the timer
// and reprogram the clock event if it is now the first. A timer already expired:
//   run_in_caller  before a6037b61c2f5 (2.6.29): its callback runs at once, in the caller's
//                  context and under the caller's locks (hrtimer_enqueue_reprogram)
//   softirq        2.6.29-4.1: HRTIMER_SOFTIRQ runs it soon (raise_softirq_irqoff)
//   reprogram      4.2+ (c6eb3f70d448): the clock event is programmed to fire at once
void Kernel::hrtimer_start(KTimer& t, Time expires) {
  Frame f(*this, "hrtimer_start_range_ns");
  Cpu& c = this_cpu_data();
  const bool flags = raw_spin_lock_irqsave(*c.hrtimer_lock);
  detach_hrtimer(t);  // remove_hrtimer(), in the same step as the enqueue below
  t.expires = expires;
  if (expires <= now() && expired_start_ != ExpiredStart::Reprogram) {
    if (expired_start_ == ExpiredStart::RunInCaller) {
      Frame r(*this, "hrtimer_enqueue_reprogram");
      raw_spin_unlock(*c.hrtimer_lock);  // __run_hrtimer drops the base lock around the callback
      run_hrtimer(c, t);
      raw_spin_lock(*c.hrtimer_lock);
    } else {
      t.cpu = c.id;
      c.softirq_hrtimers.push_back(&t);
      raise_softirq_irqoff(HRTIMER_SOFTIRQ);
    }
    raw_spin_unlock_irqrestore(*c.hrtimer_lock, flags);
    return;
  }
  t.cpu = c.id;
  c.timers.push_back(HrTimer{expires, timer_seq_++, nullptr, &t});
  std::push_heap(c.timers.begin(), c.timers.end(), std::greater<HrTimer>());
  program_timer(c);
  raw_spin_unlock_irqrestore(*c.hrtimer_lock, flags);
}

// Takes `t` off whichever CPU's queue holds it now (the caller holds a base lock).
void Kernel::detach_hrtimer(KTimer& t) {
  if (t.cpu < 0) return;
  Cpu& c = cpu_of(t.cpu);
  auto it = std::remove_if(c.timers.begin(), c.timers.end(), [&](const HrTimer& h) { return h.timer == &t; });
  if (it != c.timers.end()) {
    c.timers.erase(it, c.timers.end());
    std::make_heap(c.timers.begin(), c.timers.end(), std::greater<HrTimer>());
  }
  c.softirq_hrtimers.erase(std::remove(c.softirq_hrtimers.begin(), c.softirq_hrtimers.end(), &t),
                           c.softirq_hrtimers.end());
  t.cpu = -1;
}

void Kernel::hrtimer_remove(KTimer& t) {
  if (t.cpu < 0) return;
  Cpu& c = cpu_of(t.cpu);
  const bool flags = raw_spin_lock_irqsave(*c.hrtimer_lock);
  detach_hrtimer(t);
  raw_spin_unlock_irqrestore(*c.hrtimer_lock, flags);
}

// hrtimer_cancel(): take it off, waiting while its callback runs elsewhere (hrtimer_try_to_
// cancel's retry loop). From its own callback that would never end: reported and skipped.
bool Kernel::hrtimer_cancel(KTimer& t) {
  Frame f(*this, "hrtimer_cancel");
  const bool was = t.cpu >= 0;
  if (t.running_on == this_cpu()) {
    warn_once("hrtimer_cancel:" + t.name, "kernel/time/hrtimer.c hrtimer_cancel",
              "hrtimer_cancel(" + t.name + ") from its own callback would wait for ever");
    hrtimer_remove(t);
    return was;
  }
  hrtimer_remove(t);
  while (t.running_on >= 0) compute(100);
  return was;
}

// run_hrtimer_softirq(), 2.6.29-4.1: the timers hrtimer_start() found already expired.
void Kernel::run_hrtimer_softirq() {
  Frame f(*this, "run_hrtimer_softirq");
  Cpu& c = this_cpu_data();
  while (true) {
    const bool flags = raw_spin_lock_irqsave(*c.hrtimer_lock);
    if (c.softirq_hrtimers.empty()) {
      raw_spin_unlock_irqrestore(*c.hrtimer_lock, flags);
      break;
    }
    KTimer* t = c.softirq_hrtimers.front();
    c.softirq_hrtimers.erase(c.softirq_hrtimers.begin());
    raw_spin_unlock(*c.hrtimer_lock);
    run_hrtimer(c, *t);
    local_irq_restore(flags);
  }
}

// __run_hrtimer(): the callback runs with the base lock dropped, irqs off.
void Kernel::run_hrtimer(Cpu& c, KTimer& t) {
  t.cpu = -1;
  t.running_on = c.id;
  Frame cb(*this, t.name.c_str());
  ++hrtimers_run;
  t.fn();
  t.running_on = -1;
}

}  // namespace quiesce::kernel
