#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "sim/workload/kernel_tasks.h"

#include <systemc>

#include <charconv>
#include <cstdio>
#include <limits>
#include <sstream>

#include "sim/workload/internal/task_params.h"
#include "sim/workload/op_program.h"

namespace quiesce {
namespace {

using kernel::Kernel;
using kernel::Task;
using kernel::TaskSpec;

using workload_internal::check_cpu;
using workload_internal::default_name;
using workload_internal::spawn_task;
using workload_internal::spec_of;
using workload_internal::TaskParams;

// --- program ------------------------------------------------------------------------------

struct ProgramParams : TaskParams {
  ProgramParams() : TaskParams("program: a task whose body is an op-program") {}
};

class ProgramTask : public Workload {
 public:
  ProgramTask(std::string name, TaskSpec spec, Time start, std::vector<Op> program)
      : name_(std::move(name)), spec_(spec), start_(start), program_(std::move(program)) {}
  void elaborate(Platform&, Kernel* k, SharedObjects* shared) override {
    runner_ = std::make_unique<ProgramRunner>(*k, *shared, seed_, "task." + name_);
    Task& t = spawn_task(*k, name_, spec_, start_, [this] {
      runner_->run(program_);
      done_ = true;
      signal_finished();
    });
    shared->tasks[name_] = &t;
  }
  bool finished() const override { return done_; }
  void report(WorkloadReport&) const override {}
  void set_seed(uint64_t s) { seed_ = s; }

 private:
  std::string name_;
  TaskSpec spec_;
  Time start_;
  std::vector<Op> program_;
  std::unique_ptr<ProgramRunner> runner_;
  uint64_t seed_ = 1;
  bool done_ = false;
};

// --- sleeper -----------------------------------------------------------------------------

struct SleeperParams : TaskParams {
  SleeperParams() : TaskParams("sleeper: computes for `run`, sleeps for `sleep`, `loops` times (0 = forever)") {
    loops.range(0, 1e9);
  }
  Param<Duration> run{this, "run", "30us", "compute time per loop"};
  Param<Distribution> sleep{this, "sleep", "10us", "sleep per loop (a time or a distribution)"};
  Param<int64_t> loops{this, "loops", "0", "iterations (0 = until the run ends)"};
};

class Sleeper : public Workload {
 public:
  Sleeper(std::string name, TaskSpec spec, Time start, Time run, Distribution sleep, int64_t loops, uint64_t seed)
      : name_(std::move(name)), spec_(spec), start_(start), run_(run), sleep_(std::move(sleep)), loops_(loops),
        rng_(seed, "task." + name_) {}
  void elaborate(Platform&, Kernel* k, SharedObjects* shared) override {
    Task& t = spawn_task(*k, name_, spec_, start_, [this, k] {
      for (int64_t i = 0; loops_ == 0 || i < loops_; ++i) {
        k->compute_for(run_);
        k->sleep_for(sleep_.sample(rng_));
      }
      done_ = true;
      signal_finished();
    });
    shared->tasks[name_] = &t;
  }
  bool finished() const override { return done_; }
  bool bounded() const override { return loops_ > 0; }
  void report(WorkloadReport&) const override {}

