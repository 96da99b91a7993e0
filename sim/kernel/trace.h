#pragma once
// The kernel's tracer (its ftrace): a record of scheduling, interrupt, softirq, IPI,
// irqs-off/preempt-off, RCU read-side and lock events with their CPU, task, time and the
// ftrace flags of the moment. Off unless a run asks for a trace. With a window, only the
// last `window` of simulated time is kept, and recording stops at the first lockdep report
// or deadlock, so what is written is the window that ends there.
// Writers in sim/output/ turn the record into Chrome/Perfetto JSON or ftrace text.
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "sim/base/units.h"

namespace quiesce::kernel {

enum class TraceKind : uint8_t {
  Switch,        // pid -> arg_pid (prev_state in arg)
  Wakeup,        // arg_pid woken onto CPU arg; id: flow to its next Switch in
  IrqEntry,      // arg: irq id; name: handler; id: the IPI flow it ends (SGIs)
  IrqExit,
  SoftirqEntry,  // arg: vector
  SoftirqExit,
  IpiRaise,      // arg: target CPU, arg2: SGI id; id: flow to the handler
  IrqsOff,
  IrqsOn,
  PreemptOff,
  PreemptOn,
  RcuReadLock,
  RcuReadUnlock,
  LockSpin,      // name: lock class; id: the lock
  LockAcquired,
  LockReleased,
  Print,         // name: text (printk)
  Report,        // name: a lockdep report's title, or "deadlock"
  Counter,       // name: what (e.g. "rcu.gp_seq"), arg: its new value
};

struct TraceEvent {
  Time t = 0;
  int cpu = 0;
  TraceKind kind = TraceKind::Print;
  int pid = 0;      // the running task's
  int arg_pid = -1;
  int arg = 0;
  int arg2 = 0;
  uint64_t id = 0;
  std::string name;
  // ftrace flags: irqs off, need_resched, hardirq, softirq, preempt depth.
  bool irqs_off = false, need_resched = false, hardirq = false, softirq = false;
  int preempt_depth = 0;
  int nr_running = -1;  // runnable tasks on this CPU's runqueue, when known
};

class Tracer {
 public:
  Tracer(Time window, size_t max_events);
  void record(TraceEvent e);
  // The first report or deadlock: with a window, nothing after it is kept.
  void trigger(Time at);
  bool stopped() const { return stopped_; }
  const std::deque<TraceEvent>& events() const { return events_; }
  // Who each pid is, for the writers.
  void name_task(int pid, const std::string& comm, int prio) {
    comms_[pid] = comm;
    prios_[pid] = prio;
  }
  const std::map<int, std::string>& comms() const { return comms_; }
  int prio(int pid) const {
    auto it = prios_.find(pid);
    return it == prios_.end() ? 120 : it->second;
  }
  Time window() const { return window_; }
  Time trigger_time() const { return trigger_; }
  uint64_t dropped() const { return dropped_; }

 private:
  const Time window_;
  const size_t max_events_;
  std::deque<TraceEvent> events_;
  std::map<int, std::string> comms_;
  std::map<int, int> prios_;
  Time trigger_ = -1;
  Time newest_ = 0;
  bool stopped_ = false;
  uint64_t dropped_ = 0;
};

}  // namespace quiesce::kernel
