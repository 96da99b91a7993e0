// Coherent memory: MESI transitions for every request in every state, costs by distance,
// eviction, and the CAS ping-pong round trip. Expected latencies follow the rules of
// sim/hw/mem/impl/l1_cache.cpp and mesi_directory.cpp: an L1 hit costs l1.hit; a miss
// costs what the directory charges (DRAM on first touch, the LLC once touched, a
// cache-to-cache transfer by distance from an E/M owner, and for GetM/Upgrade the larger
// of the data fill and the slowest invalidation); an RMW adds core.op.atomic as line hold.
#include "tests/unit/hw/machine.h"

#include <algorithm>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace quiesce::hw_test {
namespace {

// The directory's counters, read through the StatRegistry (they are not public members).
struct DirStats {
  uint64_t gets = 0, getm = 0, upgrades = 0, c2c = 0, invalidations = 0, dram = 0, writebacks = 0;
  bool operator==(const DirStats& o) const {
    return gets == o.gets && getm == o.getm && upgrades == o.upgrades && c2c == o.c2c &&
           invalidations == o.invalidations && dram == o.dram && writebacks == o.writebacks;
  }
  DirStats operator-(const DirStats& o) const {
    return {gets - o.gets,
            getm - o.getm,
            upgrades - o.upgrades,
            c2c - o.c2c,
            invalidations - o.invalidations,
            dram - o.dram,
            writebacks - o.writebacks};
  }
  uint64_t requests() const { return gets + getm + upgrades; }
};

void PrintTo(const DirStats& s, std::ostream* os) {
  *os << "{gets " << s.gets << ", getm " << s.getm << ", upgrades " << s.upgrades
      << ", c2c_transfers " << s.c2c << ", invalidations " << s.invalidations << ", dram_reads "
      << s.dram << ", writebacks " << s.writebacks << "}";
}

DirStats dir_stats(const Machine& m) {
  auto c = [&](const char* name) { return m.counter("mem.dir", name); };
  return {c("gets"),          c("getm"),       c("upgrades"),  c("c2c_transfers"),
          c("invalidations"), c("dram_reads"), c("writebacks")};
}

// Drives cores one operation at a time from one harness thread. An op's latency is the
// change of the issuing core's local time; the core then synchronises, so the next op (on
// any core) starts after this one completed and no core's local time runs ahead.
class Driver {
 public:
  explicit Driver(Machine& m) : m_(m) {}

  Time op(int cpu, MemOp op, Addr a, uint64_t x = 0, uint64_t y = 0, uint64_t* result = nullptr) {
    Core& c = m_.core(cpu);
    c.sync();
    const Time t0 = c.now();
    uint64_t r = 0;
    switch (op) {
      case MemOp::Load:
        r = c.load(a);
        break;
      case MemOp::Store:
        c.store(a, x);
        break;
      case MemOp::Cas:
        r = c.cas(a, x, y);
        break;
      case MemOp::FetchAdd:
        r = c.fetch_add(a, x);
        break;
      case MemOp::Xchg:
        r = c.xchg(a, x);
        break;
    }
    const Time dt = c.now() - t0;
    c.sync();
    if (result) *result = r;
    return dt;
  }
  Time load(int cpu, Addr a) { return op(cpu, MemOp::Load, a); }
  Time store(int cpu, Addr a, uint64_t v) { return op(cpu, MemOp::Store, a, v); }

  // Pushes the line of `a` out of `cpu`'s L1 by loading `ways` other lines of its set.
  void evict(int cpu, Addr a) {
    const Addr set_stride = static_cast<Addr>(kL1Size / kL1Ways);
    for (int j = 1; j <= kL1Ways; ++j) load(cpu, a + static_cast<Addr>(j) * set_stride);
  }

  // "E,I,S": the MESI state of `a` in each listed core's L1.
  std::string states(Addr a, const std::vector<int>& cpus) const {
    std::string s;
    for (int c : cpus) s += std::string(s.empty() ? "" : ",") + mesi_name(m_.mem().state(c, a));
    return s;
  }

