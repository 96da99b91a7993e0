#pragma once
// The cache-coherent memory system: a private L1 per core (set-associative, LRU) and a
// shared last level holding a MESI directory. Latencies depend on where the line is:
// an L1 hit; the LLC; DRAM on first touch; or a cache-to-cache transfer whose cost is set
// by the distance between requester and holder (same cluster, same socket, cross-socket).
// Requests to one line are serialised at the directory, so contention queues.
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
  Param<Latency> c2c_same_cluster{this, "c2c.same_cluster", "20ns",
                                  "cache-to-cache transfer or invalidation within a cluster"};
  Param<Latency> c2c_same_socket{this, "c2c.same_socket", "60ns",
                                 "cache-to-cache transfer or invalidation across clusters of a socket"};
  Param<Latency> c2c_cross_socket{this, "c2c.cross_socket", "150ns",
                                  "cache-to-cache transfer or invalidation across sockets"};
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
               const std::vector<Time>& core_periods, Time base_period, StatRegistry* stats);
  ~MemorySystem() override;

  // The TLM target a core's initiator socket binds to.
  tlm::tlm_target_socket<>& port(int cpu);

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
  Time transfer_latency(int from, int to) const;

 private:
  const int line_shift_;
  StatRegistry* registry_;
  std::unique_ptr<mem_internal::Directory> dir_;
  std::vector<std::unique_ptr<mem_internal::L1Cache>> l1s_;
};

}  // namespace quiesce