 private:
  std::string name_;
  TaskSpec spec_;
  Time start_, run_;
  Distribution sleep_;
  int64_t loops_;
  Rng rng_;
  bool done_ = false;
};

// --- cyclictest ----------------------------------------------------------------------------

struct CyclictestParams : TaskParams {
  CyclictestParams() : TaskParams("cyclictest: per-CPU RT threads sleeping `interval`, measuring wakeup latency") {
    loops.range(0, 1e9);
    histogram.range(1, 1000000);
  }
  Param<std::string> cpus{this, "cpus", "all", "`all` (one thread per CPU) or one CPU number"};
  Param<Duration> interval{this, "interval", "100us", "timer interval"};
  Param<int64_t> loops{this, "loops", "0", "wakeups per thread (0 = until the run ends)"};
  Param<int64_t> histogram{this, "histogram", "1000", "latency.hist rows: 1 us buckets from 0 (cyclictest -h)"};
};

class Cyclictest : public Workload {
 public:
  Cyclictest(std::string name, std::vector<int> cpus, int prio, Time interval, int64_t loops, int64_t hist_rows)
      : name_(std::move(name)), cpus_(std::move(cpus)), prio_(prio), interval_(interval), loops_(loops),
        threads_(cpus_.size()) {
    for (auto& t : threads_) t.rows = static_cast<size_t>(hist_rows);
  }
  void elaborate(Platform&, Kernel* k, SharedObjects* shared) override {
    hist_ = std::make_unique<StatGroup>(nullptr, name_);
    latency_ = std::make_unique<Histogram>(hist_.get(), "latency", "cyclictest wakeup latency", "ps");
    for (const int& cpu : cpus_) {
      TaskSpec s;
      s.cpu = cpu;
      s.policy = prio_ > 0 ? kernel::Policy::Fifo : kernel::Policy::Normal;
      s.rt_priority = prio_;
      std::string tname = name_ + "/" + std::to_string(cpu);
      Thread* th = &threads_[static_cast<size_t>(&cpu - cpus_.data())];
      Task& t = k->create_task(tname, s, [this, k] {
        Time next = k->now() + interval_;
        for (int64_t i = 0; loops_ == 0 || i < loops_; ++i) {
          k->sleep_until(next);
          next += interval_;
        }
        if (++done_ == static_cast<int>(cpus_.size())) signal_finished();
      });
      t.wakeup_latency = latency_.get();
      t.on_wakeup_latency = [th](Time lat) { th->record(lat); };
      shared->tasks[tname] = &t;
    }
  }
  bool finished() const override { return done_ == static_cast<int>(cpus_.size()); }
  bool bounded() const override { return loops_ > 0; }
  void report(WorkloadReport& out) const override {
    out.metrics.push_back({name_ + ".samples", static_cast<double>(latency_->count()), "count"});
    // No wakeups, no latency: null in result.json, not 0 ns.
    auto ns = [&](int64_t ps) {
      return latency_->count() ? static_cast<double>(ps) / 1e3 : std::numeric_limits<double>::quiet_NaN();
    };
    out.metrics.push_back({name_ + ".latency.p50_ns", ns(latency_->percentile(0.5)), "ns"});
    out.metrics.push_back({name_ + ".latency.p99_ns", ns(latency_->percentile(0.99)), "ns"});
    out.metrics.push_back({name_ + ".latency.max_ns", ns(latency_->max()), "ns"});
    out.files.emplace_back(name_ + ".hist", histogram_text());
  }

 private:
  std::string name_;
  std::vector<int> cpus_;
  int prio_;
  Time interval_;
  int64_t loops_;
  // One thread's histogram in cyclictest's units: whole microseconds.
  struct Thread {
    size_t rows = 0;             // cyclictest -h: buckets 0 .. rows - 1
    std::vector<uint64_t> hist;  // up to the largest bucket hit so far: the rest are 0
    uint64_t cycles = 0, overflows = 0, sum_us = 0, min_us = ~uint64_t{0}, max_us = 0;
    std::vector<uint64_t> outliers;  // cycle numbers of the first overflows, at most one per row
    void record(Time lat) {
      const uint64_t us = static_cast<uint64_t>(std::max<Time>(lat, 0) / kUs);
      ++cycles;
      sum_us += us;
      min_us = std::min(min_us, us);
      max_us = std::max(max_us, us);
      if (us < rows) {
        // Grown on demand: 1000 rows a CPU written out in full would be most of a short
        // point's fresh memory at 64 CPUs, nearly all of it zeros.
        if (us >= hist.size()) hist.resize(us + 1, 0);
        ++hist[us];
      } else {
        ++overflows;
        // cyclictest keeps as many cycle numbers as the histogram has rows, then counts.
        if (outliers.size() < rows) outliers.push_back(cycles - 1);
      }
    }
  };