 private:
  Machine& m_;
};

// --- 6. MESI: every request in every state --------------------------------------------------

// Three cores on one cluster, so every transfer and invalidation costs mem.handoff.cluster.
// cpu0 is the requester; cpu1 and cpu2 are the others.
enum class Setup {
  Fresh,
  TouchedUncached,
  OtherE,
  OtherM,
  OthersS,
  RequesterE,
  RequesterM,
  RequesterSOtherS,
  RequesterSAlone
};

struct SetupInfo {
  const char* name;
  const char* states;  // cpu0,cpu1,cpu2 after the setup
};

SetupInfo setup_info(Setup s) {
  switch (s) {
    case Setup::Fresh:
      return {"Fresh", "I,I,I"};
    case Setup::TouchedUncached:
      return {"TouchedUncached", "I,I,I"};
    case Setup::OtherE:
      return {"OtherE", "I,E,I"};
    case Setup::OtherM:
      return {"OtherM", "I,M,I"};
    case Setup::OthersS:
      return {"OthersS", "I,S,S"};
    case Setup::RequesterE:
      return {"RequesterE", "E,I,I"};
    case Setup::RequesterM:
      return {"RequesterM", "M,I,I"};
    case Setup::RequesterSOtherS:
      return {"RequesterSOtherS", "S,S,I"};
    case Setup::RequesterSAlone:
      return {"RequesterSAlone", "S,I,I"};
  }
  return {"?", "?"};
}

void set_up(Driver& d, Setup s, Addr x) {
  switch (s) {
    case Setup::Fresh:
      break;
    case Setup::TouchedUncached:
      d.store(1, x, 7);
      d.evict(1, x);
      break;
    case Setup::OtherE:
      d.load(1, x);
      break;
    case Setup::OtherM:
      d.store(1, x, 7);
      break;
    case Setup::OthersS:
      d.load(1, x);
      d.load(2, x);
      break;
    case Setup::RequesterE:
      d.load(0, x);
      break;
    case Setup::RequesterM:
      d.store(0, x, 7);
      break;
    case Setup::RequesterSOtherS:
      d.load(1, x);
      d.load(0, x);
      break;
    case Setup::RequesterSAlone:
      d.load(1, x);
      d.load(0, x);
      d.evict(1, x);
      break;
  }
}

struct MesiCase {
  Setup setup;
  MemOp op;
  const char* after;  // cpu0,cpu1,cpu2
  Time latency;       // seen by cpu0
  DirStats delta;     // of the directory's counters, across cpu0's request
};

const char* op_name(MemOp op) {
  switch (op) {
    case MemOp::Load:
      return "Load";
    case MemOp::Store:
      return "Store";
    case MemOp::Cas:
      return "Cas";
    case MemOp::FetchAdd:
      return "FetchAdd";
    case MemOp::Xchg:
      return "Xchg";
  }
  return "?";
}

void PrintTo(const MesiCase& c, std::ostream* os) {
  *os << setup_info(c.setup).name << " " << op_name(c.op);
}

class MesiTransition : public ::testing::TestWithParam<MesiCase> {};

TEST_P(MesiTransition, RequesterSeesTheDirectoryLatencyAndStatesFollowMesi) {
  const MesiCase& tc = GetParam();
  Machine m(Overrides{{"cores", "3"}});
  ASSERT_EQ(m.mem().transfer_latency(0, 1), kC2cCluster);
  ASSERT_EQ(m.mem().transfer_latency(0, 2), kC2cCluster);
  constexpr Addr kX = 0x40000;
  Driver d(m);
  std::string before, after;
  Time latency = -1;
  uint64_t value_before = 0, result = 0;
  DirStats delta;
  uint64_t l1_hits = 0, l1_misses = 0;
  m.spawn("driver", [&] {
    set_up(d, tc.setup, kX);
    before = d.states(kX, {0, 1, 2});
    value_before = m.mem().peek(kX);
    const DirStats s0 = dir_stats(m);
    const uint64_t h0 = m.counter("cpu0.l1", "hits"), m0 = m.counter("cpu0.l1", "misses");
    latency =
        d.op(0, tc.op, kX, tc.op == MemOp::Store ? 42 : value_before, value_before + 100, &result);
    delta = dir_stats(m) - s0;
    l1_hits = m.counter("cpu0.l1", "hits") - h0;
    l1_misses = m.counter("cpu0.l1", "misses") - m0;
    after = d.states(kX, {0, 1, 2});
  });
  m.run(100 * kUs);

  ASSERT_TRUE(m.all_done());
  ASSERT_EQ(before, setup_info(tc.setup).states) << "setup";
  EXPECT_EQ(after, tc.after);
  EXPECT_EQ(latency, tc.latency);
  EXPECT_EQ(delta, tc.delta);
  const bool hit = tc.delta.requests() == 0;
  EXPECT_EQ(l1_hits, hit ? 1u : 0u);
  EXPECT_EQ(l1_misses, hit ? 0u : 1u);
  switch (tc.op) {
    case MemOp::Load:
      EXPECT_EQ(result, value_before);
      EXPECT_EQ(m.mem().peek(kX), value_before);
      break;
    case MemOp::Store:
      EXPECT_EQ(m.mem().peek(kX), 42u);
      break;
    default:
      EXPECT_EQ(result, value_before);
      EXPECT_EQ(m.mem().peek(kX), value_before + 100);
      break;
  }
}

constexpr Time kC2c = kC2cCluster;
// GetM or Upgrade invalidating same-cluster sharers: the LLC fill/ack or the slowest
// invalidation, whichever is longer.
constexpr Time kInvalidate = std::max(kLlcHit, kC2cCluster);
constexpr DirStats kNone{};
constexpr DirStats dir(uint64_t gets, uint64_t getm, uint64_t upgrades, uint64_t c2c,
                       uint64_t inval, uint64_t dram) {
  return DirStats{gets, getm, upgrades, c2c, inval, dram, 0};
}

using S = Setup;
using Op = MemOp;
// clang-format off
INSTANTIATE_TEST_SUITE_P(
    EveryRequestInEveryState, MesiTransition,
    ::testing::Values(
        // setup                 op         cpu0,1,2  latency                  gets getm upg c2c inv dram
        MesiCase{S::Fresh, Op::Load, "E,I,I", kDram, dir(1, 0, 0, 0, 0, 1)},
        MesiCase{S::Fresh, Op::Store, "M,I,I", kDram, dir(0, 1, 0, 0, 0, 1)},
        MesiCase{S::Fresh, Op::Cas, "M,I,I", std::max(kDram, kAtomic), dir(0, 1, 0, 0, 0, 1)},
        MesiCase{S::TouchedUncached, Op::Load, "E,I,I", kLlcHit, dir(1, 0, 0, 0, 0, 0)},
        MesiCase{S::TouchedUncached, Op::Store, "M,I,I", kLlcHit, dir(0, 1, 0, 0, 0, 0)},
        MesiCase{S::TouchedUncached, Op::Cas, "M,I,I", std::max(kLlcHit, kAtomic), dir(0, 1, 0, 0, 0, 0)},
        MesiCase{S::OtherE, Op::Load, "S,S,I", kC2c, dir(1, 0, 0, 1, 0, 0)},
        MesiCase{S::OtherE, Op::Store, "M,I,I", kC2c, dir(0, 1, 0, 1, 1, 0)},
        MesiCase{S::OtherE, Op::Cas, "M,I,I", std::max(kC2c, kAtomic), dir(0, 1, 0, 1, 1, 0)},
        MesiCase{S::OtherM, Op::Load, "S,S,I", kC2c, dir(1, 0, 0, 1, 0, 0)},
        MesiCase{S::OtherM, Op::Store, "M,I,I", kC2c, dir(0, 1, 0, 1, 1, 0)},
        MesiCase{S::OtherM, Op::Cas, "M,I,I", std::max(kC2c, kAtomic), dir(0, 1, 0, 1, 1, 0)},
        MesiCase{S::OthersS, Op::Load, "S,S,S", kLlcHit, dir(1, 0, 0, 0, 0, 0)},
        MesiCase{S::OthersS, Op::Store, "M,I,I", kInvalidate, dir(0, 1, 0, 0, 2, 0)},
        MesiCase{S::OthersS, Op::Cas, "M,I,I", std::max(kInvalidate, kAtomic), dir(0, 1, 0, 0, 2, 0)},
        MesiCase{S::RequesterE, Op::Load, "E,I,I", kL1Hit, kNone},
        MesiCase{S::RequesterE, Op::Store, "M,I,I", kL1Hit, kNone},
        MesiCase{S::RequesterE, Op::Cas, "M,I,I", std::max(kL1Hit, kAtomic), kNone},
        MesiCase{S::RequesterM, Op::Load, "M,I,I", kL1Hit, kNone},
        MesiCase{S::RequesterM, Op::Store, "M,I,I", kL1Hit, kNone},
        MesiCase{S::RequesterM, Op::Cas, "M,I,I", std::max(kL1Hit, kAtomic), kNone},
        MesiCase{S::RequesterSOtherS, Op::Load, "S,S,I", kL1Hit, kNone},
        MesiCase{S::RequesterSOtherS, Op::Store, "M,I,I", kInvalidate, dir(0, 0, 1, 0, 1, 0)},
        MesiCase{S::RequesterSOtherS, Op::Cas, "M,I,I", std::max(kInvalidate, kAtomic), dir(0, 0, 1, 0, 1, 0)},
        MesiCase{S::RequesterSAlone, Op::Load, "S,I,I", kL1Hit, kNone},
        MesiCase{S::RequesterSAlone, Op::Store, "M,I,I", kLlcHit, dir(0, 0, 1, 0, 0, 0)},
        MesiCase{S::RequesterSAlone, Op::Cas, "M,I,I", std::max(kLlcHit, kAtomic), dir(0, 0, 1, 0, 0, 0)}),
    [](const ::testing::TestParamInfo<MesiCase>& row) {
      return std::string(setup_info(row.param.setup).name) + "_" + op_name(row.param.op);
    });
// clang-format on

// --- 6b. costs by distance on a two-socket topology ---------------------------------------

// 8 cores, 2 to a cluster, 2 clusters to a socket: from cpu0, cpu1 shares the cluster,
// cpu2 the socket, cpu4 is across the sockets; cpu3 (same socket) is a second sharer.
class MesiDistance : public ::testing::TestWithParam<int> {};

TEST_P(MesiDistance, TransfersAndInvalidationsCostTheirDistance) {
  const int p = GetParam();
  Machine m(Overrides{
      {"cores", "8"}, {"topology.levels", "[{name: cluster, size: 2}, {name: socket, size: 2}]"}});
  const Time want = p == 1 ? kC2cCluster : p == 2 ? kC2cSocket : kC2cCross;
  EXPECT_EQ(m.mem().transfer_latency(0, p), want);
  EXPECT_EQ(m.mem().transfer_latency(p, 0), want);
  EXPECT_EQ(m.mem().transfer_latency(0, 3), kC2cSocket);
  EXPECT_EQ(m.mem().transfer_latency(0, 0), 0);

  Driver d(m);
  constexpr Addr kLine = 64;
  const Addr a = 0x80000, b = a + kLine, c = b + kLine, e = c + kLine, f = e + kLine;
  Time read_from_m = -1, write_to_e = -1, share = -1, upgrade = -1, cas_from_m = -1, getm_two = -1;
  std::string after_read, after_write, after_upgrade, after_getm;
  DirStats upgrade_delta, getm_delta;
  m.spawn("driver", [&] {
    d.store(p, a, 1);
    read_from_m = d.load(0, a);
    after_read = d.states(a, {0, p});

    d.load(p, b);
    write_to_e = d.store(0, b, 2);
    after_write = d.states(b, {0, p});

    d.load(p, c);
    share = d.load(0, c);
    DirStats s0 = dir_stats(m);
    upgrade = d.store(0, c, 3);
    upgrade_delta = dir_stats(m) - s0;
    after_upgrade = d.states(c, {0, p});

    d.store(p, e, 4);
    cas_from_m = d.op(0, MemOp::Cas, e, 4, 5);

    d.load(p, f);
    d.load(3, f);
    s0 = dir_stats(m);
    getm_two = d.store(0, f, 6);
    getm_delta = dir_stats(m) - s0;
    after_getm = d.states(f, {0, p, 3});
  });
  m.run(100 * kUs);

  ASSERT_TRUE(m.all_done());
  EXPECT_EQ(read_from_m, want);
  EXPECT_EQ(after_read, "S,S");
  EXPECT_EQ(write_to_e, want);
  EXPECT_EQ(after_write, "M,I");
  EXPECT_EQ(share, want) << "GetS from an E owner";
  EXPECT_EQ(upgrade, std::max(kLlcHit, want));
  EXPECT_EQ(upgrade_delta, dir(0, 0, 1, 0, 1, 0));
  EXPECT_EQ(after_upgrade, "M,I");
  EXPECT_EQ(cas_from_m, std::max(want, kAtomic));
  EXPECT_EQ(m.mem().peek(e), 5u);
  EXPECT_EQ(getm_two, std::max({kLlcHit, want, kC2cSocket})) << "the slowest invalidation";
  EXPECT_EQ(getm_delta, dir(0, 1, 0, 0, 2, 0));
  EXPECT_EQ(after_getm, "M,I,I");
}

INSTANTIATE_TEST_SUITE_P(TwoSockets, MesiDistance, ::testing::Values(1, 2, 4),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return i.param == 1   ? "SameCluster"
                                  : i.param == 2 ? "SameSocket"
                                                 : "CrossSocket";
                         });

