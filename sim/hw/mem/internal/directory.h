#pragma once
// The MESI directory at the shared last level, and the backing store of values.
#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/base/flat_map.h"
#include "sim/base/stats.h"
#include "sim/hw/mem/coherence.h"
#include "sim/hw/topology.h"

namespace quiesce::mem_internal {

class L1Cache;

// The cores (L1s) holding a shared copy, as bits: up to 1024, in words allocated only as
// far as the highest sharer (most lines are shared by few cores, low-numbered or not).
struct SharerSet {
  std::vector<uint64_t> w;
  void add(int c) {
    const size_t i = static_cast<size_t>(c >> 6);
    if (i >= w.size()) w.resize(i + 1, 0);
    w[i] |= uint64_t{1} << (c & 63);
  }
  void remove(int c) {
    const size_t i = static_cast<size_t>(c >> 6);
    if (i < w.size()) w[i] &= ~(uint64_t{1} << (c & 63));
  }
  bool has(int c) const {
    const size_t i = static_cast<size_t>(c >> 6);
    return i < w.size() && ((w[i] >> (c & 63)) & 1);
  }
  bool empty() const {
    for (uint64_t x : w) {
      if (x) return false;
    }
    return true;
  }
  void clear() { std::fill(w.begin(), w.end(), 0); }
  template <class F>
  void for_each(F&& f) const {
    for (size_t i = 0; i < w.size(); ++i) {
      uint64_t bits = w[i];
      while (bits) {
        int b = __builtin_ctzll(bits);
        f(static_cast<int>(i * 64) + b);
        bits &= bits - 1;
      }
    }
  }
};

struct TrackedLine {
  TrackedLine(StatRegistry* r, const std::string& name) : stats_(r, "mem.line." + name) {}
  StatGroup stats_;
  Counter requests{&stats_, "requests", "coherence requests that reached the directory", "count"};
  Counter transfers{&stats_, "transfers", "cache-to-cache transfers of this line", "count"};
  Counter invalidations{&stats_, "invalidations", "copies invalidated", "count"};
};

struct LineLatencies {
  Time llc_hit = 0, dram = 0;
  std::vector<Time> handoff, upgrade;  // by Distance
};

class Directory : public sc_core::sc_module {
 public:
  Directory(sc_core::sc_module_name name, const Topology& topo, const LineLatencies& lat,
            int line_shift, StatRegistry* stats);

  tlm_utils::multi_passthrough_target_socket<Directory> in_;

  // The L1 of each physical core, in core order.
  void attach(L1Cache* c) { caches_.push_back(c); }
  // A clean or dirty line leaves `core`'s L1 (PutS/PutE/PutM).
  void evict(int core, Addr line, Mesi state);
  // `cpu` wrote its core's E copy (a silent E -> M upgrade, no traffic), or with SMT wrote
  // a line its core owns, done at `done`: still a write that watchers must hear of, since
  // a watcher's own copy may have been evicted, or be the sibling's. Returns the line's
  // new write count.
  uint64_t silent_upgrade(int cpu, Addr line, Time done);
  void watch(Addr line, LineWatcher* w);
  // Bumped by every GetM/Upgrade and silent E -> M upgrade; with the time that write completes.
  uint64_t version(Addr line) const;
  Time write_done(Addr line) const;
  void track(Addr line, std::unique_ptr<TrackedLine> t);

  uint64_t read(Addr a) const;
  // The backing word at `a` (8-byte aligned), created as zero on first use.
  uint64_t& word(Addr a);
  // The one-way hand-off between two CPUs.
  Time handoff(int cpu_a, int cpu_b) const { return lat_.handoff[topo_.distance(cpu_a, cpu_b)]; }

  StatGroup stats_;
  Counter gets{&stats_, "gets", "GetS requests (read misses)", "count"};
  Counter getm{&stats_, "getm", "GetM requests (write misses)", "count"};
  Counter upgrades{&stats_, "upgrades", "Upgrade requests (write to a shared copy)", "count"};
  Counter transfers{&stats_, "c2c_transfers", "cache-to-cache transfers", "count"};
  Counter invalidations{&stats_, "invalidations", "copies invalidated by writers", "count"};
  Counter dram_reads{&stats_, "dram_reads", "first touches served from DRAM", "count"};
  Counter writebacks{&stats_, "writebacks", "dirty lines written back on eviction", "count"};

 private:
  struct Entry {
    SharerSet sharers;  // cores
    int owner = -1;     // the core holding it in E or M
    bool touched = false;
    Time ready_at = 0;
    uint64_t version = 0;
    Time write_done = 0;
    std::vector<LineWatcher*> watchers;
    TrackedLine* tracked = nullptr;
    std::unique_ptr<uint64_t[]> words;  // the line's values, allocated on first access
  };
  // The line's values (allocated on first use; the array never moves, so L1s keep a pointer).
  uint64_t* words_of(Entry& e);
  void b_transport(int port, tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  void set_l1(int core, Addr line, Mesi s);
  Time core_handoff(int a, int b) const { return lat_.handoff[topo_.core_distance(a, b)]; }
  Time core_upgrade(int a, int b) const { return lat_.upgrade[topo_.core_distance(a, b)]; }

  const Topology topo_;
  const LineLatencies lat_;
  std::vector<L1Cache*> caches_;
  const int line_shift_;
  FlatMap<Entry> lines_;
  std::deque<std::unique_ptr<TrackedLine>> tracked_;
};

}  // namespace quiesce::mem_internal
