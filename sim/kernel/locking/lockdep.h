#pragma once
// Lockdep: Linux's locking-correctness validator (Documentation/locking/lockdep-design.rst)
// over lock *classes*. It proves potential deadlocks from the lock orders and irq contexts it
// has seen, whether or not this run deadlocks, and reports each one once as a kernel splat.
//
// Checked as in Linux: cycles in the class dependency graph; hardirq/softirq-safe -> -unsafe
// orderings (when an edge is added and when a class's usage changes); inconsistent irq usage
// of one class; recursive acquisition; wait-type nesting (v5.7+); might_sleep() in atomic
// context, counting preemptible-RCU read nesting as v4.4's ___might_sleep() does; unlock of a
// lock not held (bad unlock balance); locks held at task exit (debug_check_no_locks_held()).
// Added: might_wake() (Peter Zijlstra's 2015 proposal, never merged), a wakeup while holding
// a scheduler lock or a lock that the graph already orders after one.
//
// Like Linux, lockdep turns itself off after its first report (debug_locks_off()): it then
// checks and records nothing more, unless told to continue (AfterReport::Continue). The
// might_sleep() bugs are the scheduler's, not lockdep's: they neither turn it off nor stop.
// The splats follow the layout of a release (LockdepLayout).
//
// Edges are added as Linux's check_prevs_add() adds them: from the most recent held lock
// and, past it, through consecutive trylocks down to the first non-trylock, never across an
// irq-context boundary (an interrupt's locks do not nest under the interrupted task's; the
// irq usage checks cover that). Trylocks add no edges of their own and never recurse.
// Known edges and usage bits make an acquisition cheap: a hash lookup per candidate edge and
// a scan of the held stack; graph searches and text happen only for what is new.
// Deterministic: the same calls give the same reports, byte for byte.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sim/base/units.h"
#include "sim/kernel/locking/chain_cache.h"

namespace quiesce::kernel {

// Wait-type nesting (v5.7+): a Sleep lock may not be taken under a spin lock of either kind,
// and a Spin lock (spinlock_t, which sleeps on PREEMPT_RT) not under a RawSpin lock.
enum class WaitType { RawSpin, Spin, Sleep };
using ClassId = int;

// The splat layout of a range of releases (what changed is in lockdep_layout_for()).
enum class LockdepLayout {
  V4_4,   // up to 4.11: "[ INFO: ... ]" and "[ BUG: ... ]" headings, six usage characters
  V4_12,  // 4.12 and 4.13: "WARNING: ..." headings, six usage characters
  V4_14,  // from 4.14: "WARNING: ..." headings, four usage characters (no RECLAIM_FS pair)
};
// The layout release major.minor prints (from 2.6.39 on; earlier releases are not modelled).
LockdepLayout lockdep_layout_for(int major, int minor);

// What lockdep does after a report: turn itself off as Linux does, or keep checking.
enum class AfterReport { Off, Continue };

// spin_lock_nested()'s subclasses: 0 is the class itself, 1..7 are classes of their own.
inline constexpr int kLockdepSubclasses = 8;  // MAX_LOCKDEP_SUBCLASSES
// The class name Linux prints for `subclass` of `name`: "&rq->lock/1" (subclass 0: `name`).
std::string lockdep_subclass_name(const std::string& name, int subclass);

// Who is acquiring, and in what context.
struct LockdepContext {
  int cpu = 0;
  std::string_view task;  // the task's comm, which outlives the context (not copied per acquire)
  int pid = 0;
  bool in_hardirq = false;
  bool in_softirq = false;
  bool hardirqs_enabled = true;
  bool softirqs_enabled = true;
  int preempt_count = 0;  // preempt_disable() depth (held spin locks count as atomic anyway)
  int rcu_depth = 0;      // rcu_preempt_depth(): preemptible-RCU read nesting (might_sleep)
  Time now = 0;           // simulated time, for the splat's timestamp
  // The caller's live call stack of kernel-model function names, innermost LAST, read only
  // when a trace is recorded (no copy on the hot path). A trace is the acquisition site
  // followed by these, innermost first (the site is not repeated when it is already the
  // innermost frame).
  const std::vector<const char*>* frames = nullptr;
};

// One entry of a held_locks stack. `site` is the function that took it. acquire() fills
// irq_context (2*hardirq + softirq) and trylock; interrupt handlers push onto the
// interrupted task's stack, as in Linux, and lockdep keeps their contexts apart.
struct HeldLock {
  ClassId cls = 0;
  // A kernel-model function name: a string with static storage (no copy on the hot path).
  const char* site = "";
  Time since = 0;
  int irq_context = 0;
  bool trylock = false;
  // Held for the lists only (lock_acquire() with check 0, read 2, as rcu_read_lock()'s
  // rcu_lock_map is): no dependencies to or from it, no usage, no recursion check.
  bool read_recursive = false;
  // A checked recursive read (read_lock() of an rwlock_t: lock_acquire() with read 2): it may
  // nest in itself, its dependencies are checked but not stored (check_prev_add(), v4.4), and
  // no new dependency starts from it.
  bool read = false;
};

// Per-class usage states, in the order Linux prints them.
enum class Usage { UsedInHardirq, EnabledHardirq, UsedInSoftirq, EnabledSoftirq };

// Where something was first seen: the frames (innermost first) and who was running.
struct LockTrace {
  std::vector<std::string> frames;
  std::string task;
  int pid = 0;
  int cpu = 0;
  Time when = 0;
};

class Lockdep {
 public:
  struct Report {
    // "circular", "recursive", "inconsistent", "irq_safe_unsafe", "invalid_context",
    // "rcu_sleep", "invalid_wait_context", "might_wake", "bad_unlock", "held_at_exit" or
    // "suspicious_rcu".
    std::string kind;
    std::string title;  // the splat's heading line, e.g. "WARNING: inconsistent lock state"
    std::string text;   // the whole splat, first line prefixed with "[    0.001234] "
    Time when = 0;
    int cpu = 0;
    std::string task;
    int pid = 0;
    std::vector<std::string> classes;  // involved classes; for a chain, in chain order
  };

