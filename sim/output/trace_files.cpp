#include "sim/output/trace_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <ostream>
#include <stdexcept>
#include <vector>

#include "sim/base/error.h"
#include "sim/output/json.h"

namespace quiesce {
namespace {

using kernel::TraceEvent;
using kernel::TraceKind;

// Text goes to the stream in pieces of about this size, so a big trace never stands whole in
// memory next to the events it is made of.
constexpr size_t kFlushBytes = size_t{1} << 16;

std::vector<const TraceEvent*> in_time_order(const kernel::Tracer& tracer) {
  std::vector<const TraceEvent*> v;
  for (const auto& e : tracer.events()) v.push_back(&e);
  std::stable_sort(v.begin(), v.end(), [](const TraceEvent* a, const TraceEvent* b) { return a->t < b->t; });
  return v;
}

// ftrace's timestamp: seconds with microseconds.
std::string secs(Time t) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%5lld.%06lld", static_cast<long long>(t / kSec), static_cast<long long>((t % kSec) / kUs));
  return buf;
}

const char* ipi_reason(int id) {
  switch (id) {
    case 0: return "Rescheduling interrupts";
    case 1: return "Function call interrupts";
    case 2: return "IRQ work interrupts";
    default: return "IPI";
  }
}

std::string comm_of(const kernel::Tracer& tr, int pid, int cpu) {
  if (pid == 0) return "swapper/" + std::to_string(cpu);
  auto it = tr.comms().find(pid);
  return it == tr.comms().end() ? "<...>" : it->second;
}

// Track ids: per CPU, a block of tracks.
enum Track { kTasks = 0, kIrqsOff = 1, kPreemptOff = 2, kRcu = 3, kLocks = 4, kTracks = 8 };
int tid(int cpu, Track t) { return 1 + cpu * kTracks + t; }

// Times in the JSON are microseconds on a grid of 2^-16 us (about 15 ps), written exactly:
// consumers compute with doubles, DevTools nests a slice in its parent by comparing ts + dur,
// speedscope first subtracts each thread's earliest ts, and with decimal fractions of a
// microsecond both land an ulp off, so a slice ending with its parent seems to end after it and
// one starting as the last ended seems to start before. On the grid, every such sum and
// difference is exact up to 2^37 us (38 hours).
constexpr int64_t kGridPerUs = int64_t{1} << 16;

int64_t grid(Time t) {
  const int64_t whole = t / kUs, rest = t % kUs;
  return whole * kGridPerUs + (rest * kGridPerUs + kUs / 2) / kUs;
}

std::string grid_us(int64_t g) {
  // A 2^-16 fraction has at most 16 decimals: frac / 2^16 = frac * 5^16 / 10^16.
  constexpr int64_t kFive16 = 152587890625;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld.%016lld", static_cast<long long>(g / kGridPerUs),
                static_cast<long long>((g % kGridPerUs) * kFive16));
  std::string s = buf;
  while (s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  return s;
}

std::string ts_us(Time t) { return grid_us(grid(t)); }
std::string duration_us(Time start, Time end) { return grid_us(grid(end) - grid(start)); }

// Every slice is a complete ("X") event with its duration, written when it ends: Chrome's
// trace engine (DevTools) matches B and E across all threads with one stack and speedscope pops
// frames by an E's name, so X is the form every consumer nests correctly. A slice that ends
// without having begun in the trace (it began before the window) starts at the trace's first
// moment with "began_before_trace"; one still open at the end lasts to the trace's last moment
// with "still_open".
class ChromeWriter {
 public:
  ChromeWriter(const kernel::Tracer& tr, std::ostream& os) : tr_(tr), os_(os) {}

