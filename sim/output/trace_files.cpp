#include "sim/output/trace_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

std::string us(Time t) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(t / kUs), static_cast<long long>(t % kUs));
  return buf;
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
    for (const TraceEvent* e : in_time_order(tr_)) event(*e);
    // Close what is still open at the end, so every B has its E.
    Time end = tr_.events().empty() ? 0 : tr_.events().back().t;
    for (const auto& e : tr_.events()) end = std::max(end, e.t);
    for (size_t track = 0; track < open_.size(); ++track) {
      while (!open_[track].empty()) {
        emit("{\"ph\": \"E\", \"pid\": 0, \"tid\": " + std::to_string(track) + ", \"ts\": " + us(end) + "}");
        open_[track].pop_back();
      }
    }
    out_ += "\n]}\n";
    os_ << out_;
  }

 private:
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
  void begin(int track, Time t, const std::string& name, const char* cat, const std::string& args = "") {
    emit("{\"ph\": \"B\", \"pid\": 0, \"tid\": " + std::to_string(track) + ", \"ts\": " + us(t) + ", \"name\": " +
         json_escape(name) + ", \"cat\": \"" + cat + "\"" + (args.empty() ? "" : ", \"args\": " + args) + "}");
    open_[static_cast<size_t>(track)].push_back(name);
  }
  void end(int track, Time t) {
    auto& st = open_[static_cast<size_t>(track)];
    if (st.empty()) return;  // its B fell outside the window
    emit("{\"ph\": \"E\", \"pid\": 0, \"tid\": " + std::to_string(track) + ", \"ts\": " + us(t) + "}");
    st.pop_back();
  }
  void async(char ph, int track, Time t, const std::string& name, const char* cat, uint64_t id) {
    emit(std::string("{\"ph\": \"") + ph + "\", \"pid\": 0, \"tid\": " + std::to_string(track) + ", \"ts\": " + us(t) +
         ", \"name\": " + json_escape(name) + ", \"cat\": \"" + cat + "\", \"id\": \"" + std::to_string(id) + "\"}");
  }
  void flow(char ph, int track, Time t, const char* name, uint64_t id) {
    emit(std::string("{\"ph\": \"") + ph + "\", \"pid\": 0, \"tid\": " + std::to_string(track) + ", \"ts\": " + us(t) +
         ", \"name\": \"" + name + "\", \"cat\": \"flow\", \"id\": \"" + std::to_string(id) + "\"" +
         (ph == 'f' ? ", \"bp\": \"e\"" : "") + "}");
  }

  void event(const TraceEvent& e) {
    const int cpu_track = tid(e.cpu, kTasks);
    if (e.nr_running >= 0 && e.nr_running != last_running_[e.cpu]) {
      last_running_[e.cpu] = e.nr_running;
      emit("{\"ph\": \"C\", \"pid\": 0, \"tid\": " + std::to_string(cpu_track) + ", \"ts\": " + us(e.t) +
           ", \"name\": \"runnable CPU" + std::to_string(e.cpu) + "\", \"args\": {\"tasks\": " +
           std::to_string(e.nr_running) + "}}");
    }
    switch (e.kind) {
      case TraceKind::Switch: {
        auto& st = open_[static_cast<size_t>(cpu_track)];
        while (!st.empty()) end(cpu_track, e.t);  // the previous task's slice (and anything left in it)
        begin(cpu_track, e.t, comm_of(tr_, e.arg_pid, e.cpu) + " (" + std::to_string(e.arg_pid) + ")", "sched");
        if (e.id) flow('f', cpu_track, e.t, "wakeup", e.id);
        break;
      }
      case TraceKind::Wakeup:
        emit("{\"ph\": \"i\", \"s\": \"t\", \"pid\": 0, \"tid\": " + std::to_string(cpu_track) + ", \"ts\": " + us(e.t) +
             ", \"name\": " + json_escape("wakeup " + tr_.name(e)) + ", \"cat\": \"sched\"}");
        if (e.id) flow('s', cpu_track, e.t, "wakeup", e.id);
        break;
      case TraceKind::IrqEntry:
        begin(cpu_track, e.t, tr_.name(e), "irq", "{\"irq\": " + std::to_string(e.arg) + "}");
        if (e.id) flow('f', cpu_track, e.t, "ipi", e.id);
        break;
      case TraceKind::IrqExit:
      case TraceKind::SoftirqExit:
        end(cpu_track, e.t);
        break;
      case TraceKind::SoftirqEntry:
        begin(cpu_track, e.t, std::string("softirq ") + tr_.name(e), "softirq");
        break;
      case TraceKind::IpiRaise:
        emit("{\"ph\": \"i\", \"s\": \"t\", \"pid\": 0, \"tid\": " + std::to_string(cpu_track) + ", \"ts\": " + us(e.t) +
             ", \"name\": \"IPI to CPU" + std::to_string(e.arg) + "\", \"cat\": \"ipi\"}");
        flow('s', cpu_track, e.t, "ipi", e.id);
        break;
      case TraceKind::IrqsOff:
        begin(tid(e.cpu, kIrqsOff), e.t, "irqs off: " + tr_.name(e), "irqsoff");
        break;
      case TraceKind::IrqsOn:
        end(tid(e.cpu, kIrqsOff), e.t);
        break;
      case TraceKind::PreemptOff:
        begin(tid(e.cpu, kPreemptOff), e.t, "preempt off: " + tr_.name(e), "preemptoff");
        break;
      case TraceKind::PreemptOn:
        end(tid(e.cpu, kPreemptOff), e.t);
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
        emit("{\"ph\": \"i\", \"s\": \"t\", \"pid\": 0, \"tid\": " + std::to_string(cpu_track) + ", \"ts\": " + us(e.t) +
             ", \"name\": \"printk\", \"cat\": \"printk\", \"args\": {\"text\": " + json_escape(tr_.name(e)) + "}}");
        break;
      case TraceKind::Report:
        emit("{\"ph\": \"i\", \"s\": \"g\", \"pid\": 0, \"tid\": " + std::to_string(cpu_track) + ", \"ts\": " + us(e.t) +
             ", \"name\": " + json_escape(tr_.name(e)) + ", \"cat\": \"report\"}");
        break;
      case TraceKind::Counter:
        emit("{\"ph\": \"C\", \"pid\": 0, \"tid\": 0, \"ts\": " + us(e.t) + ", \"name\": " + json_escape(tr_.name(e)) +
             ", \"args\": {\"value\": " + std::to_string(e.arg) + "}}");
        break;
    }
  }

  const kernel::Tracer& tr_;
  std::ostream& os_;
  std::string out_;
  bool first_ = true;
  std::vector<std::vector<std::string>> open_;
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