  explicit Lockdep(bool enabled = true, bool might_wake_enabled = false,
                   AfterReport after_report = AfterReport::Off);

  // The "<release> <version>" the splats print ("4.4.0-quiesce #1" unless set).
  void set_kernel_ident(const std::string& release, const std::string& version);
  // The splat layout (V4_14 unless set); set it before the first report.
  void set_layout(LockdepLayout layout) { layout_ = layout; }
  // The wait-type check (v5.7+, de8f5e4f2dc1); on unless a release before it is modelled.
  void set_wait_type_checks(bool on) { wait_type_checks_ = on; }
  LockdepLayout layout() const { return layout_; }

  // Registering an existing name returns its class (one class for all per-CPU rq->lock
  // instances); a different wait type or scheduler flag for it throws std::logic_error.
  // Nest two instances of one class the way spin_lock_nested() does, with a subclass
  // registered as "&rq->lock/1". scheduler_lock marks rq->lock and p->pi_lock (might_wake).
  ClassId register_class(const std::string& name, WaitType wait, bool scheduler_lock = false);
  // `subclass` (0..7) of `cls`: itself for 0, else "<name>/<subclass>" with the same wait
  // type and scheduler flag, registered on first use. Throws std::out_of_range past 7.
  ClassId subclass_of(ClassId cls, int subclass);

