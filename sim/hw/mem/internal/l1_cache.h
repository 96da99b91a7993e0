#pragma once
// A core's set-associative, LRU L1 that keeps MESI state per line, shared by the core's
// SMT threads (each binds its own initiator to `in_`). Hits are served here; misses and
// upgrades go to the directory through TLM b_transport. The L1 is its own socket's forward
// interface: a core's access is one virtual call, with no callback binder between (every
// simulated load and store comes this way).
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <cstdlib>
#include <memory>

#include "sim/base/stats.h"
#include "sim/hw/mem/coherence.h"

namespace quiesce::mem_internal {

class Directory;

class L1Cache : public sc_core::sc_module, private tlm::tlm_fw_transport_if<> {
 public:
  // `core` is the physical core; its CPUs are core * threads .. + threads - 1. A sibling's
  // first access to a line after the other thread wrote it costs `smt_handoff`.
  L1Cache(sc_core::sc_module_name name, int core, int threads, int sets, int ways, int line_shift,
          Time hit_latency, Time smt_handoff, Directory* dir, StatRegistry* stats);

  tlm::tlm_target_socket<32, tlm::tlm_base_protocol_types, 0> in_;  // 0: any number of initiators
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
  // A way's tag (line + 1; 0 = invalid) is kept in tags_, a set's tags side by side, so a
  // look-up reads one host cache line, not one per way. A Way's fields mean something only
  // while its tag is valid, and a fill sets every one of them: the array is left
  // uninitialised, so that a point touches only the host pages of the sets it uses (a
  // 64-CPU platform has 1.5 MiB of Ways, which written out would be most of a short
  // point's fresh memory).
  struct Way {
    Mesi state;
    uint64_t lru;
    // While the copy is valid only this core's threads can write the line, so the
    // directory's write count for it is the one seen at the fill or at this core's own
    // upgrades (with SMT, every write hit counts, for the sibling's spin).
    uint64_t version;
    uint64_t* words;  // the line's backing values (the directory's array)
    uint8_t seen;     // SMT: the threads that have accessed it since its last write
    Time busy_until;  // SMT: a write in progress holds the line until then
  };
  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };
  // tlm_fw_transport_if: blocking transport only (loosely timed, as every core uses it).
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) override;
  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& p, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay) override;
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& p, tlm::tlm_dmi& dmi) override;
  unsigned int transport_dbg(tlm::tlm_generic_payload& p) override;
  size_t set_base(Addr line) const {  // the set's first way
    return static_cast<size_t>(set_mask_ != 0 ? (line & set_mask_)
                                              : line % static_cast<Addr>(sets_)) *
           static_cast<size_t>(ways_);
  }
  Way* find(Addr line);
  const Way* find(Addr line) const;
  Addr& tag_of(const Way* w) { return tags_[static_cast<size_t>(w - ways_v_.get())]; }
  Way* allocate(Addr line);
  void perform(CoherenceExt& ext, Addr a, uint64_t* words);
  // `t` as an sc_time: the library's conversion is an out-of-line call, and nearly every
  // hit adds the same time, so the last one is kept.
  const sc_core::sc_time& sc_time_of(Time t) {
    if (t != last_time_) {
      last_sc_time_ = sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(t));
      last_time_ = t;
    }
    return last_sc_time_;
  }

  const int core_;
  const int threads_;
  const int sets_;
  const int ways_;
  const int line_shift_;
  const Time hit_;
  const Time smt_handoff_;
  Directory* dir_;
  const Addr set_mask_;  // sets_ - 1 when sets_ is a power of two (else 0: modulo)
  std::unique_ptr<Way[]> ways_v_;              // default-initialised: see Way
  std::unique_ptr<Addr[], FreeDeleter> tags_;  // calloc'd: zero pages until a set is used
  uint64_t tick_ = 0;
  Time last_time_ = 0;
  sc_core::sc_time last_sc_time_ = sc_core::SC_ZERO_TIME;
};

}  // namespace quiesce::mem_internal
