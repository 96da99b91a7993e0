#include "sim/hw/platform.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "sim/base/asan.h"
#include "sim/base/error.h"

namespace quiesce {

namespace {

// Keys whose meaning changed: refused with what replaced them, not just "unknown".
void refuse_replaced_keys(const ConfigNode& tree) {
  for (const char* k : {"topology.cores_per_cluster", "topology.clusters_per_socket"}) {
    ConfigNode n = tree.at_path(k);
    if (n.present()) {
      n.fail(std::string(k) + " was replaced by topology.levels, innermost first, e.g. "
                              "levels: [{name: cluster, size: 4}, {name: socket, size: 2}] (README: Platforms)");
    }
  }
  ConfigNode c2c = tree.at_path("mem.c2c");
  if (c2c.present()) {
    c2c.fail("mem.c2c was replaced by mem.handoff: one figure per distance, the one-way hand-off a core-to-core "
             "benchmark reports (c2c counted about twice per hand-off); see README: Calibrating a platform from a "
             "published table");
  }
}

std::vector<TopologyLevel> parse_levels(const ConfigNode& n) {
  std::vector<TopologyLevel> out;
  if (!n.present()) return out;
  if (!n.is_list()) n.fail("topology.levels is a list of levels, innermost first: [{name: cluster, size: 4}, ...]");
  auto int_of = [](const ConfigNode& v) {
    const std::string s = v.scalar("a whole number");
    char* end = nullptr;
    const long x = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || x < 0 || x > kMaxCores) {
      v.fail("expected a whole number from 0 to " + std::to_string(kMaxCores) + ", got \"" + s + "\"");
    }
    return static_cast<int>(x);
  };
  for (const ConfigNode& item : n.items()) {
    if (!item.is_map()) item.fail("a level is a mapping {name, size} or {name, groups}");
    item.expect_keys({"name", "size", "groups"});
    TopologyLevel l;
    l.name = item["name"].scalar("the level's name");
    if (item["size"].present()) l.size = int_of(item["size"]);
    ConfigNode groups = item["groups"];
    if (groups.present()) {
      if (!groups.is_list() || groups.size() == 0) groups.fail("groups is a list of {size, name}");
      for (const ConfigNode& g : groups.items()) {
        if (!g.is_map()) g.fail("a group is a mapping {size, name}");
        g.expect_keys({"name", "size"});
        TopologyLevel::Group grp;
        if (g["name"].present()) grp.name = g["name"].scalar("the group's distance name");
        grp.size = int_of(g["size"]);
        l.groups.push_back(grp);
      }
    }
    out.push_back(std::move(l));
  }
  return out;
}

// The entries of a {distance name: value} table, by Distance. Names the topology does not
// have fail (did you mean), unless the table is the built-in default.
std::vector<ConfigNode> distance_table(const ConfigNode& table, const Topology& t, bool is_default) {
  std::vector<ConfigNode> out(t.distance_names().size());
  if (!table.present()) return out;
  if (!table.is_map()) table.fail("expected a mapping {distance name: value}, e.g. {cluster: 20ns, system: 150ns}");
  for (const std::string& k : table.keys()) {
    const int d = t.find_distance(k);
    if (d < 0 || d == kSameCpu) {
      if (is_default) continue;
      std::vector<std::string> names(t.distance_names().begin() + 1, t.distance_names().end());
      std::string msg = "no distance '" + k + "' in this topology (its distances: ";
      for (size_t i = 0; i < names.size(); ++i) msg += (i ? ", " : "") + names[i];
      msg += ")";
      const std::string hint = did_you_mean(k, names);
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      const std::string full = join_path(table.path(), k);
      std::string where = override_key_origin(table, full);
      if (where.empty()) where = table.key_where(k);
      throw ConfigError(where, full, msg);
    }
    out[static_cast<size_t>(d)] = table[k];
  }
  return out;
}

Latency latency_of(const ConfigNode& n) {
  try {
    return parse_latency(n.scalar("a latency such as 40ns or 80 cycles"));
  } catch (const UnitError& e) {
    n.fail(e.what());
  }
}

// A published figure in ns: a time ("7.8ns") or fractional core cycles ("6.5 cycles").
double published_ns(const ConfigNode& n, Time period) {
  const std::string s = n.scalar("a latency such as 17ns or 6.5 cycles");
  double ns = 0;
  const size_t unit = s.find("cycle");
  if (unit != std::string::npos) {
    const std::string num = s.substr(0, unit);
    char* end = nullptr;
    const double v = std::strtod(num.c_str(), &end);
    if (num.empty() || (*end != '\0' && *end != ' ')) n.fail("expected a number of cycles, got \"" + s + "\"");
    ns = v * static_cast<double>(period) / 1e3;
  } else {
    try {
      ns = static_cast<double>(parse_time(s)) / 1e3;
    } catch (const UnitError& e) {
      n.fail(e.what());
    }
  }
  if (!(ns > 0) || ns > 1e9) n.fail("a published figure is above zero and at most 1s");
  return ns;
}

}  // namespace