  // cyclictest --histogram's text layout, so existing RT tooling parses it.
  std::string histogram_text() const {
    std::string out = "# Histogram\n";
    const size_t rows = threads_.front().rows;
    out.reserve(rows * (8 + 7 * threads_.size()) + 256 * (threads_.size() + 1));
    // printf's "%06llu" without printf: this table is rows x threads cells (64k at 64 cores).
    auto zero_padded = [&out](uint64_t v) {
      char digits[24];
      const auto n =
          static_cast<size_t>(std::to_chars(digits, digits + sizeof digits, v).ptr - digits);
      if (n < 6) out.append(6 - n, '0');
      out.append(digits, n);
    };
    // Past the last bucket any thread hit, a row is all zeros: one append (nearly every row).
    size_t hit_rows = 0;
    for (const auto& t : threads_) hit_rows = std::max(hit_rows, t.hist.size());
    std::string zero_row;
    for (size_t j = 0; j < threads_.size(); ++j)
      zero_row += j + 1 == threads_.size() ? "000000\n" : "000000\t";
    for (size_t i = 0; i < rows; ++i) {
      zero_padded(i);
      out += ' ';
      if (i >= hit_rows) {
        out += zero_row;
        continue;
      }
      for (size_t j = 0; j < threads_.size(); ++j) {
        const auto& hist = threads_[j].hist;
        const bool last = j + 1 == threads_.size();
        if (i >= hist.size() || hist[i] == 0) {
          out.append(last ? "000000\n" : "000000\t", 7);  // most cells
          continue;
        }
        zero_padded(hist[i]);
        out += last ? '\n' : '\t';
      }
    }
    char buf[64];
    auto row = [&](const char* title, const char* fmt, auto value) {
      out += title;
      for (const auto& t : threads_) {
        std::snprintf(buf, sizeof buf, fmt, static_cast<unsigned long long>(value(t)));
        out += buf;
      }
      out += "\n";
    };
    row("# Total:", " %09llu", [](const Thread& t) { return t.cycles - t.overflows; });
    row("# Min Latencies:", " %05llu", [](const Thread& t) { return t.cycles ? t.min_us : 0; });
    row("# Avg Latencies:", " %05llu", [](const Thread& t) { return t.cycles ? t.sum_us / t.cycles : 0; });
    row("# Max Latencies:", " %05llu", [](const Thread& t) { return t.max_us; });
    row("# Histogram Overflows:", " %05llu", [](const Thread& t) { return t.overflows; });
    out += "# Histogram Overflow at cycle number:\n";
    for (size_t j = 0; j < threads_.size(); ++j) {
      out += "# Thread " + std::to_string(j) + ":";
      for (uint64_t c : threads_[j].outliers) {
        std::snprintf(buf, sizeof buf, " %05llu", static_cast<unsigned long long>(c));
        out += buf;
      }
      if (threads_[j].outliers.size() < threads_[j].overflows) {
        std::snprintf(buf, sizeof buf, " # %05llu others",
                      static_cast<unsigned long long>(threads_[j].overflows - threads_[j].outliers.size()));
        out += buf;
      }
      out += "\n";
    }
    out += "\n";  // rt-tests ends the file with an empty line
    return out;
  }