// --- 6c. eviction ------------------------------------------------------------------------

// A 2-way L1 of two lines (one set): a third line evicts the least recently used one. A
// modified victim is written back; the directory forgets the owner, so the next reader
// gets the line from the LLC in E instead of by a transfer.
TEST(MesiEviction, ModifiedVictimIsWrittenBackAndTheLineServedFromTheLlc) {
  Machine m(Overrides{{"mem.l1.size", "128B"}, {"mem.l1.ways", "2"}});
  Driver d(m);
  constexpr Addr kA = 0x1000, kB = 0x2000, kC = 0x3000;
  struct Step {
    const char* what;
    Time got, want;
  };
  std::vector<Step> steps;
  std::string after_c, after_reload;
  DirStats at_c{}, at_end{};
  uint64_t evictions_at_c = 0, a_seen_by_1 = 0;
  m.spawn("driver", [&] {
    steps.push_back({"store A (fresh)", d.store(0, kA, 11), kDram});
    steps.push_back({"load B (fresh)", d.load(0, kB), kDram});
    steps.push_back({"load C evicts A (M)", d.load(0, kC), kDram});
    at_c = dir_stats(m);
    evictions_at_c = m.counter("cpu0.l1", "evictions");
    after_c = d.states(kA, {0, 1}) + "|" + d.states(kB, {0}) + "|" + d.states(kC, {0});
    steps.push_back({"cpu1 loads A: no owner left, LLC",
                     d.op(1, MemOp::Load, kA, 0, 0, &a_seen_by_1), kLlcHit});
    steps.push_back({"load B hits (C becomes LRU)", d.load(0, kB), kL1Hit});
    steps.push_back({"reload A from cpu1's E copy; evicts C (E)", d.load(0, kA), kC2cCluster});
    steps.push_back({"cpu1 loads C: no owner left, LLC", d.load(1, kC), kLlcHit});
    after_reload = d.states(kA, {0, 1}) + "|" + d.states(kB, {0}) + "|" + d.states(kC, {0, 1});
    at_end = dir_stats(m);
  });
  m.run(100 * kUs);

  ASSERT_TRUE(m.all_done());
  for (const auto& s : steps) EXPECT_EQ(s.got, s.want) << s.what;
  EXPECT_EQ(after_c, "I,I|E|E");
  EXPECT_EQ(evictions_at_c, 1u);
  EXPECT_EQ(at_c.writebacks, 1u) << "the modified victim";
  EXPECT_EQ(a_seen_by_1, 11u);
  EXPECT_EQ(after_reload, "S,S|E|I,E");
  EXPECT_EQ(m.counter("cpu0.l1", "evictions"), 2u);
  EXPECT_EQ(at_end.writebacks, 1u) << "a clean victim is not written back";
  EXPECT_EQ(at_end.c2c, 1u) << "only the reload of A was a transfer";
  EXPECT_EQ(at_end.dram, 3u);
}

