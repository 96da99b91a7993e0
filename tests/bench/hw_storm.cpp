// A 64-core CAS and IPI storm, timed at quantum 0 (exact) and at a 1 us quantum, beside the
// raw SystemC baseline (empty SC_THREADs doing timed waits) measured in the same run. The
// storm's cores run under the cores' scheduler (Core::start_software), as the kernel's do.
// Each measurement runs in its own child process (SystemC elaborates once per process).
//
//   bench_hw_storm [--cores N] [--sim-us T] [--baseline-wakeups N] [--only exact|q1]
//
// --only runs one storm in this process (no baseline, no ratio): for profiling it alone.
//
// Simulated events = instruction boundaries retired by the cores + coherence requests that
// reach the directory + interrupts delivered (the count result.json reports).
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <sys/wait.h>
#include <unistd.h>

#include <systemc>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sim/base/config.h"
#include "sim/hw/platform.h"
#include "sim/run/point.h"

using namespace quiesce;

int sc_main(int, char**) { return 3; }

namespace {

struct Figures {
  double events = 0;
  double host_s = 0;
  double sim_ps = 0;
  double extra = 0;  // mean IPI latency (ps) for the storm
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Figures baseline(int threads, long wakeups_total) {
  long per = wakeups_total / threads;
  for (int t = 0; t < threads; ++t) {
    sc_core::sc_spawn_options o;
    o.set_stack_size(64 * 1024);
    sc_core::sc_spawn(
        [per, t] {
          // Staggered periods so wakeups do not all coincide in one delta.
          sc_core::sc_time d = sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(1000 + 7 * t));
          for (long i = 0; i < per; ++i) sc_core::wait(d);
        },
        nullptr, &o);
  }
  double t0 = now_s();
  sc_core::sc_start();
  Figures f;
  f.host_s = now_s() - t0;
  f.events = static_cast<double>(per * threads);
  f.sim_ps = static_cast<double>(sc_core::sc_time_stamp().value());
  return f;
}

class StormHandler : public IrqHandler {
 public:
  void handle_irq(Core& core, const IrqAck&) override { core.compute(20); }
};

Figures storm(int cores, Time quantum, Time sim_time) {
  PlatformConfig cfg;
  ConfigNode tree = load_yaml_file(platforms_dir() + "/generic-smp.yaml");
  set_by_path(tree, "cores", YAML::Node(std::to_string(cores)), "bench");
  cfg.load(tree);
  StatRegistry stats;
  Platform p(cfg, quantum, 1, &stats);
  static StormHandler handler;
  const Addr line = p.mem().line_size();
  for (int c = 0; c < cores; ++c) {
    Core& core = p.core(c);
    core.set_irq_handler(&handler);
    core.start_software(
        [&core, c, cores, line, sim_time] {
          const Addr mine = 0x10000 + static_cast<Addr>(c / 2) * line;  // pairs fight over a line
          uint64_t i = 0;
          while (core.now() < sim_time) {
            core.compute(50);
            uint64_t v = core.load(mine);
            core.cas(mine, v, v + 1);
            core.alu(4);
            if (++i % 8 == 0)
              core.send_ipi((c + 1 + static_cast<int>(i / 8) % (cores - 1)) % cores, 1);
          }
        },
        128 * 1024);
  }
  double t0 = now_s();
  simulate_for(sim_time + 10 * kUs);
  Figures f;
  f.host_s = now_s() - t0;
  uint64_t ev = 0;
  for (int c = 0; c < cores; ++c) ev += p.core(c).ops.value();
  ev += p.irq().delivered.value();
  for (const StatGroup* g : stats.groups()) {
    if (g->prefix() != "mem.dir") continue;
    for (const Stat* s : g->stats()) {
      if (s->name() == "gets" || s->name() == "getm" || s->name() == "upgrades") {
        ev += static_cast<const Counter*>(s)->value();
      }
    }
  }
  f.events = static_cast<double>(ev);
  f.sim_ps = static_cast<double>(sim_time);
  f.extra = p.irq().latency_sgi.mean();
  return f;
}

// Runs `fn` in a child process and returns its figures through a pipe.
template <class F>
Figures in_child(F fn) {
  int fds[2];
  if (pipe(fds) != 0) std::exit(3);
  pid_t pid = fork();
  if (pid == 0) {
    quiet_systemc();
    Figures f = fn();
    if (write(fds[1], &f, sizeof f) != static_cast<ssize_t>(sizeof f)) _exit(3);
    _exit(0);
  }
  Figures f;
  if (read(fds[0], &f, sizeof f) != static_cast<ssize_t>(sizeof f)) {
    std::fprintf(stderr, "bench: child failed\n");
    std::exit(3);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[0]);
  close(fds[1]);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int cores = 64;
  double sim_us = 200;
  long base_wakeups = 4000000;
  const char* only = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--cores")) cores = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--sim-us")) sim_us = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--baseline-wakeups")) base_wakeups = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
  }
  const Time sim = static_cast<Time>(sim_us * kUs);
  if (only) {
    if (std::strcmp(only, "exact") && std::strcmp(only, "q1")) {
      std::fprintf(stderr, "bench: --only takes exact or q1\n");
      return 2;
    }
    quiet_systemc();
    Figures f = storm(cores, std::strcmp(only, "q1") ? 0 : kUs, sim);
    std::printf("storm %s: %.0f events in %.3f s: %.1f host ns/event\n", only, f.events, f.host_s,
                1e9 * f.host_s / f.events);
    return 0;
  }
  Figures base = in_child([&] { return baseline(64, base_wakeups); });
  Figures exact = in_child([&] { return storm(cores, 0, sim); });
  Figures q1 = in_child([&] { return storm(cores, kUs, sim); });

  const double base_rate = base.events / base.host_s;
  std::printf("raw SystemC baseline: 64 threads, %.0f timed-wait wakeups in %.3f s: %.2f M wakeups/s (%.1f ns each)\n",
              base.events, base.host_s, base_rate / 1e6, 1e9 / base_rate);
  std::printf("%-22s %12s %10s %14s %12s %10s %14s %14s\n", "storm (" , "events", "host s", "events/host s",
              "host ns/ev", "x baseline", "sim/host", "IPI mean lat");
  for (auto [name, f] : {std::pair<const char*, Figures>{"quantum 0 (exact)", exact}, {"quantum 1us", q1}}) {
    double rate = f.events / f.host_s;
    std::printf("%-22s %12.0f %10.3f %14.3e %12.1f %10.2f %14.4f %12.1fns\n", name, f.events, f.host_s, rate,
                1e9 / rate, rate / base_rate, f.sim_ps / 1e12 / f.host_s, f.extra / 1e3);
  }
  std::printf("(%d cores, %.0f us simulated each; CAS on lines shared by pairs, an IPI every 8th iteration)\n",
              cores, sim_us);
  std::printf("accuracy at 1us quantum: IPI mean latency %+.2f%% vs exact, events %+.2f%%\n",
              100 * (q1.extra / exact.extra - 1), 100 * (q1.events / exact.events - 1));
  return 0;
}
