#include "sim/output/timing_windows.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "sim/base/error.h"

namespace quiesce {

using kernel::TraceEvent;
using kernel::TraceKind;

std::string format_timing_windows(const kernel::Tracer& tracer, const std::vector<SentIpi>& sends,
                                  int cores) {
  std::ostringstream out;
  out << "# quiesce timing windows v1 (times in ps)\n";
  for (const auto& s : sends) {
    out << "ipi " << s.from << " " << s.to << " " << s.index << " " << s.id << " " << s.raised
        << " " << s.latency << " " << s.arrival << " " << s.drawn << " " << (s.forced ? 1 : 0)
        << "\n";
  }
  std::vector<std::vector<const TraceEvent*>> by_cpu(static_cast<size_t>(cores));
  for (const auto& e : tracer.events()) {
    if (e.cpu >= 0 && e.cpu < cores) by_cpu[static_cast<size_t>(e.cpu)].push_back(&e);
  }
  for (int c = 0; c < cores; ++c) {
    auto& v = by_cpu[static_cast<size_t>(c)];
    std::stable_sort(v.begin(), v.end(),
                     [](const TraceEvent* a, const TraceEvent* b) { return a->t < b->t; });
    std::set<int> readers;         // pids inside a read-side critical section
    std::map<uint64_t, int> held;  // lock -> times held on this CPU
    // A reader's windows wait for its end: whether it ends holding a lock.
    std::map<int, std::vector<std::pair<Time, Time>>> pending;
    bool open = false;
    Time start = 0;
    int open_pid = -1;
    for (const TraceEvent* e : v) {
      switch (e->kind) {
        case TraceKind::RcuReadLock:
          readers.insert(e->pid);
          break;
        case TraceKind::RcuReadUnlock:
          readers.erase(e->pid);
          break;
        case TraceKind::LockAcquired:
          ++held[e->id];
          break;
        case TraceKind::LockReleased:
          if (auto it = held.find(e->id); it != held.end() && --it->second <= 0) held.erase(it);
          break;
        default:
          break;
      }
      const bool now_open = readers.count(e->pid) && !e->irqs_off && !e->hardirq;
      if (now_open != open) {
        if (now_open) {
          start = e->t;
          open_pid = e->pid;
        } else if (e->t > start) {
          pending[open_pid].emplace_back(start, e->t);
        }
        open = now_open;
      }
      if (e->kind == TraceKind::RcuReadUnlock) {
        auto it = pending.find(e->pid);
        if (it == pending.end()) continue;
        for (const auto& [a, b] : it->second)
          out << "window " << c << " " << a << " " << b << " " << !held.empty() << "\n";
        pending.erase(it);
      }
    }
  }
  return out.str();
}

TimingRecord parse_timing_windows(const std::string& text, const std::string& file) {
  TimingRecord r;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string kind;
    ls >> kind;
    if (kind == "ipi") {
      SentIpi s;
      int forced = 0;
      ls >> s.from >> s.to >> s.index >> s.id >> s.raised >> s.latency >> s.arrival >> s.drawn >>
          forced;
      s.forced = forced != 0;
      if (ls.fail())
        throw ConfigError(file + ":" + std::to_string(n), "", "a malformed ipi record");
      r.ipis.push_back(s);
    } else if (kind == "window") {
      TimingWindow w;
      int hot = 0;
      ls >> w.cpu >> w.start >> w.end >> hot;
      w.hot = hot != 0;
      if (ls.fail())
        throw ConfigError(file + ":" + std::to_string(n), "", "a malformed window record");
      r.windows.push_back(w);
    } else {
      throw ConfigError(file + ":" + std::to_string(n), "", "unknown record '" + kind + "'");
    }
  }
  return r;
}

}  // namespace quiesce
