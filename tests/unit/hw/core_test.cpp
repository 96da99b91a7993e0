// Core: op costs, interrupt boundaries (masking, compute splitting), spinning, and the
// exact mode against a quantum. Each TEST elaborates one machine in its own process.
#include "tests/unit/hw/cases.h"
#include "tests/unit/hw/machine.h"

#include <string>
#include <vector>

namespace quiesce::hw_test {
namespace {

constexpr IrqId kSpiA = 40;
constexpr IrqId kSpiB = 41;
constexpr IrqId kSgi = 2;
constexpr Addr kX = 0x10000;
constexpr Addr kY = 0x20000;

// --- 1. op costs ------------------------------------------------------------------------

TEST(CoreOpCost, EachOpAdvancesLocalTimeByItsConfiguredCycles) {
  Machine m;
  Core& c = m.core(0);
  struct Measured {
    std::string what;
    Time got, want;
  };
  std::vector<Measured> measured;
  uint64_t hal_calls = 0;
  Time ipi_raised = -1, ipi_arrival = -1;
  int preempt_after_inc = -1, preempt_after_dec = -1;
  bool irqs_after_save = true, irqs_after_restore = false;
  uint64_t loaded = 99, cas_old = 99;

  m.spawn("cpu0", [&] {
    auto cost = [&](const std::string& what, Time want, auto&& op) {
      const Time t0 = c.now();
      op();
      ++hal_calls;
      measured.push_back({what, c.now() - t0, want});
    };
    cost("compute(7)", cycles(7), [&] { c.compute(7); });
    cost("compute(5000), across the lookahead horizon", cycles(5000), [&] { c.compute(5000); });
    cost("alu()", cycles(kAluCycles), [&] { c.alu(); });
    cost("alu(3)", cycles(3 * kAluCycles), [&] { c.alu(3); });
    cost("barrier()", cycles(kFlushCycles), [&] { c.barrier(); });
    bool was = false;
    cost("local_irq_save()", cycles(kIrqFlagCycles), [&] { was = c.local_irq_save(); });
    irqs_after_save = c.irqs_enabled();
    cost("local_irq_restore()", cycles(kIrqFlagCycles), [&] { c.local_irq_restore(was); });
    irqs_after_restore = c.irqs_enabled();
    cost("local_irq_disable()", cycles(kIrqFlagCycles), [&] { c.local_irq_disable(); });
    cost("local_irq_enable()", cycles(kIrqFlagCycles), [&] { c.local_irq_enable(); });
    cost("preempt_add(1)", cycles(kPreemptCycles), [&] { c.preempt_add(1); });
    preempt_after_inc = c.preempt_count();
    cost("preempt_add(-1)", cycles(kPreemptCycles), [&] { c.preempt_add(-1); });
    preempt_after_dec = c.preempt_count();
    cost("send_ipi() sender side", kIpiSend, [&] {
      ipi_raised = c.now();
      ipi_arrival = c.send_ipi(1, kSgi);
    });
    cost("set_timer()", cycles(kTimerProgramCycles), [&] { c.set_timer(c.now() + kMs); });
    cost("cancel_timer()", cycles(kTimerProgramCycles), [&] { c.cancel_timer(); });
    cost("load, first touch (DRAM)", kDram, [&] { c.load(kX); });
    cost("load hit (E)", kL1Hit, [&] { loaded = c.load(kX); });
    cost("store hit (E -> M)", kL1Hit, [&] { c.store(kX, 5); });
    cost("load hit (M)", kL1Hit, [&] { c.load(kX); });
    cost("cas hit (M): the atomic covers the hit", std::max(kL1Hit, kAtomic), [&] { cas_old = c.cas(kX, 5, 6); });
    cost("fetch_add hit (M)", std::max(kL1Hit, kAtomic), [&] { c.fetch_add(kX, 1); });
    cost("xchg hit (M)", std::max(kL1Hit, kAtomic), [&] { c.xchg(kX, 9); });
  });
  m.run(10 * kUs);

  ASSERT_TRUE(m.all_done());
  for (const auto& x : measured) EXPECT_EQ(x.got, x.want) << x.what;
  EXPECT_EQ(c.ops.value(), hal_calls) << "one instruction boundary per HAL call";
  EXPECT_EQ(c.irqs.value(), 0u);
  EXPECT_FALSE(irqs_after_save);
  EXPECT_TRUE(irqs_after_restore);
  EXPECT_EQ(preempt_after_inc, 1);
  EXPECT_EQ(preempt_after_dec, 0);
  EXPECT_EQ(ipi_arrival, ipi_raised + kIpiArrival);
  EXPECT_EQ(loaded, 0u);
  EXPECT_EQ(cas_old, 5u);
  EXPECT_EQ(m.mem().peek(kX), 9u);
}

// --- 2. masked interrupts wait for the restoring op ---------------------------------------

TEST(CoreMaskedIrq, SpiArrivedWhileMaskedIsTakenAtOuterIrqRestore) {
  Machine m;
  Core& c = m.core(0);
  IrqRecorder rec;
  c.set_irq_handler(&rec);
  constexpr Time kArrival = 1 * kUs;
  m.irq().post(0, kSpiA, kArrival, kArrival);

  size_t handled_before_inner = 99, handled_after_inner = 99;
  Time inner_restore_end = -1, outer_restore_start = -1, outer_restore_returned = -1;
  m.spawn("cpu0", [&] {
    const bool outer = c.local_irq_save();  // 0 -> 3 cycles
    const bool inner = c.local_irq_save();  // nested, already off
    c.compute(5000);                        // the SPI arrives in here
    handled_before_inner = rec.entries.size();
    c.local_irq_restore(inner);  // still masked
    inner_restore_end = c.now();
    handled_after_inner = rec.entries.size();
    outer_restore_start = c.now();
    c.local_irq_restore(outer);
    outer_restore_returned = c.now();
  });
  m.run(20 * kUs);

  ASSERT_TRUE(m.all_done());
  EXPECT_EQ(handled_before_inner, 0u);
  EXPECT_EQ(handled_after_inner, 0u) << "a restore that leaves irqs off must not take it";
  EXPECT_EQ(inner_restore_end, cycles(3 * kIrqFlagCycles + 5000));
  ASSERT_EQ(rec.entries.size(), 1u);
  const auto& e = rec.entries[0];
  const Time restore_end = outer_restore_start + cycles(kIrqFlagCycles);
  EXPECT_EQ(e.id, kSpiA);
  EXPECT_EQ(e.at, restore_end + kIrqEntry);
  EXPECT_EQ(e.at, cycles(4 * kIrqFlagCycles + 5000 + kIrqEntryCycles));
  EXPECT_EQ(e.ack.arrived, kArrival);
  EXPECT_EQ(e.ack.raised, kArrival);
  EXPECT_EQ(outer_restore_returned, e.at + kIrqExit);
  EXPECT_EQ(m.irq().latency_spi.count(), 1u);
  EXPECT_EQ(m.irq().latency_spi.max(), e.at - kArrival);
}

TEST(CoreMaskedIrq, SgiArrivedWhileMaskedIsTakenAtIrqEnablePlusReceiveCost) {
  Machine m;
  Core& c = m.core(0);
  IrqRecorder rec;
  c.set_irq_handler(&rec);

  Time arrival = -1, enable_start = -1;
  size_t handled_before_enable = 99;
  m.spawn("cpu1", [&] { arrival = m.core(1).send_ipi(0, kSgi); });
  m.spawn("cpu0", [&] {
    c.local_irq_disable();
    c.compute(3000);
    handled_before_enable = rec.entries.size();
    enable_start = c.now();
    c.local_irq_enable();
  });
  m.run(20 * kUs);

  ASSERT_TRUE(m.all_done());
  EXPECT_EQ(arrival, kIpiArrival);
  EXPECT_LT(arrival, enable_start) << "the SGI must arrive while masked for this test";
  EXPECT_EQ(handled_before_enable, 0u);
  ASSERT_EQ(rec.entries.size(), 1u);
  EXPECT_EQ(rec.entries[0].id, kSgi);
  EXPECT_EQ(rec.entries[0].ack.source, 1);
  EXPECT_EQ(rec.entries[0].at, enable_start + cycles(kIrqFlagCycles) + kIrqEntry + kIpiReceive);
  EXPECT_EQ(rec.entries[0].at,
            cycles(2 * kIrqFlagCycles + 3000 + kIrqEntryCycles + kIpiReceiveCycles));
}

// The per-CPU timer (PPI 30) fires at its deadline from WFI; reprogramming replaces the
// pending deadline and cancel_timer drops it.
TEST(CoreTimer, TimerFiresAtItsDeadlineAndReprogrammingReplacesIt) {
  Machine m;
  IrqRecorder rec;
  m.core(0).set_irq_handler(&rec);
  Time after_wfi = -1, end = -1;
  m.spawn("cpu0", [&] {
    Core& c = m.core(0);
    c.set_timer(3 * kUs);
    c.set_timer(5 * kUs);  // replaces the 3us deadline
    c.wait_for_interrupt();
    after_wfi = c.now();
    c.set_timer(8 * kUs);
    c.cancel_timer();
    c.compute(10'000);
    end = c.now();
  });
  m.run(30 * kUs);

  ASSERT_TRUE(m.all_done());
  ASSERT_EQ(rec.entries.size(), 1u);
  EXPECT_EQ(rec.entries[0].id, kTimerPpi);
  EXPECT_EQ(rec.entries[0].ack.raised, 5 * kUs);
  EXPECT_EQ(rec.entries[0].at, 5 * kUs + kIrqEntry) << "no receive cost for a PPI";
  EXPECT_EQ(after_wfi, rec.entries[0].at + kIrqExit);
  EXPECT_EQ(end, after_wfi + cycles(2 * kTimerProgramCycles + 10'000));
  EXPECT_EQ(m.irq().latency_ppi.count(), 1u);
  EXPECT_EQ(m.irq().latency_ppi.max(), kIrqEntry);
  EXPECT_EQ(m.core(0).wfi.value(), 1u);
}

// --- 3. a long compute is split at the arrival cycle ---------------------------------------

TEST(CoreComputeSplit, InterruptDuringLongComputeLandsOnItsArrivalCycle) {
  Machine m;
  Core& c = m.core(0);
  IrqRecorder rec;
  constexpr int64_t kWork = 100;
  rec.work = [&](Core& core, const IrqAck&) { core.compute(kWork); };
  c.set_irq_handler(&rec);
  constexpr Time kMidCycle = 2'500'500;  // half-way through cycle 2500
  constexpr Time kOnCycle = 6'000'000;   // exactly on a cycle boundary
  m.irq().post(0, kSpiA, kMidCycle, kMidCycle);
  m.irq().post(0, kSpiB, kOnCycle, kOnCycle);

  Time compute_end = -1;
  m.spawn("cpu0", [&] {
    c.compute(10'000);
    compute_end = c.now();
  });
  m.run(30 * kUs);

  ASSERT_TRUE(m.all_done());
  ASSERT_EQ(rec.entries.size(), 2u);
  EXPECT_EQ(rec.entries[0].id, kSpiA);
  EXPECT_EQ(rec.entries[0].at, ceil_cycle(kMidCycle) + kIrqEntry);
  EXPECT_EQ(rec.entries[0].at, 2'801'000);
  EXPECT_EQ(rec.entries[1].id, kSpiB);
  EXPECT_EQ(rec.entries[1].at, kOnCycle + kIrqEntry);
  EXPECT_EQ(compute_end, cycles(10'000 + 2 * (kIrqEntryCycles + kWork + kIrqExitCycles)));
  EXPECT_EQ(c.irqs.value(), 2u);
  // compute() is one instruction however often it is split; each handler's compute is one.
  EXPECT_EQ(c.ops.value(), 3u);
}

// --- 8. a spinning waiter costs a bounded number of events ---------------------------------

// The case itself (also run under the cores' scheduler) is in cases.h.
TEST(CoreSpinWait, SpinningThrough1usCostsFewEvents) { expect_bounded_spin(1000, false); }

TEST(CoreSpinWait, SpinningThrough1msCostsTheSameFewEvents) {
  expect_bounded_spin(1'000'000, false);
}

// An interrupt taken at the boundary of the spin's own load runs a handler that touches
// another line (already written once, so its write count is 1) while the awaited word is
// written (its count goes 0 -> 1). The spinner must still notice that write when it goes
// to sleep, instead of comparing the awaited line's count with the handler's line's.
TEST(CoreSpinWait, WriteWhileAnInterruptRunsAtTheSpinLoadIsNotMissed) {
  Machine m(Overrides{{"cores", "3"}});
  IrqRecorder rec;
  rec.work = [&](Core& core, const IrqAck&) {
    core.compute(1000);  // irqs off: runs ahead, then the load below synchronises
    core.load(kY);
  };
  m.core(1).set_irq_handler(&rec);
  constexpr Time kArrival = 50 * kNs;  // during the spinner's first load (a DRAM fill)
  m.irq().post(1, kSpiA, kArrival, kArrival);
  Time store_done = -1, seen_at = -1;
  uint64_t seen = 0;
  m.spawn("other_line", [&] { m.core(2).store(kY, 5); });  // kY written once
  m.spawn("writer", [&] {
    Core& c = m.core(0);
    c.compute(500);
    c.store(kX, 1);
    store_done = c.now();
  });
  m.spawn("spinner", [&] {
    Core& c = m.core(1);
    seen = c.spin_until(kX, [](uint64_t v) { return v == 1; });
    seen_at = c.now();
  });
  m.run(100 * kUs);

  ASSERT_TRUE(m.all_done()) << "the spinner slept through the write";
  ASSERT_EQ(rec.entries.size(), 1u);
  EXPECT_EQ(rec.entries[0].at, kDram + kIrqEntry) << "taken at the end of the spin's load";
  EXPECT_EQ(store_done, cycles(500) + kC2cCluster) << "GetM from the spinner's E copy";
  const Time handler_back = rec.entries[0].at + cycles(1000) + kC2cCluster + kIrqExit;
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(seen_at, handler_back + kC2cCluster) << "one reload from the writer's M copy";
}

// The spinner's copy is evicted (by its handler, in a one-set L1) before it sleeps, so the
// writer's read finds no other copy and gets the line in E; its store then hits silently
// (E -> M, no directory traffic). That write must still wake the spinner.
TEST(CoreSpinWait, SilentWriteToALineTheSpinnerLostIsNotMissed) {
  Machine m(Overrides{{"mem.l1.size", "128B"}, {"mem.l1.ways", "2"}});
  constexpr Addr kOther1 = 0x30000, kOther2 = 0x40000;
  IrqRecorder rec;
  rec.work = [&](Core& core, const IrqAck&) {
    core.load(kOther1);
    core.load(kOther2);  // evicts kX from the spinner's only set
  };
  m.core(1).set_irq_handler(&rec);
  m.irq().post(1, kSpiA, 50 * kNs, 50 * kNs);  // during the spinner's first load
  Time store_done = -1, seen_at = -1;
  uint64_t seen = 0;
  Mesi spinner_state_before_store = Mesi::M, writer_state_before_store = Mesi::I;
  m.spawn("writer", [&] {
    Core& c = m.core(0);
    c.compute(1000);
    c.load(kX);
    writer_state_before_store = m.mem().state(0, kX);
    spinner_state_before_store = m.mem().state(1, kX);
    c.store(kX, 1);
    store_done = c.now();
  });
  m.spawn("spinner", [&] {
    Core& c = m.core(1);
    seen = c.spin_until(kX, [](uint64_t v) { return v == 1; });
    seen_at = c.now();
  });
  m.run(100 * kUs);

  ASSERT_TRUE(m.all_done()) << "the spinner slept through the write";
  EXPECT_EQ(spinner_state_before_store, Mesi::I);
  EXPECT_EQ(writer_state_before_store, Mesi::E);
  EXPECT_EQ(store_done, cycles(1000) + kLlcHit + kL1Hit);
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(seen_at, store_done + kC2cCluster) << "woken at the write, one reload from M";
  EXPECT_EQ(m.core(1).spin_waits.value(), 1u);
}

// --- 9. exact mode versus a quantum --------------------------------------------------------

// With quantum 0 an SGI's handler starts raise + send + latency + entry + receive after
// it was raised, whether the receiver computes, idles in WFI, spins on a line, or runs
// short instructions.
TEST(CoreExactMode, IpiEntryIsIdenticalWhateverTheReceiverIsDoing) {
  expect_ipi_entry_identical(false);
}

// One core driven by one process and then, in the same delta cycle, by another (hw-pingpong
// starts each measurement in new threads): the second does not inherit the first's
// horizon. The first ran alone (nobody else had anything pending); when the second starts,
// another core's process is runnable at the same time, so a store 1000 cycles ahead waits
// for it, and that core's load at time 0 reads the old value. Before, the horizon was kept
// per delta cycle and time only: the store ran ahead and the earlier load saw it.
TEST(CoreExactMode, ANewProcessOnACoreDoesNotInheritTheLastOnesHorizon) {
  Machine m;
  Core& c0 = m.core(0);
  Core& c1 = m.core(1);
  uint64_t seen = 99;
  Time seen_at = -1, stored_at = -1, restarted_at = -1;
  m.spawn("driver", [&] {
    sc_core::sc_spawn_options o;
    o.set_stack_size(256 * 1024);
    auto alone = sc_core::sc_spawn([&] { c0.store(kY, 5); }, "alone", &o);
    sc_core::wait(alone.terminated_event());
    restarted_at = static_cast<Time>(sc_core::sc_time_stamp().value());
    auto writer = sc_core::sc_spawn(
        [&] {
          c0.compute(1000);
          c0.store(kX, 1);
          stored_at = c0.now();
        },
        "writer", &o);
    auto reader = sc_core::sc_spawn(
        [&] {
          seen = c1.load(kX);
          seen_at = c1.now();
        },
        "reader", &o);
    sc_core::wait(writer.terminated_event() & reader.terminated_event());
  });
  m.run(100 * kUs);

  ASSERT_TRUE(m.all_done());
  EXPECT_EQ(restarted_at, 0) << "the case needs the second process to start at the first's time";
  EXPECT_EQ(seen, 0u) << "the load done at " << seen_at << " ps saw the store done at " << stored_at
                      << " ps";
  EXPECT_LT(seen_at, stored_at) << "the load, issued at time 0, is served first";
}

// With a 1us quantum memory operations run on local time without synchronising: the
// ping-pong must still hand the word back and forth correctly, and its time must stay
// within a quantum of the exact figure.
TEST(CoreQuantum, PingPongCompletesWithinAQuantumOfExact) {
  constexpr Time kQuantum = 1 * kUs;
  constexpr int kRounds = 20;
  Machine m({}, kQuantum);
  CasPingPong pp;
  spawn_cas_pingpong(m, 0, 1, kX, kRounds, &pp);
  m.run(1 * kMs);

  ASSERT_TRUE(m.all_done());
  ASSERT_EQ(pp.a_old.size(), static_cast<size_t>(kRounds));
  ASSERT_EQ(pp.b_old.size(), static_cast<size_t>(kRounds));
  for (uint64_t k = 0; k < kRounds; ++k) {
    EXPECT_EQ(pp.a_old[k], 2 * k) << "round " << k;
    EXPECT_EQ(pp.b_old[k], 2 * k + 1) << "round " << k;
  }
  EXPECT_EQ(pp.a_last_seen, 2u * kRounds);
  EXPECT_EQ(m.mem().peek(kX), 2u * kRounds);
  // Exact steady state (see MesiPingPong in mem_test.cpp): per half round a reload from
  // the other's M copy, then an upgrade that the atomic's own execution overlaps.
  const Time c2c = kC2cCluster;
  const Time exact_round = 2 * (c2c + std::max({kLlcHit, c2c, kAtomic}));
  const Time measured = pp.a_cas_done.back() - pp.a_cas_done.front();
  const Time exact = (kRounds - 1) * exact_round;
  EXPECT_LE(std::llabs(measured - exact), kQuantum)
      << "measured " << measured << " exact " << exact;
}

}  // namespace
}  // namespace quiesce::hw_test

namespace quiesce::hw_test {
namespace {

// Regression: with nothing else pending, exact mode let a core run ahead without bound, so
// a core that never stops (here a loop with interrupts off; before, an interrupt storm)
// kept SystemC time from reaching the end of the run: sc_start never returned.
TEST(CoreProgress, ACoreThatNeverStopsStillLetsTheRunEnd) {
  Machine m;
  Time reached = 0;
  m.spawn("loop", [&] {
    Core& c = m.core(0);
    c.local_irq_disable();
    while (true) {
      c.compute(100);
      reached = c.now();
    }
  });
  m.run(50 * kUs);
  EXPECT_EQ(static_cast<Time>(sc_core::sc_time_stamp().value()), 50 * kUs);
  EXPECT_GE(reached, 50 * kUs);
  EXPECT_LE(reached, 50 * kUs + kMaxRunAhead + cycles(100));
}

}  // namespace
}  // namespace quiesce::hw_test

namespace quiesce::hw_test {
namespace {

TEST(CoreProgress, AZeroTimeLoopIsStoppedAsALivelockNamingTheProcess) {
  expect_zero_time_loop_stopped_as_livelock(false);
}

TEST(CoreProgress, TheEventCapStopsTheRun) { expect_event_cap_stops_the_run(false); }

}  // namespace
}  // namespace quiesce::hw_test