void PlatformConfig::load(const ConfigNode& tree) {
  if (!tree.is_map()) tree.fail("a platform is a mapping of parameters");
  refuse_replaced_keys(tree);
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
  const ConfigNode levels_node = platform.levels().node;
  try {
    topo_ = Topology(static_cast<int>(platform.cores()), static_cast<int>(platform.threads_per_core()),
                     parse_levels(levels_node), platform.llc());
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    at(msg.find("thread") != std::string::npos ? "topology.threads_per_core" : "topology.levels").fail(msg);
  }
  // Every distance some pair of CPUs has needs a hand-off figure.
  const auto handoff = distance_table(mem.handoff().node, topo_, !tree.at_path("mem.handoff").present());
  const auto upgrade = distance_table(mem.upgrade().node, topo_, !tree.at_path("mem.upgrade").present());
  const auto ipi = distance_table(irq.ipi_by_distance().node, topo_, false);
  const size_t nd = topo_.distance_names().size();
  dist_lat_.handoff.assign(nd, Latency{});
  dist_lat_.upgrade.assign(nd, Latency{});
  ipi_by_distance_.assign(nd, std::nullopt);
  for (size_t d = 1; d < nd; ++d) {
    if (handoff[d].present()) {
      dist_lat_.handoff[d] = latency_of(handoff[d]);
    } else if (topo_.has_distance(static_cast<Distance>(d))) {
      at("mem.handoff").fail("mem.handoff has no figure for distance '" + topo_.distance_name(static_cast<Distance>(d)) +
                             "', which this topology has (" + topo_.describe() + ")");
    }
    dist_lat_.upgrade[d] = upgrade[d].present() ? latency_of(upgrade[d]) : dist_lat_.handoff[d];
    if (ipi[d].present()) ipi_by_distance_[d] = Distribution::parse(ipi[d]);
  }
  // An end-to-end IPI latency includes the sender's ICR write and the receiver's entry and
  // acknowledge: a latency that is always below them cannot be modelled (a distribution
  // reaching below is floored there, counted in irq.sgis_floored).
  const Time period = platform.clock().period_ps();
  const Time fixed = (core.ipi_send().value + core.irq_entry().value + irq.ipi_receive_cost().value) * period;
  auto check_ipi = [&](const Distribution& d, const std::string& key) {
    if (d.kind() == Distribution::Kind::Fixed && d.lower_bound() < fixed) {
      at(key).fail("an IPI of " + format_time(d.lower_bound()) + " end to end is below the costs it includes: " +
                   "core.op.ipi_send + core.op.irq_entry + irq.ipi.receive_cost = " + format_time(fixed) +
                   "; lower those or raise the latency");
    }
  };
  check_ipi(irq.ipi_latency(), "irq.ipi.latency");
  for (size_t d = 1; d < nd; ++d) {
    if (ipi_by_distance_[d]) check_ipi(*ipi_by_distance_[d], "irq.ipi.by_distance." + topo_.distance_name(static_cast<Distance>(d)));
  }
  published_.clear();
  const ConfigNode pub = platform.published().node;
  if (pub.present() && !pub.is_list()) pub.fail("published is a list of {metric, value, source}");
  for (const ConfigNode& item : pub.items()) {
    if (!item.is_map()) item.fail("a published figure is a mapping {metric, value, source}");
    item.expect_keys({"metric", "value", "source"});
    PublishedFigure f;
    f.metric = item["metric"].scalar("the hw-pingpong metric measuring the same quantity");
    f.value_text = item["value"].scalar("a latency such as 17ns or 6.5 cycles");
    f.value_ns = published_ns(item["value"], platform.clock().period_ps());
    f.source = item["source"].present() ? item["source"].scalar("where the figure comes from") : "";
    if (f.source.empty()) item.fail("a published figure names its source");
    published_.push_back(std::move(f));
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

const Distribution& PlatformConfig::ipi_latency_between(int from, int to) const {
  const auto d = static_cast<size_t>(topo_.distance(from, to));
  return d < ipi_by_distance_.size() && ipi_by_distance_[d] ? *ipi_by_distance_[d] : irq.ipi_latency();
}

Platform::Platform(const PlatformConfig& cfg, Time quantum, uint64_t seed, StatRegistry* stats)
    : name_(cfg.platform.name()),
      description_(cfg.platform.description()),
      topo_(cfg.topology()),
      published_(cfg.published()),
      period_(cfg.platform.clock().period_ps()) {
  irq_ = std::make_unique<InterruptController>("gic", topo_.cores, cfg.irq, cfg.fault, seed, stats);
  irq_->set_ipi_path(topo_, cfg.ipi_by_distance(),
                     (cfg.core.irq_entry().value + cfg.irq.ipi_receive_cost().value) * period_);
  std::vector<Time> periods(static_cast<size_t>(topo_.cores), period_);
  mem_ = std::make_unique<MemorySystem>("mem", topo_, cfg.mem, cfg.distance_latencies(), periods, period_, stats);
  lookahead_ = irq_->lookahead(cfg.core.ipi_send().value * period_);
  CoreTiming timing{period_, quantum, lookahead_};
  scheduler_ = std::make_unique<CoreScheduler>();
  for (int c = 0; c < topo_.cores; ++c) {
    auto core = std::make_unique<Core>(("cpu" + std::to_string(c)).c_str(), c, cfg.core, timing,
                                       irq_.get(), stats);
    core->out_mem_.bind(mem_->port(c));
    core->bind_memory(mem_.get());
    core->set_scheduler(scheduler_.get());
    if (c == cfg.fault.stall_cpu() && cfg.fault.stall_for().ps > 0) {
      core->inject_stall(cfg.fault.stall_at().ps, cfg.fault.stall_for().ps);
    }
    cores_.push_back(std::move(core));
  }
}

Platform::~Platform() = default;

void Platform::halt(const std::string& kind, const std::string& detail) {
  if (!halt_.kind.empty()) return;
  halt_ = Halt{kind, detail, CoreScheduler::simulated_now()};
  sc_core::sc_stop();
}

void Platform::set_guards(uint64_t max_events, uint64_t max_delta_cycles) {
  guards_.max_ops = max_events;
  guards_.max_deltas = max_delta_cycles;
  guards_.on_limit = [this, max_events] {
    halt("event_limit",
         "more than " + std::to_string(max_events) + " events (sim.max_events) by " +
             format_time(CoreScheduler::simulated_now()) +
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
    halt(
        "livelock",
        "simulated time stopped advancing at " + format_time(t) + ": more than " +
            std::to_string(max_delta_cycles) +
            " delta cycles (sim.max_delta_cycles) without time passing; processes waking again and "
            "again at that time: " +
            who + "; the current process: " +
            (Core::running() ? std::string(Core::running()->name())
                             : std::string(sc_core::sc_get_current_process_handle().name())));
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

void simulate_for(Time duration) {
  CoreScheduler::set_run_end(static_cast<Time>(sc_core::sc_time_stamp().value()) + duration);
  try {
    sc_core::sc_start(
        sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(duration)));
  } catch (...) {
    asan_on_thread_stack();  // the rethrow then unpoisons the frames the first throw unwound
    throw;
  }
  asan_on_thread_stack();
}

}  // namespace quiesce
