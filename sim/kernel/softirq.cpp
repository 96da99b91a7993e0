// Deferred work: softirq (at irq exit or in ksoftirqd), irq_work (self-IPI), workqueues
// (kworker), printk and klogd, and smp_call_function_single.
#include <algorithm>
#include <cstdio>

#include "sim/kernel/kernel.h"

namespace quiesce::kernel {

// --- softirq -------------------------------------------------------------------------------

void Kernel::open_softirq(int nr, std::function<void()> action) {
  softirq_vec_.at(static_cast<size_t>(nr)) = std::move(action);
}

void Kernel::raise_softirq_irqoff(int nr) {
  Frame f(*this, "raise_softirq_irqoff");
  might_wake();
  Cpu& c = this_cpu_data();
  c.softirq_pending |= 1u << nr;
  this_core().alu();
  if (!in_interrupt()) wakeup_softirqd();
}

void Kernel::raise_softirq(int nr) {
  const bool flags = local_irq_save();
  raise_softirq_irqoff(nr);
  local_irq_restore(flags);
}

void Kernel::wakeup_softirqd() {
  Task* t = this_cpu_data().ksoftirqd;
  if (t && t->state == TaskState::Sleeping) {
    ++ksoftirqd_wakeups;
    wake_up_process(*t);
  }
}

void Kernel::do_softirq_at_irq_exit() {
  Cpu& c = this_cpu_data();
  if (c.softirq_pending && c.softirq_count == 0) __do_softirq();
}

void Kernel::__do_softirq() {
  Frame f(*this, "__do_softirq");
  Cpu& c = this_cpu_data();
  ++c.softirq_count;
  ++c.serving_softirq;
  int restart = softirq_restart_;
  while (c.softirq_pending && restart-- > 0) {
    const uint32_t pending = c.softirq_pending;
    c.softirq_pending = 0;
    local_irq_enable();
    for (int nr = 0; nr < NR_SOFTIRQS; ++nr) {
      if (!(pending & (1u << nr))) continue;
      const auto& kernel_action = kernel_softirq_vec_[static_cast<size_t>(nr)];
      const auto& action = softirq_vec_[static_cast<size_t>(nr)];
      if (!kernel_action && !action) continue;
      ++softirqs;
      trace(TraceKind::SoftirqEntry, nr, softirq_name(nr));
      if (kernel_action) kernel_action();
      if (action) action();
      trace(TraceKind::SoftirqExit, nr, softirq_name(nr));
    }
    local_irq_disable();
  }
  --this_cpu_data().serving_softirq;
  --this_cpu_data().softirq_count;
  if (this_cpu_data().softirq_pending) wakeup_softirqd();
}

void Kernel::ksoftirqd_loop() {
  Frame f(*this, "run_ksoftirqd");
  while (true) {
    set_current_state(TaskState::Sleeping);
    if (!this_cpu_data().softirq_pending) schedule();
    set_current_state(TaskState::Running);
    local_irq_disable();
    if (this_cpu_data().softirq_pending) __do_softirq();
    local_irq_enable();
    cond_resched();
  }
}

// --- irq_work -------------------------------------------------------------------------------

bool Kernel::irq_work_queue(IrqWork& w) {
  Frame f(*this, "irq_work_queue");
  if (w.pending) return false;
  w.pending = true;
  const bool flags = local_irq_save();
  Cpu& c = this_cpu_data();
  c.irq_work_list.push_back(&w);
  if (c.irq_work_list.size() == 1) send_ipi(c.id, kIpiIrqWork);  // arch_irq_work_raise
  local_irq_restore(flags);
  return true;
}

void Kernel::irq_work_run() {
  Cpu& c = this_cpu_data();
  std::vector<IrqWork*> list;
  list.swap(c.irq_work_list);
  for (IrqWork* w : list) {
    w->pending = false;
    ++irq_works;
    Frame f(*this, w->name);
    if (w->func) w->func();
  }
}

// --- workqueues ------------------------------------------------------------------------------

bool Kernel::queue_work_on(int cpu, WorkItem& w) {
  Frame f(*this, "queue_work_on");
  if (w.pending) return false;
  w.pending = true;
  // __queue_work(), v4.4: a work still running on some pool is queued there again, so it never
  // runs on two workers at once.
  if (w.running_on >= 0) cpu = w.running_on;
  Cpu& c = cpu_of(cpu);
  const bool flags = raw_spin_lock_irqsave(*c.pool_lock);
  c.worklist.push_back(&w);
  // Like Linux, the idle worker is woken under pool->lock.
  might_wake();
  if (c.kworker->state == TaskState::Sleeping) wake_up_process(*c.kworker);
  raw_spin_unlock_irqrestore(*c.pool_lock, flags);
  return true;
}

// flush_work(), v4.4: lock_map_acquire/release of the work's map (start_flush_work), then
// wait until it is neither pending nor running. Returns whether there was anything to wait for.
bool Kernel::flush_work(WorkItem& w) {
  Frame f(*this, "flush_work");
  might_sleep();
  if (w.map) {
    lock_map_acquire(*w.map);
    lock_map_release(*w.map);
  }
  if (!w.pending && w.running_on < 0) return false;
  if (w.running_task == &current()) {
    warn_once(std::string("flush_work:") + w.name, "kernel/workqueue.c flush_work", "a work item flushing itself");
    return false;
  }
  while (w.pending || w.running_on >= 0) sleep_for(10 * kUs);
  return true;
}

void Kernel::kworker_loop() {
  Frame f(*this, "worker_thread");
  while (true) {
    Cpu& c = this_cpu_data();
    raw_spin_lock_irq(*c.pool_lock);
    if (c.worklist.empty()) {
      set_current_state(TaskState::Sleeping);
      raw_spin_unlock_irq(*c.pool_lock);
      schedule();
      continue;
    }
    WorkItem* w = c.worklist.front();
    c.worklist.pop_front();
    w->pending = false;
    raw_spin_unlock_irq(*c.pool_lock);
    ++works;
    Frame g(*this, w->name);
    w->running_on = c.id;
    w->running_task = &current();
    if (w->map) lock_map_acquire(*w->map);
    if (w->func) w->func();
    if (w->map) lock_map_release(*w->map);
    w->running_on = -1;
    w->running_task = nullptr;
  }
}

// --- printk ---------------------------------------------------------------------------------

namespace {
// lockdep_off() ... lockdep_on() around printk's internals, before 4.11 (active).
class PrintkLockdepOff {
 public:
  PrintkLockdepOff(Task& t, bool active) : t_(t), active_(active) {
    if (active_) ++t_.lockdep_recursion;
  }
  ~PrintkLockdepOff() {
    if (active_) --t_.lockdep_recursion;
  }
  PrintkLockdepOff(const PrintkLockdepOff&) = delete;
  PrintkLockdepOff& operator=(const PrintkLockdepOff&) = delete;

