#pragma once
// What a directed timing search (`quiesce hunt`) learns from one run, as a small text file:
// the SGIs sent (who to whom, which of that pair's IPIs, when raised, their end-to-end
// latency and arrival) and, per CPU, the windows where an interrupt that arrives finds the
// running task inside an RCU read-side critical section with interrupts on: where an
// expedited grace period's IPI sets exp_need_qs, so that rcu_read_unlock() reports the
// quiescent state (and may wake the GP's waiter) in whatever context it runs. HOT is 1 when
// that reader ended holding a spinlock (the perf bug's shape). Times in ps; a record a line:
//   ipi FROM TO INDEX SGI RAISED LATENCY ARRIVAL DRAWN FORCED
//   window CPU START END HOT
#include <string>
#include <vector>

#include "sim/hw/irq/controller.h"
#include "sim/kernel/trace.h"

namespace quiesce {

std::string format_timing_windows(const kernel::Tracer& tracer, const std::vector<SentIpi>& sends,
                                  int cores);

struct TimingWindow {
  int cpu = 0;
  Time start = 0, end = 0;
  bool hot = false;  // the reader ended holding a spinlock
};
struct TimingRecord {
  std::vector<SentIpi> ipis;
  std::vector<TimingWindow> windows;  // by CPU, then start
};
// Reads what format_timing_windows() wrote; throws ConfigError on anything else.
TimingRecord parse_timing_windows(const std::string& text, const std::string& file);

}  // namespace quiesce