  std::unique_ptr<StatGroup> hist_;
  std::unique_ptr<Histogram> latency_;
  std::vector<Thread> threads_;
  int done_ = 0;
};

// --- device interrupts --------------------------------------------------------------------------

struct DeviceParams : ParamGroup {
  DeviceParams() : ParamGroup("", "irq: a device interrupt source (an SPI routed to one CPU)") { cpu.range(0, kMaxCores - 1); }
  Param<std::string> irq{this, "irq", "dev", "device name (the handler's name in traces)"};
  Param<int64_t> cpu{this, "cpu", "0", "the CPU the interrupt is routed to"};
  Param<Distribution> period{this, "period", "100us", "time between interrupts (a time or a distribution)"};
  Param<Latency> handler{this, "handler", "2us", "handler time, when there is no `program`"};
  Param<Duration> start{this, "start", "0ns", "first interrupt no earlier than this"};
};

class IrqSource : public Workload {
 public:
  IrqSource(std::string name, int cpu, IrqId id, Distribution period, Latency handler, Time start,
            std::vector<Op> program, uint64_t seed)
      : name_(std::move(name)), cpu_(cpu), id_(id), period_(std::move(period)), handler_(handler), start_(start),
        program_(std::move(program)), rng_(seed, "irq." + name_) {}
  void elaborate(Platform& p, Kernel* k, SharedObjects* shared) override {
    if (!program_.empty()) runner_ = std::make_unique<ProgramRunner>(*k, *shared, 1, "irq." + name_);
    const Time handler_ps = handler_.to_ps(p.period());
    k->request_irq(
        id_, name_.c_str(),
        [this, k, handler_ps] {
          ++count_;
          if (runner_) {
            runner_->run(program_);
          } else {
            k->compute_for(handler_ps);
          }
        },
        cpu_);
    // The device posts each interrupt at least 2 x lookahead ahead, as exact mode needs.
    const Time ahead = 2 * p.lookahead();
    sc_core::sc_spawn_options o;
    o.set_stack_size(32 * 1024);
    sc_core::sc_spawn(
        [this, k, ahead] {
          Time next = std::max(start_, ahead) + period_.sample(rng_);
          while (true) {
            const Time now = static_cast<Time>(sc_core::sc_time_stamp().value());
            if (next - ahead > now) {
              sc_core::wait(sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(next - ahead - now)));
            }
            k->raise_device_irq(cpu_, id_, next);
            next += std::max<Time>(period_.sample(rng_), 1);
          }
        },
        ("device_" + name_).c_str(), &o);
  }
  bool finished() const override { return true; }
  bool bounded() const override { return false; }
  void report(WorkloadReport& out) const override {
    out.metrics.push_back({"irq." + name_ + ".count", static_cast<double>(count_), "count"});
  }

 private:
  std::string name_;
  int cpu_;
  IrqId id_;
  Distribution period_;
  Latency handler_;
  Time start_;
  std::vector<Op> program_;
  Rng rng_;
  std::unique_ptr<ProgramRunner> runner_;
  uint64_t count_ = 0;
};

// --- softirq handlers ---------------------------------------------------------------------------

struct SoftirqParams : ParamGroup {
  SoftirqParams() : ParamGroup("", "softirq: an op-program run as the handler of one softirq vector") {}
  Param<std::string> softirq{this, "softirq", "NET_RX", "the vector: HI, TIMER, NET_TX, NET_RX, BLOCK, IRQ_POLL, TASKLET, SCHED, HRTIMER, RCU"};
};

class SoftirqHandler : public Workload {
 public:
  SoftirqHandler(int nr, std::vector<Op> program) : nr_(nr), program_(std::move(program)) {}
  void elaborate(Platform&, Kernel* k, SharedObjects* shared) override {
    runner_ = std::make_unique<ProgramRunner>(*k, *shared, 1, std::string("softirq.") + kernel::softirq_name(nr_));
    k->open_softirq(nr_, [this, k] {
      Kernel::Frame f(*k, frame_name_.c_str());
      runner_->run(program_);
    });
    frame_name_ = std::string("softirq_") + kernel::softirq_name(nr_);
  }
  bool finished() const override { return true; }
  bool bounded() const override { return false; }
  void report(WorkloadReport&) const override {}