 private:
  Task& t_;
  const bool active_;
};

std::string dmesg_stamp(Time t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "[%5lld.%06lld] ", static_cast<long long>(t / kSec),
                static_cast<long long>((t % kSec) / kUs));
  return buf;
}
}  // namespace

// vprintk_emit(), v4.4: the record under logbuf_lock (irqs off), then console_trylock() and,
// for the owner, console_unlock(): print, up(&console_sem) (which wakes a console_lock()
// sleeper under the semaphore's lock), and wake_up_klogd(). Before 4.11 all of it runs under
// lockdep_off(), so lockdep records none of these locks under the caller's. The console
// drivers' time is kernel.printk.console_cost per record (0: no console registered).
void Kernel::printk(const std::string& text) {
  Frame f(*this, "printk");
  might_wake();  // where Peter Zijlstra's 2015 proposal puts it: printk may wake
  log_store(text, true);
  preempt_disable();
  {
    PrintkLockdepOff off(current(), !printk_lockdep_visible_);
    if (console_trylock()) {
      Frame cu(*this, "console_unlock");
      if (console_cost_ > 0) {  // call_console_drivers() with interrupts off
        const bool cflags = local_irq_save();
        compute_for(console_cost_);
        local_irq_restore(cflags);
      }
      up_console_sem();
    }
  }
  preempt_enable();
  // v4.4 calls it at the end of console_unlock() (inside lockdep_off(), but it takes no lock
  // there: the irq_work or the tick does the wakeup); here, after, so that the `direct`
  // what-if's wakeup is one lockdep sees.
  wake_up_klogd();
}

