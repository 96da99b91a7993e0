#pragma once
// A small machine for the hw unit tests: a Platform built from inline YAML with round,
// fixed figures at 1 GHz (1000 ps a cycle), so every expected time is an exact integer,
// plus harness threads and an interrupt recorder. SystemC elaborates once per process and
// ctest runs each TEST in its own process, so a TEST builds one Machine and runs it once.
#ifndef SC_INCLUDE_DYNAMIC_PROCESSES
#define SC_INCLUDE_DYNAMIC_PROCESSES
#endif
#include <gtest/gtest.h>
#include <systemc>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/config.h"
#include "sim/base/stats.h"
#include "sim/base/units.h"
#include "sim/hw/platform.h"

namespace quiesce::hw_test {

// The figures the YAML below is written from; tests derive expectations from these.
inline constexpr Time kCycle = 1000;  // 1 GHz
inline constexpr int64_t kAluCycles = 2;
inline constexpr int64_t kAtomicCycles = 25;
inline constexpr int64_t kIrqFlagCycles = 3;
inline constexpr int64_t kPreemptCycles = 5;
inline constexpr int64_t kIrqEntryCycles = 300;
inline constexpr int64_t kIrqExitCycles = 200;
inline constexpr int64_t kIpiSendCycles = 150;
inline constexpr int64_t kFlushCycles = 17;
inline constexpr int64_t kTimerProgramCycles = 11;
inline constexpr int64_t kIpiReceiveCycles = 60;
inline constexpr int64_t kL1HitCycles = 4;
inline constexpr int64_t kLlcHitCycles = 40;
inline constexpr Time kDram = 80 * kNs;
inline constexpr Time kHandoffSmt = 7 * kNs;
inline constexpr Time kC2cCluster = 20 * kNs;
inline constexpr Time kC2cSocket = 60 * kNs;
inline constexpr Time kC2cCross = 150 * kNs;
inline constexpr Time kIpiLatency = 1 * kUs;  // fixed unless a test overrides it
inline constexpr int kL1Ways = 8;
inline constexpr int64_t kL1Size = 32 * 1024;
inline constexpr int64_t kLineSize = 64;

inline constexpr Time cycles(int64_t n) { return n * kCycle; }
inline constexpr Time kL1Hit = cycles(kL1HitCycles);
inline constexpr Time kLlcHit = cycles(kLlcHitCycles);
inline constexpr Time kAtomic = cycles(kAtomicCycles);
inline constexpr Time kIrqEntry = cycles(kIrqEntryCycles);
inline constexpr Time kIrqExit = cycles(kIrqExitCycles);
inline constexpr Time kIpiSend = cycles(kIpiSendCycles);
inline constexpr Time kIpiReceive = cycles(kIpiReceiveCycles);
// irq.ipi.latency is end to end (raise to the first handler instruction): an SGI arrives
// that much minus the receiver's entry and acknowledge cycles after it was raised.
inline constexpr Time kIpiArrival = kIpiLatency - kIrqEntry - kIpiReceive;

inline std::string base_yaml() {
  auto n = [](int64_t v) { return std::to_string(v); };
  return "name: unit-test\n"
         "cores: 2\n"
         "clock: 1GHz\n"
         "topology: {levels: [{name: cluster, size: 4}, {name: socket, size: 1}]}\n"
         "core:\n"
         "  op: {alu: " +
         n(kAluCycles) + ", atomic: " + n(kAtomicCycles) + ", irq_flag: " + n(kIrqFlagCycles) +
         ", preempt: " + n(kPreemptCycles) + ", irq_entry: " + n(kIrqEntryCycles) +
         ", irq_exit: " + n(kIrqExitCycles) + ", ipi_send: " + n(kIpiSendCycles) +
         ", pipeline_flush: " + n(kFlushCycles) + ", timer_program: " + n(kTimerProgramCycles) +
         "}\n"
         "mem:\n"
         "  line_size: " +
         n(kLineSize) +
         "B\n"
         "  l1: {size: " +
         n(kL1Size) + "B, ways: " + n(kL1Ways) + ", hit: " + n(kL1HitCycles) +
         "}\n"
         "  llc: {hit: " +
         n(kLlcHitCycles) +
         " cycles}\n"
         "  dram: " +
         n(kDram) +
         "ps\n"
         "  handoff: {smt: " +
         n(kHandoffSmt) + "ps, cluster: " + n(kC2cCluster) + "ps, socket: " + n(kC2cSocket) +
         "ps, system: " + n(kC2cCross) +
         "ps}\n"
         "irq:\n"
         "  ipi: {latency: " +
         n(kIpiLatency) + "ps, receive_cost: " + n(kIpiReceiveCycles) +
         "}\n"
         "  spis: 32\n"
         "  default_priority: 160\n";
}

// Dotted-path overrides on top of base_yaml(), each value written as YAML.
using Overrides = std::vector<std::pair<std::string, std::string>>;

class Machine {
 public:
  explicit Machine(const Overrides& set = {}, Time quantum = 0, uint64_t seed = 1) {
    ConfigNode root = parse_yaml(base_yaml(), "machine.h");
    for (const auto& [path, value] : set)
      set_by_path(root, path, YAML::Load(value), "test override");
    cfg_.load(root);
    platform_ = std::make_unique<Platform>(cfg_, quantum, seed, &stats_);
  }

