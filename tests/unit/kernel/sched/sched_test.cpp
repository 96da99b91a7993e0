// Exact timing of the kernel model: with every other cost zeroed, a wakeup costs exactly
// the modelled irq entry + try_to_wake_up + context switch; an interrupt raised at the
// start of an N-cycle irq-off section waits exactly N cycles more than one raised outside.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <gtest/gtest.h>

#include <systemc>

#include "sim/base/config.h"
#include "sim/kernel/kernel.h"

namespace quiesce::kernel {
namespace {

using Sets = std::vector<std::pair<std::string, std::string>>;

// generic-smp at 2 GHz (500 ps a cycle) with every cost zero except the named ones.
struct Machine {
  explicit Machine(const std::vector<std::pair<std::string, std::string>>& sets) {
    ConfigNode tree = load_yaml_file(platforms_dir() + "/generic-smp.yaml");
    std::vector<std::pair<std::string, std::string>> all = {
        {"core.op.alu", "0"},          {"core.op.atomic", "0"},      {"core.op.irq_flag", "0"},
        {"core.op.preempt", "0"},      {"core.op.irq_entry", "300"}, {"core.op.irq_exit", "0"},
        {"core.op.pipeline_flush", "0"}, {"core.op.timer_program", "0"}, {"mem.l1.hit", "0"},
        {"mem.llc.hit", "0ns"},        {"mem.dram", "0ns"},          {"mem.handoff.cluster", "0ns"},
        {"mem.handoff.socket", "0ns"}, {"mem.handoff.system", "0ns"}, {"irq.ipi.receive_cost", "0"}};
    for (const auto& s : sets) all.push_back(s);
    for (const auto& [k, v] : all) set_by_path(tree, k, YAML::Node(v), "test");
    cfg.load(tree);
    ConfigNode kt = parse_yaml("kernel: {sched: {switch_cost: 400, wakeup_cost: 150}}", "test");
    kparams.load(kt);
    platform = std::make_unique<Platform>(cfg, 0, 1, &stats);
    kernel = std::make_unique<Kernel>(*platform, kparams, 1, &stats);
  }
  void run(Time t) { simulate_for(t); }