// --- 6c'. values and write counts under random traffic -----------------------------------

// Four cores doing random loads, stores and RMWs on eight lines of a 2-way L1 of 2 sets (a
// line's set by mask) or 3 (by modulo), so that lines are evicted, refetched, shared,
// upgraded silently and stolen: every value is what a plain memory would hold, and the
// write count a core saw at each access (what its L1 keeps per line, and a spinner sleeps
// on) is the directory's.
class MesiRandomTraffic : public ::testing::TestWithParam<const char*> {};

TEST_P(MesiRandomTraffic, ValuesAndWriteCountsMatchAPlainMemory) {
  Machine m(Overrides{{"cores", "4"}, {"mem.l1.size", GetParam()}, {"mem.l1.ways", "2"}});
  Driver d(m);
  std::map<Addr, uint64_t> plain;
  int value_errors = 0, version_errors = 0, ops = 0;
  m.spawn("driver", [&] {
    std::mt19937_64 gen(7);
    for (int i = 0; i < 4000; ++i) {
      const int cpu = static_cast<int>(gen() % 4);
      const Addr a = 0x40000 + (gen() % 8) * 64 + (gen() % 2) * 8;
      const auto op = static_cast<MemOp>(gen() % 5);
      const uint64_t x = gen() % 4, y = gen() % 4;
      uint64_t got = 0;
      d.op(cpu, op, a, x, y, &got);
      uint64_t& want = plain[a];
      if (op != MemOp::Store && got != want) ++value_errors;
      switch (op) {
        case MemOp::Load:
          break;
        case MemOp::Store:
          want = x;
          break;
        case MemOp::Cas:
          if (want == x) want = y;
          break;
        case MemOp::FetchAdd:
          want += x;
          break;
        case MemOp::Xchg:
          want = x;
          break;
      }
      if (m.core(cpu).seen_line_version() != m.mem().line_version(a)) ++version_errors;
      ++ops;
    }
  });
  m.run(100 * kMs);
  ASSERT_TRUE(m.all_done());
  EXPECT_EQ(ops, 4000);
  EXPECT_EQ(value_errors, 0);
  EXPECT_EQ(version_errors, 0);
  EXPECT_GT(m.counter("cpu0.l1", "evictions"), 0u);
  EXPECT_GT(m.counter("cpu0.l1", "hits"), 0u);
}

