// Raw spinlocks (ticket locks on simulated memory), mutexes, lock classes and their
// statistics, with the lockdep and deadlock-detector hooks.
#include "sim/kernel/locking/spinlock.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "sim/kernel/kernel.h"

namespace quiesce::kernel {
namespace {

// One word per lock: the next ticket in the upper half, the owner's in the lower half,
// so taking a ticket is one fetch-add that also reads the owner.
constexpr uint64_t kTicketOne = uint64_t{1} << 32;
uint64_t owner_of(uint64_t v) { return v & 0xffffffffULL; }
uint64_t next_of(uint64_t v) { return v >> 32; }

// might_sleep() counts the task's preemptible-RCU read nesting (-1 while leaving: not inside).
LockdepContext with_rcu_depth(LockdepContext ctx, const Task& t) {
  ctx.rcu_depth = std::max(0, t.rcu.nesting);
  return ctx;
}

// raw_spin_lock_nested()'s class: `cls` itself for subclass 0, else "<name>/<subclass>".
LockClass& subclass_of(Kernel& k, LockClass& cls, int subclass) {
  if (subclass < 0 || subclass >= kLockdepSubclasses) {
    throw std::out_of_range("raw_spin_lock_nested: subclass " + std::to_string(subclass) + " of " +
                            cls.name + " is not in 0.." + std::to_string(kLockdepSubclasses - 1));
  }
  LockClass*& sub = cls.subclasses[static_cast<size_t>(subclass)];
  if (!sub) {
    sub = subclass == 0
              ? &cls
              : &k.lock_class(lockdep_subclass_name(cls.name, subclass), cls.wait, cls.scheduler);
  }
  return *sub;
}

}  // namespace

std::string stat_safe(const std::string& name) {
  std::string out;
  for (char ch : name) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      out += ch;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  while (!out.empty() && out.front() == '_') out.erase(out.begin());
  return out.empty() ? "lock" : out;
}

LockClass::LockClass(StatRegistry* r, const std::string& n, ClassId i, WaitType w, bool s)
    : name(n), id(i), wait(w), scheduler(s), stats_(r, "lock." + stat_safe(n)) {}

LockClass& Kernel::lock_class(const std::string& name, WaitType wait, bool scheduler) {
  for (auto& c : classes_) {
    if (c->name == name) return *c;
  }
  ClassId id = lockdep_.register_class(name, wait, scheduler);
  if (static_cast<size_t>(id) != classes_.size()) throw std::logic_error("lock class ids out of step");
  classes_.push_back(std::make_unique<LockClass>(registry_, name, id, wait, scheduler));
  return *classes_.back();
}

std::unique_ptr<RawSpinLock> Kernel::make_lock(const std::string& name, LockClass& cls,
                                               const RawSpinLock* share_line_with) {
  auto l = std::make_unique<RawSpinLock>();
  l->name = name;
  l->cls = &cls;
  if (share_line_with) {
    auto* host = const_cast<RawSpinLock*>(share_line_with);
    const int64_t slots = platform_.mem().line_size() / 8;
    if (host->line_sharers + 1 >= slots) throw std::invalid_argument("too many locks share " + host->name + "'s line");
    l->addr = host->addr + static_cast<Addr>(8 * ++host->line_sharers);
  } else {
    l->addr = alloc(8);
  }
  return l;
}

std::unique_ptr<Mutex> Kernel::make_mutex(const std::string& name, LockClass& cls) {
  auto m = std::make_unique<Mutex>();
  m->name = name;
  m->cls = &cls;
  m->addr = alloc(8);
  m->wait_lock = owned_locks_.emplace_back(make_lock(name + ".wait_lock", lock_class("&lock->wait_lock"))).get();
  return m;
}

void Kernel::lock_acquired(RawSpinLock& l, Time wait_start, bool contended) {
  Task& t = current();
  l.owner_cpu = t.cpu;
  l.owner = &t;
  cpu_of(t.cpu).spinlocks_held.push_back(&l);
  l.acquired_at = core(t.cpu).now();
  l.acquired_site = site_of(t);
  l.taken_as->note_acquired(contended, l.acquired_at - wait_start);
}

// lock_release() / mutex_release() finding no such held lock: print_unlock_imbalance_bug(),
// v4.4. Returns whether the current task owns the lock it is releasing.
bool Kernel::unlocking_own(const Task* owner, ClassId cls) {
  if (owner == &current()) return true;
  if (lockdep_watching()) lockdep_.bad_unlock(lockdep_ctx(), current().held_locks, cls, site());
  if (tracer_) trace_new_reports();
  return false;
}

void Kernel::do_raw_spin_unlock(RawSpinLock& l) {
  // Left alone if not ours: releasing a ticket nobody took would let a later locker's ticket
  // wait for ever (Linux's debug spinlock would complain "already unlocked" or "wrong owner").
  if (!unlocking_own(l.owner, l.cls->id)) return;
  Task& t = current();
  if (lockdep_watching(t)) lockdep_.release(t.held_locks, l.taken_as->id);
  Core& core = this->core(t.cpu);
  l.taken_as->hold_time.record(core.now() - l.acquired_at);
  trace(TraceKind::LockReleased, 0, l.taken_as->name.c_str(), l.addr);
  auto& held = cpu_of(l.owner_cpu).spinlocks_held;
  auto it = std::find(held.rbegin(), held.rend(), &l);
  if (it != held.rend()) held.erase(std::next(it).base());
  l.owner = nullptr;
  l.owner_cpu = -1;
  core.fetch_add(l.addr, 1);
}

void Kernel::raw_spin_lock(RawSpinLock& l) { raw_spin_lock_nested(l, 0); }

void Kernel::raw_spin_lock_nested(RawSpinLock& l, int subclass) {
  LockClass& as = subclass_of(*this, *l.cls, subclass);
  preempt_disable();
  Task& t = current();  // preemption is off from here: it stays on this CPU
  if (lockdep_watching(t)) lockdep_.acquire(lockdep_ctx(t), t.held_locks, as.id, site_of(t));
  const int cpu = t.cpu;
  Core& core = this->core(cpu);
  const Time start = core.now();
  const uint64_t old = core.fetch_add(l.addr, kTicketOne);
  const uint64_t ticket = next_of(old);
  const bool contended = owner_of(old) != ticket;
  if (tracer_) trace_new_reports();
  if (contended) {
    trace(TraceKind::LockSpin, 0, as.name.c_str(), l.addr);
    {
      // Scoped: a deadlock ends the run with this task spinning below, its stack never
      // unwound, and the chain must not be left owned by it (LeakSanitizer).
      const auto cycle = deadlock_.wait_begin(cpu, &l);
      if (!cycle.empty()) report_deadlock(cycle);
    }
    cpu_of(cpu).vcd_spinning = true;
    core.spin_until(l.addr, [ticket](uint64_t v) { return owner_of(v) == ticket; });
    cpu_of(cpu).vcd_spinning = false;
    deadlock_.wait_end(cpu);
  }
  l.taken_as = &as;
  lock_acquired(l, start, contended);
  trace(TraceKind::LockAcquired, 0, as.name.c_str(), l.addr);
}

bool Kernel::raw_spin_trylock(RawSpinLock& l) {
  preempt_disable();
  Core& core = this_core();
  const uint64_t v = core.load(l.addr);
  if (owner_of(v) != next_of(v) || core.cas(l.addr, v, v + kTicketOne) != v) {
    preempt_enable();
    return false;
  }
  if (lockdep_watching()) lockdep_.acquire(lockdep_ctx(), current().held_locks, l.cls->id, site(), true);
  l.taken_as = l.cls;
  lock_acquired(l, core.now(), false);
  return true;
}

// A bad unlock changes neither the lock nor the preemption (or bh) count it did not raise.
void Kernel::raw_spin_unlock(RawSpinLock& l) {
  const bool held = l.owner == &current();
  do_raw_spin_unlock(l);
  if (held) preempt_enable();
}

bool Kernel::raw_spin_lock_irqsave(RawSpinLock& l) {
  const bool flags = local_irq_save();
  raw_spin_lock(l);
  return flags;
}

void Kernel::raw_spin_unlock_irqrestore(RawSpinLock& l, bool flags) {
  // Unlock, restore interrupts, then preempt_enable (which may reschedule).
  const bool held = l.owner == &current();
  do_raw_spin_unlock(l);
  local_irq_restore(flags);
  if (held) preempt_enable();
}

void Kernel::raw_spin_lock_irq(RawSpinLock& l) {
  local_irq_disable();
  raw_spin_lock(l);
}

void Kernel::raw_spin_unlock_irq(RawSpinLock& l) { raw_spin_unlock_irqrestore(l, true); }

void Kernel::raw_spin_lock_bh(RawSpinLock& l) {
  local_bh_disable();
  raw_spin_lock(l);
}

void Kernel::raw_spin_unlock_bh(RawSpinLock& l) {
  const bool held = l.owner == &current();
  raw_spin_unlock(l);
  if (held) local_bh_enable();
}

void Kernel::might_sleep() {
  if (lockdep_watching()) {
    lockdep_.might_sleep(with_rcu_depth(lockdep_ctx(), current()), current().held_locks, site());
  }
  if (tracer_) trace_new_reports();
}

void Kernel::might_wake() {
  if (lockdep_watching() && lockdep_.might_wake_enabled()) {
    lockdep_.might_wake(lockdep_ctx(), current().held_locks, site());
  }
}

void Kernel::mutex_lock(Mutex& m) {
  const char* caller = site();
  if (lockdep_watching()) {
    lockdep_.acquire(with_rcu_depth(lockdep_ctx(), current()), current().held_locks, m.cls->id,
                     caller);
  }
  Frame f(*this, "mutex_lock");
  Task& me = current();
  const Time start = now();
  bool contended = false;
  while (true) {
    bool flags = raw_spin_lock_irqsave(*m.wait_lock);
    if (this_core().cas(m.addr, 0, static_cast<uint64_t>(me.pid)) == 0) {
      m.waiters.erase(std::remove(m.waiters.begin(), m.waiters.end(), &me), m.waiters.end());
      raw_spin_unlock_irqrestore(*m.wait_lock, flags);
      break;
    }
    contended = true;
    if (std::find(m.waiters.begin(), m.waiters.end(), &me) == m.waiters.end()) m.waiters.push_back(&me);
    set_current_state(TaskState::Sleeping);
    me.blocked_on = &m;
    raw_spin_unlock_irqrestore(*m.wait_lock, flags);
    schedule();
    me.blocked_on = nullptr;
  }
  m.owner = &me;
  m.acquired_at = now();
  m.cls->note_acquired(contended, m.acquired_at - start);
}

void Kernel::mutex_unlock(Mutex& m) {
  Frame f(*this, "mutex_unlock");
  // Left alone if not ours (its owner's, or nobody's; debug_mutex_unlock() would warn "owner").
  if (!unlocking_own(m.owner, m.cls->id)) return;
  if (lockdep_watching()) lockdep_.release(current().held_locks, m.cls->id);
  m.cls->hold_time.record(now() - m.acquired_at);
  m.owner = nullptr;
  this_core().store(m.addr, 0);
  bool flags = raw_spin_lock_irqsave(*m.wait_lock);
  Task* w = m.waiters.empty() ? nullptr : m.waiters.front();
  if (w) try_to_wake_up(*w);
  raw_spin_unlock_irqrestore(*m.wait_lock, flags);
}

void Kernel::report_deadlock(const std::vector<std::pair<int, const RawSpinLock*>>& chain) {
  std::ostringstream s;
  const Time t = now();
  s << "deadlock at " << format_time(t) << ": ";
  if (chain.size() == 1) {
    s << "CPU" << chain[0].first << " spins on " << chain[0].second->name << " (" << chain[0].second->cls->name
      << ") which it already holds (taken at " << chain[0].second->acquired_site << ")\n";
  } else {
    s << chain.size() << " CPUs wait on each other\n";
    for (const auto& [cpu, lock] : chain) {
      s << "  CPU" << cpu << " spins on " << lock->name << " (" << lock->cls->name << "), held by CPU"
        << lock->owner_cpu << " since " << format_time(lock->acquired_at) << " (taken at " << lock->acquired_site
        << ")\n";
    }
  }
  for (const auto& [cpu, lock] : chain) {
    s << describe_cpu(cpu) << "\n";
    outcome_.cpus.push_back(cpu);
    outcome_.classes.push_back(lock->cls->name);
  }
  end_run("deadlock", s.str(), t);
}

}  // namespace quiesce::kernel
