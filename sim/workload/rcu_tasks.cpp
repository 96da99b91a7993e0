#include "sim/workload/rcu_tasks.h"

#include <algorithm>
#include <memory>

#include "sim/workload/internal/task_params.h"

namespace quiesce {
namespace {

using kernel::Kernel;
using kernel::Task;
using kernel::TaskSpec;

using workload_internal::default_name;
using workload_internal::spawn_task;
using workload_internal::spec_of;
using workload_internal::TaskParams;

struct LoopParams : TaskParams {
  LoopParams(const char* doc, const char* period)
      : TaskParams(doc), period{this, "period", period, "time between iterations (a time or a distribution)"} {
    loops.range(0, 1e9);
  }
  Param<int64_t> loops{this, "loops", "0", "iterations (0 = until the run ends)"};
  Param<Distribution> period;
};

struct PerfMonitorParams : LoopParams {
  PerfMonitorParams() : LoopParams("perf_monitor: locks a target task's perf context in a loop", "20us") {}
  Param<std::string> target{this, "target", "", "the task whose perf context it reads (required)"};
  Param<Latency> hold{this, "hold", "500 cycles", "time spent with ctx->lock held per iteration"};
};

struct ReaderParams : LoopParams {
  ReaderParams() : LoopParams("rcu_reader: rcu_read_lock(); compute `hold`; rcu_read_unlock(); in a loop", "50us") {}
  Param<Latency> hold{this, "hold", "5us", "time inside each read-side critical section"};
};

void check_cpu(const ConfigNode& e, const LoopParams& p, const WorkloadEnv& env) {
  workload_internal::check_cpu(e, p.cpu(), env.topology);
}

// A task that runs `step` in a loop with a sleep of `period` between iterations.
class LoopTask : public Workload {
 public:
  using Step = std::function<void(Kernel&, SharedObjects&)>;
  LoopTask(std::string name, TaskSpec spec, Time start, int64_t loops, Distribution period, uint64_t seed, Step setup,
           Step step)
      : name_(std::move(name)), spec_(spec), start_(start), loops_(loops), period_(std::move(period)),
        rng_(seed, "task." + name_), setup_(std::move(setup)), step_(std::move(step)) {}
  void elaborate(Platform&, Kernel* k, SharedObjects* shared) override {
    Task& t = spawn_task(*k, name_, spec_, start_, [this, k, shared] {
      if (setup_) setup_(*k, *shared);
      for (int64_t i = 0; loops_ == 0 || i < loops_; ++i) {
        step_(*k, *shared);
        k->sleep_for(period_.sample(rng_));
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
  Time start_;
  int64_t loops_;
  Distribution period_;
  Rng rng_;
  Step setup_, step_;
  bool done_ = false;
};

}  // namespace

WorkloadType perf_monitor_type() {
  WorkloadType t;
  t.name = "perf_monitor";
  t.doc = "locks a target task's perf context in a loop (perf_lock_task_context, hold, unlock)";
  t.params = [] { return std::make_unique<PerfMonitorParams>(); };
  t.make = [](const ConfigNode& e, const WorkloadEnv& env) -> std::unique_ptr<Workload> {
    PerfMonitorParams p;
    p.load(e);
    check_cpu(e, p, env);
    if (p.target().empty()) e.fail("perf_monitor needs 'target:' (a task name)");
    if (std::find(env.task_names.begin(), env.task_names.end(), p.target()) == env.task_names.end()) {
      std::string msg = "no task named '" + p.target() + "'";
      std::string hint = did_you_mean(p.target(), env.task_names);
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      e["target"].fail(msg);
    }
    const std::string target = p.target();
    const Latency hold = p.hold();
    // The target, found by name once (perf_event_open), not at every iteration.
    auto task = std::make_shared<kernel::Task*>(nullptr);
    return std::make_unique<LoopTask>(
        default_name(e, env.entry_index), spec_of(p), p.start().ps, p.loops(), p.period(), env.seed,
        [target, task](Kernel& k, SharedObjects& s) {  // perf_event_open
          *task = s.tasks.at(target);
          k.perf().attach(**task);
        },
        [task, hold](Kernel& k, SharedObjects&) {
          Kernel::Frame f(k, "perf_event_read");
          bool flags = false;
          kernel::PerfContext* ctx = k.perf().perf_lock_task_context(**task, &flags);
          if (!ctx) return;
          k.compute_for(hold.to_ps(k.this_core().period()));
          k.perf().perf_unlock_context(ctx, flags);
        });
  };
  return t;
}

WorkloadType exp_gp_updater_type() {
  WorkloadType t;
  t.name = "exp_gp_updater";
  t.doc = "synchronize_rcu_expedited() in a loop";
  t.params = [] { return std::make_unique<LoopParams>("exp_gp_updater: synchronize_rcu_expedited() in a loop", "200us"); };
  t.make = [](const ConfigNode& e, const WorkloadEnv& env) -> std::unique_ptr<Workload> {
    LoopParams p("", "200us");
    p.load(e);
    check_cpu(e, p, env);
    return std::make_unique<LoopTask>(default_name(e, env.entry_index), spec_of(p), p.start().ps, p.loops(), p.period(),
                                      env.seed, nullptr,
                                      [](Kernel& k, SharedObjects&) { k.rcu().synchronize_rcu_expedited(); });
  };
  return t;
}

WorkloadType gp_updater_type() {
  WorkloadType t;
  t.name = "gp_updater";
  t.doc = "synchronize_rcu() in a loop";
  t.params = [] { return std::make_unique<LoopParams>("gp_updater: synchronize_rcu() in a loop", "1ms"); };
  t.make = [](const ConfigNode& e, const WorkloadEnv& env) -> std::unique_ptr<Workload> {
    LoopParams p("", "1ms");
    p.load(e);
    check_cpu(e, p, env);
    return std::make_unique<LoopTask>(default_name(e, env.entry_index), spec_of(p), p.start().ps, p.loops(), p.period(),
                                      env.seed, nullptr, [](Kernel& k, SharedObjects&) { k.rcu().synchronize_rcu(); });
  };
  return t;
}

WorkloadType rcu_reader_type() {
  WorkloadType t;
  t.name = "rcu_reader";
  t.doc = "read-side critical sections of `hold` every `period`";
  t.params = [] { return std::make_unique<ReaderParams>(); };
  t.make = [](const ConfigNode& e, const WorkloadEnv& env) -> std::unique_ptr<Workload> {
    ReaderParams p;
    p.load(e);
    check_cpu(e, p, env);
    const Latency hold = p.hold();
    return std::make_unique<LoopTask>(default_name(e, env.entry_index), spec_of(p), p.start().ps, p.loops(), p.period(),
                                      env.seed, nullptr, [hold](Kernel& k, SharedObjects&) {
                                        Kernel::Frame f(k, "rcu_reader");
                                        k.rcu().rcu_read_lock();
                                        k.compute_for(hold.to_ps(k.this_core().period()));
                                        k.rcu().rcu_read_unlock();
                                      });
  };
  return t;
}

}  // namespace quiesce
