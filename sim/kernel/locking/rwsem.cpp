// Sleeping locks beyond the mutex: read-write semaphores and counting semaphores, and
// lockdep maps with no lock behind them.
#include <algorithm>

#include "sim/kernel/kernel.h"

namespace quiesce::kernel {

std::unique_ptr<RwSemaphore> Kernel::make_rwsem(const std::string& name, LockClass& cls) {
  auto s = std::make_unique<RwSemaphore>();
  s->name = name;
  s->cls = &cls;
  s->addr = alloc(8);
  s->wait_lock = owned_locks_.emplace_back(make_lock(name + ".wait_lock", lock_class("&sem->wait_lock"))).get();
  return s;
}

namespace {
// Whether `s` can be granted to a reader / a writer now (queued waiters go first).
bool read_free(const RwSemaphore& s) { return !s.writer && s.waiters.empty(); }
bool write_free(const RwSemaphore& s) { return !s.writer && s.readers == 0 && s.waiters.empty(); }

// __rwsem_do_wake() / __rwsem_mark_wake(): grant the semaphore to the waiters at the head
// of the queue (one writer, or every reader up to the first writer) and return them.
std::vector<Task*> grant(RwSemaphore& s) {
  std::vector<Task*> woken;
  while (!s.waiters.empty() && !s.writer) {
    RwSemaphore::Waiter* w = s.waiters.front();
    if (w->write) {
      if (s.readers > 0 || !woken.empty()) break;
      s.writer = w->task;
    } else {
      ++s.readers;
    }
    w->granted = true;
    woken.push_back(w->task);
    s.waiters.pop_front();
    if (w->write) break;
  }
  return woken;
}
}  // namespace

// down_read() / down_write(), v4.4: the fast path, one atomic on sem->count, when the
// semaphore is free for this side (a reader: no writer holds or waits); else
// rwsem_down_read_failed() / rwsem_down_write_failed(): queue under sem->wait_lock (irqs
// off) and sleep until a releaser grants it.
void Kernel::rwsem_down(RwSemaphore& s, bool write) {
  Frame f(*this, write ? "down_write" : "down_read");
  might_sleep();
  if (lockdep_watching()) lockdep_.acquire(lockdep_ctx(), current().held_locks, s.cls->id, site());
  Task& me = current();
  auto take = [&] {
    if (write) {
      s.writer = &me;
    } else {
      ++s.readers;
    }
  };
  this_core().fetch_add(s.addr, 1);
  if (write ? write_free(s) : read_free(s)) {
    take();
    s.cls->note_acquired(false, 0);
    return;
  }
  raw_spin_lock_irq(*s.wait_lock);
  if (write ? write_free(s) : read_free(s)) {  // released meanwhile
    take();
    raw_spin_unlock_irq(*s.wait_lock);
    s.cls->note_acquired(false, 0);
    return;
  }
  RwSemaphore::Waiter w{&me, write};
  s.waiters.push_back(&w);
  const Time start = now();
  while (!w.granted) {
    set_current_state(TaskState::Sleeping);
    raw_spin_unlock_irq(*s.wait_lock);
    schedule();
    raw_spin_lock_irq(*s.wait_lock);
  }
  set_current_state(TaskState::Running);
  raw_spin_unlock_irq(*s.wait_lock);
  s.cls->note_acquired(true, now() - start);
}

// down_read_trylock() / down_write_trylock(), v4.4: one cmpxchg on sem->count, no
// wait_lock; never sleeps; lockdep sees a trylock.
bool Kernel::rwsem_trylock(RwSemaphore& s, bool write) {
  Frame f(*this, write ? "down_write_trylock" : "down_read_trylock");
  this_core().load(s.addr);
  const bool ok = write ? write_free(s) : read_free(s);
  if (ok) this_core().fetch_add(s.addr, 1);  // the cmpxchg
  if (ok && write) s.writer = &current();
  if (ok && !write) ++s.readers;
  if (ok && lockdep_watching()) lockdep_.acquire(lockdep_ctx(), current().held_locks, s.cls->id, site(), true);
  if (ok) s.cls->note_acquired(false, 0);
  return ok;
}

void Kernel::down_read(RwSemaphore& s) { rwsem_down(s, false); }
bool Kernel::down_read_trylock(RwSemaphore& s) { return rwsem_trylock(s, false); }
void Kernel::down_write(RwSemaphore& s) { rwsem_down(s, true); }
bool Kernel::down_write_trylock(RwSemaphore& s) { return rwsem_trylock(s, true); }

// rwsem_wake()'s wakeups: under sem->wait_lock before 4.7; from 4.7 (133e89ef5ef3) on a
// wake_q after dropping it (wake_up_q). Either way under the caller's own locks.
void Kernel::rwsem_wake_up(const std::vector<Task*>& woken, RawSpinLock& wait_lock, bool flags) {
  if (!release_.has(Change::RwsemWakeQ)) {
    for (Task* t : woken) wake_up_process(*t);
    raw_spin_unlock_irqrestore(wait_lock, flags);
    return;
  }
  raw_spin_unlock_irqrestore(wait_lock, flags);
  Frame f(*this, "wake_up_q");
  for (Task* t : woken) wake_up_process(*t);
}

// up_read() -> rwsem_wake() when the last reader leaves with waiters queued: the grant
// under sem->wait_lock, then the wakeups.
void Kernel::up_read(RwSemaphore& s) {
  Frame f(*this, "up_read");
  if (s.readers == 0) {
    unlocking_own(nullptr, s.cls->id);  // not read-held: bad unlock balance
    return;
  }
  if (lockdep_watching()) lockdep_.release(current().held_locks, s.cls->id);
  up_read_non_owner(s);
}

void Kernel::up_read_non_owner(RwSemaphore& s) {
  if (s.readers == 0) {
    unlocking_own(nullptr, s.cls->id);
    return;
  }
  // __up_read(): the atomic decrement; rwsem_wake() (sem->wait_lock) only when the last
  // reader leaves with waiters queued.
  this_core().fetch_add(s.addr, 1);
  --s.readers;
  if (s.readers > 0 || s.waiters.empty()) return;
  Frame w(*this, "rwsem_wake");
  const bool flags = raw_spin_lock_irqsave(*s.wait_lock);
  std::vector<Task*> woken = grant(s);
  rwsem_wake_up(woken, *s.wait_lock, flags);
}

void Kernel::up_write(RwSemaphore& s) {
  Frame f(*this, "up_write");
  if (!unlocking_own(s.writer, s.cls->id)) return;
  if (lockdep_watching()) lockdep_.release(current().held_locks, s.cls->id);
  this_core().fetch_add(s.addr, 1);  // __up_write()
  s.writer = nullptr;
  if (s.waiters.empty()) return;
  Frame w(*this, "rwsem_wake");
  const bool flags = raw_spin_lock_irqsave(*s.wait_lock);
  std::vector<Task*> woken = grant(s);
  rwsem_wake_up(woken, *s.wait_lock, flags);
}

// --- semaphores ---------------------------------------------------------------------------

std::unique_ptr<Semaphore> Kernel::make_semaphore(const std::string& name, int count) {
  auto s = std::make_unique<Semaphore>();
  s->name = name;
  s->count = count;
  s->lock = owned_locks_.emplace_back(make_lock(name + ".lock", lock_class("(" + name + ").lock"))).get();
  return s;
}

// down(), v4.4: sem->lock (irqs off); take the count, or queue and sleep until up() hands
// it over (__down_common).
void Kernel::down(Semaphore& s) {
  Frame f(*this, "down");
  might_sleep();
  const bool flags = raw_spin_lock_irqsave(*s.lock);
  if (s.count > 0) {
    --s.count;
    raw_spin_unlock_irqrestore(*s.lock, flags);
    return;
  }
  Semaphore::Waiter w{&current()};
  s.waiters.push_back(&w);
  while (!w.up) {
    set_current_state(TaskState::Sleeping);
    raw_spin_unlock_irq(*s.lock);
    schedule();
    raw_spin_lock_irq(*s.lock);
  }
  set_current_state(TaskState::Running);
  raw_spin_unlock_irqrestore(*s.lock, flags);
}

bool Kernel::down_trylock(Semaphore& s) {
  Frame f(*this, "down_trylock");
  const bool flags = raw_spin_lock_irqsave(*s.lock);
  const bool ok = s.count > 0;
  if (ok) --s.count;
  raw_spin_unlock_irqrestore(*s.lock, flags);
  return ok;
}

// up(), v4.4: under sem->lock, the count back, or (__up) the first sleeper dequeued, marked
// and woken with wake_up_process() while sem->lock is held.
void Kernel::up(Semaphore& s) {
  Frame f(*this, "up");
  const bool flags = raw_spin_lock_irqsave(*s.lock);
  if (s.waiters.empty()) {
    ++s.count;
  } else {
    Frame u(*this, "__up");
    Semaphore::Waiter* w = s.waiters.front();
    s.waiters.pop_front();
    w->up = true;
    wake_up_process(*w->task);
  }
  raw_spin_unlock_irqrestore(*s.lock, flags);
}

// --- rwlocks -----------------------------------------------------------------------------------

namespace {
uint64_t rwlock_word(const RwLock& l) {
  return static_cast<uint64_t>(l.readers) | (l.writer ? uint64_t{1} << 32 : 0) |
         (static_cast<uint64_t>(l.waiting_writers) << 40);
}
}  // namespace

std::unique_ptr<RwLock> Kernel::make_rwlock(const std::string& name, LockClass& cls) {
  auto l = std::make_unique<RwLock>();
  l->name = name;
  l->cls = &cls;
  l->addr = alloc(8);
  return l;
}

// queued_read_lock(), v4.4: preemption off; in an interrupt a reader only waits for an active
// writer, elsewhere also for a waiting one (queued fairness).
void Kernel::read_lock(RwLock& l) {
  Frame f(*this, "_raw_read_lock");
  preempt_disable();
  if (lockdep_watching()) lockdep_.acquire(lockdep_ctx(), current().held_locks, l.cls->id, site(), false, true);
  if (tracer_) trace_new_reports();
  Core& core = this_core();
  const Time start = core.now();
  const bool irq = in_interrupt();
  bool contended = false;
  while (l.writer || (!irq && l.waiting_writers > 0)) {
    contended = true;
    core.spin_until(l.addr, [&l, irq](uint64_t) { return !l.writer && (irq || l.waiting_writers == 0); });
  }
  ++l.readers;
  core.fetch_add(l.addr, 1);
  l.cls->note_acquired(contended, core.now() - start);
}

void Kernel::read_unlock(RwLock& l) {
  Frame f(*this, "_raw_read_unlock");
  if (l.readers == 0) {
    unlocking_own(nullptr, l.cls->id);
    return;
  }
  if (lockdep_watching()) lockdep_.release(current().held_locks, l.cls->id);
  --l.readers;
  this_core().store(l.addr, rwlock_word(l));
  preempt_enable();
}

// queued_write_lock(), v4.4: announce the wait (readers outside interrupts now queue behind
// it), then spin until no reader and no writer holds it.
void Kernel::write_lock(RwLock& l) {
  Frame f(*this, "_raw_write_lock");
  preempt_disable();
  if (lockdep_watching()) lockdep_.acquire(lockdep_ctx(), current().held_locks, l.cls->id, site());
  if (tracer_) trace_new_reports();
  Core& core = this_core();
  const Time start = core.now();
  bool contended = false;
  if (l.writer || l.readers > 0) {
    contended = true;
    ++l.waiting_writers;
    core.store(l.addr, rwlock_word(l));
    while (l.writer || l.readers > 0) {
      core.spin_until(l.addr, [&l](uint64_t) { return !l.writer && l.readers == 0; });
    }
    --l.waiting_writers;
  }
  l.writer = &current();
  core.store(l.addr, rwlock_word(l));
  l.cls->note_acquired(contended, core.now() - start);
}

void Kernel::write_unlock(RwLock& l) {
  Frame f(*this, "_raw_write_unlock");
  if (!unlocking_own(l.writer, l.cls->id)) return;
  if (lockdep_watching()) lockdep_.release(current().held_locks, l.cls->id);
  l.writer = nullptr;
  this_core().store(l.addr, rwlock_word(l));
  preempt_enable();
}

// --- lockdep maps ----------------------------------------------------------------------------

void Kernel::lock_map_acquire(LockClass& map) {
  if (lockdep_watching()) lockdep_.acquire(lockdep_ctx(), current().held_locks, map.id, site());
  if (tracer_) trace_new_reports();
}

void Kernel::lock_map_release(LockClass& map) {
  if (lockdep_watching()) lockdep_.release(current().held_locks, map.id);
}

}  // namespace quiesce::kernel
