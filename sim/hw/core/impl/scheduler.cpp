#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "sim/hw/core/scheduler.h"

#include <boost/context/detail/fcontext.hpp>

#include <algorithm>
#include <utility>

#include "sim/base/asan.h"
#include "sim/base/fiber_stack.h"
#include "sim/hw/core/core.h"

namespace quiesce {

namespace bctx = boost::context;

struct CoreScheduler::Fiber {
  Core* core = nullptr;
  int slot = 0;
  std::function<void()> body;
  bctx::stack_context stack;
  bctx::detail::fcontext_t fctx = nullptr;  // where the core resumes, while switched out
  bool done = false;
  std::exception_ptr failure;
};

// The fcontext side of a switch, kept out of the header. Every jump passes the fiber it
// leaves (nullptr: the scheduler's own thread), which keeps where to resume it.
struct CoreScheduler::Switch {
  // First thing on a core's stack after a jump lands there.
  static void landed(CoreScheduler& s, bctx::detail::transfer_t t, void* fake) {
    auto* from = static_cast<Fiber*>(t.data);
    if (from == nullptr) {
      asan_finish_switch(fake, &s.sched_bottom_, &s.sched_size_);  // the scheduler's stack
      s.sched_fctx_ = t.fctx;
    } else {
      asan_finish_switch(fake, nullptr, nullptr);
      from->fctx = t.fctx;
    }
  }
  // Jumps into core `to`'s fiber from `from` (nullptr: the scheduler's thread), having told
  // ASan of the stack it goes to (`fake` keeps this side's); returns when something jumps
  // back here, with what that jump carries.
  static bctx::detail::transfer_t jump_into(CoreScheduler& s, Fiber& to, Fiber* from, void** fake) {
    s.running_ = &to;
    to.core->enter();
    asan_start_switch(fake, to.core->stack_bottom_, to.core->stack_size_);
    const bctx::detail::fcontext_t target = to.fctx;
    to.fctx = nullptr;
    return bctx::detail::jump_fcontext(target, from);
  }
  // A core's first instructions, on its fiber's own stack.
  static void entry(bctx::detail::transfer_t t) {
    CoreScheduler& s = *active_;
    landed(s, t, nullptr);
    Fiber& f = *s.running_;
    try {
      f.body();
    } catch (...) {
      f.failure = std::current_exception();
    }
    f.done = true;  // the scheduler frees this stack once it is off it
    asan_start_switch(nullptr, s.sched_bottom_, s.sched_size_);
    bctx::detail::jump_fcontext(s.sched_fctx_, &f);
  }
};

CoreScheduler::CoreScheduler() = default;

// A core still switched out when the run ends is dropped without unwinding its stack, as
// SystemC drops a thread that never ended.
CoreScheduler::~CoreScheduler() {
  for (auto& f : fibers_) free_fiber_stack(f->stack);
  if (active_ == this) active_ = nullptr;
}

void CoreScheduler::start(Core& core, std::function<void()> body, size_t stack_bytes) {
  auto f = std::make_unique<Fiber>();
  f->core = &core;
  f->slot = static_cast<int>(fibers_.size());
  f->body = std::move(body);
  f->stack = allocate_fiber_stack(stack_bytes);
  f->fctx = bctx::detail::make_fcontext(f->stack.sp, f->stack.size, &Switch::entry);
  core.on_stack(static_cast<char*>(f->stack.sp) - f->stack.size, f->stack.size);
  core.sched_slot_ = f->slot;
  pos_.push_back(-1);
  fibers_.push_back(std::move(f));
  heap_set(static_cast<int>(fibers_.size()) - 1, 0);  // due at the start
  if (!spawned_) {
    spawned_ = true;
    sc_core::sc_spawn_options o;
    o.set_stack_size(256 * 1024);
    sc_core::sc_spawn([this] { thread(); }, "core_scheduler", &o);
  }
}

Time CoreScheduler::systemc_next_activity() {
  // One question to SystemC: the time to its next activity, zero when some is pending now,
  // and the time left to SystemC's end of time when none is pending at all.
  const sc_core::sc_time::value_type now = sc_core::sc_time_stamp().value();
  const sc_core::sc_time::value_type d = sc_core::sc_time_to_pending_activity().value();
  constexpr sc_core::sc_time::value_type kEndOfTime =
      ~sc_core::sc_time::value_type{0};  // sc_max_time()
  return d == kEndOfTime - now ? kTimeMax : static_cast<Time>(now + d);
}

Time CoreScheduler::simulated_now() {
  const Time sc = static_cast<Time>(sc_core::sc_time_stamp().value());
  return std::max(sc, active_ ? active_->last_ : latest_);
}

void CoreScheduler::heap_up(size_t i) {
  const Due d = heap_[i];
  while (i > 0) {
    const size_t p = (i - 1) / 2;
    if (!before(d, heap_[p])) break;
    place(i, heap_[p]);
    i = p;
  }
  place(i, d);
}

void CoreScheduler::heap_down(size_t i) {
  const Due d = heap_[i];
  const size_t n = heap_.size();
  while (true) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n) c += static_cast<size_t>(before(heap_[c + 1], heap_[c]));
    if (!before(heap_[c], d)) break;
    place(i, heap_[c]);
    i = c;
  }
  place(i, d);
}