INSTANTIATE_TEST_SUITE_P(Sets, MesiRandomTraffic, ::testing::Values("256B", "384B"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           return std::string(i.param[0] == '2' ? "TwoSets" : "ThreeSets");
                         });

// --- 6d. contention ------------------------------------------------------------------------

// Two stores to one fresh line issued on the same cycle: the directory serialises them,
// so the second waits for the first (DRAM fill) and then takes the line from it (c2c).
TEST(MesiContention, RequestsToOneLineQueueAtTheDirectory) {
  Machine m;
  constexpr Addr kX = 0x50000;
  Time lat[2] = {-1, -1};
  for (int i = 0; i < 2; ++i) {
    m.spawn("cpu" + std::to_string(i), [&m, &lat, i] {
      Core& c = m.core(i);
      c.store(kX, static_cast<uint64_t>(10 + i));
      lat[i] = c.now();
    });
  }
  m.run(10 * kUs);

  ASSERT_TRUE(m.all_done());
  const int first = lat[0] < lat[1] ? 0 : 1, second = 1 - first;
  EXPECT_EQ(lat[first], kDram);
  EXPECT_EQ(lat[second], kDram + kC2cCluster);
  EXPECT_EQ(m.mem().state(second, kX), Mesi::M);
  EXPECT_EQ(m.mem().state(first, kX), Mesi::I);
  EXPECT_EQ(m.mem().peek(kX), static_cast<uint64_t>(10 + second));
  EXPECT_EQ(dir_stats(m), dir(0, 2, 0, 1, 1, 1));
}

