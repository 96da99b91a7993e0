#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "sim/run/point.h"

#include <systemc>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <ostream>

#include "sim/base/error.h"
#include "sim/metrics/kernel_metrics.h"
#include "sim/output/files.h"
#include "sim/output/json.h"
#include "sim/output/stats_txt.h"
#include "sim/output/timing_windows.h"
#include "sim/output/trace_files.h"
#include "sim/output/vcd_file.h"

namespace quiesce {
namespace {

constexpr const char* kVersion = "0.1.0";

std::string mib_text(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

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
  Json j;
  j["quiesce_version"] = kVersion;
  j["scenario"] = sc.params.name();
  j["seed"] = static_cast<int64_t>(sc.params.seed());
  j["outcome"] = r.outcome;
  j["simulated_time_ps"] = static_cast<int64_t>(r.simulated);
  j["events"] = r.events;
  Json metrics = Json::object();
  for (const auto& m : r.metrics) metrics[m.name] = json_number(m.value);
  j["metrics"] = metrics;
  Json details = Json::object();
  for (const auto& [k, v] : r.details) details[k] = v;
  j["details"] = details;
  Json expectations = Json::array();
  for (const auto& e : r.expectations) {
    expectations.push_back(
        Json{{"key", e.expect.key}, {"expected", e.expect.op + " " + e.expect.text}, {"actual", e.actual}, {"ok", e.ok}});
  }
  j["expectations"] = expectations;
  j["config"] = resolved_config(sc);
  return json_text(j);
}

bool compare(double a, const std::string& op, double b) {
  if (op == "<") return a < b;
  if (op == "<=") return a <= b;
  if (op == ">") return a > b;
  if (op == ">=") return a >= b;
  if (op == "!=") return a != b;
  return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
}

std::vector<ExpectationResult> check(const std::vector<Expectation>& expect, const PointResult& r) {
  std::vector<ExpectationResult> out;
  for (const auto& e : expect) {
    ExpectationResult res{e, "", false};
    if (e.key == "outcome") {
      res.actual = r.outcome;
      res.ok = (r.outcome == e.text) == (e.op == "==");
      out.push_back(res);
      continue;
    }
    const Metric* m = nullptr;
    for (const std::string& name : {e.key, e.key + "_ns"}) {
      for (const auto& x : r.metrics) {
        if (x.name == name) m = &x;
      }
      if (m) break;
    }
    if (!m) {
      res.actual = "(no such metric)";
    } else if (std::isnan(m->value)) {
      res.actual = "(no samples)";  // a bound on what was never measured is not shown
    } else {
      res.actual = format_number(m->value);
      res.ok = e.is_number && compare(m->value, e.op, e.number);
    }
    out.push_back(res);
  }
  return out;
}

bool same_path(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code ea, eb;
  const fs::path ca = fs::weakly_canonical(a, ea), cb = fs::weakly_canonical(b, eb);
  if (!ea && !eb && ca == cb) return true;
  return fs::exists(a, ea) && fs::exists(b, eb) && fs::equivalent(a, b, ea);
}

// Before anything is simulated: every output can be written, and none is an input (the
// scenario file) or another output (the point's own files in --out, the trace and the VCD).
void check_outputs(const Scenario& sc, const RunOptions& o, const std::string& out_dir) {
  make_dirs(out_dir);
  check_output_file(out_dir + "/result.json", "--out");
  const std::vector<std::string> ours = {"result.json", "stats.txt", "lockdep.log", "dmesg.txt", "latency.hist"};
  for (const auto& [path, what] : {std::pair{o.trace_path, "--trace"}, std::pair{o.vcd_path, "--vcd"}}) {
    if (path.empty()) continue;
    if (!sc.file.empty() && same_path(path, sc.file)) {
      throw ConfigError(std::string(what) + " " + path, "", "is the scenario file; an output never replaces an input");
    }
    for (const auto& name : ours) {
      if (same_path(path, out_dir + "/" + name)) {
        throw ConfigError(std::string(what) + " " + path, "", "is the point's own " + name + "; choose another name");
      }
    }
    if (path.size() > 5 && path.compare(path.size() - 5, 5, ".hist") == 0 &&
        same_path(std::filesystem::path(path).parent_path().string(), out_dir)) {
      throw ConfigError(std::string(what) + " " + path, "", "is a name the point's histograms use; choose another");
    }
    check_output_file(path, what);
  }
  if (!o.trace_path.empty() && !o.vcd_path.empty() &&
      (same_path(o.trace_path, o.vcd_path) || same_path(o.trace_path, o.vcd_path + ".vcd"))) {
    throw ConfigError("--vcd " + o.vcd_path, "", "is the --trace file too; give each its own name");
  }
}

}  // namespace

bool PointResult::expectations_failed() const {
  for (const auto& e : expectations) {
    if (!e.ok) return true;
  }
  return false;
}

void quiet_systemc() {
  ::setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 1);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
}