  // Checks and records an acquisition of `cls` by `ctx`, whose held-lock stack is `held`,
  // then pushes it onto `held` (also when disabled or turned off: the kernel model reads the
  // stack). A Sleep class (not trylock) is also a might_sleep() at `site`.
  // `read`: a recursive read acquisition (see HeldLock::read); its irq usage is not tracked.
  // `site` has static storage (a kernel-model function name), as `HeldLock::site`.
  void acquire(const LockdepContext& ctx, std::vector<HeldLock>& held, ClassId cls,
               const char* site, bool trylock = false, bool read = false);
  // rcu_lock_acquire(&rcu_lock_map), v4.4: onto the held stack, unchecked (read_recursive).
  void acquire_unchecked(const LockdepContext& ctx, std::vector<HeldLock>& held, ClassId cls,
                         const char* site);
  // lock_release(), v4.4: pops the most recent entry of `cls` (any order); a class not held
  // is ignored here: the caller, who knows the lock instance, reports that with
  // bad_unlock(). Like Linux's, it needs no context (nothing about the releaser is checked).
  void release(std::vector<HeldLock>& held, ClassId cls);
  // An unlock at `site` of a lock of class `cls` that the task does not hold: "bad unlock
  // balance". `held` is left as it is.
  void bad_unlock(const LockdepContext& ctx, const std::vector<HeldLock>& held, ClassId cls,
                  const std::string& site);
  // lockdep_rcu_suspicious(), v4.4: an RCU-usage assertion failed at `site` (e.g. "Illegal
  // synchronize_srcu() in same-type SRCU (or in RCU) read-side critical section!").
  void suspicious_rcu(const LockdepContext& ctx, const std::vector<HeldLock>& held, const std::string& site,
                      const std::string& what);
  // A task exits (at `site`) with `held` not empty: "still has locks held", once per task.
  void check_no_locks_held(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                           const std::string& site);
  // Hardirqs or softirqs were just enabled (ctx shows the new state) with `held` held: the
  // held classes become irq-unsafe, as trace_hardirqs_on() marks them in Linux.
  void irqs_enabled(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                    const char* site);
  // A bug in atomic context: preempt_count > 0, hardirqs off, in an irq, or holding a spin
  // lock of either kind ("invalid_context"); or, none of these, inside a preemptible-RCU
  // reader (ctx.rcu_depth > 0: "rcu_sleep"). Each kind reported once per site, also after
  // lockdep turned itself off.
  // (`site` as a C string: this runs at every might_sleep() point and wakeup.)
  void might_sleep(const LockdepContext& ctx, const std::vector<HeldLock>& held, const char* site);
  // A wakeup (pi_lock, then rq->lock) at `site`: a hazard while holding a scheduler class, or
  // a class the graph already reaches from one. No-op unless constructed with
  // might_wake_enabled; at most one report per call (the most recently taken such lock),
  // each (site, held class) once.
  void might_wake(const LockdepContext& ctx, const std::vector<HeldLock>& held, const char* site);

  const std::vector<Report>& reports() const { return reports_; }
  std::string log() const;  // every splat in order, separated by blank lines (lockdep.log)
  size_t dependency_count() const { return edge_traces_.size(); }
  // Held stacks stored by lookup_chain_cache() (/proc/lockdep_stats' "lock-chains").
  size_t chain_count() const { return chains_.size(); }

  bool enabled() const { return enabled_; }
  // Linux's debug_locks: false once a report turned lockdep off (AfterReport::Off).
  bool debug_locks() const { return debug_locks_; }
  bool might_wake_enabled() const { return might_wake_enabled_; }
  size_t class_count() const { return classes_.size(); }
  const std::string& class_name(ClassId cls) const { return classes_.at(cls).name; }
  bool has_usage(ClassId cls, Usage u) const;
  std::string usage_chars(ClassId cls) const;  // "{-.+.}", or "{-.+...}" before V4_14
  // Where a usage state or a dependency was first seen; nullptr if never.
  const LockTrace* usage_trace(ClassId cls, Usage u) const;
  const LockTrace* dependency_trace(ClassId from, ClassId to) const;

 private:
  struct ClassInfo {
    std::string name;
    WaitType wait;
    bool scheduler;
    uint8_t usage = 0;  // bit per Usage
    uint64_t ops = 0;   // acquisitions, as Linux counts them
    std::array<LockTrace, 4> usage_traces;
    std::vector<ClassId> after;   // classes taken while this one was held, oldest first
    std::vector<ClassId> before;  // classes that were held when this one was taken
    // might_wake's cache: does a scheduler class reach this one (valid for graph_gen)?
    uint64_t sched_gen = ~uint64_t{0};
    bool under_sched = false;
  };
  enum class Dir { Forwards, Backwards };
  // A report's heading before 4.12 and from 4.12, each with its rows of '=' and '-'.
  struct Heading {
    std::string old_title;
    size_t old_equals, old_dashes;
    std::string title;
    size_t equals, dashes;
  };