 private:
  int nr_;
  std::vector<Op> program_;
  std::unique_ptr<ProgramRunner> runner_;
  std::string frame_name_;
};

// --- hooks ----------------------------------------------------------------------------------------

struct HookParams : ParamGroup {
  HookParams() : ParamGroup("", "hook: an op-program run inside the kernel at a hook point, with its locks held") {}
  Param<std::string> hook{this, "hook", "sched_switch",
                          "the hook point: sched_switch, enqueue, dequeue, update_curr, select_task_rq, tick, irq_exit "
                          "(quiesce list hooks)"};
  Param<std::string> cpu{this, "cpu", "all", "`all`, or the one CPU whose hook runs it"};
  Param<std::string> task{this, "task", "", "run only when the hook's task (prev, the enqueued or woken task, the "
                                            "current one) is this one; empty: any"};
};

class HookProgram : public Workload {
 public:
  HookProgram(Kernel::Hook hook, int cpu, std::string task, std::vector<Op> program)
      : hook_(hook), cpu_(cpu), task_(std::move(task)), program_(std::move(program)) {}
  void elaborate(Platform&, Kernel* k, SharedObjects* shared) override {
    for (int c = 0; c < k->nr_cpus(); ++c) {
      // One runner per CPU: the same hook can run on every CPU at once.
      runners_.push_back(std::make_unique<ProgramRunner>(
          *k, *shared, 1, std::string("hook.") + Kernel::hook_name(hook_) + "." + std::to_string(c), true));
    }
    k->attach_hook(hook_, [this, k](Task& subject) {
      const int c = k->this_cpu();
      if (cpu_ >= 0 && c != cpu_) return;
      if (!task_.empty() && subject.comm != task_) return;
      ++runs_;
      runners_[static_cast<size_t>(c)]->run(program_);
    });
  }
  bool finished() const override { return true; }
  bool bounded() const override { return false; }
  void report(WorkloadReport& out) const override {
    out.metrics.push_back({std::string("hook.") + Kernel::hook_name(hook_) + ".runs", static_cast<double>(runs_), "count"});
  }

 private:
  Kernel::Hook hook_;
  int cpu_;
  std::string task_;
  std::vector<Op> program_;
  std::vector<std::unique_ptr<ProgramRunner>> runners_;
  uint64_t runs_ = 0;
};

}  // namespace

WorkloadType hook_type() {
  WorkloadType t;
  t.name = "hook";
  t.doc = "`hook: POINT` with a `program:` run inside the kernel there, its locks held (quiesce list hooks)";
  t.params = [] { return std::make_unique<HookParams>(); };
  t.extra_keys = {"program"};
  t.make = [](const ConfigNode& e, const WorkloadEnv& env) -> std::unique_ptr<Workload> {
    HookParams p;
    p.load(e);
    std::vector<std::string> names;
    int found = -1;
    for (int h = 0; h < static_cast<int>(Kernel::Hook::Count); ++h) {
      names.push_back(Kernel::hook_name(static_cast<Kernel::Hook>(h)));
      if (p.hook() == names.back()) found = h;
    }
    if (found < 0) {
      std::string msg = "unknown hook point '" + p.hook() + "' (quiesce list hooks)";
      std::string hint = did_you_mean(p.hook(), names);
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      e["hook"].fail(msg);
    }
    int cpu = -1;
    if (p.cpu() != "all") {
      char* end = nullptr;
      long c = std::strtol(p.cpu().c_str(), &end, 10);
      if (p.cpu().empty() || *end || c < 0 || c >= env.topology.cores) {
        e["cpu"].fail("expected `all` or a CPU below " + std::to_string(env.topology.cores));
      }
      cpu = static_cast<int>(c);
    }
    if (!e["program"].present()) e.fail("a hook needs 'program:' (what runs at the hook point)");
    if (!p.task().empty() &&
        std::find(env.task_names.begin(), env.task_names.end(), p.task()) == env.task_names.end()) {
      std::string msg = "no task named '" + p.task() + "' in the workload";
      std::string hint = did_you_mean(p.task(), env.task_names);
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      e["task"].fail(msg);
    }
    return std::make_unique<HookProgram>(static_cast<Kernel::Hook>(found), cpu, p.task(),
                                         parse_program(e["program"], env));
  };
  return t;
}

WorkloadType softirq_type() {
  WorkloadType t;
  t.name = "softirq";
  t.doc = "`softirq: VECTOR` with a `program:` run as that vector's handler";
  t.params = [] { return std::make_unique<SoftirqParams>(); };
  t.extra_keys = {"program"};
  t.make = [](const ConfigNode& e, const WorkloadEnv& env) -> std::unique_ptr<Workload> {
    SoftirqParams p;
    p.load(e);
    int nr = -1;
    for (int i = 0; i < kernel::NR_SOFTIRQS; ++i) {
      if (p.softirq() == kernel::softirq_name(i)) nr = i;
    }
    if (nr < 0) e["softirq"].fail("unknown softirq '" + p.softirq() + "'");
    if (!e["program"].present()) e.fail("a softirq handler needs 'program:'");
    return std::make_unique<SoftirqHandler>(nr, parse_program(e["program"], env));
  };
  return t;
}