// vprintk_emit()'s first part: the record under logbuf_lock with interrupts off (so nothing
// switches this task out while lockdep looks away before 4.11).
void Kernel::log_store(const std::string& text, bool traced) {
  const bool flags = local_irq_save();
  {
    PrintkLockdepOff off(current(), !printk_lockdep_visible_);
    raw_spin_lock(*logbuf_lock_);
    log_.push_back(dmesg_stamp(now()) + text);
    ++printks;
    if (traced) trace(TraceKind::Print, 0, text.c_str());
    this_core().compute(200);
    raw_spin_unlock(*logbuf_lock_);
  }
  local_irq_restore(flags);
}

// console_trylock() -> down_trylock(&console_sem): the semaphore's lock, count.
bool Kernel::console_trylock() {
  Frame f(*this, "console_trylock");
  const bool flags = raw_spin_lock_irqsave(*console_sem_lock_);
  const bool got = console_sem_count_ > 0;
  if (got) --console_sem_count_;
  raw_spin_unlock_irqrestore(*console_sem_lock_, flags);
  return got;
}

// console_lock(): down(&console_sem), sleeping while another task holds it; __up() hands the
// semaphore straight to the first sleeper (waiter->up), the count untouched.
void Kernel::console_lock() {
  Frame f(*this, "console_lock");
  might_sleep();
  if (lockdep_watching()) lockdep_.acquire(lockdep_ctx(), current().held_locks, console_lock_class_->id, site());
  Task& me = current();
  bool flags = raw_spin_lock_irqsave(*console_sem_lock_);
  if (console_sem_count_ > 0) {
    --console_sem_count_;
    raw_spin_unlock_irqrestore(*console_sem_lock_, flags);
    return;
  }
  console_sem_waiters_.push_back(&me);
  while (std::find(console_sem_waiters_.begin(), console_sem_waiters_.end(), &me) != console_sem_waiters_.end()) {
    set_current_state(TaskState::Sleeping);
    raw_spin_unlock_irqrestore(*console_sem_lock_, flags);
    schedule();
    flags = raw_spin_lock_irqsave(*console_sem_lock_);
  }
  set_current_state(TaskState::Running);
  raw_spin_unlock_irqrestore(*console_sem_lock_, flags);
}

void Kernel::console_unlock() {
  Frame f(*this, "console_unlock");
  if (lockdep_watching()) lockdep_.release(current().held_locks, console_lock_class_->id);
  up_console_sem();
}

// up(&console_sem): a waiter is woken under the semaphore's lock (__up -> wake_up_process).
void Kernel::up_console_sem() {
  Frame f(*this, "up");
  const bool flags = raw_spin_lock_irqsave(*console_sem_lock_);
  if (console_sem_waiters_.empty()) {
    ++console_sem_count_;
  } else {
    Task* w = console_sem_waiters_.front();
    console_sem_waiters_.pop_front();
    wake_up_process(*w);
  }
  raw_spin_unlock_irqrestore(*console_sem_lock_, flags);
}

// wake_up_klogd(): only if klogd waits; from the tick before 3.9 (printk_tick), from a
// per-CPU irq_work after (74876a98a87a); `direct` wakes it here (a what-if).
void Kernel::wake_up_klogd() {
  if (log_wait_.empty()) return;  // waitqueue_active(&log_wait)
  switch (klogd_wake_) {
    case KlogdWake::Tick:
      this_cpu_data().printk_pending = true;
      break;
    case KlogdWake::IrqWork:
      irq_work_queue(klogd_work_);
      break;
    case KlogdWake::Direct:
      wake_up(log_wait_);
      break;
  }
}

// printk_deferred(): the record only; klogd and the console from the irq_work.
void Kernel::printk_deferred(const std::string& text) {
  Frame f(*this, "printk_deferred");
  log_store(text, false);
  irq_work_queue(klogd_work_);
}

void Kernel::klogd_loop() {
  Frame f(*this, "klogd");
  while (true) {
    wait_event(log_wait_, [this] { return log_read_ < log_.size(); });
    log_read_ = log_.size();
    compute(500);
  }
}

std::vector<std::string> Kernel::log() const { return log_; }

// --- smp_call_function_single -------------------------------------------------------------------

