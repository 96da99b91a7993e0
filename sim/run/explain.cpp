#include "sim/run/explain.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <vector>

#include "sim/base/error.h"
#include "sim/base/units.h"
#include "sim/output/files.h"
#include "sim/run/internal/sweep_state.h"
#include "sim/run/sweep.h"

namespace quiesce {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using json = nlohmann::json;

// A member of `obj` as text ("" or `fallback` when absent); a wrong type is refused.
std::string str(const json& obj, const char* key, const std::string& file, const std::string& fallback = "") {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  throw ConfigError(file, key, "expected a string or a number (not as Quiesce writes it)");
}

double num(const json& obj, const char* key, const std::string& file) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return -1;
  if (!it->is_number()) throw ConfigError(file, key, "expected a number (not as Quiesce writes it)");
  return it->get<double>();
}

const json& object_at(const json& obj, const char* key, const std::string& file) {
  static const json empty = json::object();
  auto it = obj.find(key);
  if (it == obj.end()) return empty;
  if (!it->is_object()) throw ConfigError(file, key, "expected an object (not as Quiesce writes it)");
  return *it;
}

// A sweep directory: which of its points are broken and which detected something, so
// that explain can be pointed at one.
int explain_sweep(const std::string& dir, std::ostream& out) {
  const auto m = run_internal::read_manifest(dir);
  std::vector<PointRecord> broken, detecting;
  size_t have = 0;
  for (uint64_t i = 0; i < m.info.total; ++i) {
    PointRecord r;
    if (!run_internal::read_point_record(dir, m.spec, i, &r)) continue;
    ++have;
    const double* reports = r.metric("lockdep_reports");
    if (r.broken()) {
      broken.push_back(r);
    } else if ((r.outcome != "ok" && r.outcome != "incomplete") || (reports && *reports > 0)) {
      detecting.push_back(r);
    }
  }
  out << "Sweep " << dir << ": scenario " << m.scenario << ", " << have << "/" << m.info.total
      << " points have results\n";
  auto list = [&](const char* title, const std::vector<PointRecord>& pts) {
    out << "\n" << pts.size() << " " << title << (pts.empty() ? ".\n" : ":\n");
    for (size_t i = 0; i < pts.size() && i < 30; ++i) {
      out << "  " << dir << "/points/" << pts[i].id << "  " << pts[i].outcome;
      for (const auto& [k, v] : pts[i].params) out << "  " << k << "=" << v;
      if (pts[i].broken() && !pts[i].failures.empty()) out << "  (" << printable(pts[i].failures.front(), 100) << ")";
      out << "\n";
    }
    if (pts.size() > 30) out << "  ... and " << pts.size() - 30 << " more (points.csv lists them all)\n";
  };
  list("broken point(s) (crashed, timed out or invalid; --resume reruns them)", broken);
  list("point(s) that detected something (a deadlock, a lockup, a stall or a lockdep report)", detecting);
  if (!broken.empty() || !detecting.empty()) {
    out << "\nquiesce explain POINT_DIR tells one's story; quiesce rerun POINT_DIR --trace FILE runs it again.\n";
  }
  return 0;
}

// The first splat of lockdep.log: its heading, and the classes of its dependency chain.
void first_splat(const std::string& log, std::ostream& out) {
  std::istringstream in(log);
  std::string line, title, stamp;
  std::vector<std::string> chain;
  std::string chain_line;
  bool in_first = false;
  while (std::getline(in, line)) {
    if (line.find("WARNING: ") == 0 || line.find("BUG: ") == 0) {
      if (in_first) break;
      in_first = true;
      title = line;
      continue;
    }
    if (line.find("[") == 0 && stamp.empty()) stamp = line.substr(0, line.find(']') + 1);
    if (!in_first) continue;
    if (line.find("-> #") == 0) {
      const size_t a = line.find('('), b = line.find(')');
      if (a != std::string::npos && b != std::string::npos) chain.push_back(line.substr(a + 1, b - a - 1));
    }
    if (line.find("Chain exists of:") != std::string::npos && std::getline(in, chain_line)) {
      while (!chain_line.empty() && chain_line.front() == ' ') chain_line.erase(chain_line.begin());
    }
    if (line.find("*** DEADLOCK ***") != std::string::npos) break;
  }
  if (title.empty()) {
    out << "Lockdep reported nothing.\n";
    return;
  }
  out << "Lockdep's first report " << stamp << ": " << title << "\n";
  if (!chain.empty()) {
    out << "  the dependency chain it found goes through:";
    for (const auto& c : chain) out << " " << c;
    out << "\n";
  }
  if (!chain_line.empty()) out << "  chain exists of: " << chain_line << "\n";
}