WorkloadType program_type() {
  WorkloadType t;
  t.name = "program";
  t.doc = "a task whose body is an op-program of kernel primitives (`program:` list)";
  t.params = [] { return std::make_unique<ProgramParams>(); };
  t.extra_keys = {"program"};
  t.make = [](const ConfigNode& e, const WorkloadEnv& env) -> std::unique_ptr<Workload> {
    ProgramParams p;
    p.load(e);
    check_cpu(e, p.cpu(), env.topology);
    if (!e["program"].present()) e.fail("a program task needs 'program:' (a list of primitives)");
    auto w = std::make_unique<ProgramTask>(default_name(e, env.entry_index), spec_of(p), p.start().ps,
                                           parse_program(e["program"], env));
    w->set_seed(env.seed);
    return w;
  };
  return t;
}

WorkloadType sleeper_type() {
  WorkloadType t;
  t.name = "sleeper";
  t.doc = "computes for `run`, then sleeps, in a loop";
  t.params = [] { return std::make_unique<SleeperParams>(); };
  t.make = [](const ConfigNode& e, const WorkloadEnv& env) -> std::unique_ptr<Workload> {
    SleeperParams p;
    p.load(e);
    check_cpu(e, p.cpu(), env.topology);
    return std::make_unique<Sleeper>(default_name(e, env.entry_index), spec_of(p), p.start().ps, p.run().ps, p.sleep(),
                                     p.loops(), env.seed);
  };
  return t;
}

WorkloadType cyclictest_type() {
  WorkloadType t;
  t.name = "cyclictest";
  t.doc = "per-CPU SCHED_FIFO timer threads measuring wakeup latency (rt-tests' cyclictest)";
  t.params = [] {
    auto p = std::make_unique<CyclictestParams>();
    return std::unique_ptr<ParamGroup>(std::move(p));
  };
  t.make = [](const ConfigNode& e, const WorkloadEnv& env) -> std::unique_ptr<Workload> {
    CyclictestParams p;
    p.load(e);
    std::vector<int> cpus;
    if (p.cpus() == "all") {
      for (int c = 0; c < env.topology.cores; ++c) cpus.push_back(c);
    } else {
      char* end = nullptr;
      long c = std::strtol(p.cpus().c_str(), &end, 10);
      if (*end || c < 0 || c >= env.topology.cores) e["cpus"].fail("expected `all` or a CPU below " + std::to_string(env.topology.cores));
      cpus.push_back(static_cast<int>(c));
    }
    int prio = e["priority"].present() ? static_cast<int>(p.priority()) : 99;
    if (p.interval().ps <= 0) e["interval"].fail("interval must be positive");
    return std::make_unique<Cyclictest>(default_name(e, env.entry_index), cpus, prio, p.interval().ps, p.loops(),
                                        p.histogram());
  };
  return t;
}

WorkloadType irq_type() {
  WorkloadType t;
  t.name = "irq";
  t.doc = "a device interrupt source: `irq: NAME` (or `task: irq_load`), `cpu`, `period`, `handler` or `program`";
  t.params = [] { return std::make_unique<DeviceParams>(); };
  t.extra_keys = {"program", "task"};
  t.make = [](const ConfigNode& e, const WorkloadEnv& env) -> std::unique_ptr<Workload> {
    DeviceParams p;
    p.load(e);
    if (p.cpu() >= env.topology.cores) e["cpu"].fail("CPU " + std::to_string(p.cpu()) + " is past the core count");
    std::vector<Op> program;
    if (e["program"].present()) program = parse_program(e["program"], env);
    return std::make_unique<IrqSource>(p.irq(), static_cast<int>(p.cpu()), kernel::kFirstDeviceIrq + env.irq_index,
                                       p.period(), p.handler(), p.start().ps, std::move(program), env.seed);
  };
  return t;
}

}  // namespace quiesce