// smp_call_function_single(), v4.4 (3.0 alike): WARN with irqs off; a waiting call uses a csd
// on the caller's stack and spins until the target ran it (csd_lock_wait); an asynchronous one
// uses this CPU's csd_data, whose csd_lock() first waits until the target has run the
// previous asynchronous call made with it.
void Kernel::smp_call_function_single(int cpu, std::function<void()> fn, bool wait) {
  Frame f(*this, "smp_call_function_single");
  if (irqs_disabled() && !in_irq()) {
    warn_once("smp_call_function_single", "kernel/smp.c smp_call_function_single", "called with interrupts disabled");
  }
  if (cpu == this_cpu()) {
    const bool flags = local_irq_save();
    fn();
    local_irq_restore(flags);
    return;
  }
  preempt_disable();  // get_cpu()
  const Addr csd = wait ? this_cpu_data().csd_stack : this_cpu_data().csd_data;
  call_function_single_csd(cpu, csd, std::move(fn), wait);
  if (wait) {
    Frame w(*this, "csd_lock_wait");
    this_core().spin_until(csd, [](uint64_t v) { return v == 0; });
  }
  preempt_enable();
}

void Kernel::call_function_single_csd(int cpu, Addr csd, std::function<void()> fn, bool sync) {
  Frame f(*this, "__smp_call_function_single");
  Core& core = this_core();
  {
    Frame l(*this, "csd_lock");
    core.spin_until(csd, [](uint64_t v) { return v == 0; });
    core.store(csd, 1);
  }
  Frame g(*this, "generic_exec_single");
  Cpu& t = cpu_of(cpu);
  // As llist_add() / list_empty() decide: only the request that finds the queue empty sends
  // the IPI; the handler runs every queued request. (So an IPI not sent strands the queue.)
  // flush_smp_call_function_queue(): csd_unlock() after the function, or (4.1+) before it
  // for an asynchronous call.
  const bool unlock_first = !sync && csd_unlock_first_;
  auto item = [this, fn = std::move(fn), csd, unlock_first] {
    if (unlock_first) this_core().store(csd, 0);
    fn();
    if (!unlock_first) this_core().store(csd, 0);
  };
  bool first;
  if (call_llist_) {
    first = t.call_queue.empty();
    t.call_queue.push_back(std::move(item));
    core.fetch_add(t.call_head, 1);  // llist_add(): an interrupt pending now runs before the IPI
  } else {
    const bool flags = raw_spin_lock_irqsave(*t.call_lock);
    first = t.call_queue.empty();
    t.call_queue.push_back(std::move(item));
    // Interrupts come back on here: one pending meanwhile (the tick) runs before the IPI.
    raw_spin_unlock_irqrestore(*t.call_lock, flags);
  }
  if (first) send_ipi(cpu, kIpiCallFunction);
}

// smp_call_function_many(), v4.4: with irqs on (WARN_ON_ONCE otherwise: two CPUs sending to
// each other with irqs off would wait for ever), queue the call on every other CPU in the
// mask, IPI them, and wait for each when `wait`.
void Kernel::smp_call_function_many(const std::vector<int>& cpus, std::function<void()> fn, bool wait) {
  Frame f(*this, "smp_call_function_many");
  if (irqs_disabled()) {
    warn_once("smp_call_function_many", "kernel/smp.c smp_call_function_many", "called with interrupts disabled");
  }
  preempt_disable();
  // cfd_data: this CPU's csd per target, csd_lock()ed until the target ran the last call.
  Cpu& me = this_cpu_data();
  if (me.cfd_csd.empty()) {
    for (int c = 0; c < nr_cpus(); ++c) me.cfd_csd.push_back(alloc(8));
  }
  std::vector<Addr> csds;
  for (int cpu : cpus) {
    if (cpu == this_cpu()) continue;
    const Addr csd = me.cfd_csd[static_cast<size_t>(cpu)];
    call_function_single_csd(cpu, csd, fn, wait);
    csds.push_back(csd);
  }
  if (wait) {
    Frame w(*this, "csd_lock_wait");
    for (Addr csd : csds) this_core().spin_until(csd, [](uint64_t v) { return v == 0; });
  }
  preempt_enable();
}

void Kernel::call_function_interrupt() {
  Cpu& c = this_cpu_data();
  std::deque<std::function<void()>> list;
  if (call_llist_) {
    this_core().store(c.call_head, 0);  // llist_del_all()
    list.swap(c.call_queue);
  } else {
    raw_spin_lock(*c.call_lock);
    list.swap(c.call_queue);
    raw_spin_unlock(*c.call_lock);
  }
  for (auto& fn : list) fn();
}

}  // namespace quiesce::kernel