void CoreScheduler::heap_set(int slot, Time at) {
  const int p = pos_[static_cast<size_t>(slot)];
  if (p >= 0) {
    Due& d = heap_[static_cast<size_t>(p)];
    if (at >= d.due) return;  // the earlier request stands
    d.due = at;
    heap_up(static_cast<size_t>(p));
    return;
  }
  heap_.push_back(Due{at, fibers_[static_cast<size_t>(slot)]->core->id(), slot});
  heap_up(heap_.size() - 1);
}

int CoreScheduler::heap_pop() {
  const int s = heap_[0].slot;
  pos_[static_cast<size_t>(s)] = -1;
  const Due last = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) {
    place(0, last);
    heap_down(0);
  }
  return s;
}

void CoreScheduler::wake(Core& c, Time at) {
  Fiber& f = *fibers_[static_cast<size_t>(c.sched_slot_)];
  if (&f == running_) {
    running_due_ = std::min(running_due_, at);
    return;
  }
  heap_set(f.slot, at);
  if (active_ != this) {  // from another SystemC process while the scheduler waits
    const Time sc = static_cast<Time>(sc_core::sc_time_stamp().value());
    kick_.notify(sc_core::sc_time::from_value(
        static_cast<sc_core::sc_time::value_type>(std::max<Time>(at - sc, 0))));
  }
}

bool CoreScheduler::stopped() const {
  return sc_core::sc_get_curr_simcontext()->sim_status() != sc_core::SC_SIM_OK;
}

void CoreScheduler::block(Core& c) {
  Fiber& f = *fibers_[static_cast<size_t>(c.sched_slot_)];
  const Time due = std::exchange(running_due_, kTimeMax);
  if (!stopped()) {
    const Due me{due, c.id(), f.slot};
    // Due first and before anyone else: it goes on at once.
    if (due < limit_ && (heap_.empty() || before(me, heap_[0]))) {
      now_ = last_ = std::max(last_, due);
      ++resumes_;
      return;
    }
    // Else the first core due, if before SystemC's next activity, runs next on this thread;
    // this one takes its place in the heap.
    if (!heap_.empty() && heap_[0].due < limit_) {
      const int next = heap_[0].slot;
      now_ = last_ = std::max(last_, heap_[0].due);
      if (due != kTimeMax) {
        pos_[static_cast<size_t>(next)] = -1;
        place(0, me);
        heap_down(0);
      } else {
        heap_pop();
      }
      ++resumes_;
      switch_from(f, fibers_[static_cast<size_t>(next)].get());
      return;
    }
  }
  if (due != kTimeMax) heap_set(f.slot, due);
  switch_from(f, nullptr);
}

void CoreScheduler::switch_from(Fiber& from, Fiber* to) {
  void* fake = nullptr;
  if (to != nullptr) {
    Switch::landed(*this, Switch::jump_into(*this, *to, &from, &fake), fake);
    return;
  }
  running_ = nullptr;
  asan_start_switch(&fake, sched_bottom_, sched_size_);
  Switch::landed(*this, bctx::detail::jump_fcontext(sched_fctx_, &from), fake);
}

void CoreScheduler::dispatch() {
  active_ = this;
  now_ = last_;
  while (!heap_.empty() && !stopped() && heap_[0].due < limit_) {
    now_ = last_ = std::max(last_, heap_[0].due);
    Fiber& f = *fibers_[static_cast<size_t>(heap_pop())];
    ++resumes_;
    void* fake = nullptr;
    const bctx::detail::transfer_t back = Switch::jump_into(*this, f, nullptr, &fake);
    asan_finish_switch(fake, nullptr, nullptr);
    // Back from whichever core gave way to SystemC (or ended).
    Fiber& left = *static_cast<Fiber*>(back.data);
    running_ = nullptr;
    running_due_ = kTimeMax;
    if (left.done) {
      free_fiber_stack(left.stack);
      if (left.failure) {
        failure_ = std::exchange(left.failure, nullptr);
        break;
      }
    } else {
      left.fctx = back.fctx;
    }
  }
  now_ = -1;
  latest_ = std::max(latest_, last_);
  active_ = nullptr;
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

void CoreScheduler::thread() {
  while (true) {
    // Other processes due now run first (one delta cycle: a process that keeps notifying at
    // zero delay must not starve the cores, or the livelock guard never sees them wake).
    if (sc_core::sc_pending_activity_at_current_time()) sc_core::wait(sc_core::SC_ZERO_TIME);
    const Time sc = static_cast<Time>(sc_core::sc_time_stamp().value());
    last_ = std::max(last_, sc);
    const Time sc_next = systemc_next_activity();
    // Processes still busy at this time (delta after delta) hold the cores to it, not off it.
    limit_ = std::min(lockstep_ ? sc + 1 : std::max(sc_next, sc + 1), run_end_);
    dispatch();
    if (!heap_.empty() && !stopped()) {
      const Time next = std::max(heap_[0].due, sc);
      kick_.notify(
          sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(next - sc)));
    }
    sc_core::wait(kick_);
  }
}

}  // namespace quiesce