  StatRegistry stats;
  PlatformConfig cfg;
  KernelParams kparams;
  std::unique_ptr<Platform> platform;
  std::unique_ptr<Kernel> kernel;
};

TEST(KernelWakeup, RtTaskOnIdleCpuWakesAfterIrqEntryWakeupAndSwitchToTheCycle) {
  Machine m(Sets{});
  Kernel& k = *m.kernel;
  Time woke = -1;
  TaskSpec spec{1, Policy::Fifo, 50, true};
  k.create_task("rt", spec, [&] {
    k.sleep_until(50 * kUs);
    woke = k.now();
  });
  m.run(200 * kUs);
  const Time cycle = 500;
  const Time expected = (300 + 150 + 400) * cycle;  // irq entry + try_to_wake_up + switch
  EXPECT_EQ(woke, 50 * kUs + expected);
  EXPECT_EQ(k.wakeup_latency.count(), 1u);
  EXPECT_EQ(k.wakeup_latency.min(), expected);
  EXPECT_EQ(k.wakeup_latency.max(), expected);
}

TEST(KernelWakeup, EachModelledCostAddsExactlyItsCycles) {
  Machine m(Sets{{"core.op.irq_entry", "500"}});
  Kernel& k = *m.kernel;
  k.create_task("rt", TaskSpec{2, Policy::Fifo, 50, true}, [&] { k.sleep_until(30 * kUs); });
  m.run(100 * kUs);
  EXPECT_EQ(k.wakeup_latency.max(), (500 + 150 + 400) * 500);
}

TEST(KernelIrqsOff, InterruptRaisedAtSectionStartWaitsExactlyTheSection) {
  Machine m(Sets{{"core.op.irq_flag", "1"}});
  Kernel& k = *m.kernel;
  const IrqId inside = kFirstDeviceIrq, outside = kFirstDeviceIrq + 1;
  std::vector<std::pair<IrqId, Time>> entries;
  k.request_irq(inside, "inside", [&] { entries.emplace_back(inside, k.now()); });
  k.request_irq(outside, "outside", [&] { entries.emplace_back(outside, k.now()); });
  const uint64_t n = 10000;
  Time raised_in = 0, raised_out = 0;
  k.create_task("t", TaskSpec{1, Policy::Normal, 0, true}, [&] {
    k.sleep_for(5 * kUs);
    raised_out = k.now();  // irqs on: taken at once
    k.raise_device_irq(1, outside, raised_out);
    k.compute(100);
    k.local_irq_disable();
    raised_in = k.now();  // the section's first instant: raised now, taken at its end
    k.raise_device_irq(1, inside, raised_in);
    k.compute(n - 1);
    k.local_irq_enable();  // the section's last cycle
  });
  m.run(100 * kUs);
  ASSERT_EQ(entries.size(), 2u);
  const Time lat_out = entries[0].second - raised_out;
  const Time lat_in = entries[1].second - raised_in;
  EXPECT_EQ(entries[0].first, outside);
  EXPECT_EQ(lat_out, 300 * 500);  // irq entry only
  EXPECT_EQ(lat_in - lat_out, static_cast<Time>(n) * 500);
  // The irqsoff tracer saw the same section, N cycles long.
  EXPECT_EQ(k.max_irqs_off().length, static_cast<Time>(n) * 500);
  EXPECT_EQ(k.max_irqs_off().begin_site, "kthread");
}

TEST(KernelSched, RtWakeupPreemptsANormalTaskThroughTheReschedIpi) {
  Machine m(Sets{});
  Kernel& k = *m.kernel;
  Time rt_ran = -1;
  bool normal_done = false;
  k.create_task("hog", TaskSpec{3, Policy::Normal, 0, true}, [&] {
    k.compute(2000000);  // 1 ms of work with preemption enabled
    normal_done = true;
  });
  Task& rt = k.create_task("rt", TaskSpec{3, Policy::Fifo, 10, true}, [&] {
    k.set_current_state(TaskState::Sleeping);
    k.schedule();
    rt_ran = k.now();
  });
  k.create_task("waker", TaskSpec{0, Policy::Normal, 0, true}, [&] {
    k.sleep_until(100 * kUs);
    k.wake_up_process(rt);
  });
  m.run(3 * kMs);
  EXPECT_TRUE(normal_done);
  ASSERT_GT(rt_ran, 100 * kUs);
  EXPECT_LT(rt_ran, 100 * kUs + 10 * kUs) << "preempted via IPI, not at the hog's end";
  EXPECT_GE(k.resched_ipis.value(), 1u);
}

TEST(KernelDeadlock, SpinningOnALockYouHoldStopsTheRun) {
  Machine m(Sets{});
  Kernel& k = *m.kernel;
  auto& cls = k.lock_class("lock_A");
  auto lock = k.make_lock("A", cls);
  k.create_task("t", TaskSpec{0, Policy::Normal, 0, true}, [&] {
    Kernel::Frame f(k, "twice");
    k.raw_spin_lock(*lock);
    k.raw_spin_lock(*lock);
  });
  m.run(1 * kMs);
  EXPECT_EQ(k.outcome().kind, "deadlock");
  EXPECT_NE(k.outcome().detail.find("CPU0 spins on A (lock_A) which it already holds (taken at twice)"),
            std::string::npos)
      << k.outcome().detail;
  ASSERT_EQ(k.lockdep().reports().size(), 1u);
  EXPECT_EQ(k.lockdep().reports()[0].kind, "recursive");
}

}  // namespace
}  // namespace quiesce::kernel

namespace quiesce::kernel {
namespace {

// Regression: sleep_until armed its timer before marking the task asleep, so a timer that
// fired at once (a sleep shorter than the timer-programming op) found the task running and
// the task then slept forever.
TEST(KernelSleep, ShortSleepsNeverLoseTheirWakeup) {
  Machine m(Sets{{"core.op.timer_program", "40"}});
  Kernel& k = *m.kernel;
  int done = 0;
  k.create_task("sleepy", TaskSpec{1, Policy::Normal, 0, true}, [&] {
    for (int i = 0; i < 2000; ++i) {
      k.compute(20);
      k.sleep_for(static_cast<Time>(i % 50) * 1000);  // 0 to 49 ns: many shorter than programming the timer
      ++done;
    }
  });
  m.run(20 * kMs);
  EXPECT_EQ(done, 2000);
}

}  // namespace
}  // namespace quiesce::kernel

