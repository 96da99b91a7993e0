#pragma once
// What every task-creating workload entry shares: its keys (task, name, cpu, priority,
// start), how they become a TaskSpec, and the checks on them.
#include <functional>
#include <string>

#include "sim/base/params.h"
#include "sim/kernel/kernel.h"
#include "sim/workload/workload.h"

namespace quiesce::workload_internal {

struct TaskParams : ParamGroup {
  explicit TaskParams(const char* doc) : ParamGroup("", doc) {
    priority.range(0, 99);
    cpu.range(-1, kMaxCores - 1);
  }
  Param<std::string> task{this, "task", "", "workload type"};
  Param<std::string> name{this, "name", "", "task name (default: the type and the entry's index)"};
  Param<int64_t> cpu{this, "cpu", "-1", "pin to this CPU (-1: any)"};
  Param<int64_t> priority{this, "priority", "0", "SCHED_FIFO priority 1..99, or 0 for a normal task"};
  Param<Duration> start{this, "start", "0ns", "when the task first runs"};
};

inline void check_cpu(const ConfigNode& entry, int64_t cpu, const Topology& topo) {
  if (cpu >= topo.cores) {
    entry["cpu"].fail("CPU " + std::to_string(cpu) + " is past the core count (" + std::to_string(topo.cores) + ")");
  }
}

inline kernel::TaskSpec spec_of(const TaskParams& p) {
  kernel::TaskSpec s;
  s.cpu = static_cast<int>(p.cpu());
  s.policy = p.priority() > 0 ? kernel::Policy::Fifo : kernel::Policy::Normal;
  s.rt_priority = static_cast<int>(p.priority());
  return s;
}

// The entry's `name:`, or its type and index.
inline std::string default_name(const ConfigNode& entry, size_t index) {
  ConfigNode n = entry["name"];
  if (n.present()) return n.scalar();
  return entry["task"].scalar() + std::to_string(index);
}

// Creates a task; a later `start` is a kernel sleep at the top of its body.
inline kernel::Task& spawn_task(kernel::Kernel& k, const std::string& name, kernel::TaskSpec spec, Time start,
                                std::function<void()> body) {
  spec.start = true;
  return k.create_task(name, spec, [&k, start, body = std::move(body)] {
    if (start > 0) k.sleep_until(start);
    body();
  });
}

}  // namespace quiesce::workload_internal
