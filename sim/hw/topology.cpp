#include "sim/hw/topology.h"

#include <algorithm>

namespace quiesce {

namespace {

bool is_name(const std::string& s) {
  if (s.empty() || s.size() > 40 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

}  // namespace

Topology::Topology(int cpus, int threads_per_core, std::vector<TopologyLevel> levels, std::string llc_level)
    : cores(cpus), threads_per_core(threads_per_core), levels_(std::move(levels)) {
  if (cpus < 1) throw std::invalid_argument("a platform has at least one CPU");
  if (threads_per_core < 1 || threads_per_core > 8) {
    throw std::invalid_argument("threads per core must be between 1 and 8");
  }
  if (cpus % threads_per_core != 0) {
    throw std::invalid_argument(std::to_string(cpus) + " CPUs do not make whole cores of " +
                                std::to_string(threads_per_core) + " threads");
  }
  names_ = {"same_cpu", "smt"};
  present_ = {false, threads_per_core > 1};
  auto name_index = [&](const std::string& n) -> Distance {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == n) return static_cast<Distance>(i);
    }
    names_.push_back(n);
    present_.push_back(false);
    return static_cast<Distance>(names_.size() - 1);
  };
  std::vector<std::string> level_names;
  int units = physical_cores();
  std::vector<int> unit_of_core(static_cast<size_t>(units));
  for (int c = 0; c < units; ++c) unit_of_core[static_cast<size_t>(c)] = c;
  for (size_t li = 0; li < levels_.size(); ++li) {
    const TopologyLevel& l = levels_[li];
    const std::string where = "level " + std::to_string(li + 1) + " ('" + l.name + "')";
    if (!is_name(l.name)) {
      throw std::invalid_argument("level " + std::to_string(li + 1) + ": a level is named in lower case letters, digits and _, got '" + l.name + "'");
    }
    if (l.name == "same_cpu" || l.name == "smt" || l.name == "system") {
      throw std::invalid_argument(where + ": '" + l.name + "' is a reserved distance name");
    }
    if (std::find(level_names.begin(), level_names.end(), l.name) != level_names.end()) {
      throw std::invalid_argument(where + ": two levels are named '" + l.name + "'");
    }
    level_names.push_back(l.name);
    // Which group each unit of the level below falls in, and each group's distance.
    std::vector<int> group_of_unit(static_cast<size_t>(units));
    std::vector<Distance> dist;
    if (!l.groups.empty()) {
      if (l.size != 0) throw std::invalid_argument(where + ": give either size or groups, not both");
      int u = 0;
      for (const auto& g : l.groups) {
        const std::string gname = g.name.empty() ? l.name : g.name;
        if (!is_name(gname) || gname == "same_cpu" || gname == "smt" || gname == "system") {
          throw std::invalid_argument(where + ": a group's name '" + gname + "' is not a usable distance name");
        }
        if (g.size < 1) throw std::invalid_argument(where + ": a group holds at least one unit");
        for (int k = 0; k < g.size && u < units; ++k) group_of_unit[static_cast<size_t>(u++)] = static_cast<int>(dist.size());
        dist.push_back(name_index(gname));
      }
      if (u < units) {
        throw std::invalid_argument(where + ": its groups hold " + std::to_string(u) + " units, but the level below has " +
                                    std::to_string(units) + (li == 0 ? " cores" : " groups"));
      }
    } else {
      if (l.size < 0) throw std::invalid_argument(where + ": a size is at least 1 (0 or none: one group of all)");
      const int s = l.size == 0 ? units : l.size;
      for (int u = 0; u < units; ++u) group_of_unit[static_cast<size_t>(u)] = u / s;
      const Distance d = name_index(l.name);
      dist.assign(static_cast<size_t>((units + s - 1) / s), d);
    }
    Built b;
    b.group_of.resize(static_cast<size_t>(physical_cores()));
    for (int c = 0; c < physical_cores(); ++c) {
      b.group_of[static_cast<size_t>(c)] = group_of_unit[static_cast<size_t>(unit_of_core[static_cast<size_t>(c)])];
    }
    b.distance_of = dist;
    // A group's distance occurs when it holds two units of the level below.
    std::vector<int> held(dist.size(), 0);
    for (int u = 0; u < units; ++u) ++held[static_cast<size_t>(group_of_unit[static_cast<size_t>(u)])];
    for (size_t g = 0; g < dist.size(); ++g) {
      if (held[g] >= 2) present_[dist[g]] = true;
    }
    unit_of_core = b.group_of;
    units = static_cast<int>(dist.size());
    built_.push_back(std::move(b));
  }
  outer_ = name_index("system");
  if (units >= 2) present_[outer_] = true;
  if (names_.size() > 250) throw std::invalid_argument("more than 250 distance names");
  if (!llc_level.empty()) {
    auto it = std::find(level_names.begin(), level_names.end(), llc_level);
    if (it == level_names.end()) {
      throw std::invalid_argument("the last-level cache level '" + llc_level + "' is not one of the levels");
    }
    llc_ = static_cast<int>(it - level_names.begin());
  } else {
    llc_ = static_cast<int>(built_.size()) - 1;
  }
}

int Topology::find_distance(const std::string& name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

bool Topology::share_cache(int a, int b) const {
  if (llc_ < 0) return true;
  const auto& g = built_[static_cast<size_t>(llc_)].group_of;
  return g[static_cast<size_t>(core_of(a))] == g[static_cast<size_t>(core_of(b))];
}

std::string Topology::describe() const {
  std::string s = std::to_string(cores) + " CPUs";
  if (threads_per_core > 1) {
    s += ": " + std::to_string(physical_cores()) + " cores x " + std::to_string(threads_per_core) + " threads";
  }
  for (size_t i = 0; i < levels_.size(); ++i) {
    const TopologyLevel& l = levels_[i];
    s += (i == 0 && threads_per_core == 1 ? ": " : "; ") + l.name + " of ";
    if (!l.groups.empty()) {
      for (size_t g = 0; g < l.groups.size(); ++g) s += (g ? "+" : "") + std::to_string(l.groups[g].size);
    } else {
      s += l.size == 0 ? "all" : std::to_string(l.size);
    }
  }
  return s;
}

}  // namespace quiesce