// --- 7. CAS ping-pong ------------------------------------------------------------------------

// Each half round: the waiter, woken when the other's CAS completes, reloads the line from
// the other's M copy (a transfer), then its CAS upgrades its S copy (the LLC ack or the
// invalidation, whichever is longer), which the atomic's own execution overlaps.
void expect_pingpong_rounds(int a, int b, const Overrides& set) {
  constexpr int kRounds = 10;
  Machine m(set);
  CasPingPong pp;
  spawn_cas_pingpong(m, a, b, 0x10000, kRounds, &pp);
  m.run(1 * kMs);
  ASSERT_TRUE(m.all_done());

  const Time reload = m.mem().transfer_latency(a, b);
  const Time upgrade = std::max(kLlcHit, reload);
  const Time round = 2 * (reload + std::max(upgrade, kAtomic));
  ASSERT_EQ(pp.a_cas_done.size(), static_cast<size_t>(kRounds));
  for (size_t k = 1; k < pp.a_cas_done.size(); ++k) {
    EXPECT_EQ(pp.a_cas_done[k] - pp.a_cas_done[k - 1], round) << "round " << k;
  }
  EXPECT_EQ(pp.end, pp.a_cas_done.back() + round / 2 + reload)
      << "a sees b's last CAS after one reload";
  for (uint64_t k = 0; k < kRounds; ++k) {
    EXPECT_EQ(pp.a_old[k], 2 * k);
    EXPECT_EQ(pp.b_old[k], 2 * k + 1);
  }
  EXPECT_EQ(m.mem().peek(0x10000), 2u * kRounds);
  // One sleep per turn: the waiter is woken by the write, not by polling.
  EXPECT_EQ(m.core(a).spin_waits.value(), static_cast<uint64_t>(kRounds));
  EXPECT_EQ(m.core(b).spin_waits.value(), static_cast<uint64_t>(kRounds));
}

TEST(MesiPingPong, CasRoundTripInAClusterIsTwiceReloadUpgradeAndAtomic) {
  expect_pingpong_rounds(0, 1, {});  // 2 x (20 + max(40, 20) + 25) ns = 170 ns
}

TEST(MesiPingPong, CasRoundTripAcrossSocketsIsTwiceReloadUpgradeAndAtomic) {
  // 2 x (150 + max(40, 150) + 25) ns = 650 ns
  expect_pingpong_rounds(
      0, 2,
      {{"cores", "4"}, {"topology.levels", "[{name: cluster, size: 1}, {name: socket, size: 2}]"}});
}

}  // namespace
}  // namespace quiesce::hw_test