  void write(int cpus) {
    out_ = "{\"displayTimeUnit\": \"ns\", \"otherData\": {\"generator\": \"quiesce\"";
    if (tr_.window() > 0) out_ += ", \"window_ps\": " + std::to_string(tr_.window());
    if (tr_.trigger_time() >= 0) out_ += ", \"trigger_ps\": " + std::to_string(tr_.trigger_time());
    out_ += "},\n\"traceEvents\": [\n";
    meta("process_name", 0, "{\"name\": \"quiesce\"}");
    static const char* names[] = {"", " irqs-off", " preempt-off", " RCU readers", " locks"};
    for (int c = 0; c < cpus; ++c) {
      for (int t = 0; t < 5; ++t) {
        meta("thread_name", tid(c, static_cast<Track>(t)), "{\"name\": \"CPU" + std::to_string(c) + names[t] + "\"}");
        meta("thread_sort_index", tid(c, static_cast<Track>(t)), "{\"sort_index\": " + std::to_string(tid(c, static_cast<Track>(t))) + "}");
      }
    }
    open_.assign(static_cast<size_t>(cpus) * kTracks + 2, {});
    const auto events = in_time_order(tr_);
    partial_ = tr_.window() > 0 || tr_.dropped() > 0;
    if (!events.empty()) {
      first_t_ = events.front()->t;
      last_t_ = events.back()->t;
    }
    for (const TraceEvent* e : events) event(*e);
    for (size_t track = 0; track < open_.size(); ++track) {
      while (!open_[track].empty()) end(static_cast<int>(track), last_t_, "", "", "\"still_open\": true");
    }
    out_ += "\n]}\n";
    os_ << out_;
  }

 private:
  struct Open {
    std::string name;
    const char* cat;
    Time t;
    std::string args;  // members of the args object, without braces
  };

  void emit(const std::string& obj) {
    if (out_.size() >= kFlushBytes) {
      os_ << out_;
      out_.clear();
    }
    if (!first_) out_ += ",\n";
    first_ = false;
    out_ += obj;
  }
  void meta(const char* what, int t, const std::string& args) {
    emit(std::string("{\"ph\": \"M\", \"name\": \"") + what + "\", \"pid\": 0, \"tid\": " + std::to_string(t) +
         ", \"args\": " + args + "}");
  }
  void complete(int track, const Open& o, Time end) {
    emit("{\"ph\": \"X\", \"pid\": 0, \"tid\": " + std::to_string(track) + ", \"ts\": " + ts_us(o.t) +
         ", \"dur\": " + duration_us(o.t, end) + ", \"name\": " + json_escape(o.name) + ", \"cat\": \"" + o.cat + "\"" +
         (o.args.empty() ? "" : ", \"args\": {" + o.args + "}") + "}");
  }
  void begin(int track, Time t, const std::string& name, const char* cat, const std::string& args = "") {
    open_[static_cast<size_t>(track)].push_back({name, cat, t, args});
  }
  // Ends the innermost open slice of `track`; with none open, the slice named `orphan` (of
  // `orphan_cat`) began before the trace. `note` is added to the slice's args.
  void end(int track, Time t, const std::string& orphan, const char* orphan_cat, const std::string& note = "") {
    auto& st = open_[static_cast<size_t>(track)];
    Open o;
    if (!st.empty()) {
      o = std::move(st.back());
      st.pop_back();
    } else {
      if (orphan.empty() || !partial_) return;  // a whole record has no slice begun before it
      o = {orphan, orphan_cat, first_t_, "\"began_before_trace\": true"};
    }
    if (!note.empty()) o.args += (o.args.empty() ? "" : ", ") + note;
    complete(track, o, t);
  }
  void async(char ph, int track, Time t, const std::string& name, const char* cat, uint64_t id) {
    emit(std::string("{\"ph\": \"") + ph + "\", \"pid\": 0, \"tid\": " + std::to_string(track) + ", \"ts\": " + ts_us(t) +
         ", \"name\": " + json_escape(name) + ", \"cat\": \"" + cat + "\", \"id\": \"" + std::to_string(id) + "\"}");
  }
  void flow(char ph, int track, Time t, const char* name, uint64_t id) {
    emit(std::string("{\"ph\": \"") + ph + "\", \"pid\": 0, \"tid\": " + std::to_string(track) + ", \"ts\": " + ts_us(t) +
         ", \"name\": \"" + name + "\", \"cat\": \"flow\", \"id\": \"" + std::to_string(id) + "\"" +
         (ph == 'f' ? ", \"bp\": \"e\"" : "") + "}");
  }
  std::string task_name(int pid, int cpu) const { return comm_of(tr_, pid, cpu) + " (" + std::to_string(pid) + ")"; }