  static uint64_t edge_key(ClassId from, ClassId to) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(from)) << 32) | static_cast<uint32_t>(to);
  }
  LockTrace make_trace(const LockdepContext& ctx, const std::string& site) const;

  // `lock_site` is where the lock was taken, `trace_site` where the new usage happened.
  void mark_usage(const LockdepContext& ctx, const std::vector<HeldLock>& held, ClassId cls,
                  const std::string& lock_site, const std::string& trace_site, uint8_t wanted);
  void report_inconsistent(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                           ClassId cls, const std::string& lock_site, const std::string& trace_site,
                           Usage prev, Usage now);
  void report_inversion(const LockdepContext& ctx, const std::vector<HeldLock>& held, ClassId cls,
                        const std::string& lock_site, const std::string& trace_site,
                        const std::vector<ClassId>& path, Dir dir, Usage now);
  void check_wait_context(const LockdepContext& ctx, const std::vector<HeldLock>& held, ClassId cls,
                          const char* site, bool trylock);
  bool check_recursion(const LockdepContext& ctx, const std::vector<HeldLock>& held, ClassId cls,
                       const char* site, bool read);
  // `store`: record the edge (false for a recursive read: checked only).
  void add_dependency(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                      const HeldLock& prev, ClassId next, const char* site, bool store = true);
  void report_circular(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                       const HeldLock& prev, ClassId next, const std::string& site,
                       const std::vector<ClassId>& path);
  void check_irq_dependency(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                            const HeldLock& prev, ClassId next, const std::string& site,
                            Usage used_in);
  bool nests_under_scheduler(ClassId cls);
  void report_might_wake(const LockdepContext& ctx, const std::vector<HeldLock>& held,
                         const HeldLock& lock, const std::string& site);
  // Breadth-first search from `start` (itself included) for a class matching `match`;
  // returns the path start..found, empty if none. Shortest by edge count; ties by edge age.
  template <typename Match>
  std::vector<ClassId> bfs(ClassId start, Dir dir, Match match) const;

  // Checks and records run while enabled and not turned off by a report.
  bool checking() const { return enabled_ && debug_locks_; }
  bool old_headings() const { return layout_ == LockdepLayout::V4_4; }
  // Reporting: first_time() is asked before any text is built. A lockdep report (any kind
  // but might_sleep()'s) turns lockdep off unless it continues after reports.
  bool first_time(const std::string& kind, const std::string& key);
  // A report ending with the held locks and the backtrace, naming the held classes.
  void emit_with_held(const std::string& kind, const std::string& title, std::string out, const LockdepContext& ctx,
                      const std::vector<HeldLock>& held, const std::string& site);
  void emit(const std::string& kind, const std::string& title, std::string text,
            const LockdepContext& ctx, const std::vector<ClassId>& classes);
  // The layout's heading (its line is stored in `title`), with the timestamp first.
  std::string banner(const LockdepContext& ctx, const Heading& h, std::string& title) const;
  std::string lock_name(ClassId cls) const;  // " (&rq->lock){-.-.}"
  std::string held_locks_text(const LockdepContext& ctx, const std::vector<HeldLock>& held) const;
  std::string backtrace_text(const LockdepContext& ctx, const std::string& site) const;
  std::string shortest_dependencies(const std::vector<ClassId>& path, Dir dir,
                                    const LockTrace& current) const;
  std::string irq_scenario(ClassId safe, ClassId unsafe, ClassId prev, ClassId next) const;
  const LockTrace& edge_trace(ClassId from, ClassId to) const;

  const bool enabled_;
  const bool might_wake_enabled_;
  const AfterReport after_report_;
  bool debug_locks_ = true;
  LockdepLayout layout_ = LockdepLayout::V4_14;
  bool wait_type_checks_ = true;
  std::string release_ = "4.4.0-quiesce";
  std::string version_ = "#1";
  std::vector<ClassInfo> classes_;
  std::unordered_map<std::string, ClassId> class_by_name_;
  std::unordered_map<uint64_t, uint32_t> edges_;  // edge_key -> index into edge_traces_
  std::vector<LockTrace> edge_traces_;
  uint64_t graph_gen_ = 0;                    // bumped by every new edge
  std::unordered_set<std::string> reported_;  // kind + '\0' + key
  std::vector<Report> reports_;
  // lookup_chain_cache() before validate_chain(), v4.4: the held stacks whose acquisition
  // was checked already. The same stack checked again finds nothing new (its dependencies
  // are in the graph, its reports made), so it is not checked again. A recursive read is
  // checked every time (its dependencies are not stored).
  ChainCache chains_;
  std::vector<uint64_t> chain_;  // a stack being stored (kept to reuse its memory)
};

}  // namespace quiesce::kernel
