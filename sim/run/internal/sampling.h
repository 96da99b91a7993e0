#pragma once
// Which of a sweep's points run. Without sweep.precision: all of them. With it, per variant
// (a combination of the non-seed axes), the seed axis's values in order: its results are
// looked at after every `precision_step` runs, and the variant stops at the first look where
// the 95% Wilson intervals of its P(lockdep report) and P(deadlock) are both at most
// `precision` wide on either side, or when its seeds run out (the seed axis's length is the
// cap). Which points that is depends only on the points' results, never on the order they
// ran in, so --jobs, shards and --resume give the same sweep. Shards then cut by variant,
// not by point, so that each shard can decide its variants alone.
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/output/sweep_files.h"
#include "sim/scenario/sweep.h"

namespace quiesce::run_internal {

class Sampling {
 public:
  // Throws ConfigError (naming sweep.precision) when precision > 0 and the sweep has no
  // `seed` axis.
  Sampling(const SweepSpec& spec, double precision, uint64_t step);
  bool adaptive() const { return precision_ > 0; }
  // What shards divide: points, or (adaptive) variants. unit_of(point) is its unit.
  uint64_t units() const { return adaptive() ? total_ / seeds_ : total_; }
  uint64_t unit_of(uint64_t index) const;
  bool in_shard(uint64_t index, int shard_index, int shard_count) const {
    return static_cast<int>(unit_of(index) % static_cast<uint64_t>(shard_count)) == shard_index - 1;
  }

  // A point's result, or nullptr when it has none (a broken one is returned: it is there,
  // but says nothing about the detectors).
  using Lookup = std::function<const PointRecord*(uint64_t index)>;
  struct Unit {
    std::vector<uint64_t> asked;  // the points the rule asks for so far, in index order
    bool decided = false;         // every asked point has a good result and the rule is done
    bool met = false;             // decided at the precision (not at the cap)
  };
  // A unit's points so far: up to the first look whose points are not all good results yet,
  // or to where the rule stops.
  Unit walk(uint64_t unit, const Lookup& have) const;

 private:
  uint64_t index_of(uint64_t unit, uint64_t ordinal) const;
  uint64_t total_ = 1;
  double precision_ = 0;
  uint64_t step_ = 1;
  uint64_t seeds_ = 1, stride_ = 1;  // the seed axis's length, and the points between two of its values
};

// A sweep directory's point results, each read once: a result found, or that none was.
class RecordCache {
 public:
  RecordCache(std::string dir, const SweepSpec& spec) : dir_(std::move(dir)), spec_(spec) {}
  // The point's result, read on first asking; nullptr when it has none.
  const PointRecord* get(uint64_t index);
  // Reads the point's result again (it has just run); false when it has none.
  bool reread(uint64_t index);
  // Forgets which points had no result (other processes may have written some since).
  void forget_absent() { absent_.clear(); }

 private:
  std::string dir_;
  const SweepSpec& spec_;
  std::map<uint64_t, PointRecord> read_;
  std::set<uint64_t> absent_;
};

// Every point a sweep directory holds that its sampling asks for (all of them without
// precision), in index order; `asked` gets how many points that sampling asks for so far,
// `missing` those of them without a result.
std::vector<PointRecord> sampled_records(const std::string& dir, const SweepSpec& spec, const Sampling& sampling,
                                         uint64_t* asked = nullptr, std::vector<uint64_t>* missing = nullptr);

}  // namespace quiesce::run_internal