  void event(const TraceEvent& e) {
    const int cpu_track = tid(e.cpu, kTasks);
    if (e.nr_running >= 0 && e.nr_running != last_running_[e.cpu]) {
      last_running_[e.cpu] = e.nr_running;
      emit("{\"ph\": \"C\", \"pid\": 0, \"tid\": " + std::to_string(cpu_track) + ", \"ts\": " + ts_us(e.t) +
           ", \"name\": \"runnable CPU" + std::to_string(e.cpu) + "\", \"cat\": \"sched\", \"args\": {\"tasks\": " +
           std::to_string(e.nr_running) + "}}");
    }
    switch (e.kind) {
      case TraceKind::Switch: {
        auto& st = open_[static_cast<size_t>(cpu_track)];
        if (st.empty()) {
          end(cpu_track, e.t, task_name(e.pid, e.cpu), "sched");  // the task that ran since before the trace
        }
        while (!st.empty()) end(cpu_track, e.t, "", "");  // the previous task's slice (and anything left in it)
        begin(cpu_track, e.t, task_name(e.arg_pid, e.cpu), "sched");
        if (e.id) flow('f', cpu_track, e.t, "wakeup", e.id);
        break;
      }
      case TraceKind::Wakeup:
        emit("{\"ph\": \"i\", \"s\": \"t\", \"pid\": 0, \"tid\": " + std::to_string(cpu_track) + ", \"ts\": " + ts_us(e.t) +
             ", \"name\": " + json_escape("wakeup " + tr_.name(e)) + ", \"cat\": \"sched\"}");
        if (e.id) flow('s', cpu_track, e.t, "wakeup", e.id);
        break;
      case TraceKind::IrqEntry:
        begin(cpu_track, e.t, tr_.name(e), "irq", "\"irq\": " + std::to_string(e.arg));
        if (e.id) flow('f', cpu_track, e.t, "ipi", e.id);
        break;
      case TraceKind::IrqExit:
        end(cpu_track, e.t, "irq", "irq");
        break;
      case TraceKind::SoftirqExit:
        end(cpu_track, e.t, std::string("softirq ") + tr_.name(e), "softirq");
        break;
      case TraceKind::SoftirqEntry:
        begin(cpu_track, e.t, std::string("softirq ") + tr_.name(e), "softirq");
        break;
      case TraceKind::IpiRaise:
        emit("{\"ph\": \"i\", \"s\": \"t\", \"pid\": 0, \"tid\": " + std::to_string(cpu_track) + ", \"ts\": " + ts_us(e.t) +
             ", \"name\": \"IPI to CPU" + std::to_string(e.arg) + "\", \"cat\": \"ipi\"}");
        flow('s', cpu_track, e.t, "ipi", e.id);
        break;
      case TraceKind::IrqsOff:
        begin(tid(e.cpu, kIrqsOff), e.t, "irqs off: " + tr_.name(e), "irqsoff");
        break;
      case TraceKind::IrqsOn:
        end(tid(e.cpu, kIrqsOff), e.t, "irqs off", "irqsoff");
        break;
      case TraceKind::PreemptOff:
        begin(tid(e.cpu, kPreemptOff), e.t, "preempt off: " + tr_.name(e), "preemptoff");
        break;
      case TraceKind::PreemptOn:
        end(tid(e.cpu, kPreemptOff), e.t, "preempt off", "preemptoff");
        break;
      case TraceKind::RcuReadLock:
        async('b', tid(e.cpu, kRcu), e.t, "rcu reader " + comm_of(tr_, e.pid, e.cpu), "rcu", static_cast<uint64_t>(e.pid));
        break;
      case TraceKind::RcuReadUnlock:
        async('e', tid(e.cpu, kRcu), e.t, "rcu reader " + comm_of(tr_, e.pid, e.cpu), "rcu", static_cast<uint64_t>(e.pid));
        break;
      case TraceKind::LockSpin:
        spinning_[{e.cpu, e.id}] = true;
        async('b', tid(e.cpu, kLocks), e.t, "spin " + tr_.name(e), "lock", e.id ^ (static_cast<uint64_t>(e.cpu + 1) << 48));
        break;
      case TraceKind::LockAcquired:
        if (spinning_.erase({e.cpu, e.id})) {
          async('e', tid(e.cpu, kLocks), e.t, "spin " + tr_.name(e), "lock", e.id ^ (static_cast<uint64_t>(e.cpu + 1) << 48));
        }
        async('b', tid(e.cpu, kLocks), e.t, "hold " + tr_.name(e), "lock", e.id);
        break;
      case TraceKind::LockReleased:
        async('e', tid(e.cpu, kLocks), e.t, "hold " + tr_.name(e), "lock", e.id);
        break;
      case TraceKind::Print:
        emit("{\"ph\": \"i\", \"s\": \"t\", \"pid\": 0, \"tid\": " + std::to_string(cpu_track) + ", \"ts\": " + ts_us(e.t) +
             ", \"name\": \"printk\", \"cat\": \"printk\", \"args\": {\"text\": " + json_escape(tr_.name(e)) + "}}");
        break;
      case TraceKind::Report:
        emit("{\"ph\": \"i\", \"s\": \"g\", \"pid\": 0, \"tid\": " + std::to_string(cpu_track) + ", \"ts\": " + ts_us(e.t) +
             ", \"name\": " + json_escape(tr_.name(e)) + ", \"cat\": \"report\"}");
        break;
      case TraceKind::Counter:
        emit("{\"ph\": \"C\", \"pid\": 0, \"tid\": 0, \"ts\": " + ts_us(e.t) + ", \"name\": " + json_escape(tr_.name(e)) +
             ", \"cat\": \"counter\", \"args\": {\"value\": " + std::to_string(e.arg) + "}}");
        break;
    }
  }

