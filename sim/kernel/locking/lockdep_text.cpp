// Lockdep's report text, as v4.4's (and, where the layout changed, later releases')
// print_*() functions in kernel/locking/lockdep.c write it, and the queries on its state.
#include <cstdio>
#include <string>

#include "sim/kernel/locking/internal/lockdep_text.h"
#include "sim/kernel/locking/lockdep.h"

namespace quiesce::kernel {
namespace lockdep_text {

const char* usage_str(Usage u) {
  switch (u) {
    case Usage::UsedInHardirq:
      return "IN-HARDIRQ-W";
    case Usage::EnabledHardirq:
      return "HARDIRQ-ON-W";
    case Usage::UsedInSoftirq:
      return "IN-SOFTIRQ-W";
    case Usage::EnabledSoftirq:
      return "SOFTIRQ-ON-W";
  }
  return "";
}

char usage_char(uint8_t usage, Usage used_in) {
  const bool in = usage & bit(used_in);
  const bool on = usage & bit(exclusive(used_in));
  if (in && on) return '?';
  if (in) return '-';
  if (on) return '+';
  return '.';
}

std::string timestamp(Time t) {
  if (t < 0) t = 0;
  char buf[48];
  std::snprintf(buf, sizeof buf, "[%5lld.%06lld] ", static_cast<long long>(t / kSec),
                static_cast<long long>((t % kSec) / kUs));
  return buf;
}

std::string who(const LockdepContext& ctx) {
  return std::string(ctx.task) + "/" + std::to_string(ctx.pid);
}

std::string trace_lines(const LockTrace& trace, size_t spaces) {
  std::string out;
  const std::string pad(1 + spaces, ' ');
  for (const std::string& f : trace.frames) out += pad + f + "\n";
  return out;
}

bool is_might_sleep(const std::string& kind) {
  return kind == "invalid_context" || kind == "rcu_sleep";
}

}  // namespace lockdep_text

using namespace lockdep_text;

// ---------------------------------------------------------------------------------------
// Text

bool Lockdep::first_time(const std::string& kind, const std::string& key) {
  return reported_.insert(kind + '\0' + key).second;
}

void Lockdep::emit(const std::string& kind, const std::string& title, std::string text,
                   const LockdepContext& ctx, const std::vector<ClassId>& classes) {
  if (!is_might_sleep(kind)) {
    if (!debug_locks_) return;
    // debug_locks_off(), v4.4: the first report is the last
    if (after_report_ == AfterReport::Off) debug_locks_ = false;
  }
  Report r;
  r.kind = kind;
  r.title = title;
  r.text = std::move(text);
  r.when = ctx.now;
  r.cpu = ctx.cpu;
  r.task = ctx.task;
  r.pid = ctx.pid;
  for (ClassId c : classes) r.classes.push_back(classes_[c].name);
  reports_.push_back(std::move(r));
}

std::string Lockdep::banner(const LockdepContext& ctx, const Heading& h, std::string& title) const {
  const bool old = old_headings();
  title = old ? h.old_title : h.title;
  // print_kernel_ident() between the heading and the row of '-'
  return timestamp(ctx.now) + std::string(old ? h.old_equals : h.equals, '=') + "\n" + title +
         "\n" + release_ + " " + version_ + " Not tainted\n" +
         std::string(old ? h.old_dashes : h.dashes, '-') + "\n";
}

std::string Lockdep::lock_name(ClassId cls) const {
  const ClassInfo& c = classes_[cls];
  std::string out = " (" + c.name + "){";
  out += usage_char(c.usage, Usage::UsedInHardirq);
  out += '.';  // hardirq read: we model no read locks
  out += usage_char(c.usage, Usage::UsedInSoftirq);
  out += '.';  // softirq read
  // get_usage_chars(), v4.4: RECLAIM_FS write and read, never used here (gone in v4.14)
  if (layout_ != LockdepLayout::V4_14) out += "..";
  out += '}';
  return out;
}

std::string Lockdep::held_locks_text(const LockdepContext& ctx,
                                     const std::vector<HeldLock>& held) const {
  if (held.empty()) return "no locks held by " + who(ctx) + ".\n";
  std::string out = std::to_string(held.size()) + (held.size() > 1 ? " locks" : " lock") +
                    " held by " + who(ctx) + ":\n";
  for (size_t i = 0; i < held.size(); ++i) {
    out +=
        " #" + std::to_string(i) + ": " + lock_name(held[i].cls) + ", at: " + held[i].site + "\n";
  }
  return out;
}

std::string Lockdep::backtrace_text(const LockdepContext& ctx, const std::string& site) const {
  std::string out = "CPU: " + std::to_string(ctx.cpu) + " PID: " + std::to_string(ctx.pid) +
                    " Comm: " + std::string(ctx.task) + " Not tainted " + release_ + " " +
                    version_ + "\n";
  out += "Call Trace:\n";
  for (const std::string& f : make_trace(ctx, site).frames) out += " " + f + "\n";
  return out;
}

// Linux's print_shortest_lock_dependencies(): from the far end of `path` back to its start,
// each class with its usage traces and where it was acquired (the start: the current stack).
std::string Lockdep::shortest_dependencies(const std::vector<ClassId>& path, Dir dir,
                                           const LockTrace& current) const {
  std::string out;
  for (size_t i = path.size(); i-- > 0;) {
    const ClassInfo& c = classes_[path[i]];
    const std::string pad(i, ' ');
    out += pad + "->" + lock_name(path[i]) + " ops: " + std::to_string(c.ops) + " {\n";
    for (Usage u : kAllUsages) {
      if (!(c.usage & bit(u))) continue;
      const std::string line = pad + "   " + usage_str(u);
      out += line + " at:\n";
      out += trace_lines(c.usage_traces[static_cast<int>(u)], i + line.size() + 5);
    }
    out += pad + " }\n";
    out += pad + " ... acquired at:\n";
    const LockTrace& t = i == 0                 ? current
                         : dir == Dir::Forwards ? edge_trace(path[i - 1], path[i])
                                                : edge_trace(path[i], path[i - 1]);
    out += trace_lines(t, 2) + "\n";
  }
  return out;
}

// Linux's print_irq_lock_scenario(): the middle class is `prev` unless that is the safe one.
std::string Lockdep::irq_scenario(ClassId safe, ClassId unsafe, ClassId prev, ClassId next) const {
  const ClassId middle = prev == safe ? next : prev;
  const std::string& safe_name = classes_[safe].name;
  const std::string& unsafe_name = classes_[unsafe].name;
  const std::string& middle_name = classes_[middle].name;
  std::string out;
  if (middle != unsafe)
    out +=
        "Chain exists of:\n  " + safe_name + " --> " + middle_name + " --> " + unsafe_name + "\n\n";
  out += " Possible interrupt unsafe locking scenario:\n\n";
  out += "       CPU0                    CPU1\n";
  out += "       ----                    ----\n";
  out += "  lock(" + unsafe_name + ");\n";
  out += "                               local_irq_disable();\n";
  out += "                               lock(" + safe_name + ");\n";
  out += "                               lock(" + middle_name + ");\n";
  out += "  <Interrupt>\n";
  out += "    lock(" + safe_name + ");\n";
  out += "\n *** DEADLOCK ***\n\n";
  return out;
}

const LockTrace& Lockdep::edge_trace(ClassId from, ClassId to) const {
  return edge_traces_[edges_.at(edge_key(from, to))];
}

// ---------------------------------------------------------------------------------------
// Queries

std::string Lockdep::log() const {
  std::string out;
  for (size_t i = 0; i < reports_.size(); ++i) {
    if (i) out += "\n";
    out += reports_[i].text;
  }
  return out;
}

bool Lockdep::has_usage(ClassId cls, Usage u) const {
  return (classes_.at(cls).usage & bit(u)) != 0;
}

std::string Lockdep::usage_chars(ClassId cls) const {
  const std::string name = lock_name(cls);
  return name.substr(name.rfind('{'));
}

const LockTrace* Lockdep::usage_trace(ClassId cls, Usage u) const {
  const ClassInfo& c = classes_.at(cls);
  return (c.usage & bit(u)) ? &c.usage_traces[static_cast<int>(u)] : nullptr;
}

const LockTrace* Lockdep::dependency_trace(ClassId from, ClassId to) const {
  auto it = edges_.find(edge_key(from, to));
  return it == edges_.end() ? nullptr : &edge_traces_[it->second];
}

}  // namespace quiesce::kernel
