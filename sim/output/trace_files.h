#pragma once
// Trace writers over the kernel's trace record (sim/kernel/trace.h):
// - Chrome Trace Event JSON, which ui.perfetto.dev, Chrome DevTools and speedscope open: per
//   CPU a track of running tasks with irq handlers and softirqs nested in them, a track of
//   irqs-off sections and one of preempt-off sections, all as complete (X) slices; RCU
//   readers and lock spinning/holding as async slices; flows from each IPI send to its
//   handler and from each wakeup to the run it causes; counters of runnable tasks per CPU;
//   lockdep reports and deadlocks as instants.
// - ftrace's text layout as Linux v4.4 prints it (TASK-PID [CPU] FLAGS TIMESTAMP: event:
//   fields), which Perfetto's systrace importer reads: sched_switch, sched_waking,
//   irq_handler_entry/exit, ipi_raise/entry/exit, softirq_entry/exit; the sections as atrace
//   marks (tracing_mark_write: B|pid|name, E|pid); printk text as print lines.
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
