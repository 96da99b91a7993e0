#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "sim/workload/hw_pingpong.h"

#include <systemc>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace quiesce {
namespace {

constexpr IrqId kPingSgi = 1;
constexpr Addr kTokenBase = 0x100000;

struct PairResult {
  int a = 0, b = 0;
  Distance distance = kSmtSibling;
  double cas_round_trip_ns = 0;       // blind CAS: both CPUs spin on compare-exchange
  double load_cas_round_trip_ns = 0;  // each spins on loads, then CASes
  double ipi_one_way_ns = 0;
  double ipi_round_trip_ns = 0;
};

// Bounces SGI 1 between the two cores of a pair; records raise -> handler entry.
class PingHandler : public IrqHandler {
 public:
  PingHandler(int a, int b) : a_(a), b_(b) {}
  void handle_irq(Core& core, const IrqAck& irq) override {
    one_way_sum_ += static_cast<double>(core.now() - irq.raised);
    ++one_way_n_;
    if (core.id() == b_) {
      ++pings_;
      core.send_ipi(a_, kPingSgi);
    } else {
      returned_ = true;
    }
  }
  bool take_returned() {
    bool r = returned_;
    returned_ = false;
    return r;
  }
  int64_t pings() const { return pings_; }
  double mean_one_way() const { return one_way_n_ ? one_way_sum_ / one_way_n_ : 0; }

 private:
  int a_, b_;
  bool returned_ = false;
  int64_t pings_ = 0;
  double one_way_sum_ = 0;
  int one_way_n_ = 0;
};

double per_op_ns(Time start, Time end, int64_t n) {
  return n > 0 ? static_cast<double>(end - start) / static_cast<double>(n) / 1e3 : 0;
}

class HwPingpong : public Workload {
 public:
  HwPingpong(int64_t rounds, int64_t ipi_rounds, int first) : rounds_(rounds), ipi_rounds_(ipi_rounds), first_(first) {}

  void elaborate(Platform& p, kernel::Kernel*, SharedObjects*) override {
    platform_ = &p;
    const Topology& t = p.topology();
    // One pair per distance the platform has: from `first_` when some CPU is at that
    // distance from it, else the first such pair in CPU order.
    for (size_t d = kSmtSibling; d < t.distance_names().size(); ++d) {
      if (!t.has_distance(static_cast<Distance>(d))) continue;
      PairResult r;
      r.distance = static_cast<Distance>(d);
      r.a = -1;
      for (int c = 0; c < t.cores && r.a < 0; ++c) {
        if (t.distance(first_, c) == d) r.a = first_, r.b = c;
      }
      for (int x = 0; x < t.cores && r.a < 0; ++x) {
        for (int y = x + 1; y < t.cores; ++y) {
          if (t.distance(x, y) == d) {
            r.a = x, r.b = y;
            break;
          }
        }
      }
      if (r.a >= 0) results_.push_back(r);
    }
    for (size_t i = 0; i < results_.size(); ++i) {
      p.mem().track(token(i, 0), "pingpong_" + t.distance_name(results_[i].distance));
    }
    sc_core::sc_spawn([this] { drive(); }, "hw_pingpong_driver");
  }

  bool finished() const override { return finished_; }