namespace quiesce::kernel {
namespace {

// Regression: an interrupt nested in softirq processing preempted the task mid-softirq, so
// the next task on that CPU ran with the softirq count (in_atomic, lockdep's SC1) leaked.
TEST(KernelSoftirq, NoPreemptionInsideASoftirq) {
  Machine m(Sets{});
  Kernel& k = *m.kernel;
  int runs = 0;
  bool leaked = false;
  k.open_softirq(NET_RX_SOFTIRQ, [&] {
    ++runs;
    k.compute(20000);  // 10 us with interrupts on: the tick and the RT wakeup land inside
  });
  k.request_irq(kFirstDeviceIrq, "dev", [&] { k.raise_softirq(NET_RX_SOFTIRQ); });
  for (Time t = 10 * kUs; t < 2 * kMs; t += 37 * kUs) k.raise_device_irq(1, kFirstDeviceIrq, t);
  k.create_task("rt", TaskSpec{1, Policy::Fifo, 50, true}, [&] {
    for (int i = 0; i < 200; ++i) {
      k.sleep_for(9 * kUs);
      leaked = leaked || k.in_softirq() || k.bh_disabled();
    }
  });
  m.run(3 * kMs);
  EXPECT_GT(runs, 10);
  EXPECT_FALSE(leaked);
  EXPECT_EQ(k.lockdep().reports().size(), 0u) << k.lockdep().log();
}

// A CPU is one SystemC thread: a context switch is a stack switch on it, costing SystemC
// no wait and no delta cycle (each switch used to be a notify and a wait of its own).
TEST(KernelContext, SwitchesOnOneCpuCostSystemCNothing) {
  Machine m(Sets{});
  Kernel& k = *m.kernel;
  const int rounds = 2000;
  Task* low = nullptr;
  Task* high = nullptr;
  uint64_t deltas_before = 0, deltas_after = 0;
  int high_ran = 0;
  high = &k.create_task("high", TaskSpec{1, Policy::Fifo, 60, false}, [&] {
    while (true) {
      ++high_ran;
      k.set_current_state(TaskState::Sleeping);
      k.schedule();
    }
  });
  low = &k.create_task("low", TaskSpec{1, Policy::Fifo, 50, true}, [&] {
    k.sleep_for(10 * kUs);  // past start-up
    deltas_before = sc_core::sc_delta_count();
    for (int i = 0; i < rounds; ++i) k.wake_up_process(*high);  // preempted by it at once
    deltas_after = sc_core::sc_delta_count();
  });
  (void)low;
  m.run(1 * kMs);
  EXPECT_EQ(high_ran, rounds);
  EXPECT_GE(k.context_switches.value(), static_cast<uint64_t>(2 * rounds));
  // Whatever else waits meanwhile (the other CPUs' ticks), not one delta cycle per switch.
  EXPECT_LT(deltas_after - deltas_before, static_cast<uint64_t>(rounds / 10));
}

// What a task's code throws and the model does not handle leaves the task's stack for the
// CPU's thread and reaches sc_start, as from any SystemC thread; the run does not hang.
TEST(KernelContext, AnUnhandledExceptionInATaskReachesSimStart) {
  Machine m(Sets{});
  Kernel& k = *m.kernel;
  k.create_task("thrower", TaskSpec{2, Policy::Normal, 0, true}, [&] {
    k.sleep_for(5 * kUs);
    throw std::logic_error("model bug in thrower");
  });
  bool thrown = false;
  try {
    m.run(100 * kUs);
  } catch (const std::exception& e) {
    thrown = std::string(e.what()).find("model bug in thrower") != std::string::npos;
  }
  EXPECT_TRUE(thrown);
}

}  // namespace
}  // namespace quiesce::kernel