  const kernel::Tracer& tr_;
  std::ostream& os_;
  std::string out_;
  bool first_ = true;
  Time first_t_ = 0, last_t_ = 0;
  bool partial_ = false;  // the record lost its oldest events (a window, or the byte bound)
  std::vector<std::vector<Open>> open_;
  std::map<int, int> last_running_;
  std::map<std::pair<int, uint64_t>, bool> spinning_;
};

char flag_irqs(const TraceEvent& e) { return e.irqs_off ? 'd' : '.'; }
char flag_nr(const TraceEvent& e) { return e.need_resched ? 'N' : '.'; }
char flag_ctx(const TraceEvent& e) { return e.hardirq && e.softirq ? 'H' : e.hardirq ? 'h' : e.softirq ? 's' : '.'; }
char flag_depth(const TraceEvent& e) {
  if (e.preempt_depth <= 0) return '.';
  return e.preempt_depth < 10 ? static_cast<char>('0' + e.preempt_depth) : static_cast<char>('a' + std::min(e.preempt_depth - 10, 5));
}

const char* state_text(int s) {
  switch (s) {
    case 1: return "R+";  // Runnable: preempted
    case 2: return "S";
    case 3: return "X";
    default: return "R";
  }
}

}  // namespace

void chrome_trace(const kernel::Tracer& tracer, int cpus, std::ostream& os) { ChromeWriter(tracer, os).write(cpus); }

