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
                                  int cores, const std::vector<std::string>& report_classes) {
  std::ostringstream out;
  out << "# quiesce timing windows v2 (times in ps)\n";
  for (const auto& s : sends) {
    out << "ipi " << s.from << " " << s.to << " " << s.index << " " << s.id << " " << s.raised
        << " " << s.latency << " " << s.arrival << " " << s.drawn << " " << (s.forced ? 1 : 0)
        << "\n";
  }
  std::map<std::string, int> class_index;
  auto class_of = [&](const std::string& name) {
    auto [it, added] = class_index.emplace(name, static_cast<int>(class_index.size()));
    if (added) out << "class " << it->second << " " << name << "\n";
    return it->second;
  };
  std::vector<std::vector<const TraceEvent*>> by_cpu(static_cast<size_t>(cores));
  for (const auto& e : tracer.events()) {
    if (e.cpu >= 0 && e.cpu < cores) by_cpu[static_cast<size_t>(e.cpu)].push_back(&e);
  }
  struct Hold {
    int times = 0;
    Time since = 0;
    int cls = 0;
  };
  for (int c = 0; c < cores; ++c) {
    auto& v = by_cpu[static_cast<size_t>(c)];
    std::stable_sort(v.begin(), v.end(),
                     [](const TraceEvent* a, const TraceEvent* b) { return a->t < b->t; });
    std::set<int> readers;          // pids inside a read-side critical section
    std::map<uint64_t, Hold> held;  // lock -> how it is held on this CPU
    std::vector<LockHeld> holds;
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
        case TraceKind::LockAcquired: {
          Hold& h = held[e->id];
          if (h.times++ == 0) {
            h.since = e->t;
            h.cls = class_of(tracer.name(*e));
          }
          break;
        }
        case TraceKind::LockReleased:
          if (auto it = held.find(e->id); it != held.end() && --it->second.times <= 0) {
            holds.push_back(LockHeld{c, e->id, it->second.cls, it->second.since, e->t});
            held.erase(it);
          }
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
        uint64_t lock = 0;
        Time since = 0;
        for (const auto& [id, h] : held) {
          if (lock == 0 || h.since < since) lock = id, since = h.since;
        }
        for (const auto& [a, b] : it->second) {
          out << "window " << c << " " << a << " " << b << " " << !held.empty() << " " << e->t
              << " " << lock << " " << since << "\n";
        }
        pending.erase(it);
      }
    }
    std::stable_sort(holds.begin(), holds.end(),
                     [](const LockHeld& a, const LockHeld& b) { return a.start < b.start; });
    for (const auto& h : holds) {
      out << "held " << h.cpu << " " << h.lock << " " << h.cls << " " << h.start << " " << h.end
          << "\n";
    }
  }
  if (!report_classes.empty()) {
    std::vector<int> idx;
    for (const auto& name : report_classes) idx.push_back(class_of(name));
    out << "report";
    for (int i : idx) out << " " << i;
    out << "\n";
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
      ls >> w.cpu >> w.start >> w.end >> hot >> w.unlock >> w.lock >> w.since;
      w.hot = hot != 0;
      if (ls.fail())
        throw ConfigError(file + ":" + std::to_string(n), "", "a malformed window record");
      r.windows.push_back(w);
    } else if (kind == "class") {
      size_t i = 0;
      std::string name;
      ls >> i >> std::ws;
      std::getline(ls, name);
      if (ls.fail() || i != r.classes.size() || name.empty())
        throw ConfigError(file + ":" + std::to_string(n), "", "a malformed class record");
      r.classes.push_back(name);
    } else if (kind == "held") {
      LockHeld h;
      ls >> h.cpu >> h.lock >> h.cls >> h.start >> h.end;
      if (ls.fail() || h.cls < 0 || static_cast<size_t>(h.cls) >= r.classes.size())
        throw ConfigError(file + ":" + std::to_string(n), "", "a malformed held record");
      r.held.push_back(h);
    } else if (kind == "report") {
      int i = 0;
      while (ls >> i) {
        if (i < 0 || static_cast<size_t>(i) >= r.classes.size())
          throw ConfigError(file + ":" + std::to_string(n), "", "a malformed report record");
        r.report_classes.push_back(i);
      }
    } else {
      throw ConfigError(file + ":" + std::to_string(n), "", "unknown record '" + kind + "'");
    }
  }
  return r;
}

}  // namespace quiesce
