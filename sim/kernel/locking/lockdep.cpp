#include "sim/kernel/locking/lockdep.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "sim/kernel/locking/internal/lockdep_text.h"

namespace quiesce::kernel {

using namespace lockdep_text;

namespace {
// The order in which Linux's mark_irqflags() sets the bits of one acquisition.
constexpr Usage kMarkOrder[] = {Usage::UsedInHardirq, Usage::UsedInSoftirq, Usage::EnabledHardirq,
                                Usage::EnabledSoftirq};

bool is_used_in(Usage u) { return (static_cast<int>(u) & 1) == 0; }
const char* state_name(Usage u) { return static_cast<int>(u) < 2 ? "HARDIRQ" : "SOFTIRQ"; }

int irq_context(const LockdepContext& ctx) {
  return 2 * (ctx.in_hardirq ? 1 : 0) + (ctx.in_softirq ? 1 : 0);
}

// v5.7's wait types: raw spin 2, spin (sleeps on RT) 3, sleep 4; task context 5.
int wait_rank(WaitType w) {
  switch (w) {
    case WaitType::RawSpin:
      return 2;
    case WaitType::Spin:
      return 3;
    case WaitType::Sleep:
      return 4;
  }
  return 5;
}

// "[HC0[0]:SC0[0]:HE1:SE1]"
std::string irq_flags(const LockdepContext& ctx) {
  const int hc = ctx.in_hardirq ? 1 : 0;
  const int sc = ctx.in_softirq ? 1 : 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "[HC%d[%d]:SC%d[%d]:HE%d:SE%d]", hc, hc, sc, sc,
                ctx.hardirqs_enabled ? 1 : 0, ctx.softirqs_enabled ? 1 : 0);
  return buf;
}

}  // namespace

LockdepLayout lockdep_layout_for(int major, int minor) {
  // "lockdep: Use "WARNING" tag on lockdep splats" (Paul E. McKenney), first in v4.12
  if (major < 4 || (major == 4 && minor < 12)) return LockdepLayout::V4_4;
  // d92a8cfcb37e "locking/lockdep: Rework FS_RECLAIM annotation", first in v4.14
  if (major == 4 && minor < 14) return LockdepLayout::V4_12;
  return LockdepLayout::V4_14;
}

// __print_lock_name(), v4.4: the class name, then "/<subclass>" for a nonzero subclass.
std::string lockdep_subclass_name(const std::string& name, int subclass) {
  return subclass == 0 ? name : name + "/" + std::to_string(subclass);
}

Lockdep::Lockdep(bool enabled, bool might_wake_enabled, AfterReport after_report)
    : enabled_(enabled), might_wake_enabled_(might_wake_enabled), after_report_(after_report) {}

void Lockdep::set_kernel_ident(const std::string& release, const std::string& version) {
  release_ = release;
  version_ = version;
}

ClassId Lockdep::register_class(const std::string& name, WaitType wait, bool scheduler_lock) {
  auto it = class_by_name_.find(name);
  if (it != class_by_name_.end()) {
    const ClassInfo& c = classes_[it->second];
    if (c.wait != wait || c.scheduler != scheduler_lock)
      throw std::logic_error("lockdep: class \"" + name +
                             "\" registered again with a different wait type or scheduler flag");
    return it->second;
  }
  const ClassId id = static_cast<ClassId>(classes_.size());
  ClassInfo c;
  c.name = name;
  c.wait = wait;
  c.scheduler = scheduler_lock;
  classes_.push_back(std::move(c));
  class_by_name_.emplace(name, id);
  return id;
}

ClassId Lockdep::subclass_of(ClassId cls, int subclass) {
  // look_up_lock_class(), v4.4: "BUG: looking up invalid subclass" past MAX_LOCKDEP_SUBCLASSES
  if (subclass < 0 || subclass >= kLockdepSubclasses)
    throw std::out_of_range("lockdep: subclass " + std::to_string(subclass) + " of \"" +
                            classes_.at(cls).name + "\" is not in 0.." +
                            std::to_string(kLockdepSubclasses - 1));
  if (subclass == 0) return cls;
  const ClassInfo& c = classes_.at(cls);
  const WaitType wait = c.wait;
  const bool scheduler = c.scheduler;
  return register_class(lockdep_subclass_name(c.name, subclass), wait, scheduler);
}

