#pragma once
// The cache-coherent memory system: an L1 per core (set-associative, LRU; shared by the
// core's SMT threads) and a shared last level holding a MESI directory. Latencies depend on
// where the line is: an L1 hit; the LLC; DRAM on first touch; or a cache-to-cache hand-off
// whose cost is set by the distance the topology names between requester and holder
// (mem.handoff; invalidating shared copies: mem.upgrade). A sibling's first access after
// the other thread wrote a line costs the `smt` hand-off. An atomic RMW overlaps the
// transfer or upgrade it needs: it costs the larger of the two, not the sum. Requests to
// one line are serialised at the directory (and siblings' writes at their L1), so
// contention queues.
//
// Values are kept functionally in one backing store (8-byte aligned words); the caches
// model timing and state. A core that spins registers as a watcher of the line and is told
// when another core next takes the line for writing, instead of polling every cycle.
#include <systemc>
#include <tlm>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "sim/base/params.h"
#include "sim/base/stats.h"
#include "sim/hw/mem/coherence.h"
#include "sim/hw/topology.h"

namespace quiesce {

struct MemParams : ParamGroup {
  MemParams() : ParamGroup("mem", "coherent memory: L1s, LLC directory, interconnect") {}
  Param<Bytes> line_size{this, "line_size", "64B", "cache line size (a power of two)"};
  Param<Bytes> l1_size{this, "l1.size", "32KiB", "private L1 data cache capacity per core"};
  Param<int64_t> l1_ways{this, "l1.ways", "8", "L1 associativity"};
  Param<Cycles> l1_hit{this, "l1.hit", "4", "L1 hit latency in core cycles"};
  Param<Latency> llc_hit{this, "llc.hit", "40 cycles", "LLC hit latency (line present, no other owner)"};
  Param<Latency> dram{this, "dram", "80ns", "first-touch latency from DRAM"};
  Param<Table> handoff{this, "handoff", "{smt: 8ns, cluster: 20ns, socket: 60ns, system: 150ns}",
                      "one-way cache-line hand-off per distance {name: latency}: what a core-to-core benchmark "
                      "reports (CAS ping-pong, round trip / 2); a miss served from another core's copy costs it"};
  Param<Table> upgrade{this, "upgrade", "{}",
                       "per distance {name: latency}: invalidating other cores' shared copies on a write (what a "
                       "load-then-CAS hand-off pays over a blind CAS); default: the hand-off figure"};
};

// mem.handoff and mem.upgrade resolved per Distance (index = Distance; the platform
// checks that every distance the topology has is covered).
struct DistanceLatencies {
  std::vector<Latency> handoff, upgrade;
};

namespace mem_internal {
class L1Cache;
class Directory;
}  // namespace mem_internal

class MemorySystem : public sc_core::sc_module {
 public:
  // `core_periods` gives each core's clock period (ps) for L1 hits; `base_period` the
  // clock that cycle-valued LLC/interconnect latencies are counted in.
  MemorySystem(sc_core::sc_module_name name, const Topology& topo, const MemParams& params,
               const DistanceLatencies& dist, const std::vector<Time>& core_periods, Time base_period,
               StatRegistry* stats);
  ~MemorySystem() override;

  // The TLM target a CPU's initiator socket binds to (its core's L1, shared by SMT threads).
  using Port = tlm::tlm_base_target_socket_b<32, tlm::tlm_fw_transport_if<>, tlm::tlm_bw_transport_if<>>;
  Port& port(int cpu);

  Addr line_of(Addr a) const { return a >> line_shift_; }
  int64_t line_size() const { return int64_t{1} << line_shift_; }
  // `w` is told (once) when another core next takes the line of `a` for writing.
  void watch(Addr a, LineWatcher* w);
  // Counts writes (GetM/Upgrade, and silent E -> M upgrades) to the line of `a`: a spinner
  // compares it with the count it saw at its load, so a write that lands before it sleeps
  // is never missed.
  uint64_t line_version(Addr a) const;
  Time line_write_done(Addr a) const;
  // Per-line statistics under mem.line.<name>.
  void track(Addr a, const std::string& name);

  // Inspection for tests and tools (no timing, no state change).
  Mesi state(int cpu, Addr a) const;
  uint64_t peek(Addr a) const;
  void poke(Addr a, uint64_t v);  // initial values, before the run
  // The one-way hand-off between two CPUs (mem.handoff at their distance; 0 for one CPU).
  Time transfer_latency(int from, int to) const;

 private:
  const int line_shift_;
  StatRegistry* registry_;
  const Topology topo_;
  std::unique_ptr<mem_internal::Directory> dir_;
  std::vector<std::unique_ptr<mem_internal::L1Cache>> l1s_;
};

}  // namespace quiesce
