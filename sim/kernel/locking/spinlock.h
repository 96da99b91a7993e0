#pragma once
// Kernel locks on simulated memory. A raw spinlock is a ticket lock whose two words
// (owner, next) share one cache line at a simulated address, so contention and line
// transfers are real; waiters spin with Core::spin_until (one event per change of the
// line). A mutex sleeps. Each lock belongs to a class (lockdep's unit, and the unit of
// the /proc/lock_stat-like statistics).
#include <array>
#include <deque>
#include <string>

#include "sim/base/stats.h"
#include "sim/kernel/arch.h"
#include "sim/kernel/locking/lockdep.h"

namespace quiesce::kernel {

struct Task;

struct LockClass {
  LockClass(StatRegistry* r, const std::string& name, ClassId id, WaitType wait, bool scheduler);
  std::string name;  // as lockdep prints it: "&rq->lock"
  ClassId id;
  WaitType wait;
  bool scheduler;
  // Its subclasses under raw_spin_lock_nested() ([0] is itself), made on first use.
  std::array<LockClass*, kLockdepSubclasses> subclasses{};
  StatGroup stats_;
  Counter acquisitions{&stats_, "acquisitions", "times acquired", "count"};
  Counter contentions{&stats_, "contentions", "acquisitions that had to wait", "count"};
  Histogram wait_time{&stats_, "wait_time", "time spent waiting to acquire (contended only)", "ps"};
  Histogram hold_time{&stats_, "hold_time", "time held", "ps"};
  void note_acquired(bool contended, Time waited) {
    ++acquisitions;
    if (!contended) return;
    ++contentions;
    wait_time.record(waited);
  }
};

struct RawSpinLock {
  std::string name;  // instance name, e.g. "rq[2].lock"
  LockClass* cls = nullptr;
  LockClass* taken_as = nullptr;  // cls, or its subclass under raw_spin_lock_nested()
  Addr addr = 0;                  // owner word; next-ticket word at addr + 8
  int owner_cpu = -1;
  Task* owner = nullptr;
  Time acquired_at = 0;
  const char* acquired_site = "";
  int line_sharers = 0;
};

struct Mutex {
  std::string name;
  LockClass* cls = nullptr;
  Addr addr = 0;
  Task* owner = nullptr;
  RawSpinLock* wait_lock = nullptr;
  std::deque<Task*> waiters;
  Time acquired_at = 0;
};

// Stat names can't hold "&->"; "&rq->lock" becomes "rq_lock".
std::string stat_safe(const std::string& name);

}  // namespace quiesce::kernel