LockTrace Lockdep::make_trace(const LockdepContext& ctx, const std::string& site) const {
  LockTrace t;
  std::vector<std::string> bt;
  if (ctx.frames) {
    for (auto it = ctx.frames->rbegin(); it != ctx.frames->rend(); ++it) bt.emplace_back(*it);
  }
  t.frames.reserve(bt.size() + 1);
  if (!site.empty() && (bt.empty() || bt.front() != site))
    t.frames.push_back(site);
  t.frames.insert(t.frames.end(), bt.begin(), bt.end());
  t.task = ctx.task;
  t.pid = ctx.pid;
  t.cpu = ctx.cpu;
  t.when = ctx.now;
  return t;
}

// ---------------------------------------------------------------------------------------
// Hot path

namespace {
// One held-stack entry as lookup_chain_cache() keys it: the class and what changes its checks.
uint64_t chain_word(ClassId cls, int irq_context, bool trylock, bool read, bool read_recursive) {
  return static_cast<uint64_t>(cls) << 8 | static_cast<uint64_t>(irq_context) << 3 |
         static_cast<uint64_t>(trylock) << 2 | static_cast<uint64_t>(read) << 1 | static_cast<uint64_t>(read_recursive);
}
uint64_t held_word(const HeldLock& h) {
  return chain_word(h.cls, h.irq_context, h.trylock, h.read, h.read_recursive);
}
}  // namespace

void Lockdep::acquire_unchecked(const LockdepContext& ctx, std::vector<HeldLock>& held, ClassId cls,
                                const char* site) {
  HeldLock h{cls, site, ctx.now, irq_context(ctx), false};
  h.read_recursive = true;
  held.push_back(std::move(h));
}

void Lockdep::acquire(const LockdepContext& ctx, std::vector<HeldLock>& held, ClassId cls,
                      const char* site, bool trylock, bool read) {
  const int irq_ctx = irq_context(ctx);
  // mutex_lock()'s might_sleep() is the scheduler's check: it runs with lockdep off too.
  if (enabled_ && classes_.at(cls).wait == WaitType::Sleep && !trylock)
    might_sleep(ctx, held, site);
  // After a report that turned lockdep off, every step below stops (as __lock_acquire()
  // returns); the stack is still kept.
  if (checking()) {
    ClassInfo& c = classes_.at(cls);
    ++c.ops;

    uint8_t wanted = 0;
    if (!trylock) {
      if (ctx.in_hardirq) wanted |= bit(Usage::UsedInHardirq);
      if (ctx.in_softirq) wanted |= bit(Usage::UsedInSoftirq);
    }
    if (ctx.hardirqs_enabled) {
      wanted |= bit(Usage::EnabledHardirq);
      if (ctx.softirqs_enabled) wanted |= bit(Usage::EnabledSoftirq);
    }
    // Read usage (USED_IN_HARDIRQ_READ, ...) is not modelled: a read acquisition marks nothing.
    if (!read && (c.usage & wanted) != wanted) mark_usage(ctx, held, cls, site, site, wanted);

    // lookup_chain_cache(), v4.4: a stack checked before is not checked again.
    bool known = false;
    uint64_t hash = 0;
    const uint64_t word = chain_word(cls, irq_ctx, trylock, false, false);  // the new entry's
    if (debug_locks_ && !read) {
      // Folded and compared straight from the held stack: a Chain is built only to store.
      uint64_t key = ChainCache::kSeed;
      for (const HeldLock& h : held) key = ChainCache::step(key, held_word(h));
      hash = ChainCache::finish(ChainCache::step(key, word));
      known = chains_.contains(hash, held.size() + 1, [&](const uint64_t* stored) {
        for (size_t i = 0; i < held.size(); ++i) {
          if (stored[i] != held_word(held[i])) return false;
        }
        return stored[held.size()] == word;
      });
    }

    if (!known && debug_locks_ && wait_type_checks_) check_wait_context(ctx, held, cls, site, trylock);

    if (!known && debug_locks_ && !trylock && !check_recursion(ctx, held, cls, site, read) && !held.empty() &&
        held.back().irq_context == irq_ctx) {
      // check_prevs_add(): read-recursive entries (rcu_read_lock, rwlock readers) get no new
      // dependencies; a recursive read is checked against the graph but not stored.
      for (size_t i = held.size(); i-- > 0 && debug_locks_;) {
        const HeldLock& prev = held[i];
        if (!prev.read_recursive && !prev.read) {
          add_dependency(ctx, held, prev, cls, site, !read);
          if (!prev.trylock) break;
        }
        if (i == 0 || held[i - 1].irq_context != prev.irq_context) break;
      }
    }
    if (!known && debug_locks_ && !read) {
      chain_.clear();
      for (const HeldLock& h : held) chain_.push_back(held_word(h));
      chain_.push_back(word);
      chains_.insert(chain_, hash);
    }
  }
  HeldLock h{cls, site, ctx.now, irq_ctx, trylock};
  h.read = read;
  held.push_back(std::move(h));
}