Json resolved_config(const Scenario& sc) {
  Json config;
  config["scenario"] = yaml_to_json(sc.doc.yaml());
  Json platform = Json::object();
  for (const ParamGroup* g : sc.platform.groups()) {
    for (const ParamBase* p : g->params()) {
      // A table (topology levels, hand-offs per distance, published figures) as itself.
      const auto* table = dynamic_cast<const Param<Table>*>(p);
      platform[g->full_name(*p)] =
          table && (*table)().node.present() ? yaml_to_json((*table)().node.yaml()) : Json(p->value_text());
    }
  }
  config["platform"] = platform;
  Json sim = Json::object();
  for (const ParamBase* p : sc.sim.params()) sim[sc.sim.full_name(*p)] = p->value_text();
  config["sim"] = sim;
  Json kernel = Json::object();
  for (const ParamGroup* g : {static_cast<const ParamGroup*>(&sc.kernel), static_cast<const ParamGroup*>(&sc.variants)}) {
    for (const ParamBase* p : g->params()) kernel[g->full_name(*p)] = p->value_text();
  }
  config["kernel"] = kernel;
  return config;
}

PointResult run_point(const Scenario& sc, const RunOptions& options, std::ostream& human) {
  quiet_systemc();
  const auto host_start = std::chrono::steady_clock::now();
  PointResult result;
  result.out_dir = options.out_dir.empty() ? "results/" + sc.params.name() : options.out_dir;
  check_outputs(sc, options, result.out_dir);

  StatRegistry stats;
  const uint64_t seed = static_cast<uint64_t>(sc.params.seed());
  auto platform = std::make_unique<Platform>(sc.platform, sc.sim.quantum().ps, seed, &stats);
  platform->set_guards(static_cast<uint64_t>(sc.sim.max_events()), static_cast<uint64_t>(sc.sim.max_delta_cycles()));
  std::unique_ptr<kernel::Kernel> kern;
  SharedObjects shared;
  if (sc.needs_kernel) {
    kern = std::make_unique<kernel::Kernel>(*platform, sc.kernel, sc.variants, seed, &stats);
    shared.kernel = kern.get();
    shared.create_locks(sc.locks);
    if (!options.trace_path.empty()) {
      kern->enable_trace(options.trace_window, options.trace_max_bytes, options.trace_max_events);
    } else if (!options.windows_path.empty()) {
      kern->enable_trace(0, options.trace_max_bytes, options.trace_max_events);
    }
  }
  if (!sc.forced_ipis.empty()) platform->irq().force_ipis(sc.forced_ipis);
  if (!options.windows_path.empty()) platform->irq().record_sends();
  std::unique_ptr<VcdFile> vcd_file;
  sc_core::sc_trace_file* vcd = nullptr;
  if (kern && !options.vcd_path.empty()) {
    vcd_file = std::make_unique<VcdFile>(options.vcd_path);
    vcd = sc_core::sc_create_vcd_trace_file(vcd_file->systemc_name().c_str());
    vcd->set_time_unit(1, sc_core::SC_PS);
    kern->trace_vcd(vcd);
  }
  std::vector<std::unique_ptr<Workload>> workloads;
  size_t remaining = 0;
  for (size_t i = 0; i < sc.workload.size(); ++i) {
    const ConfigNode& entry = sc.workload[i];
    auto w = entry_type(entry).make(entry, sc.env_for(i));
    if (w->bounded()) {
      ++remaining;
      w->on_finished([&remaining] {
        if (--remaining == 0) sc_core::sc_stop();
      });
    }
    workloads.push_back(std::move(w));
  }
  for (auto& w : workloads) w->elaborate(*platform, kern.get(), &shared);

  simulate_for(sc.params.duration().ps);
  // A failure to write an output becomes the result's io_error.
  try {
    [&] {
      if (vcd) {
        sc_core::sc_close_vcd_trace_file(vcd);
        vcd_file->commit();
      }
      result.simulated = CoreScheduler::simulated_now();
      // A core may have run ahead of SystemC time into the event that ended the run.
      if (kern && !kern->outcome().kind.empty()) result.simulated = std::max(result.simulated, kern->outcome().when);
      result.outcome = remaining == 0 ? "ok" : "incomplete";
      // RCU stall warnings do not stop a kernel, but a run that printed one is not "ok".
      if (kern && kern->rcu().stall_warnings.value() > 0) result.outcome = "rcu_stall";
      if (kern && !kern->outcome().kind.empty()) result.outcome = kern->outcome().kind;
      if (kern && kern->outcome().kind == "error") result.limit_error = kern->outcome().detail;
      const Platform::Halt& halt = platform->halted();
      if (!halt.kind.empty() && (!kern || kern->outcome().kind.empty())) {
        result.outcome = halt.kind;
        result.details.emplace_back("outcome", halt.detail);
        if (halt.kind == "event_limit") result.limit_error = halt.detail;
      }
      result.events = count_events(stats);

      std::string tables;
      std::vector<std::string> extra_files;
      for (const auto& w : workloads) {
        WorkloadReport rep;
        w->report(rep);
        result.metrics.insert(result.metrics.end(), rep.metrics.begin(), rep.metrics.end());
        tables += rep.table;
        for (const auto& [name, content] : rep.files) {
          // The first cyclictest's histogram is latency.hist, the name RT tooling looks for;
          // a second cyclictest's keeps its own name (NAME.hist). One file per histogram.
          std::string file = name;
          if (name.size() > 5 && name.compare(name.size() - 5, 5, ".hist") == 0 &&
              std::find(extra_files.begin(), extra_files.end(), "latency.hist") == extra_files.end()) {
            file = "latency.hist";
          }
          write_file_atomic(result.out_dir + "/" + file, content);
          extra_files.push_back(file);
        }
      }
      if (kern) {
        collect_kernel_metrics(*kern, result.metrics, result.details);
        kern->lockdep_reports.set(static_cast<double>(kern->lockdep().reports().size()));
      }
      result.expectations = check(sc.expect, result);
      write_file_atomic(result.out_dir + "/result.json", result_json(sc, result));
      write_file_atomic(result.out_dir + "/stats.txt", format_stats_txt(stats));
      if (kern) {
        write_file_atomic(result.out_dir + "/lockdep.log", kern->lockdep().log());
        std::string dmesg;
        for (const auto& line : kern->log()) dmesg += line + "\n";
        write_file_atomic(result.out_dir + "/dmesg.txt", dmesg);  // the printk buffer, as dmesg shows it
      }
      if (!options.windows_path.empty()) {
        std::vector<std::string> report_classes;
        if (kern && !kern->lockdep().reports().empty()) report_classes = kern->lockdep().reports().front().classes;
        const std::string text =
            kern && kern->tracer()
                ? format_timing_windows(*kern->tracer(), platform->irq().sends(), platform->cores(), report_classes)
                : format_timing_windows(kernel::Tracer(0, kMinTraceBytes, kMinTraceEvents), platform->irq().sends(),
                                        platform->cores(), report_classes);
        write_file_atomic(options.windows_path, text);
      }
      if (kern && kern->tracer() && !options.trace_path.empty()) {
        const bool ftrace = options.trace_format == "ftrace" ||
                            (options.trace_format.empty() && options.trace_path.size() > 4 &&
                             options.trace_path.compare(options.trace_path.size() - 4, 4, ".txt") == 0);
        const kernel::Tracer& tr = *kern->tracer();
        write_trace_file(options.trace_path, tr, platform->cores(), ftrace);
        if (tr.dropped() > 0) {
          const bool by_events = tr.events().size() >= tr.max_events();
          std::cerr << "warning: " << options.trace_path << " holds the last " << tr.events().size()
                    << " trace events; " << tr.dropped() << " earlier ones were dropped at "
                    << (by_events ? "--trace-max-events " + std::to_string(tr.max_events())
                                  : "--trace-max-bytes " + mib_text(tr.max_bytes()) + " (they held " +
                                        mib_text(tr.bytes()) + ")")
                    << "; raise it, or use --trace-window\n";
        }
      }
      result.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - host_start).count();

      if (!options.quiet) {
        human << "scenario " << sc.params.name() << " on " << platform->name() << " (" << platform->cores()
              << " cores), seed " << seed << ", quantum " << format_time(sc.sim.quantum().ps) << "\n";
        human << tables;
        if (kern) {
          for (const auto& r : kern->lockdep().reports()) {
            human << "lockdep at " << format_time(r.when) << " on CPU" << r.cpu << ": " << r.title << "\n";
          }
          const std::string& detail = kern->outcome().detail;
          if (!detail.empty()) human << detail << (detail.back() == '\n' ? "" : "\n");
        }
        if (!halt.kind.empty()) human << halt.detail << "\n";
        if (kern) {
          for (const auto& m : result.metrics) {
            if (m.name == "irq_latency.max_ns" || m.name == "irqs_off.max_ns" || m.name == "wakeup_latency.max_ns" ||
                m.name == "context_switches") {
              human << "  " << m.name << " " << format_number(m.value) << "\n";
            }
          }
        }
        human << "outcome: " << result.outcome << " after " << format_time_approx(static_cast<double>(result.simulated))
              << " simulated (" << result.events << " events, " << format_time_approx(result.host_seconds * 1e12)
              << " host)\n";
        if (result.outcome == "incomplete") {
          human << "warning: the workload did not finish within duration " << format_time(sc.params.duration().ps)
                << "; raise it with --set duration=...\n";
        }
        for (const auto& e : result.expectations) {
          human << (e.ok ? "  ok    " : "  FAIL  ") << "expect " << e.expect.key << " " << e.expect.op << " "
                << e.expect.text << " (actual " << e.actual << ")" << (e.ok ? "" : "  [" + e.expect.where + "]") << "\n";
        }
        human << "wrote " << result.out_dir << "/result.json, stats.txt" << (kern ? ", lockdep.log, dmesg.txt" : "");
        for (const auto& f : extra_files) human << ", " << f;
        human << "\n";
      }
    }();
  } catch (const IoError& e) {
    result.io_error = e.what();
  }
  if (options.finished) options.finished(result);
  return result;
}

}  // namespace quiesce