namespace {

// ipi_raise's target_mask as Linux prints a tracepoint's __bitmask: "%*pb" over whole longs
// (64 bits here), so comma-separated 32-bit words, most significant first; 4 CPUs print as
// 00000000,00000001 and CPU 39 of 40 as 00000080,00000000.
std::string cpu_mask(int cpus, int target) {
  const int words = 2 * ((std::max(cpus, 1) + 63) / 64);
  std::string s;
  char buf[16];
  for (int w = words - 1; w >= 0; --w) {
    const uint32_t bits = target / 32 == w ? uint32_t{1} << (target % 32) : 0;
    std::snprintf(buf, sizeof buf, "%s%08x", s.empty() ? "" : ",", bits);
    s += buf;
  }
  return s;
}

// The text trace, written twice over: once to count its lines for the header, once to write.
// Layout as Linux v4.4 prints it: kernel/trace/trace.c print_func_help_header_irq for the
// header and kernel/trace/trace_output.c trace_print_context ("%16s-%-5d [%03d] ", the four
// flag characters, " %5lu.%06lu: ") for each line.
// Sections (irqs off, preempt off, RCU readers, spinning on and holding locks) are atrace
// marks, "tracing_mark_write: B|pid|name" and "E|pid", which Perfetto's systrace importer turns
// into slices on the task's thread. A thread's slices must nest, so a section that ends under
// another one closes that one and opens it again at the same moment. Irqs off, preempt off and
// locks belong to the CPU and pass at a context switch from the previous task's thread to the
// next one's (the next task is the one that ends them); an RCU reader belongs to its task and
// waits, closed, while the task is switched out. The idle task writes no marks: every CPU's idle
// task is pid 0, one thread to Perfetto, whose slices would interleave.
class FtraceWriter {
 public:
  FtraceWriter(const kernel::Tracer& tr, int cpus) : tr_(tr), cpus_(cpus) {}

  // Writes to `os`, or with none only counts the lines; returns the number of event lines.
  size_t run(const std::vector<const TraceEvent*>& events, std::ostream* os) {
    os_ = os;
    lines_ = 0;
    marks_.clear();
    irq_stack_.clear();
    for (const TraceEvent* e : events) event(*e);
    flush(true);
    return lines_;
  }

 private:
  enum class Owner { Cpu, Task };
  struct Mark {
    std::string key;   // what ends it: "irqsoff", "preempt", "rcu", "spin 123", "hold 123"
    std::string name;  // the slice's name
    Owner owner;
  };

  // Marks are kept per thread; the idle tasks (pid 0) apart per CPU.
  int thread_of(int pid, int cpu) const { return pid == 0 ? -1 - cpu : pid; }