  void report(WorkloadReport& out) const override {
    const Topology& t = platform_->topology();
    std::ostringstream table;
    char line[240];
    std::snprintf(line, sizeof line, "%-9s %-14s %10s %10s %10s %10s %10s %10s\n", "pair", "distance", "CAS 1-way",
                  "CAS RTT", "ld+CAS 1w", "ld+CAS RTT", "IPI 1-way", "IPI RTT");
    table << line;
    for (const auto& r : results_) {
      const std::string pair = std::to_string(r.a) + "-" + std::to_string(r.b);
      const std::string& name = t.distance_name(r.distance);
      std::snprintf(line, sizeof line, "%-9s %-14s %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f\n", pair.c_str(),
                    name.c_str(), r.cas_round_trip_ns / 2, r.cas_round_trip_ns, r.load_cas_round_trip_ns / 2,
                    r.load_cas_round_trip_ns, r.ipi_one_way_ns, r.ipi_round_trip_ns);
      table << line;
      const std::string base = "pingpong." + name + ".";
      out.metrics.push_back({base + "cpu_a", static_cast<double>(r.a), "cpu"});
      out.metrics.push_back({base + "cpu_b", static_cast<double>(r.b), "cpu"});
      out.metrics.push_back({base + "cas_one_way_ns", r.cas_round_trip_ns / 2, "ns"});
      out.metrics.push_back({base + "cas_round_trip_ns", r.cas_round_trip_ns, "ns"});
      out.metrics.push_back({base + "load_cas_one_way_ns", r.load_cas_round_trip_ns / 2, "ns"});
      out.metrics.push_back({base + "load_cas_round_trip_ns", r.load_cas_round_trip_ns, "ns"});
      out.metrics.push_back({base + "ipi_one_way_ns", r.ipi_one_way_ns, "ns"});
      out.metrics.push_back({base + "ipi_round_trip_ns", r.ipi_round_trip_ns, "ns"});
    }
    std::snprintf(line, sizeof line,
                  "ns; one-way = round trip / 2 (CAS ping-pong, as core-to-core benchmarks report); IPI one-way = "
                  "raise to handler entry\nCPU %d alone: CAS %.1f ns, ticket lock+unlock %.1f ns (uncontended)\n",
                  first_, local_cas_ns_, lock_unlock_ns_);
    table << line;
    out.metrics.push_back({"pingpong.local.cas_ns", local_cas_ns_, "ns"});
    out.metrics.push_back({"pingpong.local.lock_unlock_ns", lock_unlock_ns_, "ns"});
    compare_published(out, table);
    out.table = table.str();
  }

 private:
  // The platform's published figures beside what the model measures of the same quantity.
  void compare_published(WorkloadReport& out, std::ostringstream& table) const {
    const auto& pub = platform_->published();
    if (pub.empty()) return;
    char line[320];
    std::snprintf(line, sizeof line, "\npublished figures of %s (within 10%% is the presets' bar):\n%-36s %12s %10s %8s  %s\n",
                  platform_->name().c_str(), "metric", "published", "model", "diff", "source");
    table << line;
    double worst = 0;
    const size_t measured = out.metrics.size();
    nlohmann::ordered_json doc;
    doc["platform"] = platform_->name();
    doc["description"] = platform_->description();
    doc["published"] = nlohmann::ordered_json::array();
    for (const PublishedFigure& f : pub) {
      const Metric* m = nullptr;
      for (size_t i = 0; i < measured; ++i) {
        if (out.metrics[i].name == f.metric) m = &out.metrics[i];
      }
      if (!m) {
        std::snprintf(line, sizeof line, "%-36s %12s %10s %8s  %s\n", f.metric.c_str(), f.value_text.c_str(),
                      "-", "not run", f.source.c_str());
        worst = std::max(worst, 100.0);
      } else {
        const double model = m->value;
        const double diff = (model - f.value_ns) / f.value_ns * 100;
        worst = std::max(worst, std::abs(diff));
        out.metrics.push_back({"published." + f.metric + ".error_pct", diff, "%"});
        doc["published"].push_back({{"metric", f.metric},
                                    {"value", f.value_text},
                                    {"value_ns", f.value_ns},
                                    {"source", f.source},
                                    {"model_ns", model},
                                    {"error_pct", diff}});
        std::snprintf(line, sizeof line, "%-36s %12s %10.2f %+7.1f%%  %s\n", f.metric.c_str(), f.value_text.c_str(),
                      model, diff, f.source.c_str());
      }
      table << line;
    }
    out.metrics.push_back({"pingpong.published.worst_error_pct", worst, "%"});
    out.files.emplace_back("published.json", doc.dump(1) + "\n");
  }

  // Each pair and benchmark gets lines of its own, two lines apart (no false sharing).
  Addr token(size_t pair, int which) const {
    return kTokenBase + (static_cast<Addr>(pair) * 4 + static_cast<Addr>(which)) * 2 *
                            static_cast<Addr>(platform_->mem().line_size());
  }

  void drive() {
    run_local();
    for (size_t i = 0; i < results_.size(); ++i) run_pair(i);
    finished_ = true;
    signal_finished();
  }

