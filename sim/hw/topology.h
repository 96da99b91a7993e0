#pragma once
// Which CPUs share a core (SMT threads, one L1), and which cores share each grouping level
// (a core complex, a die, a socket, a group of sockets): so how far a cache line or an IPI
// travels between two CPUs. The levels are named by the platform, innermost first; two
// CPUs are at the distance of the innermost group holding both (named by the group, or by
// its level). CPUs are numbered thread by thread within a core (siblings are adjacent:
// CPU 2k and 2k+1 with two threads per core), cores group by group.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace quiesce {

// An index into Topology::distance_names(): kSameCpu, kSmtSibling, then one per level (or
// per named group) from the innermost out.
using Distance = uint8_t;
inline constexpr Distance kSameCpu = 0;
inline constexpr Distance kSmtSibling = 1;

// One grouping level: either `size` units of the level below (cores for the first level)
// per group, the last group possibly smaller, size 0 meaning all of them in one group; or
// explicit groups in order, each with its own size and optionally its own distance name.
struct TopologyLevel {
  std::string name;
  int size = 0;
  struct Group {
    std::string name;  // "" = the level's name
    int size = 1;
  };
  std::vector<Group> groups;
};

class Topology {
 public:
  // One CPU, no levels.
  Topology() : Topology(1, 1, {}) {}
  // Throws std::invalid_argument naming what does not fit (a message for the user).
  Topology(int cpus, int threads_per_core, std::vector<TopologyLevel> levels, std::string llc_level = "");

  int cores = 1;  // CPUs as the kernel numbers them (hardware threads)
  int threads_per_core = 1;

  int physical_cores() const { return (cores + threads_per_core - 1) / threads_per_core; }
  int core_of(int cpu) const { return cpu / threads_per_core; }
  Distance distance(int a, int b) const {
    if (a == b) return kSameCpu;
    return core_distance(core_of(a), core_of(b));
  }
  Distance core_distance(int core_a, int core_b) const {
    if (core_a == core_b) return kSmtSibling;
    for (const Built& l : built_) {
      const int g = l.group_of[static_cast<size_t>(core_a)];
      if (g == l.group_of[static_cast<size_t>(core_b)]) return l.distance_of[static_cast<size_t>(g)];
    }
    return outer_;
  }
  // "same_cpu", "smt", then the level and group names and "system" (across every level).
  const std::vector<std::string>& distance_names() const { return names_; }
  const std::string& distance_name(Distance d) const { return names_.at(d); }
  // The distance named `name`, or -1.
  int find_distance(const std::string& name) const;
  // Whether some pair of CPUs is at distance `d`.
  bool has_distance(Distance d) const { return present_.at(d); }
  // Linux's cpus_share_cache(): both in one group of the level holding the last-level cache.
  bool share_cache(int a, int b) const;
  const std::vector<TopologyLevel>& levels() const { return levels_; }
  // One line, e.g. "32 CPUs: 16 cores x 2 threads; ccx of 8; package of 2".
  std::string describe() const;

 private:
  struct Built {
    std::vector<int> group_of;     // per core
    std::vector<Distance> distance_of;  // per group
  };
  std::vector<TopologyLevel> levels_;
  std::vector<Built> built_;
  std::vector<std::string> names_;
  std::vector<bool> present_;
  Distance outer_ = 0;
  int llc_ = -1;  // index into built_, -1 = everything shares one cache
};

// Simulated physical address.
using Addr = uint64_t;

}  // namespace quiesce
