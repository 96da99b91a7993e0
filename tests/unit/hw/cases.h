#pragma once
// Core cases run both with the cores' software on SystemC threads of their own
// (core_test.cpp) and under the cores' scheduler (scheduler_test.cpp): the same exact
// times and event counts either way. `scheduled` picks the second.
#include <string>

#include "tests/unit/hw/machine.h"

namespace quiesce::hw_test {

// A spinner waits while another core computes `compute_cycles`, then stores the word it
// waits for. The spinner loads once (first touch: E), sleeps once (one sync), is woken by
// the store's invalidation and reloads once, whatever the length of the wait.
inline void expect_bounded_spin(int64_t compute_cycles, bool scheduled) {
  constexpr Addr kWord = 0x10000;
  Machine m;
  m.set_scheduled(scheduled);
  Time store_done = -1, seen_at = -1;
  uint64_t seen = 0;
  m.run_on(0, "writer", [&] {
    Core& c = m.core(0);
    c.compute(static_cast<uint64_t>(compute_cycles));
    c.store(kWord, 1);
    store_done = c.now();
  });
  m.run_on(1, "spinner", [&] {
    Core& c = m.core(1);
    seen = c.spin_until(kWord, [](uint64_t v) { return v == 1; });
    seen_at = c.now();
  });
  m.run(cycles(compute_cycles) + 10 * kUs);

  ASSERT_TRUE(m.all_done());
  const Core& s = m.core(1);
  EXPECT_EQ(m.mem().transfer_latency(0, 1), kC2cCluster);
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(store_done, cycles(compute_cycles) + kC2cCluster) << "GetM from the spinner's E copy";
  EXPECT_EQ(seen_at, store_done + kC2cCluster) << "reload from the writer's M copy";
  EXPECT_EQ(s.ops.value(), 2u);
  EXPECT_EQ(s.mem_ops.value(), 2u);
  EXPECT_EQ(s.syncs.value(), 1u);
  EXPECT_EQ(s.spin_waits.value(), 1u);
}

// In exact mode an IPI enters its handler exactly irq.ipi.latency after it was raised,
// whatever the receiver is doing: computing, idle, spinning or running short ops.
inline void expect_ipi_entry_identical(bool scheduled) {
  constexpr IrqId kSgi = 2;
  constexpr Addr kWord = 0x20000;
  Machine m(Overrides{{"cores", "5"}});
  m.set_scheduled(scheduled);
  IrqRecorder rec;
  bool got[5] = {};
  rec.work = [&](Core& core, const IrqAck&) { got[core.id()] = true; };
  for (int i = 1; i < 5; ++i) m.core(i).set_irq_handler(&rec);

  Time raised[5] = {}, arrival[5] = {};
  m.run_on(0, "sender", [&] {
    Core& c = m.core(0);
    c.compute(1000);
    for (int t = 1; t < 5; ++t) {
      raised[t] = c.now();
      arrival[t] = c.send_ipi(t, kSgi);
    }
  });
  m.run_on(1, "computing", [&] { m.core(1).compute(1'000'000); });
  m.run_on(2, "idle", [&] { m.core(2).wait_for_interrupt(); });
  m.run_on(3, "spinning", [&] { m.core(3).spin_until(kWord, [&](uint64_t) { return got[3]; }); });
  m.run_on(4, "short_ops", [&] {
    while (!got[4]) m.core(4).alu();
  });
  m.run(2 * kMs);

  ASSERT_TRUE(m.all_done());
  ASSERT_EQ(rec.entries.size(), 4u);
  for (const auto& e : rec.entries) {
    SCOPED_TRACE("receiver cpu" + std::to_string(e.cpu));
    EXPECT_EQ(raised[e.cpu], cycles(1000) + (e.cpu - 1) * kIpiSend);
    EXPECT_EQ(e.ack.raised, raised[e.cpu]);
    EXPECT_EQ(e.ack.arrived, arrival[e.cpu]);
    EXPECT_EQ(arrival[e.cpu], raised[e.cpu] + kIpiArrival);
    EXPECT_EQ(e.at - e.ack.raised, kIpiLatency);
  }
  EXPECT_EQ(m.irq().latency_sgi.min(), m.irq().latency_sgi.max());
}

// A zero-time loop: something keeps waking cpu0 (in WFI, with nothing to take) at one
// simulated time. Past sim.max_delta_cycles the run is stopped as a livelock that names the
// core, at that time, instead of spinning for ever.
inline void expect_zero_time_loop_stopped_as_livelock(bool scheduled) {
  Machine m;
  m.set_scheduled(scheduled);
  m.platform().set_guards(UINT64_MAX, 5000);
  m.run_on(0, "idle", [&] { m.core(0).wait_for_interrupt(); });
  m.spawn("buggy_waker", [&] {
    sc_core::wait(sc_core::sc_time::from_value(3 * kUs));
    while (true) {
      m.core(0).irq_posted(3 * kUs);
      sc_core::wait(sc_core::SC_ZERO_TIME);
    }
  });
  m.run(1 * kSec);
  const Platform::Halt& h = m.platform().halted();
  EXPECT_EQ(h.kind, "livelock");
  EXPECT_EQ(h.when, 3 * kUs);
  EXPECT_NE(h.detail.find("simulated time stopped advancing at 3us"), std::string::npos)
      << h.detail;
  EXPECT_NE(h.detail.find("cpu0 ("), std::string::npos) << h.detail;
  EXPECT_EQ(static_cast<Time>(sc_core::sc_time_stamp().value()), 3 * kUs)
      << "stopped, not run to the end";
}

// sim.max_events stops a core that never stops, long before the run's end.
inline void expect_event_cap_stops_the_run(bool scheduled) {
  Machine m;
  m.set_scheduled(scheduled);
  m.platform().set_guards(1000, 1'000'000);
  m.run_on(0, "loop", [&] {
    while (true) m.core(0).compute(10);
  });
  m.run(1 * kSec);
  const Platform::Halt& h = m.platform().halted();
  EXPECT_EQ(h.kind, "event_limit");
  EXPECT_NE(h.detail.find("more than 1000 events (sim.max_events)"), std::string::npos) << h.detail;
  EXPECT_LT(h.when, 1 * kMs);
  EXPECT_LT(static_cast<Time>(sc_core::sc_time_stamp().value()), 1 * kMs);
}

}  // namespace quiesce::hw_test