  Platform& platform() { return *platform_; }
  Core& core(int i) { return platform_->core(i); }
  InterruptController& irq() { return platform_->irq(); }
  MemorySystem& mem() { return platform_->mem(); }
  const PlatformConfig& config() const { return cfg_; }

  // A harness thread with an explicit stack (the suite also runs under ASan). `done` is
  // set when the body returns, so a test can tell a finished harness from a stuck one.
  void spawn(const std::string& name, std::function<void()> body) {
    sc_core::sc_spawn_options opts;
    opts.set_stack_size(256 * 1024);
    sc_core::sc_spawn(tracked(std::move(body)), name.c_str(), &opts);
  }
  // The software of core `core` under the platform's scheduler (Core::start_software), with
  // the same `done` flag as spawn().
  void start(int core, std::function<void()> body) {
    platform_->core(core).start_software(tracked(std::move(body)), 256 * 1024);
  }
  // From now on run_on starts a core's software under the scheduler (start), else on a
  // harness thread (spawn).
  void set_scheduled(bool on) { scheduled_ = on; }
  void run_on(int core, const std::string& name, std::function<void()> body) {
    if (scheduled_) {
      start(core, std::move(body));
    } else {
      spawn(name, std::move(body));
    }
  }
  bool all_done() const {
    for (const auto& d : done_) {
      if (!*d) return false;
    }
    return true;
  }

  void run(Time until) { simulate_for(until); }

  // A counter by group prefix ("mem.dir", "cpu0.l1", "irq") and name.
  uint64_t counter(const std::string& group, const std::string& name) const {
    for (const StatGroup* g : stats_.groups()) {
      if (g->prefix() != group) continue;
      for (const Stat* s : g->stats()) {
        if (s->name() != name) continue;
        if (auto* c = dynamic_cast<const Counter*>(s)) return c->value();
      }
    }
    ADD_FAILURE() << "no counter " << group << "." << name;
    return ~uint64_t{0};
  }

 private:
  StatRegistry stats_;
  // `body`, which sets a `done` flag of its own when it returns.
  std::function<void()> tracked(std::function<void()> body) {
    auto done = std::make_shared<bool>(false);
    done_.push_back(done);
    return [body = std::move(body), done] {
      body();
      *done = true;
    };
  }

  PlatformConfig cfg_;
  std::unique_ptr<Platform> platform_;
  std::vector<std::shared_ptr<bool>> done_;
  bool scheduled_ = false;
};

// Records every handler entry (core.now() inside handle_irq) and runs optional per-id work.
class IrqRecorder : public IrqHandler {
 public:
  struct Entry {
    int cpu;
    IrqId id;
    Time at;    // handler entry
    Time left;  // handler return (before EOI and irq exit)
    int depth;  // hardirq depth inside the handler
    IrqAck ack;
  };
  std::function<void(Core&, const IrqAck&)> work;

  void handle_irq(Core& core, const IrqAck& irq) override {
    const size_t i = entries.size();
    entries.push_back(Entry{core.id(), irq.id, core.now(), 0, core.hardirq_depth(), irq});
    if (work) work(core, irq);
    entries[i].left = core.now();
  }
  std::vector<Entry> entries;
};

// Rounds `t` up to the next cycle boundary.
inline constexpr Time ceil_cycle(Time t) { return (t + kCycle - 1) / kCycle * kCycle; }

// Two cores strictly alternate CAS on one word: `a` turns 2k into 2k+1, `b` turns 2k+1
// into 2k+2, each first waiting with spin_until for its turn (as hw-pingpong does).
struct CasPingPong {
  std::vector<Time> a_cas_done;  // a's local time when each of its CASes completed
  std::vector<uint64_t> a_old, b_old;
  uint64_t a_last_seen = 0;
  Time end = 0;
};

inline void spawn_cas_pingpong(Machine& m, int a, int b, Addr x, int rounds, CasPingPong* out) {
  m.spawn("ping", [&m, a, x, rounds, out] {
    Core& c = m.core(a);
    for (uint64_t k = 0; k < static_cast<uint64_t>(rounds); ++k) {
      c.spin_until(x, [k](uint64_t v) { return v == 2 * k; });
      out->a_old.push_back(c.cas(x, 2 * k, 2 * k + 1));
      out->a_cas_done.push_back(c.now());
    }
    out->a_last_seen =
        c.spin_until(x, [rounds](uint64_t v) { return v == 2 * static_cast<uint64_t>(rounds); });
    out->end = c.now();
  });
  m.spawn("pong", [&m, b, x, rounds, out] {
    Core& c = m.core(b);
    for (uint64_t k = 0; k < static_cast<uint64_t>(rounds); ++k) {
      c.spin_until(x, [k](uint64_t v) { return v == 2 * k + 1; });
      out->b_old.push_back(c.cas(x, 2 * k + 1, 2 * k + 2));
    }
  });
}

}  // namespace quiesce::hw_test
