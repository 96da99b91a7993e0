// The cores' scheduler (Core::start_software): the software of every core on one SystemC
// thread, switched as fibers. The same exact timings as cores on SystemC threads of their
// own, ties in CPU-id order, other SystemC processes first at one time, nothing at or past
// the run's end, and the guards and exceptions still reaching the run. Each TEST elaborates
// one machine in its own process.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/unit/hw/cases.h"
#include "tests/unit/hw/machine.h"

namespace quiesce::hw_test {
namespace {

constexpr Addr kX = 0x10000;
constexpr Addr kY = 0x20000;

// The cases core_test.cpp runs on SystemC threads (cases.h), under the scheduler.
TEST(CoreScheduler, SpinningHasTheExactTimesAndFewEventsOfSystemCThreads) {
  expect_bounded_spin(1'000'000, true);
}

TEST(CoreScheduler, IpiEntryIsIdenticalWhateverTheReceiverIsDoing) {
  expect_ipi_entry_identical(true);
}

// Four cores reach one picosecond by different paths (started in reverse order, one of
// them in many small synchronisations) and each adds to one word there: they add in CPU-id
// order, so each sees as the old value its own id.
TEST(CoreScheduler, CoresDueAtOnePicosecondActInCpuIdOrder) {
  Machine m(Overrides{{"cores", "4"}});
  uint64_t old[4] = {9, 9, 9, 9};
  Time at[4] = {};
  for (int c = 3; c >= 0; --c) {
    m.start(c, [&m, &old, &at, c] {
      Core& k = m.core(c);
      if (c == 3) {
        for (int i = 0; i < 10; ++i) {
          k.compute(100);
          k.sync();
        }
      } else if (c == 1) {
        k.load(kY);  // another shared op on the way
        k.compute(static_cast<uint64_t>((cycles(1000) - k.now()) / kCycle));
      } else {
        k.compute(1000);
      }
      at[c] = k.now();
      old[c] = k.fetch_add(kX, 1);
    });
  }
  m.run(100 * kUs);

  ASSERT_TRUE(m.all_done());
  for (int c = 0; c < 4; ++c) {
    SCOPED_TRACE("cpu" + std::to_string(c));
    EXPECT_EQ(at[c], cycles(1000)) << "the case needs every core at the same picosecond";
    EXPECT_EQ(old[c], static_cast<uint64_t>(c));
  }
}

// Many cores, many ties: every shared op takes its turn in (time, CPU id) order whatever
// the heap's shape (the scheduler's comparisons are branch-free; this checks them).
TEST(CoreScheduler, ManyCoresTakeTurnsInTimeThenCpuIdOrder) {
  constexpr int kCores = 24, kRounds = 6;
  Machine m(Overrides{{"cores", std::to_string(kCores)}});
  struct Op {
    Time at;
    int cpu;
    uint64_t old;
  };
  std::vector<Op> ops;
  for (int c = 0; c < kCores; ++c) {
    m.start(c, [&m, &ops, c] {
      Core& k = m.core(c);
      for (int r = 0; r < kRounds; ++r) {
        // 1, 2 or 3 thousand cycles a round: a third of the cores tie at every step.
        k.compute(1000 * static_cast<uint64_t>(1 + (c * 7 + r * 5) % 3));
        const Time at = k.now();
        ops.push_back({at, c, k.fetch_add(kX, 1)});
      }
    });
  }
  m.run(100 * kUs);

  ASSERT_TRUE(m.all_done());
  ASSERT_EQ(ops.size(), static_cast<size_t>(kCores * kRounds));
  std::vector<Op> expected = ops;
  std::stable_sort(expected.begin(), expected.end(), [](const Op& a, const Op& b) {
    return a.at != b.at ? a.at < b.at : a.cpu < b.cpu;
  });
  size_t ties = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("op " + std::to_string(i) + ": cpu" + std::to_string(expected[i].cpu));
    EXPECT_EQ(expected[i].old, i) << "the word's count when this op ran";
    if (i > 0 && expected[i].at == expected[i - 1].at) ++ties;
  }
  EXPECT_GT(ties, static_cast<size_t>(kCores)) << "the case needs cores at one picosecond";
}

// A SystemC process due at the time a core acts runs first: its write is what the core
// loads, wherever the core came from.
TEST(CoreScheduler, OtherProcessesDueAtOneTimeRunBeforeTheCores) {
  Machine m;
  uint64_t seen = 0;
  m.spawn("process", [&] {
    sc_core::wait(
        sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(cycles(1000))));
    m.mem().poke(kX, 7);
  });
  m.start(0, [&] {
    Core& c = m.core(0);
    c.compute(1000);
    seen = c.load(kX);
  });
  m.run(100 * kUs);

  ASSERT_TRUE(m.all_done());
  EXPECT_EQ(seen, 7u);
}

// A core never acts at or past the end of sc_start, as a SystemC process would not; the
// next run goes on from there.
TEST(CoreScheduler, NoCoreActsAtOrPastTheRunsEnd) {
  Machine m;
  Time last_issue = -1;
  uint64_t stores = 0;
  m.start(0, [&] {
    Core& c = m.core(0);
    while (true) {
      c.compute(7);
      const Time issue = c.now();
      c.store(kX, ++stores);
      last_issue = issue;
    }
  });
  m.run(50 * kUs);
  EXPECT_EQ(static_cast<Time>(sc_core::sc_time_stamp().value()), 50 * kUs);
  EXPECT_LT(last_issue, 50 * kUs);
  EXPECT_GT(last_issue, 49 * kUs);
  const uint64_t first = stores;
  m.run(50 * kUs);
  EXPECT_LT(last_issue, 100 * kUs);
  EXPECT_GT(last_issue, 99 * kUs);
  EXPECT_GT(stores, first);
}

// The guards of core_test's CoreProgress hold for cores under the scheduler too.
TEST(CoreScheduler, AZeroTimeLoopIsStoppedAsALivelock) {
  expect_zero_time_loop_stopped_as_livelock(true);
}

TEST(CoreScheduler, TheEventCapStopsTheRun) { expect_event_cap_stops_the_run(true); }

// Something a core's software throws reaches the caller of the run, as from a SystemC
// thread; the other cores' stacks are dropped.
TEST(CoreScheduler, AnExceptionInACoresSoftwareReachesTheRun) {
  Machine m;
  m.start(1, [&] { m.core(1).spin_until(kX, [](uint64_t v) { return v == 1; }); });
  m.start(0, [&] {
    m.core(0).compute(100);
    m.core(0).store(kY, 1);
    throw std::logic_error("model bug on cpu0");
  });
  std::string what;
  try {
    m.run(100 * kUs);
  } catch (const std::exception& e) {
    what = e.what();
  }
  EXPECT_NE(what.find("model bug on cpu0"), std::string::npos) << what;
}

}  // namespace
}  // namespace quiesce::hw_test
