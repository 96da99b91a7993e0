#pragma once
// Workload types for the perf/RCU study: `perf_monitor` (repeatedly locks a target task's
// perf context, as perf does when it installs or reads events), `exp_gp_updater` and
// `gp_updater` (synchronize_rcu_expedited() / synchronize_rcu() in a loop) and
// `rcu_reader` (read-side critical sections of a given length).
#include "sim/workload/workload.h"

namespace quiesce {

WorkloadType perf_monitor_type();
WorkloadType exp_gp_updater_type();
WorkloadType gp_updater_type();
WorkloadType rcu_reader_type();

}  // namespace quiesce
