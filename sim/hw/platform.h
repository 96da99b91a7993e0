#pragma once
// A whole machine built from a platform description (platforms/*.yaml plus overrides):
// the cores, the interrupt controller and the coherent memory, wired together.
#include <memory>
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

inline constexpr int kMaxCores = 256;

struct PlatformParams : ParamGroup {
  PlatformParams() : ParamGroup("", "platform: cores, topology, clock") {}
  Param<std::string> name{this, "name", "custom", "preset name"};
  Param<std::string> description{this, "description", "", "one line on what the preset models"};
  Param<int64_t> cores{this, "cores", "4", "number of cores"};
  Param<Frequency> clock{this, "clock", "2GHz", "core clock (cycle-valued latencies count in it)"};
  Param<int64_t> cores_per_cluster{this, "topology.cores_per_cluster", "4", "cores sharing a cluster"};
  Param<int64_t> clusters_per_socket{this, "topology.clusters_per_socket", "1", "clusters per socket"};
  Param<std::string> source{this, "source", "", "where the preset's figures come from"};
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
  Topology topology() const;
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
  const Topology topo_;
  const Time period_;
  Time lookahead_ = 0;
  std::unique_ptr<InterruptController> irq_;
  std::unique_ptr<MemorySystem> mem_;
  std::vector<std::unique_ptr<Core>> cores_;
  Core::Guards guards_;
  Halt halt_;
};

// Finds a preset by name in the platforms directory (QUIESCE_ROOT or the install's).
std::string platforms_dir();
std::vector<std::string> list_platforms();

}  // namespace quiesce
