#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "sim/workload/hw_pingpong.h"

#include <systemc>

#include <cstdio>
#include <sstream>

namespace quiesce {
namespace {

constexpr IrqId kPingSgi = 1;
constexpr Addr kTokenBase = 0x100000;

struct PairResult {
  int a = 0, b = 0;
  Distance distance = Distance::SameCluster;
  double round_trip_ns = 0;
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

class HwPingpong : public Workload {
 public:
  HwPingpong(int64_t rounds, int64_t ipi_rounds, int first) : rounds_(rounds), ipi_rounds_(ipi_rounds), first_(first) {}

  void elaborate(Platform& p, kernel::Kernel*, SharedObjects*) override {
    platform_ = &p;
    const Topology& t = p.topology();
    // One partner per distance: the first CPU at that distance from `first_`.
    for (Distance d : {Distance::SameCluster, Distance::SameSocket, Distance::CrossSocket}) {
      for (int c = 0; c < t.cores; ++c) {
        if (c != first_ && t.distance(first_, c) == d) {
          PairResult r;
          r.a = first_;
          r.b = c;
          r.distance = d;
          results_.push_back(r);
          break;
        }
      }
    }
    for (size_t i = 0; i < results_.size(); ++i) {
      p.mem().track(token(i), "pingpong_" + std::string(distance_name(results_[i].distance)));
    }
    sc_core::sc_spawn([this] { drive(); }, "hw_pingpong_driver");
  }

  bool finished() const override { return finished_; }

  void report(WorkloadReport& out) const override {
    std::ostringstream table;
    char line[160];
    std::snprintf(line, sizeof line, "%-8s %-14s %16s %16s\n", "pair", "distance", "round trip ns", "IPI one-way ns");
    table << line;
    for (const auto& r : results_) {
      std::string pair = std::to_string(r.a) + "-" + std::to_string(r.b);
      std::snprintf(line, sizeof line, "%-8s %-14s %16.1f %16.1f\n", pair.c_str(), distance_name(r.distance),
                    r.round_trip_ns, r.ipi_one_way_ns);
      table << line;
      std::string base = std::string("pingpong.") + distance_name(r.distance) + ".";
      out.metrics.push_back({base + "cpu_a", static_cast<double>(r.a), "cpu"});
      out.metrics.push_back({base + "cpu_b", static_cast<double>(r.b), "cpu"});
      out.metrics.push_back({base + "round_trip_ns", r.round_trip_ns, "ns"});
      out.metrics.push_back({base + "ipi_one_way_ns", r.ipi_one_way_ns, "ns"});
      out.metrics.push_back({base + "ipi_round_trip_ns", r.ipi_round_trip_ns, "ns"});
    }
    out.table = table.str();
  }

 private:
  Addr token(size_t pair) const {
    return kTokenBase + static_cast<Addr>(pair) * 2 * static_cast<Addr>(platform_->mem().line_size());
  }

  void drive() {
    for (size_t i = 0; i < results_.size(); ++i) run_pair(i);
    finished_ = true;
    signal_finished();
  }

  void run_pair(size_t i) {
    PairResult& r = results_[i];
    Core& a = platform_->core(r.a);
    Core& b = platform_->core(r.b);
    const Addr x = token(i);
    const int64_t rounds = rounds_;
    Time start = 0, end = 0;
    auto ha = sc_core::sc_spawn([&] {
      for (int64_t k = 0; k < rounds; ++k) {
        a.spin_until(x, [k](uint64_t v) { return v == static_cast<uint64_t>(2 * k); });
        if (k == 0) start = a.now();
        a.cas(x, static_cast<uint64_t>(2 * k), static_cast<uint64_t>(2 * k + 1));
      }
      a.spin_until(x, [rounds](uint64_t v) { return v == static_cast<uint64_t>(2 * rounds); });
      end = a.now();
    });
    auto hb = sc_core::sc_spawn([&] {
      for (int64_t k = 0; k < rounds; ++k) {
        b.spin_until(x, [k](uint64_t v) { return v == static_cast<uint64_t>(2 * k + 1); });
        b.cas(x, static_cast<uint64_t>(2 * k + 1), static_cast<uint64_t>(2 * k + 2));
      }
    });
    sc_core::wait(ha.terminated_event() & hb.terminated_event());
    r.round_trip_ns = rounds > 0 ? static_cast<double>(end - start) / static_cast<double>(rounds) / 1e3 : 0;

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
    r.ipi_round_trip_ns = ipi_rounds_ > 0 ? static_cast<double>(ipi_end - ipi_start) / static_cast<double>(ipi_rounds_) / 1e3 : 0;
  }

  const int64_t rounds_;
  const int64_t ipi_rounds_;
  const int first_;
  Platform* platform_ = nullptr;
  std::vector<PairResult> results_;
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
