#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "sim/run/point.h"

#include <systemc>

#include <chrono>
#include <cstdlib>
#include <ostream>

#include "sim/output/files.h"
#include "sim/output/json.h"
#include "sim/output/stats_txt.h"

namespace quiesce {
namespace {

constexpr const char* kVersion = "0.1.0";

uint64_t count_events(const StatRegistry& stats) {
  // Simulated events: instruction boundaries, coherence requests that reach the
  // directory, and interrupts delivered.
  uint64_t n = 0;
  for (const StatGroup* g : stats.groups()) {
    for (const Stat* s : g->stats()) {
      auto* c = dynamic_cast<const Counter*>(s);
      if (!c) continue;
      const std::string& p = g->prefix();
      bool core = p.compare(0, 3, "cpu") == 0 && p.find('.') == std::string::npos;
      if ((core && s->name() == "ops") ||
          (p == "mem.dir" && (s->name() == "gets" || s->name() == "getm" || s->name() == "upgrades")) ||
          (p == "irq" && s->name() == "delivered")) {
        n += c->value();
      }
    }
  }
  return n;
}

std::string result_json(const Scenario& sc, const PointResult& r) {
  JsonWriter j;
  j.begin_object();
  j.key("quiesce_version").value(kVersion);
  j.key("scenario").value(sc.params.name());
  j.key("seed").value(static_cast<int64_t>(sc.params.seed()));
  j.key("outcome").value(r.outcome);
  j.key("simulated_time_ps").value(static_cast<int64_t>(r.simulated));
  j.key("events").value(r.events);
  j.key("metrics").begin_object();
  for (const auto& m : r.metrics) j.key(m.name).value(m.value);
  j.end_object();
  j.key("config").begin_object();
  j.key("scenario").yaml(sc.doc.yaml());
  j.key("platform").begin_object();
  for (const ParamGroup* g : sc.platform.groups()) {
    for (const ParamBase* p : g->params()) j.key(g->full_name(*p)).value(p->value_text());
  }
  j.end_object();
  j.key("sim").begin_object();
  for (const ParamBase* p : sc.sim.params()) j.key(sc.sim.full_name(*p)).value(p->value_text());
  j.end_object();
  j.end_object();
  j.end_object();
  return j.str();
}

}  // namespace

void quiet_systemc() {
  ::setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 1);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
}

PointResult run_point(const Scenario& sc, const RunOptions& options, std::ostream& human) {
  quiet_systemc();
  const auto host_start = std::chrono::steady_clock::now();
  PointResult result;
  result.out_dir = options.out_dir.empty() ? "results/" + sc.params.name() : options.out_dir;
  make_dirs(result.out_dir);

  StatRegistry stats;
  const uint64_t seed = static_cast<uint64_t>(sc.params.seed());
  auto platform = std::make_unique<Platform>(sc.platform, sc.sim.quantum().ps, seed, &stats);
  std::vector<std::unique_ptr<Workload>> workloads;
  size_t remaining = sc.workload.size();
  for (const auto& entry : sc.workload) {
    const WorkloadType* type = find_workload_type(entry["task"].scalar());
    auto w = type->make(entry, platform->topology());
    w->on_finished([&remaining] {
      if (--remaining == 0) sc_core::sc_stop();
    });
    w->elaborate(*platform);
    workloads.push_back(std::move(w));
  }

  sc_core::sc_start(sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(sc.params.duration().ps)));
  result.simulated = static_cast<Time>(sc_core::sc_time_stamp().value());
  result.outcome = remaining == 0 ? "ok" : "incomplete";
  result.events = count_events(stats);

  std::string tables;
  for (const auto& w : workloads) {
    WorkloadReport rep;
    w->report(rep);
    result.metrics.insert(result.metrics.end(), rep.metrics.begin(), rep.metrics.end());
    tables += rep.table;
  }
  write_file_atomic(result.out_dir + "/result.json", result_json(sc, result));
  write_file_atomic(result.out_dir + "/stats.txt", format_stats_txt(stats));
  result.host_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - host_start).count();

  if (!options.quiet) {
    human << "scenario " << sc.params.name() << " on " << platform->name() << " (" << platform->cores()
          << " cores), seed " << seed << ", quantum " << format_time(sc.sim.quantum().ps) << "\n";
    human << tables;
    human << "outcome: " << result.outcome << " after " << format_time_approx(static_cast<double>(result.simulated))
          << " simulated (" << result.events << " events, " << format_time_approx(result.host_seconds * 1e12)
          << " host)\n";
    if (result.outcome == "incomplete") {
      human << "warning: the workload did not finish within duration " << format_time(sc.params.duration().ps)
            << "; raise it with --set duration=...\n";
    }
    human << "wrote " << result.out_dir << "/result.json, " << result.out_dir << "/stats.txt\n";
  }
  return result;
}

}  // namespace quiesce
