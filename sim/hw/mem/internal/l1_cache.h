#pragma once
// A private, set-associative, LRU L1 that keeps MESI state per line. Hits are served
// here; misses and upgrades go to the directory through TLM b_transport.
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <vector>

#include "sim/base/stats.h"
#include "sim/hw/mem/coherence.h"

namespace quiesce::mem_internal {

class Directory;

class L1Cache : public sc_core::sc_module {
 public:
  L1Cache(sc_core::sc_module_name name, int cpu, int sets, int ways, int line_shift,
          Time hit_latency, Directory* dir, StatRegistry* stats);

  tlm_utils::simple_target_socket<L1Cache> in_;
  tlm_utils::simple_initiator_socket<L1Cache> out_;

  Mesi state(Addr line) const;
  // The directory changes this cache's copy (invalidate, downgrade to S).
  void snoop(Addr line, Mesi to);

  StatGroup stats_;
  Counter hits{&stats_, "hits", "accesses served by the L1", "count"};
  Counter misses{&stats_, "misses", "accesses that went to the directory", "count"};
  Counter invalidations{&stats_, "invalidations", "lines invalidated by other cores' writes", "count"};
  Counter evictions{&stats_, "evictions", "lines evicted for capacity", "count"};

 private:
  struct Way {
    Addr tag = 0;  // line + 1; 0 = invalid
    Mesi state = Mesi::I;
    uint64_t lru = 0;
    // While the copy is valid only this core can write the line, so the directory's
    // write count for it is the one seen at the fill or at this core's own upgrade.
    uint64_t version = 0;
    uint64_t* words = nullptr;  // the line's backing values (the directory's array)
  };
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  Way* find(Addr line);
  const Way* find(Addr line) const;
  Way* allocate(Addr line);
  void perform(CoherenceExt& ext, Addr a, uint64_t* words);

  const int cpu_;
  const int sets_;
  const int ways_;
  const int line_shift_;
  const sc_core::sc_time hit_;
  Directory* dir_;
  std::vector<Way> ways_v_;
  uint64_t tick_ = 0;
};

}  // namespace quiesce::mem_internal
