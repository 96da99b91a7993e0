#include "sim/hw/platform.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace quiesce {

void PlatformConfig::load(const ConfigNode& tree) {
  if (!tree.is_map()) tree.fail("a platform is a mapping of parameters");
  check_known_keys(tree, groups());
  for (const ParamGroup* g : groups()) const_cast<ParamGroup*>(g)->load(tree);

  auto at = [&](const std::string& path) {
    ConfigNode n = tree.at_path(path);
    return n.present() ? n : tree;
  };
  if (platform.cores() < 1 || platform.cores() > kMaxCores) {
    at("cores").fail("cores must be between 1 and " + std::to_string(kMaxCores) + ", got " +
                     std::to_string(platform.cores()));
  }
  if (platform.cores_per_cluster() < 1 || platform.cores_per_cluster() > kMaxCores) {
    at("topology.cores_per_cluster").fail("must be between 1 and " + std::to_string(kMaxCores));
  }
  if (platform.clusters_per_socket() < 1 || platform.clusters_per_socket() > kMaxCores) {
    at("topology.clusters_per_socket").fail("must be between 1 and " + std::to_string(kMaxCores));
  }
  const int64_t line = mem.line_size().value;
  if (line < 8 || line > 4096 || (line & (line - 1)) != 0) {
    at("mem.line_size").fail("line size must be a power of two from 8B to 4KiB");
  }
  if (mem.l1_ways() < 1 || mem.l1_ways() > 64) at("mem.l1.ways").fail("ways must be between 1 and 64");
  if (mem.l1_size().value < line * mem.l1_ways() || mem.l1_size().value > (int64_t{1} << 30)) {
    at("mem.l1.size").fail("L1 size must hold at least one set (line_size x ways) and at most 1GiB");
  }
  if (core.ipi_send().value < 1) at("core.op.ipi_send").fail("an IPI send costs at least one cycle");
  if (irq.spis() < 0 || irq.spis() > 988) at("irq.spis").fail("SPIs must number between 0 and 988 (GIC limit)");
  if (irq.default_priority() < 0 || irq.default_priority() > 255) {
    at("irq.default_priority").fail("priorities are 0..255");
  }
  if (fault.stall_cpu() >= platform.cores()) {
    at("fault.core.stall.cpu").fail("no CPU " + std::to_string(fault.stall_cpu()) + " on a " +
                                    std::to_string(platform.cores()) + "-core platform");
  }
  if (fault.stuck_irq() >= 0) {
    if (fault.stuck_irq() < kFirstSpi || fault.stuck_irq() >= kFirstSpi + irq.spis()) {
      at("fault.irq.stuck.id").fail("a stuck line is a device interrupt: an SPI id from " + std::to_string(kFirstSpi) +
                                    " to " + std::to_string(kFirstSpi + irq.spis() - 1));
    }
    if (fault.stuck_cpu() >= platform.cores()) {
      at("fault.irq.stuck.cpu").fail("no CPU " + std::to_string(fault.stuck_cpu()) + " on a " +
                                     std::to_string(platform.cores()) + "-core platform");
    }
  }
}

Topology PlatformConfig::topology() const {
  return Topology{static_cast<int>(platform.cores()), static_cast<int>(platform.cores_per_cluster()),
                  static_cast<int>(platform.clusters_per_socket())};
}

Platform::Platform(const PlatformConfig& cfg, Time quantum, uint64_t seed, StatRegistry* stats)
    : name_(cfg.platform.name()),
      topo_(cfg.topology()),
      period_(cfg.platform.clock().period_ps()) {
  irq_ = std::make_unique<InterruptController>("gic", topo_.cores, cfg.irq, cfg.fault, seed, stats);
  std::vector<Time> periods(static_cast<size_t>(topo_.cores), period_);
  mem_ = std::make_unique<MemorySystem>("mem", topo_, cfg.mem, periods, period_, stats);
  lookahead_ = irq_->lookahead(cfg.core.ipi_send().value * period_);
  CoreTiming timing{period_, quantum, lookahead_};
  for (int c = 0; c < topo_.cores; ++c) {
    auto core = std::make_unique<Core>(("cpu" + std::to_string(c)).c_str(), c, cfg.core, timing,
                                       irq_.get(), stats);
    core->out_mem_.bind(mem_->port(c));
    core->bind_memory(mem_.get());
    if (c == cfg.fault.stall_cpu() && cfg.fault.stall_for().ps > 0) {
      core->inject_stall(cfg.fault.stall_at().ps, cfg.fault.stall_for().ps);
    }
    cores_.push_back(std::move(core));
  }
}

Platform::~Platform() = default;

void Platform::halt(const std::string& kind, const std::string& detail) {
  if (!halt_.kind.empty()) return;
  halt_ = Halt{kind, detail, static_cast<Time>(sc_core::sc_time_stamp().value())};
  sc_core::sc_stop();
}

void Platform::set_guards(uint64_t max_events, uint64_t max_delta_cycles) {
  guards_.max_ops = max_events;
  guards_.max_deltas = max_delta_cycles;
  guards_.on_limit = [this, max_events] {
    halt("event_limit", "more than " + std::to_string(max_events) + " events (sim.max_events) by " +
                            format_time(static_cast<Time>(sc_core::sc_time_stamp().value())) +
                            " simulated: the point stopped there; raise the cap with --set sim.max_events=N");
  };
  guards_.on_livelock = [this, max_delta_cycles](Core& by) {
    const Time t = by.last_wake_time();
    std::string who;
    for (const auto& c : cores_) {
      if (c->last_wake_time() == t && c->wakes_at_last_time() > 0) {
        who += (who.empty() ? "" : ", ") + std::string(c->name()) + " (" + std::to_string(c->wakes_at_last_time()) +
               " wakes)";
      }
    }
    halt("livelock", "simulated time stopped advancing at " + format_time(t) + ": more than " +
                         std::to_string(max_delta_cycles) +
                         " delta cycles (sim.max_delta_cycles) without time passing; processes waking again and "
                         "again at that time: " +
                         who + "; the current process: " + sc_core::sc_get_current_process_handle().name());
  };
  for (auto& c : cores_) c->set_guards(&guards_);
}

std::string platforms_dir() {
  if (const char* root = std::getenv("QUIESCE_ROOT")) return std::string(root) + "/platforms";
#ifdef QUIESCE_SOURCE_DIR
  return std::string(QUIESCE_SOURCE_DIR) + "/platforms";
#else
  return "platforms";
#endif
}

std::vector<std::string> list_platforms() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(platforms_dir(), ec)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace quiesce
