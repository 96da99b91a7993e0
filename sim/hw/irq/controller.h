#pragma once
// A GIC-like interrupt controller. Interrupt ids follow the GIC: 0-15 SGIs (IPIs), 16-31
// PPIs (per-CPU: the timer is 30), 32 and up SPIs (devices). Each CPU interface keeps
// pending and active state, a priority per id (lower value = more urgent) and a running
// priority: while a handler is active only a strictly more urgent interrupt is signalled,
// so nesting happens only when the handler re-enables interrupts on its core.
//
// Interrupts travel: an SGI raised at time t (the sender starting its ICR write) is given
// an end-to-end latency L, a sample of irq.ipi.latency (or of irq.ipi.by_distance at the
// two CPUs' distance): the time to the first handler instruction on a receiver with
// interrupts on, as IPI benchmarks measure it. It arrives at t + max(send cost, L - the
// receiver's entry and acknowledge cycles), so the handler starts at t + L unless the
// receiver is busy with interrupts off. Timers and devices post their arrival time ahead. An arrival
// makes the id pending. An SGI (or any id) that arrives while the same id is already
// pending on that CPU is merged into it, as GICv3 does for SGIs: one handler run serves
// both, and `irq.merged` counts it (Linux keeps per-CPU IPI message bits, so nothing is
// lost). An arrival while the id is active (handler running) pends again and runs after EOI.
//
// Guarantee used by the exact mode of the cores: every arrival is posted at least
// lookahead() after the global time of the process that posts it, except a core's own
// timer and a stuck line's re-assertion at its own EOI, which that core sees at once.
//
// Injected faults (sim/hw/fault.h): IPIs lost, delayed or duplicated in send_sgi; a line
// stuck asserted re-pends at every EOI on its CPU.
#include <systemc>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "sim/base/dist.h"
#include "sim/base/params.h"
#include "sim/base/rng.h"
#include "sim/base/stats.h"
#include "sim/base/units.h"
#include "sim/hw/fault.h"
#include "sim/hw/topology.h"

namespace quiesce {

using IrqId = int;
inline constexpr IrqId kFirstPpi = 16;
inline constexpr IrqId kFirstSpi = 32;
inline constexpr IrqId kTimerPpi = 30;
inline constexpr int kIdlePriority = 256;

enum class IrqKind : uint8_t { Sgi, Ppi, Spi };
inline IrqKind irq_kind(IrqId id) {
  return id < kFirstPpi ? IrqKind::Sgi : id < kFirstSpi ? IrqKind::Ppi : IrqKind::Spi;
}
const char* irq_kind_name(IrqKind k);

struct IrqParams : ParamGroup {
  IrqParams() : ParamGroup("irq", "GIC-like interrupt controller") {}
  Param<Distribution> ipi_latency{this, "ipi.latency", "1us",
                                  "IPI end to end (a distribution): from the sender starting its ICR write to the "
                                  "receiver's first handler instruction, receiver idle with interrupts on"};
  Param<Table> ipi_by_distance{this, "ipi.by_distance", "{}",
                               "irq.ipi.latency per distance {name: distribution}, for the distances it differs"};
  Param<Cycles> ipi_receive_cost{this, "ipi.receive_cost", "60",
                                 "cycles the receiver spends acknowledging an SGI (part of the end-to-end latency)"};
  Param<int64_t> spis{this, "spis", "32", "number of shared peripheral interrupts (device lines)"};
  Param<int64_t> default_priority{this, "default_priority", "160", "priority of every id until software sets one (0 = most urgent)"};
};

// What a CPU interface hands the core when it acknowledges an interrupt.
struct IrqAck {
  IrqId id = -1;
  int source = -1;  // sending CPU for SGIs
  Time raised = 0;  // when the sender raised it (start of the ICR write, timer expiry, device edge)
  Time arrived = 0;
  Time taken = 0;  // when the core began the exception (set by the core)
};

// A timing override (a scenario's `timing: {ipi: [...]}`): the `index`-th SGI (from 0, in
// the order `from` sends them) from CPU `from` to CPU `to` takes `latency` end to end
// instead of its sample. The sample is still drawn, so no later draw moves.
struct ForcedIpi {
  int from = 0, to = 0;
  uint64_t index = 0;
  Time latency = 0;
};

// One SGI as sent, when the controller records them (record_sends()).
struct SentIpi {
  int from = 0, to = 0;
  uint64_t index = 0;  // among SGIs from `from` to `to`, as ForcedIpi counts them
  IrqId id = 0;
  Time raised = 0, latency = 0, arrival = 0;
  Time drawn = 0;  // the stream's sample (latency unless forced)
  bool forced = false;
};

// A core is told when an interrupt is posted to it, so it can wake from WFI or a spin.
class IrqTarget {
 public:
  virtual ~IrqTarget() = default;
  virtual void irq_posted(Time arrival) = 0;
  virtual Time local_now() const = 0;
};

class InterruptController : public sc_core::sc_module {
 public:
  InterruptController(sc_core::sc_module_name name, int cpus, const IrqParams& params,
                      const FaultParams& faults, uint64_t seed, StatRegistry* stats);