  // Same-CPU, uncontended: a CAS on a line this CPU owns; a ticket lock's acquire and
  // release (two atomic adds, as the kernel model's raw spinlock does).
  void run_local() {
    Core& c = platform_->core(first_);
    const Addr x = kTokenBase - 4 * static_cast<Addr>(platform_->mem().line_size());
    const Addr lock = kTokenBase - 2 * static_cast<Addr>(platform_->mem().line_size());
    auto h = sc_core::sc_spawn([&] {
      c.store(x, 0);
      c.store(lock, 0);
      Time t0 = c.now();
      for (int64_t k = 0; k < rounds_; ++k) c.cas(x, static_cast<uint64_t>(k), static_cast<uint64_t>(k + 1));
      local_cas_ns_ = per_op_ns(t0, c.now(), rounds_);
      t0 = c.now();
      for (int64_t k = 0; k < rounds_; ++k) {
        c.fetch_add(lock, uint64_t{1} << 16);
        c.fetch_add(lock, 1);
      }
      lock_unlock_ns_ = per_op_ns(t0, c.now(), rounds_);
    });
    sc_core::wait(h.terminated_event());
  }

  // `rounds` round trips of a token on one line: A turns 2k into 2k+1, B 2k+1 into 2k+2.
  // Timed on A from its first hand-off to its last, as the benchmarks time the ping side.
  double token_round_trip(Core& a, Core& b, Addr x, bool blind) {
    const int64_t rounds = rounds_;
    auto step = [blind](Core& c, Addr at, uint64_t from) {
      if (blind) {
        c.cas_until_success(at, from, from + 1);
      } else {
        c.spin_until(at, [from](uint64_t v) { return v == from; });
        c.cas(at, from, from + 1);
      }
    };
    Time start = 0, end = 0;
    auto ha = sc_core::sc_spawn([&] {
      for (int64_t k = 0; k <= rounds; ++k) {
        step(a, x, static_cast<uint64_t>(2 * k));
        if (k == 0) start = a.now();
      }
      end = a.now();
    });
    auto hb = sc_core::sc_spawn([&] {
      for (int64_t k = 0; k < rounds; ++k) step(b, x, static_cast<uint64_t>(2 * k + 1));
    });
    sc_core::wait(ha.terminated_event() & hb.terminated_event());
    return per_op_ns(start, end, rounds);
  }

  void run_pair(size_t i) {
    PairResult& r = results_[i];
    Core& a = platform_->core(r.a);
    Core& b = platform_->core(r.b);
    r.cas_round_trip_ns = token_round_trip(a, b, token(i, 0), true);
    r.load_cas_round_trip_ns = token_round_trip(a, b, token(i, 1), false);

    PingHandler handler(r.a, r.b);
    a.set_irq_handler(&handler);
    b.set_irq_handler(&handler);
    Time ipi_start = 0, ipi_end = 0;
    auto ia = sc_core::sc_spawn([&] {
      ipi_start = a.now();
      for (int64_t k = 0; k < ipi_rounds_; ++k) {
        a.send_ipi(r.b, kPingSgi);
        while (!handler.take_returned()) a.wait_for_interrupt();
      }
      ipi_end = a.now();
    });
    auto ib = sc_core::sc_spawn([&] {
      while (handler.pings() < ipi_rounds_) b.wait_for_interrupt();
    });
    sc_core::wait(ia.terminated_event() & ib.terminated_event());
    a.set_irq_handler(nullptr);
    b.set_irq_handler(nullptr);
    r.ipi_one_way_ns = handler.mean_one_way() / 1e3;
    r.ipi_round_trip_ns = per_op_ns(ipi_start, ipi_end, ipi_rounds_);
  }

  const int64_t rounds_;
  const int64_t ipi_rounds_;
  const int first_;
  Platform* platform_ = nullptr;
  std::vector<PairResult> results_;
  double local_cas_ns_ = 0, lock_unlock_ns_ = 0;
  bool finished_ = false;
};

}  // namespace

WorkloadType hw_pingpong_type() {
  return WorkloadType{
      "hw_pingpong", "CAS and IPI ping-pong between pairs of cores at each distance (bare metal)", false, {},
      [] { return std::make_unique<HwPingpongParams>(); },
      [](const ConfigNode& entry, const WorkloadEnv& env) -> std::unique_ptr<Workload> {
        const Topology& topo = env.topology;
        HwPingpongParams p;
        p.load(entry);
        if (topo.cores < 2) entry.fail("hw_pingpong needs at least 2 cores");
        if (p.first_cpu() >= topo.cores) {
          entry["first_cpu"].fail("CPU " + std::to_string(p.first_cpu()) + " is past the core count (" +
                                  std::to_string(topo.cores) + ")");
        }
        return std::make_unique<HwPingpong>(p.rounds(), p.ipi_rounds(), static_cast<int>(p.first_cpu()));
      }};
}

}  // namespace quiesce
