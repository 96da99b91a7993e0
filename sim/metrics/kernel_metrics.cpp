#include "sim/metrics/kernel_metrics.h"

#include <limits>
#include <map>

namespace quiesce {
namespace {

// With no samples a percentile has no value (NaN, null in result.json), not 0 ns.
void hist(std::vector<Metric>& m, const std::string& name, const Histogram& h) {
  const double none = std::numeric_limits<double>::quiet_NaN();
  auto ns = [&](int64_t ps) { return h.count() ? static_cast<double>(ps) / 1e3 : none; };
  m.push_back({name + ".count", static_cast<double>(h.count()), "count"});
  m.push_back({name + ".p50_ns", ns(h.percentile(0.5)), "ns"});
  m.push_back({name + ".p99_ns", ns(h.percentile(0.99)), "ns"});
  m.push_back({name + ".max_ns", ns(h.max()), "ns"});
}

// Lock classes in order, as one line.
std::string joined(const std::vector<std::string>& classes) {
  std::string s;
  for (const auto& c : classes) s += (s.empty() ? "" : " -> ") + c;
  return s;
}

}  // namespace

void collect_kernel_metrics(kernel::Kernel& k, std::vector<Metric>& m, std::vector<Detail>& d) {
  const kernel::KernelOutcome& out = k.outcome();
  m.push_back({"deadlock", out.kind == "deadlock" ? 1.0 : 0.0, "bool"});
  if (out.kind == "deadlock") m.push_back({"deadlock.time_ns", static_cast<double>(out.when) / 1e3, "ns"});
  if (!out.classes.empty()) d.emplace_back(out.kind + ".classes", joined(out.classes));
  const auto& reports = k.lockdep().reports();
  m.push_back({"lockdep_reports", static_cast<double>(reports.size()), "count"});
  m.push_back({"lockdep.dependencies", static_cast<double>(k.lockdep().dependency_count()), "count"});
  std::map<std::string, int> by_kind;
  for (const char* kind : {"circular", "recursive", "inconsistent", "irq_safe_unsafe", "invalid_context",
                           "rcu_sleep", "invalid_wait_context", "might_wake", "bad_unlock", "held_at_exit",
                           "suspicious_rcu"}) {
    by_kind[kind] = 0;
  }
  for (const auto& r : reports) ++by_kind[r.kind];
  for (const auto& [kind, n] : by_kind) m.push_back({"lockdep." + kind, static_cast<double>(n), "count"});
  if (!reports.empty()) {
    m.push_back({"lockdep.first_report_ns", static_cast<double>(reports.front().when) / 1e3, "ns"});
    d.emplace_back("lockdep.first_report", reports.front().title);
    // The report's kind and classes (for a chain, in chain order): what `quiesce shrink`
    // holds a smaller scenario to.
    d.emplace_back("lockdep.first_report.kind", reports.front().kind);
    d.emplace_back("lockdep.first_report.classes", joined(reports.front().classes));
  }
  // Time to first detection by either detector.
  double first = -1;
  if (!reports.empty()) first = static_cast<double>(reports.front().when) / 1e3;
  if (out.kind == "deadlock" && (first < 0 || out.when / 1e3 < first)) first = static_cast<double>(out.when) / 1e3;
  if (first >= 0) m.push_back({"detection.first_ns", first, "ns"});

  InterruptController& irq = k.platform().irq();
  hist(m, "irq_latency.sgi", irq.latency_sgi);
  hist(m, "irq_latency.ppi", irq.latency_ppi);
  hist(m, "irq_latency.spi", irq.latency_spi);
  StatGroup scratch(nullptr, "irq_latency");
  Histogram all(&scratch, "all", "every interrupt kind", "ps");
  for (const Histogram* h : {&irq.latency_sgi, &irq.latency_ppi, &irq.latency_spi}) all.merge(*h);
  hist(m, "irq_latency", all);
  hist(m, "wakeup_latency", k.wakeup_latency);
  hist(m, "device_event_latency", k.device_event_latency);
  hist(m, "irq_thread_latency", k.irq_thread_latency);
  const auto& io = k.max_irqs_off();
  m.push_back({"irqs_off.max_ns", static_cast<double>(io.length) / 1e3, "ns"});
  if (io.length > 0) {
    m.push_back({"irqs_off.max_cpu", static_cast<double>(io.cpu), "cpu"});
    d.emplace_back("irqs_off.max", "CPU" + std::to_string(io.cpu) + " from " + io.begin_site + " to " + io.end_site +
                                       " at " + format_time(io.start));
  }
  const auto& po = k.max_preempt_off();
  m.push_back({"preempt_off.max_ns", static_cast<double>(po.length) / 1e3, "ns"});
  if (po.length > 0) {
    d.emplace_back("preempt_off.max", "CPU" + std::to_string(po.cpu) + " from " + po.begin_site + " to " + po.end_site +
                                          " at " + format_time(po.start));
  }
  m.push_back({"context_switches", static_cast<double>(k.context_switches.value()), "count"});
  kernel::Rcu& rcu = k.rcu();
  m.push_back({"rcu.violations", static_cast<double>(rcu.violations.value()), "count"});
  m.push_back({"rcu.gps", static_cast<double>(rcu.gps.value()), "count"});
  m.push_back({"rcu.exp_gps", static_cast<double>(rcu.exp_gps.value()), "count"});
  m.push_back({"rcu.blocked_readers", static_cast<double>(rcu.blocked_readers.value()), "count"});
  m.push_back({"rcu.deferred_qs", static_cast<double>(rcu.deferred_qs.value()), "count"});
  m.push_back({"rcu.stall_warnings", static_cast<double>(rcu.stall_warnings.value()), "count"});
  m.push_back({"rcu.exp_stall_warnings", static_cast<double>(rcu.exp_stall_warnings.value()), "count"});
  m.push_back({"rcu.exp_ipis", static_cast<double>(rcu.exp_ipis.value()), "count"});
  m.push_back({"rcu.exp_no_ipi", static_cast<double>(rcu.exp_no_ipi.value()), "count"});
  m.push_back({"rcu.exp_qs_at_switch", static_cast<double>(rcu.exp_qs_at_switch.value()), "count"});
  m.push_back({"rcu.exp_unblock_reports", static_cast<double>(rcu.exp_unblock_reports.value()), "count"});
  m.push_back({"rcu.wakeups_under_rnp_lock", static_cast<double>(rcu.wakeups_under_rnp_lock.value()), "count"});
  m.push_back({"rcu.callbacks", static_cast<double>(rcu.callbacks.value()), "count"});
  m.push_back({"rcu.callbacks_elsewhere", static_cast<double>(rcu.callbacks_elsewhere.value()), "count"});
  m.push_back({"ttwu_queued", static_cast<double>(k.ttwu_queued.value()), "count"});
  m.push_back({"klogd_tick_wakeups", static_cast<double>(k.klogd_tick_wakeups.value()), "count"});
  m.push_back({"klogd_irq_work_wakeups", static_cast<double>(k.klogd_irq_work_wakeups.value()), "count"});
  d.emplace_back("kernel.release", k.release().name());
  hist(m, "rcu.gp_latency", rcu.gp_latency);
  hist(m, "rcu.exp_latency", rcu.exp_latency);
  const double period = static_cast<double>(k.platform().period());
  for (const auto& [site, h] : k.irqs_off_by_site()) {
    const std::string base = "irqs_off_by_site." + site + ".";
    for (const auto& [name, v] : {std::pair<const char*, int64_t>{"p50", h->percentile(0.5)}, {"p99", h->percentile(0.99)},
                                  {"max", h->max()}}) {
      m.push_back({base + name + "_ns", static_cast<double>(v) / 1e3, "ns"});
      m.push_back({base + name + "_cycles", static_cast<double>(v) / period, "cycles"});
    }
  }
  for (const auto& n : k.notes()) d.push_back(n);
  m.push_back({"kernel.warnings", static_cast<double>(k.warnings.value()), "count"});
  m.push_back({"hook_runs", static_cast<double>(k.hook_runs.value()), "count"});
  m.push_back({"hook_recursion", static_cast<double>(k.hook_recursion.value()), "count"});
  m.push_back({"timers", static_cast<double>(k.timers_run.value()), "count"});
  m.push_back({"hrtimers", static_cast<double>(k.hrtimers_run.value()), "count"});
  m.push_back({"signals", static_cast<double>(k.signals.value()), "count"});
  m.push_back({"nohz_kicks", static_cast<double>(k.nohz_kicks.value()), "count"});
  m.push_back({"wakeups", static_cast<double>(k.wakeups.value()), "count"});
  m.push_back({"softirqs", static_cast<double>(k.softirqs.value()), "count"});
  m.push_back({"ksoftirqd_wakeups", static_cast<double>(k.ksoftirqd_wakeups.value()), "count"});
  m.push_back({"irq_works", static_cast<double>(k.irq_works.value()), "count"});
  m.push_back({"works", static_cast<double>(k.works.value()), "count"});
  m.push_back({"printks", static_cast<double>(k.printks.value()), "count"});
  m.push_back({"spurious_irqs", static_cast<double>(k.spurious_irqs.value()), "count"});
  if (!out.kind.empty()) d.emplace_back("outcome", out.detail);
}

}  // namespace quiesce