void ftrace_text(const kernel::Tracer& tr, int cpus, std::ostream& os) {
  const auto events = in_time_order(tr);
  size_t shown = 0;
  for (const TraceEvent* e : events) {
    if (e->kind != TraceKind::LockSpin && e->kind != TraceKind::LockAcquired && e->kind != TraceKind::LockReleased) ++shown;
  }
  std::string out = "# tracer: nop\n#\n# entries-in-buffer/entries-written: " + std::to_string(shown) + "/" +
                    std::to_string(shown + tr.dropped()) + "   #P:" + std::to_string(cpus) + "\n#\n";
  out +=
      "#                                _-----=> irqs-off\n"
      "#                               / _----=> need-resched\n"
      "#                              | / _---=> hardirq/softirq\n"
      "#                              || / _--=> preempt-depth\n"
      "#                              ||| /     delay\n"
      "#           TASK-PID     CPU#  ||||   TIMESTAMP  FUNCTION\n"
      "#              | |         |   ||||      |         |\n";
  std::map<int, std::vector<int>> irq_stack;  // per CPU, the irqs being handled
  char buf[512];
  for (const TraceEvent* ep : events) {
    const TraceEvent& e = *ep;
    std::string body;
    switch (e.kind) {
      case TraceKind::Switch: {
        const int next = e.arg_pid;
        body = "sched_switch: prev_comm=" + comm_of(tr, e.pid, e.cpu) + " prev_pid=" + std::to_string(e.pid) +
               " prev_prio=" + std::to_string(tr.prio(e.pid)) + " prev_state=" + state_text(e.arg) +
               " ==> next_comm=" + comm_of(tr, next, e.cpu) + " next_pid=" + std::to_string(next) +
               " next_prio=" + std::to_string(tr.prio(next));
        break;
      }
      case TraceKind::Wakeup:
        std::snprintf(buf, sizeof buf, "sched_wakeup: comm=%s pid=%d prio=%d target_cpu=%03d", tr.name(e).c_str(),
                      e.arg_pid, tr.prio(e.arg_pid), e.arg);
        body = buf;
        break;
      case TraceKind::IrqEntry:
        irq_stack[e.cpu].push_back(e.arg);
        if (e.arg < 16) {
          body = std::string("ipi_entry: (") + ipi_reason(e.arg) + ")";
        } else {
          body = "irq_handler_entry: irq=" + std::to_string(e.arg) + " name=" + tr.name(e);
        }
        break;
      case TraceKind::IrqExit: {
        auto& st = irq_stack[e.cpu];
        const int irq = st.empty() ? -1 : st.back();
        if (!st.empty()) st.pop_back();
        if (irq >= 0 && irq < 16) {
          body = std::string("ipi_exit: (") + ipi_reason(irq) + ")";
        } else {
          body = "irq_handler_exit: irq=" + std::to_string(irq) + " ret=handled";
        }
        break;
      }
      case TraceKind::SoftirqEntry:
        body = "softirq_entry: vec=" + std::to_string(e.arg) + " [action=" + tr.name(e) + "]";
        break;
      case TraceKind::SoftirqExit:
        body = "softirq_exit: vec=" + std::to_string(e.arg) + " [action=" + tr.name(e) + "]";
        break;
      case TraceKind::IpiRaise:
        std::snprintf(buf, sizeof buf, "ipi_raise: target_mask=%08x (%s)", 1u << (e.arg & 31), ipi_reason(e.arg2));
        body = buf;
        break;
      case TraceKind::IrqsOff: body = "print: irqs_off at " + tr.name(e); break;
      case TraceKind::IrqsOn: body = "print: irqs_on at " + tr.name(e); break;
      case TraceKind::PreemptOff: body = "print: preempt_off at " + tr.name(e); break;
      case TraceKind::PreemptOn: body = "print: preempt_on at " + tr.name(e); break;
      case TraceKind::RcuReadLock: body = "print: rcu_read_lock"; break;
      case TraceKind::RcuReadUnlock: body = "print: rcu_read_unlock"; break;
      case TraceKind::Print: body = "print: " + tr.name(e); break;
      case TraceKind::Report: body = "print: " + tr.name(e); break;
      case TraceKind::Counter: body = "print: " + tr.name(e) + "=" + std::to_string(e.arg); break;
      case TraceKind::LockSpin:
      case TraceKind::LockAcquired:
      case TraceKind::LockReleased:
        continue;  // in the JSON trace; too many for text
    }
    std::string task = comm_of(tr, e.pid, e.cpu);
    if (e.pid == 0) task = "<idle>";
    std::snprintf(buf, sizeof buf, "%16s-%-5d [%03d] %c%c%c%c %s: ", task.substr(0, 16).c_str(), e.pid, e.cpu,
                  flag_irqs(e), flag_nr(e), flag_ctx(e), flag_depth(e), secs(e.t).c_str());
    out += buf;
    out += body;
    out += '\n';
    if (out.size() >= kFlushBytes) {
      os << out;
      out.clear();
    }
  }
  os << out;
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