  void attach(int cpu, IrqTarget* target) { cpus_.at(cpu).target = target; }
  int cpus() const { return static_cast<int>(cpus_.size()); }
  int ids() const { return num_ids_; }

  // Per-distance end-to-end latencies (empty entries use irq.ipi.latency) and the
  // receiver's fixed cost from arrival to its first handler instruction (irq entry plus
  // the SGI acknowledge), taken off each sample. Set once, before the run.
  void set_ipi_path(const Topology& topo, const std::vector<std::optional<Distribution>>& by_distance,
                    Time receiver_fixed);
  // An SGI from `src`, raised at `raise_time`; the sender spends `send_cost` on it.
  // Returns the arrival time.
  Time send_sgi(int src, int target, IrqId id, Time raise_time, Time send_cost);
  // The distribution an SGI from `src` to `target` draws its end-to-end latency from.
  const Distribution& ipi_latency_between(int src, int target) const;
  // Replaces the latencies of these SGIs (each within its distribution's support: the
  // scenario checks). Set once, before the run.
  void force_ipis(const std::vector<ForcedIpi>& forced);
  // Keeps every SGI sent from now on in sends().
  void record_sends() { record_sends_ = true; }
  const std::vector<SentIpi>& sends() const { return sends_; }
  // A timer or device interrupt that arrives at `arrival` (raised at `raised`).
  void post(int cpu, IrqId id, Time arrival, Time raised);
  // Drops a not yet arrived `id` on `cpu` (a reprogrammed one-shot timer).
  void cancel(int cpu, IrqId id);

  // The earliest local time at which `cpu` must look: 0 when an interrupt is deliverable
  // now, the next arrival otherwise, kTimeMax when nothing is coming. O(1).
  Time attention(int cpu) const { return cpus_[static_cast<size_t>(cpu)].attention; }
  // Where attention(cpu) is kept, for a core to read at every instruction boundary without
  // going through the controller (the CPUs are laid out once, at construction).
  const Time* attention_of(int cpu) const { return &cpus_.at(static_cast<size_t>(cpu)).attention; }
  // Takes the most urgent deliverable interrupt at local time `now`, making it active.
  std::optional<IrqAck> acknowledge(int cpu, Time now);
  // The handler for `ack` started at `entry`: records raise -> handler-entry latency.
  void record_entry(int cpu, const IrqAck& ack, Time entry);
  void eoi(int cpu, IrqId id);
  // Makes arrivals up to `now` pending (a core waking from WFI with interrupts masked).
  void poll(int cpu, Time now);

  void set_priority(int cpu, IrqId id, int priority);
  void set_enabled(int cpu, IrqId id, bool enabled);
  bool pending(int cpu, IrqId id) const;
  bool active(int cpu, IrqId id) const;

