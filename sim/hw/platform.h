#pragma once
// A whole machine built from a platform description (platforms/*.yaml plus overrides):
// the cores, the interrupt controller and the coherent memory, wired together.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/config.h"
#include "sim/base/params.h"
#include "sim/base/stats.h"
#include "sim/hw/core/core.h"
#include "sim/hw/fault.h"
#include "sim/hw/irq/controller.h"
#include "sim/hw/mem/memory.h"
#include "sim/hw/topology.h"

namespace quiesce {

inline constexpr int kMaxCores = 1024;

struct PlatformParams : ParamGroup {
  PlatformParams() : ParamGroup("", "platform: cores, topology, clock") { threads_per_core.range(1, 8); }
  Param<std::string> name{this, "name", "custom", "preset name"};
  Param<std::string> description{this, "description", "", "one line on what the preset models"};
  Param<int64_t> cores{this, "cores", "4", "number of CPUs as the kernel counts them (hardware threads)"};
  Param<Frequency> clock{this, "clock", "2GHz", "core clock (cycle-valued latencies count in it)"};
  Param<int64_t> threads_per_core{this, "topology.threads_per_core", "1",
                                  "SMT: hardware threads sharing one core and its L1 (siblings are adjacent CPUs)"};
  Param<Table> levels{this, "topology.levels", "[{name: cluster, size: 4}]",
                      "grouping levels, innermost first: [{name, size}] (size units of the level below per group; "
                      "none = all) or [{name, groups: [{name, size}]}]; each name is a distance"};
  Param<std::string> llc{this, "topology.llc", "",
                         "the level whose groups share a last-level cache (Linux cpus_share_cache); default the outermost"};
  Param<std::string> source{this, "source", "", "where the preset's figures come from"};
  Param<Table> published{this, "published", "[]",
                         "published measurements the preset reproduces: [{metric: pingpong.<distance>.cas_one_way_ns, "
                         "value: 17ns, source: ...}]; hw-pingpong prints the model's figure beside each"};
};

// A figure from a published measurement that a preset is calibrated to: the hw-pingpong
// metric that measures the same quantity, the value in ns, and where it comes from.
struct PublishedFigure {
  std::string metric;
  double value_ns = 0;
  std::string value_text;  // as written ("17ns", "6.5 cycles")
  std::string source;
};

// Every parameter group a platform file may set, for validation and `quiesce list params`.
struct PlatformConfig {
  PlatformParams platform;
  CoreParams core;
  MemParams mem;
  IrqParams irq;
  FaultParams fault;
  std::vector<const ParamGroup*> groups() const { return {&platform, &core, &mem, &irq, &fault}; }
  // Reads and validates `tree` (unknown keys, types, units, ranges, consistency).
  void load(const ConfigNode& tree);
  const Topology& topology() const { return topo_; }
  // mem.handoff / mem.upgrade and irq.ipi.by_distance resolved per Distance (load() checks
  // every distance the topology has a hand-off).
  const DistanceLatencies& distance_latencies() const { return dist_lat_; }
  const std::vector<std::optional<Distribution>>& ipi_by_distance() const { return ipi_by_distance_; }
  const std::vector<PublishedFigure>& published() const { return published_; }
  // The distribution an IPI from CPU `from` to CPU `to` draws its latency from.
  const Distribution& ipi_latency_between(int from, int to) const;

 private:
  Topology topo_;
  std::vector<PublishedFigure> published_;
  DistanceLatencies dist_lat_;
  std::vector<std::optional<Distribution>> ipi_by_distance_;
};

class Platform {
 public:
  // Must be called during elaboration (it creates SystemC modules).
  Platform(const PlatformConfig& cfg, Time quantum, uint64_t seed, StatRegistry* stats);
  ~Platform();

  int cores() const { return topo_.cores; }
  const Topology& topology() const { return topo_; }
  Core& core(int i) { return *cores_.at(static_cast<size_t>(i)); }
  InterruptController& irq() { return *irq_; }
  MemorySystem& mem() { return *mem_; }
  Time period() const { return period_; }
  Time lookahead() const { return lookahead_; }
  const std::string& name() const { return name_; }
  const std::string& description() const { return description_; }
  const std::vector<PublishedFigure>& published() const { return published_; }

  // Progress guards: more than `max_events` instruction boundaries in all, or one
  // simulated time held for more than `max_delta_cycles` delta cycles (a zero-time loop),
  // stop the run (sc_stop) with outcome event_limit or livelock and a message naming
  // what was stuck.
  void set_guards(uint64_t max_events, uint64_t max_delta_cycles);
  struct Halt {
    std::string kind, detail;
    Time when = -1;
  };
  const Halt& halted() const { return halt_; }

 private:
  void halt(const std::string& kind, const std::string& detail);
  const std::string name_;
  const std::string description_;
  const Topology topo_;
  const std::vector<PublishedFigure> published_;
  const Time period_;
  Time lookahead_ = 0;
  std::unique_ptr<InterruptController> irq_;
  std::unique_ptr<MemorySystem> mem_;
  std::unique_ptr<CoreScheduler> scheduler_;
  std::vector<std::unique_ptr<Core>> cores_;
  Core::Guards guards_;
  Halt halt_;
};

// Finds a preset by name in the platforms directory (QUIESCE_ROOT or the install's).
std::string platforms_dir();
std::vector<std::string> list_platforms();

// Runs SystemC for `duration` (sc_start; the cores' scheduler runs nothing at or past its
// end, as SystemC does not). Afterwards, also when it throws, AddressSanitizer
// is back on this thread's own stack (see asan_on_thread_stack in sim/base/asan.h).
void simulate_for(Time duration);

}  // namespace quiesce
