#pragma once
// What a directed timing search (`quiesce hunt`) learns from one run, as a small text file:
// the SGIs sent (who to whom, which of that pair's IPIs, when raised, their end-to-end
// latency and arrival) and, per CPU, the windows where an interrupt that arrives finds the
// running task inside an RCU read-side critical section with interrupts on: where an
// expedited grace period's IPI sets exp_need_qs, so that rcu_read_unlock() reports the
// quiescent state (and may wake the GP's waiter) in whatever context it runs. HOT is 1 when
// that reader ended holding a spinlock (the perf bug's shape); UNLOCK is its
// rcu_read_unlock(), where the report happens, and LOCK the spinlock it then held longest
// (0: none) with SINCE, when it was taken. An actual deadlock also needs another CPU to hold
// the lock the report will wait for while it takes LOCK, so every spinlock hold is recorded
// too (`held`, by CPU, then start), with its lock and class; `report` names the classes of
// the run's first lockdep report, in chain order. Times in ps; a record a line:
//   ipi FROM TO INDEX SGI RAISED LATENCY ARRIVAL DRAWN FORCED
//   window CPU START END HOT UNLOCK LOCK SINCE
//   class N NAME
//   held CPU LOCK CLASS START END
//   report CLASS...
#include <string>
#include <vector>

#include "sim/hw/irq/controller.h"
#include "sim/kernel/trace.h"

namespace quiesce {

// `report_classes`: the run's first lockdep report's classes (none: no report).
std::string format_timing_windows(const kernel::Tracer& tracer, const std::vector<SentIpi>& sends,
                                  int cores, const std::vector<std::string>& report_classes);

struct TimingWindow {
  int cpu = 0;
  Time start = 0, end = 0;
  bool hot = false;   // the reader ended holding a spinlock
  Time unlock = 0;    // its rcu_read_unlock()
  uint64_t lock = 0;  // the spinlock it then held longest (0: none), taken at `since`
  Time since = 0;
};
// One spinlock hold: `lock` (its address) of class `cls` (an index into classes).
struct LockHeld {
  int cpu = 0;
  uint64_t lock = 0;
  int cls = 0;
  Time start = 0, end = 0;
};
struct TimingRecord {
  std::vector<SentIpi> ipis;
  std::vector<TimingWindow> windows;  // by CPU, then start
  std::vector<std::string> classes;
  std::vector<LockHeld> held;       // by CPU, then start
  std::vector<int> report_classes;  // the first lockdep report's, in chain order
};
// Reads what format_timing_windows() wrote; throws ConfigError on anything else.
TimingRecord parse_timing_windows(const std::string& text, const std::string& file);

}  // namespace quiesce