  // Minimum time from any post by another process to its arrival (see the header note).
  Time lookahead(Time min_send_cost) const {
    return std::max(min_send_cost, ipi_floor_ - receiver_fixed_);
  }
  const Distribution& ipi_latency() const { return ipi_latency_; }
  Time receive_cost_cycles() const { return receive_cost_; }

  StatGroup stats_;
  Counter sgis_sent{&stats_, "sgis_sent", "SGIs (IPIs) raised", "count"};
  Counter posted{&stats_, "posted", "timer and device interrupts posted", "count"};
  Counter delivered{&stats_, "delivered", "interrupts acknowledged by a core", "count"};
  Counter merged{&stats_, "merged", "arrivals merged into an already pending id", "count"};
  Counter sgis_floored{&stats_, "sgis_floored",
                       "IPIs whose end-to-end latency sample was below the send, entry and acknowledge cycles it "
                       "includes (delivered at that floor instead)", "count"};
  Histogram latency_sgi{&stats_, "latency.sgi", "SGI raise to handler entry", "ps"};
  Histogram latency_ppi{&stats_, "latency.ppi", "PPI (timer) raise to handler entry", "ps"};
  Histogram latency_spi{&stats_, "latency.spi", "SPI (device) raise to handler entry", "ps"};
  Counter ipis_lost{&stats_, "fault.ipis_lost", "IPIs dropped by fault.ipi.loss", "count"};
  Counter ipis_delayed{&stats_, "fault.ipis_delayed", "IPIs delayed by fault.ipi.delay", "count"};
  Counter ipis_duplicated{&stats_, "fault.ipis_duplicated", "IPIs delivered twice (fault.ipi.duplicate)", "count"};
  Counter stuck_reasserts{&stats_, "fault.stuck_reasserts", "re-assertions of the stuck line at EOI", "count"};

 private:
  struct Arrival {
    Time at;
    uint64_t seq;
    IrqId id;
    int source;
    Time raised;
    bool operator>(const Arrival& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  struct Cpu {
    IrqTarget* target = nullptr;
    std::vector<Arrival> inflight;  // min-heap on (at, seq)
    std::vector<uint8_t> pending, active, enabled;
    std::vector<uint64_t> candidates;  // pending & enabled & !active, one bit per id
    std::vector<int> priority;
    std::vector<IrqAck> pending_info;
    std::vector<IrqId> active_stack;
    Time attention = kTimeMax;
  };
  void push(int cpu, const Arrival& a);
  void absorb_arrivals(Cpu& c, Time now);
  int running_priority(const Cpu& c) const;
  IrqId best_deliverable(const Cpu& c) const;
  void refresh(Cpu& c);
  static void update_candidate(Cpu& c, IrqId id);
  Cpu& at(int cpu) { return cpus_.at(static_cast<size_t>(cpu)); }

  const int num_ids_;
  const Distribution ipi_latency_;
  Time ipi_floor_;
  Time receiver_fixed_ = 0;
  Topology topo_;
  std::vector<const Distribution*> by_distance_;  // per Distance
  std::vector<Distribution> by_distance_store_;
  const Time receive_cost_;
  Rng rng_;
  // Faults: off unless set; a fault that is off draws nothing from fault_rng_.
  const double ipi_loss_, ipi_delay_p_, ipi_dup_p_;
  const Distribution ipi_delay_, ipi_dup_gap_;
  const IrqId stuck_id_;
  const int stuck_cpu_;
  const Time stuck_at_;
  Rng fault_rng_;
  std::vector<Cpu> cpus_;
  uint64_t seq_ = 0;
  // SGIs sent per (from, to), counted only when some are forced or recorded.
  std::map<std::pair<int, int>, uint64_t> pair_sent_;
  std::map<std::tuple<int, int, uint64_t>, Time> forced_;
  bool record_sends_ = false;
  std::vector<SentIpi> sends_;
};

}  // namespace quiesce
