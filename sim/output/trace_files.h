#pragma once
// Trace writers over the kernel's trace record (sim/kernel/trace.h):
// - Chrome Trace Event JSON, which Perfetto UI and chrome://tracing open: per CPU a track
//   of running tasks with irq handlers and softirqs nested in them, a track of irqs-off
//   sections and one of preempt-off sections; RCU readers and lock spinning/holding as async
//   slices; flows from each IPI send to its handler and from each wakeup to the run it
//   causes; counters of runnable tasks per CPU; lockdep reports and deadlocks as instants.
// - ftrace's text layout (TASK-PID [CPU] FLAGS TIMESTAMP: event: fields), which Perfetto's
//   ftrace importer also reads: sched_switch, sched_wakeup, irq_handler_entry/exit,
//   ipi_raise/entry/exit, softirq_entry/exit, and print events for the rest.
#include <iosfwd>
#include <string>

#include "sim/kernel/trace.h"

namespace quiesce {

// Both stream to `os` as they go: the text of a big trace never stands whole in memory.
void chrome_trace(const kernel::Tracer& tracer, int cpus, std::ostream& os);
void ftrace_text(const kernel::Tracer& tracer, int cpus, std::ostream& os);
// One of them into `path`, whole or not at all (a temporary name, fsync, rename).
void write_trace_file(const std::string& path, const kernel::Tracer& tracer, int cpus, bool ftrace);

}  // namespace quiesce
