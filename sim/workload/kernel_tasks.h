#pragma once
// Built-in workload types that run on the kernel model: `program` (an op-program task),
// `sleeper` (runs, then sleeps), `cyclictest` (per-CPU RT timer probe, as rt-tests'
// cyclictest measures wakeup latency) and `irq` device sources (interrupts with a period
// distribution whose handler computes or runs an op-program).
#include "sim/workload/workload.h"

namespace quiesce {

WorkloadType program_type();
WorkloadType sleeper_type();
WorkloadType cyclictest_type();
WorkloadType irq_type();
WorkloadType softirq_type();
WorkloadType hook_type();

}  // namespace quiesce