  void line(const TraceEvent& e, int pid, const std::string& body) {
    ++lines_;
    if (!os_) return;
    std::string task = pid == 0 ? "<idle>" : comm_of(tr_, pid, e.cpu);
    char buf[128];
    std::snprintf(buf, sizeof buf, "%16s-%-5d [%03d] %c%c%c%c %s: ", task.substr(0, 16).c_str(), pid, e.cpu,
                  flag_irqs(e), flag_nr(e), flag_ctx(e), flag_depth(e), secs(e.t).c_str());
    out_ += buf;
    out_ += body;
    out_ += '\n';
    flush(false);
  }
  void flush(bool all) {
    if (!os_ || (!all && out_.size() < kFlushBytes)) return;
    *os_ << out_;
    out_.clear();
  }
  void mark_begin(const TraceEvent& e, int pid, const std::string& name) {
    if (pid != 0) line(e, pid, "tracing_mark_write: B|" + std::to_string(pid) + "|" + name);
  }
  void mark_end(const TraceEvent& e, int pid) {
    if (pid != 0) line(e, pid, "tracing_mark_write: E|" + std::to_string(pid));
  }
  void open(const TraceEvent& e, std::string key, std::string name, Owner owner) {
    marks_[thread_of(e.pid, e.cpu)].push_back({std::move(key), name, owner});
    mark_begin(e, e.pid, name);
  }
  // Ends the innermost open mark with `key` on the running task's thread: the marks opened
  // inside it close first and open again after it.
  void close(const TraceEvent& e, const std::string& key) {
    auto& st = marks_[thread_of(e.pid, e.cpu)];
    size_t i = st.size();
    while (i > 0 && st[i - 1].key != key) --i;
    if (i == 0) return;  // it began before the trace
    for (size_t j = st.size(); j > i; --j) mark_end(e, e.pid);
    mark_end(e, e.pid);
    st.erase(st.begin() + static_cast<std::ptrdiff_t>(i - 1));
    for (size_t j = i - 1; j < st.size(); ++j) mark_begin(e, e.pid, st[j].name);
  }
  // Before the sched_switch line: the previous task's thread closes its marks; the CPU's
  // pass to the next task, its own wait for it to run again.
  std::vector<Mark> switch_out(const TraceEvent& e) {
    auto& st = marks_[thread_of(e.pid, e.cpu)];
    std::vector<Mark> carried, kept;
    for (size_t j = st.size(); j > 0; --j) mark_end(e, e.pid);
    for (auto& m : st) (m.owner == Owner::Cpu ? carried : kept).push_back(std::move(m));
    st = std::move(kept);
    return carried;
  }
  void switch_in(const TraceEvent& e, std::vector<Mark> carried) {
    const int next = e.arg_pid;
    auto& st = marks_[thread_of(next, e.cpu)];
    for (auto& m : carried) st.push_back(std::move(m));
    for (const auto& m : st) mark_begin(e, next, m.name);
  }

  void event(const TraceEvent& e) {
    char buf[512];
    switch (e.kind) {
      case TraceKind::Switch: {
        const int next = e.arg_pid;
        auto carried = switch_out(e);
        line(e, e.pid,
             "sched_switch: prev_comm=" + comm_of(tr_, e.pid, e.cpu) + " prev_pid=" + std::to_string(e.pid) +
                 " prev_prio=" + std::to_string(tr_.prio(e.pid)) + " prev_state=" + state_text(e.arg) +
                 " ==> next_comm=" + comm_of(tr_, next, e.cpu) + " next_pid=" + std::to_string(next) +
                 " next_prio=" + std::to_string(tr_.prio(next)));
        switch_in(e, std::move(carried));
        return;
      }
      case TraceKind::Wakeup:
        // include/trace/events/sched.h sched_wakeup_template (v4.4), from the waking context.
        std::snprintf(buf, sizeof buf, "sched_waking: comm=%s pid=%d prio=%d target_cpu=%03d", tr_.name(e).c_str(),
                      e.arg_pid, tr_.prio(e.arg_pid), e.arg);
        line(e, e.pid, buf);
        return;
      case TraceKind::IrqEntry:
        irq_stack_[e.cpu].push_back(e.arg);
        if (e.arg < 16) {
          line(e, e.pid, std::string("ipi_entry: (") + ipi_reason(e.arg) + ")");
        } else {
          line(e, e.pid, "irq_handler_entry: irq=" + std::to_string(e.arg) + " name=" + tr_.name(e));
        }
        return;
      case TraceKind::IrqExit: {
        auto& st = irq_stack_[e.cpu];
        const int irq = st.empty() ? -1 : st.back();
        if (!st.empty()) st.pop_back();
        if (irq >= 0 && irq < 16) {
          line(e, e.pid, std::string("ipi_exit: (") + ipi_reason(irq) + ")");
        } else {
          line(e, e.pid, "irq_handler_exit: irq=" + std::to_string(irq) + " ret=handled");
        }
        return;
      }
      case TraceKind::SoftirqEntry:
        line(e, e.pid, "softirq_entry: vec=" + std::to_string(e.arg) + " [action=" + tr_.name(e) + "]");
        return;
      case TraceKind::SoftirqExit:
        line(e, e.pid, "softirq_exit: vec=" + std::to_string(e.arg) + " [action=" + tr_.name(e) + "]");
        return;
      case TraceKind::IpiRaise:
        line(e, e.pid, "ipi_raise: target_mask=" + cpu_mask(cpus_, e.arg) + " (" + ipi_reason(e.arg2) + ")");
        return;
      case TraceKind::IrqsOff: open(e, "irqsoff", "irqs off: " + tr_.name(e), Owner::Cpu); return;
      case TraceKind::IrqsOn: close(e, "irqsoff"); return;
      case TraceKind::PreemptOff: open(e, "preempt", "preempt off: " + tr_.name(e), Owner::Cpu); return;
      case TraceKind::PreemptOn: close(e, "preempt"); return;
      case TraceKind::RcuReadLock: open(e, "rcu", "rcu reader", Owner::Task); return;
      case TraceKind::RcuReadUnlock: close(e, "rcu"); return;
      case TraceKind::LockSpin:
        open(e, "spin " + std::to_string(e.id), "spin " + tr_.name(e), Owner::Cpu);
        return;
      case TraceKind::LockAcquired:
        close(e, "spin " + std::to_string(e.id));
        open(e, "hold " + std::to_string(e.id), "hold " + tr_.name(e), Owner::Cpu);
        return;
      case TraceKind::LockReleased: close(e, "hold " + std::to_string(e.id)); return;
      case TraceKind::Print:
      case TraceKind::Report: line(e, e.pid, "print: " + tr_.name(e)); return;
      case TraceKind::Counter:
        line(e, e.pid, "tracing_mark_write: C|" + std::to_string(e.pid) + "|" + tr_.name(e) + "|" + std::to_string(e.arg));
        return;
    }
  }

