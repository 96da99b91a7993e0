#pragma once
// What a kernel run reports, computed from the kernel's and the hardware's own counters:
// outcome facts (deadlock, lockdep reports by kind, time to first detection), interrupt
// latency per kind, wakeup latency, the longest irq-off and preempt-off sections with
// where they began and ended, context switches. Times are in ns, with `_ns` names.
#include <string>
#include <utility>
#include <vector>

#include "sim/kernel/kernel.h"
#include "sim/workload/workload.h"

namespace quiesce {

using Detail = std::pair<std::string, std::string>;

void collect_kernel_metrics(kernel::Kernel& k, std::vector<Metric>& metrics, std::vector<Detail>& details);

}  // namespace quiesce
