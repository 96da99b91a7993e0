#pragma once
// The cores' own scheduler: the software of every core started with Core::start_software
// runs on a stack of its own (a fiber) inside one SystemC thread, and a core's waits (a
// synchronisation, a sleep until an interrupt or a written line) switch fibers here instead
// of suspending a SystemC process. Cores run in (time, CPU id) order: of two cores due at
// the same picosecond the lower id goes first, whatever the synchronisations before.
//
// Time: the cores' global time (now()) may run ahead of SystemC's: while no other SystemC
// process (a device, a watchdog) has anything pending before a core's next time, SystemC
// need not be told. The scheduler waits in SystemC only to reach the next activity of those
// processes, which at one time run before the cores. With `lockstep` (a VCD being written)
// SystemC time follows every core time, so sampled signals change at their own time.
//
// Cores whose software runs on SystemC threads of their own (hw_pingpong, the unit tests'
// machines) keep SystemC's waits and time; they must not share lines or interrupts with
// cores under the scheduler (a scenario refuses bare-metal workloads beside kernel tasks).
#include <systemc>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include "sim/base/units.h"

namespace quiesce {

class Core;

class CoreScheduler {
 public:
  CoreScheduler();
  ~CoreScheduler();
  CoreScheduler(const CoreScheduler&) = delete;
  CoreScheduler& operator=(const CoreScheduler&) = delete;

  // Runs `body` as the software of `core` on a stack of `stack_bytes` (during elaboration).
  void start(Core& core, std::function<void()> body, size_t stack_bytes);
  void set_lockstep() { lockstep_ = true; }

  // The cores' global time while the scheduler runs them, -1 otherwise (SystemC's time is
  // then theirs: other processes run only at times the cores have reached).
  Time now() const { return now_; }
  // The absolute time of SystemC's next activity other than the caller's (kTimeMax: none).
  static Time systemc_next_activity();
  // The simulated time now, from anywhere: the later of SystemC's and the latest a core was
  // run at (a run stopped by a core ends where that core was, which SystemC may not have
  // reached).
  static Time simulated_now();
  // The end of the current sc_start (no core runs at or past it).
  static void set_run_end(Time end) { run_end_ = end; }

  // For the running core `c` (CPU `id`): whether it may act at global time `t` before every
  // other core and SystemC process (strictly earlier, or at the same time with a lower id).
  bool may_act(int id, Time t) const {
    if (t >= limit_) return false;
    return heap_.empty() || t < heap_[0].due || (t == heap_[0].due && id < heap_[0].id);
  }
  // The earliest time another core or SystemC process may act.
  Time others_next() const { return heap_.empty() ? limit_ : std::min(limit_, heap_[0].due); }
  // Makes `c` due at `at` (the earliest of its requests wins, as with sc_event::notify).
  void wake(Core& c, Time at);
  // The running core `c` gives way until it is due again (a wake); returns then. The next
  // core due runs at once on this thread (a fiber switch), unless SystemC must run first.
  void block(Core& c);
  // Cores resumed so far: a clock of the scheduler's own rounds (the livelock guard's).
  uint64_t resumes() const { return resumes_; }

 private:
  struct Fiber;
  struct Switch;
  struct Due {
    Time due;
    int id;    // CPU id: the tie-break
    int slot;  // fiber
  };
  // Branch-free (bitwise, not short-circuit): which child a sift takes is data, not a
  // pattern a predictor learns, and a mispredicted branch costs more than both compares.
  static bool before(const Due& a, const Due& b) {
    return (a.due < b.due) | ((a.due == b.due) & (a.id < b.id));
  }
  void thread();
  void dispatch();
  bool stopped() const;
  // Leaves the running fiber `from` for `to` (a core) or for the scheduler's own thread
  // (`to` null); returns when `from` runs again.
  void switch_from(Fiber& from, Fiber* to);
  // Indexed min-heap of due cores, keyed (time, id).
  void heap_up(size_t i);
  void heap_down(size_t i);
  void heap_set(int slot, Time at);
  int heap_pop();
  void place(size_t i, const Due& d) {
    heap_[i] = d;
    pos_[static_cast<size_t>(d.slot)] = static_cast<int>(i);
  }

  std::vector<std::unique_ptr<Fiber>> fibers_;
  std::vector<Due> heap_;
  std::vector<int> pos_;  // slot -> heap index (-1: not due)
  Fiber* running_ = nullptr;
  Time running_due_ = kTimeMax;  // a wake the running core asked of itself before blocking
  Time now_ = -1;
  Time last_ = 0;   // the latest time a core was run at
  Time limit_ = 0;  // the next SystemC activity or the run's end, while dispatching
  uint64_t resumes_ = 0;
  bool lockstep_ = false;
  bool spawned_ = false;
  sc_core::sc_event kick_;
  // The scheduler thread's side of a switch.
  void* sched_fctx_ = nullptr;
  const void* sched_bottom_ = nullptr;
  size_t sched_size_ = 0;
  std::exception_ptr failure_;
  inline static Time run_end_ = kTimeMax;
  inline static CoreScheduler* active_ = nullptr;  // dispatching now
  inline static Time latest_ = 0;                  // last_ of the last dispatch
};

}  // namespace quiesce