  const kernel::Tracer& tr_;
  const int cpus_;
  std::ostream* os_ = nullptr;
  std::string out_;
  size_t lines_ = 0;
  std::map<int, std::vector<Mark>> marks_;
  std::map<int, std::vector<int>> irq_stack_;  // per CPU, the irqs being handled
};

}  // namespace

void ftrace_text(const kernel::Tracer& tr, int cpus, std::ostream& os) {
  const auto events = in_time_order(tr);
  FtraceWriter writer(tr, cpus);
  const size_t shown = writer.run(events, nullptr);
  os << "# tracer: nop\n#\n# entries-in-buffer/entries-written: " << shown << "/" << shown + tr.dropped()
     << "   #P:" << cpus << "\n#\n"
     << "#                              _-----=> irqs-off\n"
        "#                             / _----=> need-resched\n"
        "#                            | / _---=> hardirq/softirq\n"
        "#                            || / _--=> preempt-depth\n"
        "#                            ||| /     delay\n"
        "#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION\n"
        "#              | |       |   ||||       |         |\n";
  writer.run(events, &os);
}

void write_trace_file(const std::string& path, const kernel::Tracer& tracer, int cpus, bool ftrace) {
  // As write_file_atomic (sim/output/files.h), but streamed: a temporary name, then rename.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int err = 0;
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw IoError("write", path, errno);
    if (ftrace) {
      ftrace_text(tracer, cpus, f);
    } else {
      chrome_trace(tracer, cpus, f);
    }
    f.close();
    if (f.fail()) err = errno ? errno : EIO;
  }
  // The stream hides its descriptor; fsync through another one reaches the same file.
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (!err && (fd < 0 || ::fsync(fd) != 0)) err = errno;
  if (fd >= 0) ::close(fd);
  if (!err && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err) {
    std::remove(tmp.c_str());
    throw IoError("write", path, err);
  }
}

}  // namespace quiesce