void Lockdep::release(std::vector<HeldLock>& held, ClassId cls) {
  for (size_t i = held.size(); i-- > 0;) {
    if (held[i].cls == cls) {
      held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
}

void Lockdep::irqs_enabled(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                           const char* site) {
  if (!checking() || !ctx.hardirqs_enabled) return;
  uint8_t wanted = bit(Usage::EnabledHardirq);
  if (ctx.softirqs_enabled) wanted |= bit(Usage::EnabledSoftirq);
  for (const HeldLock& h : held) {
    if (!debug_locks_) return;
    if (h.read_recursive || h.read) continue;  // unchecked entries; read usage is not modelled
    if ((classes_[h.cls].usage & wanted) != wanted)
      mark_usage(ctx, held, h.cls, h.site, site, wanted);
  }
}

void Lockdep::check_wait_context(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                                 ClassId cls, const char* site, bool trylock) {
  const WaitType wait = classes_[cls].wait;
  if (wait == WaitType::RawSpin) return;
  if (wait == WaitType::Sleep && !trylock) return;  // might_sleep() has judged it
  // Like Linux, only the locks of the current irq context constrain it.
  const int irq_ctx = irq_context(ctx);
  int inner = 5;
  ClassId innermost = -1;
  for (size_t i = held.size(); i-- > 0 && held[i].irq_context == irq_ctx;) {
    const int r = wait_rank(classes_[held[i].cls].wait);
    if (r < inner) {
      inner = r;
      innermost = held[i].cls;
    }
  }
  if (wait_rank(wait) <= inner) return;
  if (!first_time("invalid_wait_context", classes_[cls].name + '\0' + classes_[innermost].name))
    return;

  // print_lock_invalid_wait_context(), v5.7 (the check is v5.7's; every layout prints this)
  std::string title;
  std::string out = banner(
      ctx, {"[ BUG: Invalid wait context ]", 29, 29, "[ BUG: Invalid wait context ]", 29, 29},
      title);
  out += who(ctx) + " is trying to lock:\n";
  out += lock_name(cls) + ", at: " + site + "\n";
  out += "other info that might help us debug this:\n";
  out += "context-{" + std::to_string(inner) + ":" + std::to_string(inner) + "}\n";
  out += held_locks_text(ctx, held);
  out += "stack backtrace:\n";
  out += backtrace_text(ctx, site);
  emit("invalid_wait_context", title, std::move(out), ctx, {cls, innermost});
}

bool Lockdep::check_recursion(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                              ClassId cls, const char* site, bool read) {
  const HeldLock* prev = nullptr;
  for (const HeldLock& h : held) {
    // check_deadlock(), v4.4: a recursive read inside a read of the same class is allowed.
    if (h.cls == cls && !h.read_recursive && !(read && h.read)) {
      prev = &h;
      break;
    }
  }
  if (!prev) return false;
  if (!first_time("recursive", classes_[cls].name)) return true;

  const std::string& name = classes_[cls].name;
  // print_deadlock_bug(), v4.4 and v4.12
  std::string title;
  std::string out = banner(ctx,
                           {"[ INFO: possible recursive locking detected ]", 45, 45,
                            "WARNING: possible recursive locking detected", 44, 44},
                           title);
  out += who(ctx) + " is trying to acquire lock:\n";
  out += lock_name(cls) + ", at: " + site + "\n";
  out += "\nbut task is already holding lock:\n";
  out += lock_name(prev->cls) + ", at: " + prev->site + "\n";
  out += "\nother info that might help us debug this:\n";
  out += " Possible unsafe locking scenario:\n\n";
  out += "       CPU0\n";
  out += "       ----\n";
  out += "  lock(" + name + ");\n";
  out += "  lock(" + name + ");\n";
  out += "\n *** DEADLOCK ***\n\n";
  out += " May be due to missing lock nesting notation\n\n";
  out += held_locks_text(ctx, held);
  out += "\nstack backtrace:\n";
  out += backtrace_text(ctx, site);
  emit("recursive", title, std::move(out), ctx, {cls});
  return true;
}

void Lockdep::add_dependency(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                             const HeldLock& prev, ClassId next, const char* site, bool store) {
  const uint64_t key = edge_key(prev.cls, next);
  if (edges_.count(key)) return;

  // Would prev -> next close a cycle, i.e. does next already lead to prev?
  std::vector<ClassId> path = bfs(next, Dir::Forwards, [&](ClassId c) { return c == prev.cls; });
  if (!path.empty()) {
    report_circular(ctx, held, prev, next, site, path);
  } else {
    check_irq_dependency(ctx, held, prev, next, site, Usage::UsedInHardirq);
    if (debug_locks_) check_irq_dependency(ctx, held, prev, next, site, Usage::UsedInSoftirq);
  }
  // Turned off by that report: nothing more is recorded (check_prev_add() returns early); nor
  // is a recursive read's dependency.
  if (!debug_locks_ || !store) return;
  // Otherwise the edge is recorded even when it closes a cycle: it did happen, and later
  // searches then only find cycles that exist.
  edges_.emplace(key, static_cast<uint32_t>(edge_traces_.size()));
  edge_traces_.push_back(make_trace(ctx, site));
  classes_[prev.cls].after.push_back(next);
  classes_[next].before.push_back(prev.cls);
  ++graph_gen_;
}

template <typename Match>
std::vector<ClassId> Lockdep::bfs(ClassId start, Dir dir, Match match) const {
  if (match(start)) return {start};
  std::vector<ClassId> parent(classes_.size(), -1);
  std::vector<ClassId> queue{start};
  parent[start] = start;
  for (size_t head = 0; head < queue.size(); ++head) {
    const ClassId c = queue[head];
    const std::vector<ClassId>& next =
        dir == Dir::Forwards ? classes_[c].after : classes_[c].before;
    for (ClassId n : next) {
      if (parent[n] != -1) continue;
      parent[n] = c;
      if (match(n)) {
        std::vector<ClassId> path{n};
        for (ClassId p = c; p != start; p = parent[p]) path.push_back(p);
        path.push_back(start);
        std::reverse(path.begin(), path.end());
        return path;
      }
      queue.push_back(n);
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------
// Usage states

void Lockdep::mark_usage(const LockdepContext& ctx, const std::vector<HeldLock>& held, ClassId cls,
                         const std::string& lock_site, const std::string& trace_site,
                         uint8_t wanted) {
  for (Usage u : kMarkOrder) {
    if (!debug_locks_) return;
    ClassInfo& c = classes_[cls];
    if (!(wanted & bit(u)) || (c.usage & bit(u))) continue;
    c.usage |= bit(u);
    c.usage_traces[static_cast<int>(u)] = make_trace(ctx, trace_site);
    const Usage excl = exclusive(u);
    if (c.usage & bit(excl)) {
      report_inconsistent(ctx, held, cls, lock_site, trace_site, excl, u);
      continue;
    }
    // A newly irq-safe class must not lead to an irq-unsafe one; a newly irq-unsafe class
    // must not be reached from an irq-safe one.
    const Dir dir = is_used_in(u) ? Dir::Forwards : Dir::Backwards;
    std::vector<ClassId> path =
        bfs(cls, dir, [&](ClassId k) { return (classes_[k].usage & bit(excl)) != 0; });
    if (!path.empty()) report_inversion(ctx, held, cls, lock_site, trace_site, path, dir, u);
  }
}

void Lockdep::report_inconsistent(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                                  ClassId cls, const std::string& lock_site,
                                  const std::string& trace_site, Usage prev, Usage now) {
  const std::string& name = classes_[cls].name;
  if (!first_time("inconsistent", name + '\0' + state_name(now))) return;

  // print_usage_bug(), v4.4 and v4.12
  std::string title;
  std::string out = banner(
      ctx,
      {"[ INFO: inconsistent lock state ]", 33, 33, "WARNING: inconsistent lock state", 32, 32},
      title);
  out += std::string("inconsistent {") + usage_str(prev) + "} -> {" + usage_str(now) + "} usage.\n";
  out += who(ctx) + " " + irq_flags(ctx) + " takes:\n";
  out += lock_name(cls) + ", at: " + lock_site + "\n";
  out += std::string("{") + usage_str(prev) + "} state was registered at:\n";
  out += trace_lines(classes_[cls].usage_traces[static_cast<int>(prev)], 1);
  out += "\nother info that might help us debug this:\n";
  out += " Possible unsafe locking scenario:\n\n";
  out += "       CPU0\n";
  out += "       ----\n";
  out += "  lock(" + name + ");\n";
  out += "  <Interrupt>\n";
  out += "    lock(" + name + ");\n";
  out += "\n *** DEADLOCK ***\n\n";
  out += held_locks_text(ctx, held);
  out += "\nstack backtrace:\n";
  out += backtrace_text(ctx, trace_site);
  emit("inconsistent", title, std::move(out), ctx, {cls});
}

void Lockdep::report_inversion(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                               ClassId cls, const std::string& lock_site,
                               const std::string& trace_site, const std::vector<ClassId>& path,
                               Dir dir, Usage now) {
  const bool forwards = dir == Dir::Forwards;
  const ClassId other = path.back();
  const ClassId safe = forwards ? cls : other;
  const ClassId unsafe = forwards ? other : cls;
  const std::string irqclass = state_name(now);
  if (!first_time("irq_safe_unsafe",
                  irqclass + '\0' + classes_[safe].name + '\0' + classes_[unsafe].name))
    return;

  // print_irq_inversion_bug(), v4.4 and v4.12
  std::string title;
  std::string out = banner(ctx,
                           {"[ INFO: possible irq lock inversion dependency detected ]", 57, 57,
                            "WARNING: possible irq lock inversion dependency detected", 56, 56},
                           title);
  out += who(ctx) + " just changed the state of lock:\n";
  out += lock_name(cls) + ", at: " + lock_site + "\n";
  if (forwards)
    out += "but this lock took another, " + irqclass + "-unsafe lock in the past:\n";
  else
    out += "but this lock was taken by another, " + irqclass + "-safe lock in the past:\n";
  out += lock_name(other) + "\n";
  out += "\nand interrupts could create inverse lock ordering between them.\n\n";
  out += "\nother info that might help us debug this:\n";
  const ClassId middle = path[1];  // the class next to this one on the path
  out += forwards ? irq_scenario(safe, unsafe, middle, other)
                  : irq_scenario(safe, unsafe, middle, cls);
  out += held_locks_text(ctx, held);
  out += "\nthe shortest dependencies between 2nd lock and 1st lock:\n";
  out += shortest_dependencies(path, dir, make_trace(ctx, trace_site));
  out += "\nstack backtrace:\n";
  out += backtrace_text(ctx, trace_site);
  emit("irq_safe_unsafe", title, std::move(out), ctx, {safe, unsafe});
}

void Lockdep::check_irq_dependency(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                                   const HeldLock& prev, ClassId next, const std::string& site,
                                   Usage used_in) {
  const Usage enabled = exclusive(used_in);
  std::vector<ClassId> back = bfs(
      prev.cls, Dir::Backwards, [&](ClassId c) { return (classes_[c].usage & bit(used_in)) != 0; });
  if (back.empty()) return;
  std::vector<ClassId> fwd =
      bfs(next, Dir::Forwards, [&](ClassId c) { return (classes_[c].usage & bit(enabled)) != 0; });
  if (fwd.empty()) return;
  const ClassId safe = back.back();
  const ClassId unsafe = fwd.back();
  const std::string irqclass = state_name(used_in);
  if (!first_time("irq_safe_unsafe",
                  irqclass + '\0' + classes_[safe].name + '\0' + classes_[unsafe].name))
    return;

  // print_bad_irq_dependency(), v4.4 and v4.12
  const std::string order = irqclass + "-safe -> " + irqclass + "-unsafe lock order detected";
  const LockTrace current = make_trace(ctx, site);
  std::string title;
  std::string out =
      banner(ctx, {"[ INFO: " + order + " ]", 54, 54, "WARNING: " + order, 53, 53}, title);
  out += who(ctx) + " " + irq_flags(ctx) + " is trying to acquire:\n";
  out += lock_name(next) + ", at: " + site + "\n";
  out += "\nand this task is already holding:\n";
  out += lock_name(prev.cls) + ", at: " + prev.site + "\n";
  out += "which would create a new lock dependency:\n";
  out += lock_name(prev.cls) + " ->" + lock_name(next) + "\n";
  out += "\nbut this new dependency connects a " + irqclass + "-irq-safe lock:\n";
  out += lock_name(safe) + "\n";
  out += "... which became " + irqclass + "-irq-safe at:\n";
  out += trace_lines(classes_[safe].usage_traces[static_cast<int>(used_in)], 1);
  out += "\nto a " + irqclass + "-irq-unsafe lock:\n";
  out += lock_name(unsafe) + "\n";
  out += "... which became " + irqclass + "-irq-unsafe at:\n";
  out += "...\n";
  out += trace_lines(classes_[unsafe].usage_traces[static_cast<int>(enabled)], 1);
  out += "\nother info that might help us debug this:\n\n";
  out += irq_scenario(safe, unsafe, prev.cls, next);
  out += held_locks_text(ctx, held);
  out += "\nthe dependencies between " + irqclass + "-irq-safe lock and the holding lock:\n";
  out += shortest_dependencies(back, Dir::Backwards, current);
  out += "\nthe dependencies between the lock to be acquired\n and " + irqclass +
         "-irq-unsafe lock:\n";
  out += shortest_dependencies(fwd, Dir::Forwards, current);
  out += "\nstack backtrace:\n";
  out += backtrace_text(ctx, site);
  emit("irq_safe_unsafe", title, std::move(out), ctx, {safe, unsafe});
}

// ---------------------------------------------------------------------------------------
// Cycles

void Lockdep::report_circular(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                              const HeldLock& prev, ClassId next, const std::string& site,
                              const std::vector<ClassId>& path) {
  std::vector<ClassId> members = path;
  std::sort(members.begin(), members.end());
  std::string key;
  for (ClassId c : members) key += std::to_string(c) + ",";
  if (!first_time("circular", key)) return;

  // path runs next -> ... -> prev; Linux prints it from prev back to next (#0, the new lock,
  // with the current stack), then the 3-class summary "next --> parent --> prev".
  // print_circular_bug_header(), v4.4 (its row of '-' is one longer) and v4.12
  std::string title;
  std::string out = banner(ctx,
                           {"[ INFO: possible circular locking dependency detected ]", 54, 55,
                            "WARNING: possible circular locking dependency detected", 54, 54},
                           title);
  out += who(ctx) + " is trying to acquire lock:\n";
  out += lock_name(next) + ", at: " + site + "\n";
  out += "\nbut task is already holding lock:\n";
  out += lock_name(prev.cls) + ", at: " + prev.site + "\n";
  out += "\nwhich lock already depends on the new lock.\n\n";
  out += "\nthe existing dependency chain (in reverse order) is:\n";
  const size_t depth = path.size() - 1;
  for (size_t k = depth; k >= 1; --k) {
    out += "\n-> #" + std::to_string(k) + lock_name(path[k]) + ":\n";
    out += trace_lines(edge_trace(path[k - 1], path[k]), 6);
  }
  out += "\n-> #0" + lock_name(next) + ":\n";
  out += trace_lines(make_trace(ctx, site), 6);
  out += "\nother info that might help us debug this:\n\n";
  const ClassId parent = path[depth - 1];
  const std::string& source_name = classes_[next].name;
  const std::string& parent_name = classes_[parent].name;
  const std::string& target_name = classes_[prev.cls].name;
  if (parent != next) {
    out += "Chain exists of:\n  " + source_name + " --> " + parent_name + " --> " + target_name +
           "\n\n";
  }
  out += " Possible unsafe locking scenario:\n\n";
  out += "       CPU0                    CPU1\n";
  out += "       ----                    ----\n";
  out += "  lock(" + target_name + ");\n";
  out += "                               lock(" + parent_name + ");\n";
  out += "                               lock(" + target_name + ");\n";
  out += "  lock(" + source_name + ");\n";
  out += "\n *** DEADLOCK ***\n\n";
  out += held_locks_text(ctx, held);
  out += "\nstack backtrace:\n";
  out += backtrace_text(ctx, site);
  emit("circular", title, std::move(out), ctx, path);
}

// ---------------------------------------------------------------------------------------
// might_sleep / might_wake

// ___might_sleep(), v4.4: in_atomic() or irqs off, or (preempt_count_equals() adds
// rcu_preempt_depth()) inside a preemptible-RCU reader. Under CONFIG_PREEMPT_RCU its
// rcu_sleep_check() does not test rcu_lock_map, so a reader that sleeps gets this splat, with
// in_atomic() 0, not "suspicious RCU usage".
void Lockdep::might_sleep(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                          const char* where) {
  if (!enabled_) return;
  bool holds_spin = false;
  for (const HeldLock& h : held) holds_spin |= classes_[h.cls].wait != WaitType::Sleep;
  const bool in_atomic = ctx.preempt_count > 0 || ctx.in_hardirq || ctx.in_softirq || holds_spin;
  const bool irqs_disabled = !ctx.hardirqs_enabled;
  const bool in_rcu_reader = ctx.rcu_depth > 0;
  if (!in_atomic && !irqs_disabled && !in_rcu_reader) return;
  const std::string site = where;
  const char* kind = in_atomic || irqs_disabled ? "invalid_context" : "rcu_sleep";
  if (!first_time(kind, site)) return;

  const std::string title = "BUG: sleeping function called from invalid context at " + site;
  std::string out = timestamp(ctx.now) + title + "\n";
  out += "in_atomic(): " + std::to_string(in_atomic ? 1 : 0) +
         ", irqs_disabled(): " + std::to_string(irqs_disabled ? 1 : 0) +
         ", pid: " + std::to_string(ctx.pid) + ", name: " + std::string(ctx.task) + "\n";
  // debug_show_held_locks(), v4.4
  out += debug_locks_ ? held_locks_text(ctx, held) : "INFO: lockdep is turned off.\n";
  out += backtrace_text(ctx, site);
  std::vector<ClassId> classes;
  for (const HeldLock& h : held) classes.push_back(h.cls);
  emit(kind, title, std::move(out), ctx, classes);
}

void Lockdep::bad_unlock(const LockdepContext& ctx, const std::vector<HeldLock>& held, ClassId cls,
                         const std::string& site) {
  if (!checking()) return;
  const std::string& name = classes_.at(cls).name;
  if (!first_time("bad_unlock", name + '\0' + site)) return;

  // print_unlock_imbalance_bug(), v4.4 and v4.12; print_ip_sym() without the address
  std::string title;
  std::string out = banner(ctx,
                           {"[ BUG: bad unlock balance detected! ]", 37, 37,
                            "WARNING: bad unlock balance detected!", 37, 37},
                           title);
  out += who(ctx) + " is trying to release lock (" + name + ") at:\n";
  out += site + "\n";
  out += "but there are no more locks to release!\n";
  out += "\nother info that might help us debug this:\n";
  out += held_locks_text(ctx, held);
  out += "\nstack backtrace:\n";
  out += backtrace_text(ctx, site);
  emit("bad_unlock", title, std::move(out), ctx, {cls});
}

void Lockdep::suspicious_rcu(const LockdepContext& ctx, const std::vector<HeldLock>& held, const std::string& site,
                             const std::string& what) {
  if (!checking()) return;
  if (!first_time("suspicious_rcu", what + '\0' + site)) return;
  // lockdep_rcu_suspicious(), v4.4 and v4.12
  std::string title;
  std::string out = banner(ctx, {"[ INFO: suspicious RCU usage. ]", 31, 31, "WARNING: suspicious RCU usage", 31, 31}, title);
  out += site + ": " + what + "\n";
  out += "\nother info that might help us debug this:\n\n";
  out += "\nrcu_scheduler_active = 1, debug_locks = 1\n";
  emit_with_held("suspicious_rcu", title, std::move(out), ctx, held, site);
}

void Lockdep::emit_with_held(const std::string& kind, const std::string& title, std::string out,
                             const LockdepContext& ctx, const std::vector<HeldLock>& held, const std::string& site) {
  out += held_locks_text(ctx, held);
  out += "\nstack backtrace:\n";
  out += backtrace_text(ctx, site);
  std::vector<ClassId> classes;
  for (const HeldLock& h : held) classes.push_back(h.cls);
  emit(kind, title, std::move(out), ctx, classes);
}

void Lockdep::check_no_locks_held(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                                  const std::string& site) {
  if (!checking() || held.empty()) return;
  if (!first_time("held_at_exit", who(ctx))) return;

  // print_held_locks_bug(), v4.4 and v4.12: fixed rows, however long the task's name
  std::string title;
  std::string out = banner(ctx,
                           {"[ BUG: " + who(ctx) + " still has locks held! ]", 37, 37,
                            "WARNING: " + who(ctx) + " still has locks held!", 36, 36},
                           title);
  emit_with_held("held_at_exit", title, std::move(out), ctx, held, site);
}

bool Lockdep::nests_under_scheduler(ClassId cls) {
  ClassInfo& c = classes_[cls];
  if (c.scheduler) return true;
  if (c.sched_gen != graph_gen_) {
    c.under_sched =
        !bfs(cls, Dir::Backwards, [&](ClassId k) { return classes_[k].scheduler; }).empty();
    c.sched_gen = graph_gen_;
  }
  return c.under_sched;
}

void Lockdep::might_wake(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                         const char* where) {
  if (!checking() || !might_wake_enabled_ || held.empty()) return;
  const std::string site = where;
  // At most one report per call: the most recent hazardous lock not yet reported here.
  for (size_t i = held.size(); i-- > 0;) {
    const HeldLock& h = held[i];
    if (!nests_under_scheduler(h.cls)) continue;
    if (!first_time("might_wake", site + '\0' + classes_[h.cls].name)) continue;
    report_might_wake(ctx, held, h, site);
    return;
  }
}

void Lockdep::report_might_wake(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                                const HeldLock& lock, const std::string& site) {
  // The wakeup would take the scheduler lock S under `lock` (L): with S -> ... -> L already
  // in the graph that is a cycle, the circular splat's shape with S as the "new" lock.
  std::vector<ClassId> path =
      bfs(lock.cls, Dir::Backwards, [&](ClassId k) { return classes_[k].scheduler; });
  std::reverse(path.begin(), path.end());  // S .. L
  const ClassId sched = path.front();
  const std::string& s_name = classes_[sched].name;
  const std::string& l_name = classes_[lock.cls].name;

  // Shaped as print_circular_bug() in the layout of the release (a proposal, never merged)
  const std::string what =
      "possible wakeup while holding a scheduler lock or a lock that nests under one";
  const std::string old_title = "[ INFO: " + what + " ]";
  const std::string new_title = "WARNING: " + what;
  std::string title;
  std::string out = banner(ctx,
                           {old_title, old_title.size(), old_title.size(), new_title,
                            new_title.size(), new_title.size()},
                           title);
  out += who(ctx) + " is trying to wake a task, which takes scheduler lock:\n";
  out += lock_name(sched) + ", at: " + site + "\n";
  out += "\nbut task is already holding lock:\n";
  out += lock_name(lock.cls) + ", at: " + lock.site + "\n";
  if (path.size() == 1) {
    out += "\nwhich is that scheduler lock.\n";
    out += "\nother info that might help us debug this:\n";
    out += " Possible unsafe locking scenario:\n\n";
    out += "       CPU0\n";
    out += "       ----\n";
    out += "  lock(" + l_name + ");\n";
    out += "  <wakeup>\n";
    out += "    lock(" + s_name + ");\n";
  } else {
    out += "\nwhich lock already nests under the scheduler lock.\n\n";
    out += "\nthe existing dependency chain (in reverse order) is:\n";
    const size_t depth = path.size() - 1;
    for (size_t k = depth; k >= 1; --k) {
      out += "\n-> #" + std::to_string(k) + lock_name(path[k]) + ":\n";
      out += trace_lines(edge_trace(path[k - 1], path[k]), 6);
    }
    out += "\n-> #0" + lock_name(sched) + ":\n";
    out += trace_lines(make_trace(ctx, site), 6);
    out += "\nother info that might help us debug this:\n\n";
    if (path.size() > 2) {
      out += "Chain exists of:\n  ";
      for (size_t k = 0; k < path.size(); ++k) out += (k ? " --> " : "") + classes_[path[k]].name;
      out += "\n\n";
    }
    out += " Possible unsafe locking scenario:\n\n";
    out += "       CPU0                    CPU1\n";
    out += "       ----                    ----\n";
    out += "  lock(" + l_name + ");\n";
    out += "                               lock(" + s_name + ");\n";
    out += "                               lock(" + l_name + ");\n";
    out += "  <wakeup>\n";
    out += "    lock(" + s_name + ");\n";
  }
  out += "\n *** DEADLOCK ***\n\n";
  out += held_locks_text(ctx, held);
  out += "\nstack backtrace:\n";
  out += backtrace_text(ctx, site);
  emit("might_wake", title, std::move(out), ctx, path);
}

}  // namespace quiesce::kernel