// The last lines of the trace's window (ftrace text), which ends at the first report or
// deadlock when it was recorded with --trace-window.
void trace_around(const std::string& dir, std::ostream& out) {
  const std::string txt = dir + "/trace.txt", json = dir + "/trace.json";
  if (std::filesystem::exists(txt)) {
    std::istringstream in(read_text(txt));
    std::string line;
    std::vector<std::string> lines;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] != '#') lines.push_back(line);
    }
    const size_t keep = 30;
    out << "\nThe last " << std::min(keep, lines.size()) << " lines of the trace (" << txt
        << "; a --trace-window ends at the first lockdep report or deadlock):\n";
    for (size_t i = lines.size() > keep ? lines.size() - keep : 0; i < lines.size(); ++i) out << lines[i] << "\n";
  } else if (std::filesystem::exists(json)) {
    out << "\nA Chrome/Perfetto trace is in " << json << " (open it in ui.perfetto.dev).\n";
  } else {
    out << "\n(No trace in this directory: run the point again with --trace " << dir
        << "/trace.txt --trace-window 20us to see the moments before the first report or deadlock.)\n";
  }
}

}  // namespace

int explain_point(const std::string& dir, std::ostream& out) {
  std::error_code ec;
  if (std::filesystem::exists(dir + "/sweep.json", ec)) return explain_sweep(dir, out);
  const std::string result = dir + "/result.json";
  if (!std::filesystem::exists(result, ec)) {
    throw ConfigError(dir, "", "neither a point directory (no result.json) nor a sweep directory (no sweep.json)");
  }
  json r;
  try {
    r = json::parse(read_file_bounded(result, run_internal::kMaxResultBytes));
  } catch (const json::exception& e) {
    throw ConfigError(result, "", std::string("malformed JSON: ") + e.what());
  }
  if (!r.is_object()) throw ConfigError(result, "", "expected an object (not as Quiesce writes it)");
  if (!r.contains("outcome") || !r["outcome"].is_string()) {
    throw ConfigError(result, "outcome", "expected a string (not as Quiesce writes it)");
  }
  const std::string outcome = r["outcome"].get<std::string>();
  const double sim_ps = num(r, "simulated_time_ps", result);
  const Time simulated = sim_ps > 0 && sim_ps < 1e19 ? static_cast<Time>(sim_ps) : 0;
  out << "Point " << dir << ": scenario " << str(r, "scenario", result, "?") << ", seed " << str(r, "seed", result, "?")
      << "\n";
  out << "Outcome: " << outcome << " after " << format_time(simulated) << " simulated\n\n";
  const json& details = object_at(r, "details", result);
  if (details.contains("outcome")) {
    out << "What happened:\n" << str(details, "outcome", result) << "\n";
  } else if (outcome == "ok") {
    out << "The run reached its end without a deadlock, a hard lockup or a stall.\n\n";
  } else if (outcome == "rcu_stall") {
    // The kernel went on; its first stall warning (with the task dumps) says who held it up.
    const std::string dmesg = read_text(dir + "/dmesg.txt");
    const size_t at = dmesg.find("INFO: rcu_preempt detected");
    if (at != std::string::npos) {
      size_t end = dmesg.find("\n[", at);
      out << "What happened: RCU stall warnings (dmesg.txt); the first:\n"
          << dmesg.substr(at, end == std::string::npos ? std::string::npos : end - at) << "\n\n";
    }
  }
  const json& m = object_at(r, "metrics", result);
  first_splat(read_text(dir + "/lockdep.log"), out);
  if (m.contains("lockdep_reports")) {
    out << "  (" << str(m, "lockdep_reports", result) << " distinct lockdep report(s) in lockdep.log)\n";
  }
  if (details.contains("irqs_off.max")) {
    out << "\nLongest interrupts-off section: " << str(m, "irqs_off.max_ns", result) << " ns, "
        << str(details, "irqs_off.max", result) << "\n";
  }
  if (details.contains("rcu.violation")) out << "\nRCU guarantee violated: " << str(details, "rcu.violation", result) << "\n";
  trace_around(dir, out);
  return 0;
}

}  // namespace quiesce
