#pragma once
// The kernel's tracer (its ftrace): a record of scheduling, interrupt, softirq, IPI,
// irqs-off/preempt-off, RCU read-side and lock events with their CPU, task, time and the
// ftrace flags of the moment. Off unless a run asks for a trace. With a window, only the
// last `window` of simulated time is kept, and recording stops at the first lockdep report
// or deadlock, so what is written is the window that ends there.
// The record is a ring bounded in bytes (and optionally in events): an event costs its fixed
// size plus its share of the interned names, and the oldest go first. Names (lock classes,
// call sites, printk text) are interned with a count of the events using them, so a name
// leaves memory with its last event and the byte count stays what the process holds.
// Writers in sim/output/ turn the record into Chrome/Perfetto JSON or ftrace text.
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
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
  uint64_t id = 0;
  int cpu = 0;
  int pid = 0;  // the running task's
  int arg_pid = -1;
  int arg = 0;
  int arg2 = 0;
  int nr_running = -1;  // runnable tasks on this CPU's runqueue, when known
  uint32_t name = 0;    // the Tracer's interned text (Tracer::name())
  int16_t preempt_depth = 0;
  TraceKind kind = TraceKind::Print;
  // ftrace flags: irqs off, need_resched, hardirq, softirq (and preempt depth above).
  bool irqs_off = false, need_resched = false, hardirq = false, softirq = false;
};

class Tracer {
 public:
  // What one kept event costs: the struct in the ring and its slot in the writers' time-sorted
  // index. Names cost extra, counted by name_cost().
  static constexpr size_t kEventBytes = sizeof(TraceEvent) + sizeof(const TraceEvent*);
  // The smallest byte bound that still holds a useful window (and the interned names).
  static constexpr size_t kMinBytes = size_t{1} << 20;
  Tracer(Time window, size_t max_bytes, size_t max_events);
  // `name` is copied (interned); it need not outlive the call.
  void record(TraceEvent e, std::string_view name);
  // The first report or deadlock: with a window, nothing after it is kept.
  void trigger(Time at);
  bool stopped() const { return stopped_; }
  const std::deque<TraceEvent>& events() const { return events_; }
  const std::string& name(const TraceEvent& e) const { return names_[e.name].text; }
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
  // Bytes the kept events and their names hold now, and the bounds.
  size_t bytes() const { return events_.size() * kEventBytes + name_bytes_; }
  size_t max_bytes() const { return max_bytes_; }
  size_t max_events() const { return max_events_; }

 private:
  struct Name {
    std::string text;
    uint64_t users = 0;
  };
  uint32_t intern(std::string_view text);
  void release(uint32_t id);
  static size_t name_cost(const std::string& text);
  void drop_front();

  const Time window_;
  const size_t max_bytes_;
  const size_t max_events_;
  std::deque<TraceEvent> events_;
  // Interned names; a deque so the map's string_views into them stay valid. Id 0 is "".
  std::deque<Name> names_;
  std::vector<uint32_t> free_names_;
  std::unordered_map<std::string_view, uint32_t> name_ids_;
  size_t name_bytes_ = 0;
  std::map<int, std::string> comms_;
  std::map<int, int> prios_;
  Time trigger_ = -1;
  Time newest_ = 0;
  bool stopped_ = false;
  uint64_t dropped_ = 0;
};

}  // namespace quiesce::kernel
