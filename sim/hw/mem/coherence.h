#pragma once
// The coherence protocol's vocabulary: MESI line states, the requests a core issues, and
// the TLM-2.0 extension that carries a request down the b_transport path
// (core -> its L1 -> the directory at the shared last level). Latency comes back in the
// b_transport delay; the extension carries the operation, its operands and its result.
#include <tlm>

#include <cstdint>

#include "sim/base/units.h"
#include "sim/hw/topology.h"

namespace quiesce {

enum class Mesi : uint8_t { I, S, E, M };
const char* mesi_name(Mesi s);

enum class MemOp : uint8_t { Load, Store, Cas, FetchAdd, Xchg };
inline bool is_write(MemOp op) { return op != MemOp::Load; }

// What an L1 asks of the directory on a miss.
enum class CohReq : uint8_t { GetS, GetM, Upgrade };
const char* coh_req_name(CohReq r);

struct CoherenceExt : tlm::tlm_extension<CoherenceExt> {
  MemOp op = MemOp::Load;
  CohReq req = CohReq::GetS;  // set by the L1 on a miss
  Mesi grant = Mesi::I;       // set by the directory: the requester's new state
  int requester = 0;
  Addr line = 0;              // set by the L1
  Time time = 0;              // requester's local time at issue
  Time hold = 0;              // the RMW's own execution, during which the line stays busy
  uint64_t arg0 = 0, arg1 = 0;  // store value / CAS expected, CAS desired / addend
  uint64_t result = 0;        // loaded value, or the old value of an RMW
  uint64_t version = 0;       // the line's write count once the access is done
  uint64_t* words = nullptr;  // set by the directory on a miss: the line's backing values

  tlm_extension_base* clone() const override { return new CoherenceExt(*this); }
  void copy_from(const tlm_extension_base& other) override {
    *this = static_cast<const CoherenceExt&>(other);
  }
};

// Told when a line it watches is next written by another core (its copy invalidated).
class LineWatcher {
 public:
  virtual ~LineWatcher() = default;
  virtual int watcher_id() const = 0;
  virtual void line_changed(Time at) = 0;
};

}  // namespace quiesce
