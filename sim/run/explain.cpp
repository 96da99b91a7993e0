#include "sim/run/explain.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <vector>

#include "sim/base/error.h"
#include "sim/base/units.h"

namespace quiesce {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string str(const YAML::Node& n, const std::string& fallback = "") {
  return n && n.IsScalar() ? n.Scalar() : fallback;
}

double num(const YAML::Node& n) {
  try {
    return n ? n.as<double>() : -1;
  } catch (const YAML::Exception&) {
    return -1;
  }
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
    out << "\nA Chrome/Perfetto trace is in " << json << " (open it in ui.perfetto.dev or chrome://tracing).\n";
  } else {
    out << "\n(No trace in this directory: run the point again with --trace " << dir
        << "/trace.txt --trace-window 20us to see the moments before the first report or deadlock.)\n";
  }
}

}  // namespace

int explain_point(const std::string& dir, std::ostream& out) {
  const std::string result = dir + "/result.json";
  if (!std::filesystem::exists(result)) throw ConfigError(dir, "", "not a point directory (no result.json)");
  YAML::Node r;
  try {
    r = YAML::LoadFile(result);
  } catch (const YAML::Exception& e) {
    throw ConfigError(result, "", "unreadable: " + e.msg);
  }
  const std::string outcome = str(r["outcome"], "?");
  const Time simulated = static_cast<Time>(num(r["simulated_time_ps"]));
  out << "Point " << dir << ": scenario " << str(r["scenario"], "?") << ", seed " << str(r["seed"], "?") << "\n";
  out << "Outcome: " << outcome << " after " << format_time(simulated) << " simulated\n\n";
  const YAML::Node details = r["details"];
  if (details && details["outcome"]) {
    out << "What happened:\n" << str(details["outcome"]) << "\n";
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
  const YAML::Node m = r["metrics"];
  first_splat(read_text(dir + "/lockdep.log"), out);
  if (m && m["lockdep_reports"]) out << "  (" << str(m["lockdep_reports"]) << " distinct lockdep report(s) in lockdep.log)\n";
  if (details && details["irqs_off.max"]) {
    out << "\nLongest interrupts-off section: " << str(m["irqs_off.max_ns"]) << " ns, " << str(details["irqs_off.max"])
        << "\n";
  }
  if (details && details["rcu.violation"]) out << "\nRCU guarantee violated: " << str(details["rcu.violation"]) << "\n";
  trace_around(dir, out);
  return 0;
}

}  // namespace quiesce
