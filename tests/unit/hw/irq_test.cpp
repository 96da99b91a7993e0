// Interrupt controller: priorities and nesting as seen from a core, and IPI latency
// distributions. Each TEST elaborates one machine in its own process.
#include "tests/unit/hw/machine.h"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace quiesce::hw_test {
namespace {

// --- 4. priorities ------------------------------------------------------------------------

std::vector<IrqId> ids_of(const IrqRecorder& rec, int cpu) {
  std::vector<IrqId> out;
  for (const auto& e : rec.entries) {
    if (e.cpu == cpu) out.push_back(e.id);
  }
  return out;
}

const IrqRecorder::Entry* entry_of(const IrqRecorder& rec, IrqId id) {
  for (const auto& e : rec.entries) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

// cpu0: the less urgent SPI arrives first, both while masked; at the restore the more
// urgent one runs first. cpu1: both arrive on the same cycle while interrupts are on.
TEST(IrqPriority, MoreUrgentOfTwoPendingSpisRunsFirst) {
  Machine m;
  IrqRecorder rec;
  constexpr int64_t kWork = 100;
  rec.work = [&](Core& core, const IrqAck&) { core.compute(kWork); };
  m.core(0).set_irq_handler(&rec);
  m.core(1).set_irq_handler(&rec);

  InterruptController& gic = m.irq();
  gic.set_priority(0, 41, 64);  // 40 keeps the default (160)
  gic.post(0, 40, 1 * kUs, 1 * kUs);
  gic.post(0, 41, 2 * kUs, 2 * kUs);
  gic.set_priority(1, 33, 200);
  gic.set_priority(1, 50, 100);
  gic.post(1, 33, 1 * kUs, 1 * kUs);
  gic.post(1, 50, 1 * kUs, 1 * kUs);

  Time restore_end = -1, end1 = -1;
  m.spawn("cpu0", [&] {
    Core& c = m.core(0);
    const bool was = c.local_irq_save();
    c.compute(5000);
    restore_end = c.now() + cycles(kIrqFlagCycles);
    c.local_irq_restore(was);
  });
  m.spawn("cpu1", [&] {
    Core& c = m.core(1);
    c.compute(10'000);
    end1 = c.now();
  });
  m.run(30 * kUs);

  ASSERT_TRUE(m.all_done());
  ASSERT_EQ(ids_of(rec, 0), (std::vector<IrqId>{41, 40}));
  ASSERT_EQ(ids_of(rec, 1), (std::vector<IrqId>{50, 33}));
  const Time between =
      cycles(kWork) + kIrqExit + kIrqEntry;  // one handler's tail and the next entry
  EXPECT_EQ(restore_end, cycles(2 * kIrqFlagCycles + 5000));
  EXPECT_EQ(entry_of(rec, 41)->at, restore_end + kIrqEntry);
  EXPECT_EQ(entry_of(rec, 40)->at, restore_end + kIrqEntry + between);
  EXPECT_EQ(entry_of(rec, 50)->at, 1 * kUs + kIrqEntry);
  EXPECT_EQ(entry_of(rec, 33)->at, 1 * kUs + kIrqEntry + between);
  EXPECT_EQ(end1, cycles(10'000 + 2 * (kIrqEntryCycles + kWork + kIrqExitCycles)));
  for (const auto& e : rec.entries) EXPECT_EQ(e.depth, 1) << "id " << e.id;
}

// A handler that re-enables interrupts is preempted by a strictly more urgent SPI at that
// SPI's arrival cycle; the less urgent handler then finishes its work.
TEST(IrqPriority, MoreUrgentSpiNestsInHandlerThatReenablesIrqs) {
  Machine m;
  IrqRecorder rec;
  constexpr int64_t kOuterWork = 1000, kInnerWork = 50;
  bool outer_active_during_inner = false;
  rec.work = [&](Core& core, const IrqAck& irq) {
    if (irq.id == 40) {
      core.local_irq_enable();
      core.compute(kOuterWork);
      core.local_irq_disable();
    } else {
      outer_active_during_inner = m.irq().active(0, 40);
      core.compute(kInnerWork);
    }
  };
  m.core(0).set_irq_handler(&rec);
  m.irq().set_priority(0, 40, 128);
  m.irq().set_priority(0, 41, 64);
  constexpr Time kOuterArrival = 1 * kUs, kInnerArrival = 1'800'000;
  m.irq().post(0, 40, kOuterArrival, kOuterArrival);
  m.irq().post(0, 41, kInnerArrival, kInnerArrival);

  Time end = -1;
  m.spawn("cpu0", [&] {
    m.core(0).compute(10'000);
    end = m.core(0).now();
  });
  m.run(30 * kUs);

  ASSERT_TRUE(m.all_done());
  ASSERT_EQ(ids_of(rec, 0), (std::vector<IrqId>{40, 41}));
  const auto& outer = *entry_of(rec, 40);
  const auto& inner = *entry_of(rec, 41);
  EXPECT_EQ(outer.at, kOuterArrival + kIrqEntry);
  EXPECT_EQ(outer.depth, 1);
  const Time enabled_at = outer.at + cycles(kIrqFlagCycles);
  ASSERT_GT(kInnerArrival, enabled_at);
  ASSERT_LT(kInnerArrival, enabled_at + cycles(kOuterWork));
  EXPECT_EQ(inner.at, kInnerArrival + kIrqEntry) << "nested at its arrival cycle";
  EXPECT_EQ(inner.at, 2'100'000);
  EXPECT_EQ(inner.depth, 2);
  EXPECT_TRUE(outer_active_during_inner);
  EXPECT_EQ(inner.left, inner.at + cycles(kInnerWork));
  const Time inner_back = inner.left + kIrqExit;
  const Time outer_compute_end = inner_back + cycles(kOuterWork) - (kInnerArrival - enabled_at);
  EXPECT_EQ(outer.left, outer_compute_end + cycles(kIrqFlagCycles));
  EXPECT_EQ(outer.left, 2'856'000);
  EXPECT_EQ(end, cycles(10'000) + (outer.left + kIrqExit - kOuterArrival));
  EXPECT_EQ(m.core(0).irqs.value(), 2u);
}

// An equally urgent and a less urgent SPI arriving while that handler runs with
// interrupts on do not nest: they run after its EOI, the more urgent of them first.
TEST(IrqPriority, EquallyOrLessUrgentSpiWaitsForEoi) {
  Machine m;
  IrqRecorder rec;
  constexpr int64_t kOuterWork = 1000, kWork = 50;
  rec.work = [&](Core& core, const IrqAck& irq) {
    if (irq.id == 40) {
      core.local_irq_enable();
      core.compute(kOuterWork);
      core.local_irq_disable();
    } else {
      core.compute(kWork);
    }
  };
  m.core(0).set_irq_handler(&rec);
  InterruptController& gic = m.irq();
  gic.set_priority(0, 40, 128);
  gic.set_priority(0, 42, 128);  // equally urgent
  gic.set_priority(0, 36, 192);  // less urgent, and a lower id
  gic.post(0, 40, 1 * kUs, 1 * kUs);
  gic.post(0, 36, 1'500'000, 1'500'000);
  gic.post(0, 42, 1'600'000, 1'600'000);

  Time end = -1;
  m.spawn("cpu0", [&] {
    m.core(0).compute(10'000);
    end = m.core(0).now();
  });
  m.run(30 * kUs);

  ASSERT_TRUE(m.all_done());
  ASSERT_EQ(ids_of(rec, 0), (std::vector<IrqId>{40, 42, 36}));
  for (const auto& e : rec.entries) EXPECT_EQ(e.depth, 1) << "id " << e.id << " must not nest";
  const auto& outer = *entry_of(rec, 40);
  EXPECT_EQ(outer.at, 1 * kUs + kIrqEntry);
  EXPECT_EQ(outer.left, outer.at + cycles(2 * kIrqFlagCycles + kOuterWork)) << "not preempted";
  const Time eoi_back = outer.left + kIrqExit;
  EXPECT_EQ(entry_of(rec, 42)->at, eoi_back + kIrqEntry);
  EXPECT_EQ(entry_of(rec, 36)->at, entry_of(rec, 42)->at + cycles(kWork) + kIrqExit + kIrqEntry);
  EXPECT_EQ(entry_of(rec, 36)->at, 3'356'000);
  EXPECT_EQ(end, cycles(10'000) + (entry_of(rec, 36)->left + kIrqExit - 1 * kUs));
}

// An id that arrives again while pending is merged into it (one handler run); one that
// arrives while its handler runs pends again and runs after EOI.
TEST(IrqPending, ArrivalWhilePendingMergesAndArrivalWhileActiveRunsAgainAfterEoi) {
  Machine m;
  IrqRecorder rec;
  constexpr int64_t kWork = 1000;
  rec.work = [&](Core& core, const IrqAck&) { core.compute(kWork); };
  m.core(0).set_irq_handler(&rec);
  m.irq().post(0, 40, 1 * kUs, 1 * kUs);
  m.irq().post(0, 40, 2 * kUs, 2 * kUs);  // merged: still pending from 1us
  const Time restore_end = cycles(2 * kIrqFlagCycles + 5000);
  const Time during_handler = restore_end + kIrqEntry + cycles(kWork / 2);
  m.irq().post(0, 40, during_handler, during_handler);
  m.spawn("cpu0", [&] {
    Core& c = m.core(0);
    const bool was = c.local_irq_save();
    c.compute(5000);
    c.local_irq_restore(was);
  });
  m.run(30 * kUs);

  ASSERT_TRUE(m.all_done());
  ASSERT_EQ(rec.entries.size(), 2u);
  EXPECT_EQ(rec.entries[0].at, restore_end + kIrqEntry);
  EXPECT_EQ(rec.entries[0].ack.raised, 1 * kUs) << "the merged arrival keeps the first raise";
  EXPECT_EQ(rec.entries[1].at, rec.entries[0].left + kIrqExit + kIrqEntry);
  EXPECT_EQ(rec.entries[1].ack.arrived, during_handler);
  EXPECT_EQ(m.irq().merged.value(), 1u);
  EXPECT_EQ(m.irq().delivered.value(), 2u);
  EXPECT_EQ(m.irq().posted.value(), 3u);
}

// --- 5. IPI latency distributions ---------------------------------------------------------

struct DistCase {
  std::string name;
  std::string yaml;     // irq.ipi.latency
  double mean, stddev;  // from the parameters, by hand
  Time lower_bound;
  std::vector<Time> support;  // empirical / fixed: the only values a sample may take
};

void PrintTo(const DistCase& c, std::ostream* os) { *os << c.name << " " << c.yaml; }

class IpiLatencyDist : public ::testing::TestWithParam<DistCase> {};

// Samples the distribution through send_sgi and compares the sample mean and standard
// deviation with the analytic ones. With N samples the mean's standard error is
// sd / sqrt(N) and the standard deviation's is about sqrt(m4 - s^4) / (2 s sqrt(N)) (m4 the
// fourth central moment, estimated from the sample); 4 standard errors bound a false
// failure at under 1e-4, and the stream is seeded, so the outcome is deterministic anyway.
TEST_P(IpiLatencyDist, SampledMeanAndStddevMatchTheDistribution) {
  const DistCase& dc = GetParam();
  // Entry, acknowledge and send of one cycle each: every sample lies past the fixed costs
  // taken off the end-to-end latency, so arrivals give the samples back exactly.
  Machine m({{"irq.ipi.latency", dc.yaml}, {"core.op.irq_entry", "1"}, {"irq.ipi.receive_cost", "1"},
             {"core.op.ipi_send", "1"}});
  InterruptController& gic = m.irq();
  const Distribution& d = gic.ipi_latency();
  EXPECT_NEAR(d.mean(), dc.mean, 1e-9 * dc.mean) << d.describe();
  EXPECT_NEAR(d.stddev(), dc.stddev, 1e-9 * dc.mean + 1e-9) << d.describe();
  EXPECT_EQ(d.lower_bound(), dc.lower_bound);

  constexpr int kN = 20'000;
  std::vector<double> xs;
  xs.reserve(kN);
  for (int i = 0; i < kN; ++i) {
    const Time raise = static_cast<Time>(i) * kUs;
    const Time arrival = gic.send_sgi(0, 1, 1, raise, cycles(1));
    const Time lat = arrival - raise + cycles(2);
    ASSERT_GE(lat, dc.lower_bound);
    if (!dc.support.empty()) {
      ASSERT_TRUE(std::find(dc.support.begin(), dc.support.end(), lat) != dc.support.end()) << lat;
    }
    xs.push_back(static_cast<double>(lat));
  }
  EXPECT_EQ(gic.sgis_sent.value(), static_cast<uint64_t>(kN));

  double mean = 0;
  for (double x : xs) mean += x;
  mean /= kN;
  double m2 = 0, m4 = 0;
  for (double x : xs) {
    const double dx = x - mean;
    m2 += dx * dx;
    m4 += dx * dx * dx * dx;
  }
  m2 /= kN;
  m4 /= kN;
  const double sd = std::sqrt(m2 * kN / (kN - 1));
  const double se_mean = d.stddev() / std::sqrt(static_cast<double>(kN));
  EXPECT_NEAR(mean, d.mean(), 4 * se_mean + 1.0) << d.describe();
  if (d.stddev() == 0) {
    EXPECT_EQ(sd, 0.0);
  } else {
    const double se_sd = std::sqrt(std::max(m4 - m2 * m2, 0.0) / kN) / (2 * sd);
    EXPECT_NEAR(sd, d.stddev(), 4 * se_sd) << d.describe();
  }
}

const double kLognormalMean = 1e6 * std::exp(0.25 * 0.25 / 2);
const double kEmpiricalMean = (500e3 * 1 + 1e6 * 2 + 2e6 * 1) / 4;
const double kEmpiricalVar =
    (std::pow(500e3 - kEmpiricalMean, 2) * 1 + std::pow(1e6 - kEmpiricalMean, 2) * 2 +
     std::pow(2e6 - kEmpiricalMean, 2) * 1) /
    4;

INSTANTIATE_TEST_SUITE_P(
    AllKinds, IpiLatencyDist,
    ::testing::Values(
        DistCase{"fixed", "{dist: fixed, value: 750ns}", 750e3, 0, 750 * kNs, {750 * kNs}},
        DistCase{"uniform",
                 "{dist: uniform, min: 500ns, max: 1500ns}",
                 1e6,
                 1e6 / std::sqrt(12.0),
                 500 * kNs,
                 {}},
        // Normal and lognormal are truncated at 6 sigma (dist.h): mean - 6 sd = 400ns.
        DistCase{"normal", "{dist: normal, mean: 1us, stddev: 100ns}", 1e6, 1e5, 400 * kNs, {}},
        DistCase{"lognormal",
                 "{dist: lognormal, median: 1us, sigma: 0.25}",
                 kLognormalMean,
                 kLognormalMean* std::sqrt(std::exp(0.25 * 0.25) - 1),
                 223130,  // 1us * e^(-6 * 0.25), the 6-sigma truncation, in ps
                 {}},
        DistCase{"exponential",
                 "{dist: exponential, mean: 500ns, min: 200ns}",
                 700e3,
                 500e3,
                 200 * kNs,
                 {}},
        DistCase{"empirical",
                 "{dist: empirical, values: [500ns, 1us, 2us], weights: [1, 2, 1]}",
                 kEmpiricalMean,
                 std::sqrt(kEmpiricalVar),
                 500 * kNs,
                 {500 * kNs, 1 * kUs, 2 * kUs}}),
    [](const ::testing::TestParamInfo<DistCase>& info) { return info.param.name; });

// End to end: a delivered SGI's handler starts at raise + irq.ipi.latency on a receiver
// busy computing with interrupts on; it arrives that less the entry and acknowledge cycles.
TEST(IpiLatency, DeliveredSgiEntryIsRaisePlusTheEndToEndLatency) {
  Machine m;
  IrqRecorder rec;
  m.core(0).set_irq_handler(&rec);
  Time raised = -1, arrival = -1, sender_after = -1;
  m.spawn("receiver", [&] { m.core(0).compute(10'000); });
  m.spawn("sender", [&] {
    Core& c = m.core(1);
    c.compute(2000);
    raised = c.now();
    arrival = c.send_ipi(0, 5);
    sender_after = c.now();
  });
  m.run(30 * kUs);

  ASSERT_TRUE(m.all_done());
  EXPECT_EQ(raised, cycles(2000));
  EXPECT_EQ(sender_after, raised + kIpiSend);
  EXPECT_EQ(arrival, raised + kIpiArrival);
  ASSERT_EQ(rec.entries.size(), 1u);
  const auto& e = rec.entries[0];
  EXPECT_EQ(e.id, 5);
  EXPECT_EQ(e.ack.source, 1);
  EXPECT_EQ(e.ack.raised, raised);
  EXPECT_EQ(e.ack.arrived, arrival);
  EXPECT_EQ(e.at, raised + kIpiLatency);
  EXPECT_EQ(e.at, 3'000'000) << "raised at 2 us, 1 us end to end";
  EXPECT_EQ(m.irq().latency_sgi.count(), 1u);
  EXPECT_EQ(m.irq().latency_sgi.min(), e.at - raised);
  EXPECT_EQ(m.irq().delivered.value(), 1u);
}

}  // namespace
}  // namespace quiesce::hw_test

// --- injected faults (sim/hw/fault.h) ------------------------------------------------------

namespace quiesce::hw_test {
namespace {

// Sends `n` SGIs from cpu1 to cpu0, 10 us apart, and records cpu0's handler entries.
std::vector<IrqRecorder::Entry> sgi_entries(Machine& m, int n) {
  IrqRecorder rec;
  m.core(0).set_irq_handler(&rec);
  m.spawn("sender", [&m, n] {
    for (int i = 0; i < n; ++i) {
      m.core(1).send_ipi(0, 3);
      m.core(1).compute(10'000);
    }
  });
  m.spawn("receiver", [&m] { m.core(0).compute(1'000'000); });
  m.run(2 * kMs);
  m.core(0).set_irq_handler(nullptr);
  return rec.entries;
}

TEST(IrqFaults, EveryIpiLostWithProbabilityOne) {
  Machine m(Overrides{{"fault.ipi.loss", "1"}});
  EXPECT_TRUE(sgi_entries(m, 20).empty());
  EXPECT_EQ(m.irq().ipis_lost.value(), 20u);
  EXPECT_EQ(m.irq().sgis_sent.value(), 20u) << "the sender cannot tell";
}

TEST(IrqFaults, ADuplicatedIpiRunsItsHandlerTwiceTheGapApart) {
  Machine m({{"fault.ipi.duplicate", "1"}, {"fault.ipi.duplicate_gap", "3us"}});
  const auto e = sgi_entries(m, 5);
  ASSERT_EQ(e.size(), 10u);
  for (size_t i = 0; i < e.size(); i += 2) EXPECT_EQ(e[i + 1].ack.arrived - e[i].ack.arrived, 3 * kUs) << i;
  EXPECT_EQ(m.irq().ipis_duplicated.value(), 5u);
}

TEST(IrqFaults, ADelayedIpiArrivesLaterByTheDelay) {
  Machine m({{"fault.ipi.delay_probability", "1"}, {"fault.ipi.delay", "7us"}});
  const auto e = sgi_entries(m, 3);
  ASSERT_EQ(e.size(), 3u);
  for (const auto& x : e) EXPECT_EQ(x.ack.arrived - x.ack.raised, kIpiArrival + 7 * kUs);
  EXPECT_EQ(m.irq().ipis_delayed.value(), 3u);
}

TEST(IrqFaults, SomeIpisLostAtAnIntermediateProbability) {
  Machine m(Overrides{{"fault.ipi.loss", "0.5"}});
  const auto e = sgi_entries(m, 100);
  EXPECT_EQ(e.size() + m.irq().ipis_lost.value(), 100u);
  EXPECT_GT(e.size(), 30u);
  EXPECT_LT(e.size(), 70u);
}

// The stalled core retires nothing and takes nothing in its window: an SPI that arrives
// inside it is taken right after, and the core's compute ends the window's length late.
TEST(CoreFaults, AStalledCoreRetiresNothingAndTakesNoInterruptInItsWindow) {
  Machine m({{"fault.core.stall.cpu", "0"}, {"fault.core.stall.at", "5us"}, {"fault.core.stall.for", "20us"}});
  IrqRecorder rec;
  m.core(0).set_irq_handler(&rec);
  m.irq().post(0, 40, 10 * kUs, 10 * kUs);
  Time end = -1;
  m.spawn("cpu0", [&] {
    for (int i = 0; i < 100; ++i) m.core(0).compute(100);  // 10 us of work in 100 ns steps
    end = m.core(0).now();
  });
  m.run(100 * kUs);
  ASSERT_TRUE(m.all_done());
  ASSERT_EQ(rec.entries.size(), 1u);
  EXPECT_EQ(rec.entries[0].at, 25 * kUs + kIrqEntry) << "taken at the stall's end";
  EXPECT_EQ(end, cycles(10'000) + 20 * kUs + kIrqEntry + kIrqExit);
  EXPECT_EQ(m.core(0).stalls.value(), 1u);
}

// A stuck line pends again at every EOI: the handler runs back to back from `at`.
TEST(IrqFaults, AStuckLineRepeatsAtEveryEoi) {
  Machine m({{"fault.irq.stuck.id", "45"}, {"fault.irq.stuck.cpu", "1"}, {"fault.irq.stuck.at", "2us"}});
  IrqRecorder rec;
  rec.work = [](Core& core, const IrqAck&) { core.compute(100); };
  m.core(1).set_irq_handler(&rec);
  m.spawn("cpu1", [&] { m.core(1).compute(20'000); });
  m.run(30 * kUs);
  ASSERT_GT(rec.entries.size(), 10u);
  EXPECT_EQ(rec.entries[0].at, 2 * kUs + kIrqEntry);
  const Time each = kIrqEntry + cycles(100) + kIrqExit;
  EXPECT_EQ(rec.entries[1].at - rec.entries[0].at, each);
  for (const auto& e : rec.entries) EXPECT_EQ(e.id, 45);
}

}  // namespace
}  // namespace quiesce::hw_test
