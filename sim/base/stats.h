#pragma once
// Self-describing statistics (after Olympia's counters and gem5's ADD_STAT). A stat has a
// name, a description and a unit, is registered once in its component's StatGroup, and
// the C++ member carries the stat's name. Models only count; printers in sim/output/
// decide the format.
#include <cstdint>
#include <string>
#include <vector>

namespace quiesce {

class StatGroup;

class Stat {
 public:
  Stat(StatGroup* group, std::string name, std::string desc, std::string unit);
  virtual ~Stat() = default;
  Stat(const Stat&) = delete;
  Stat& operator=(const Stat&) = delete;
  const std::string& name() const { return name_; }
  const std::string& desc() const { return desc_; }
  const std::string& unit() const { return unit_; }

 private:
  std::string name_, desc_, unit_;
};

class Counter : public Stat {
 public:
  using Stat::Stat;
  Counter& operator++() {
    ++value_;
    return *this;
  }
  Counter& operator+=(uint64_t n) {
    value_ += n;
    return *this;
  }
  uint64_t value() const { return value_; }

 private:
  uint64_t value_ = 0;
};

// A value computed at the end of a run (a ratio, a configured figure).
class Value : public Stat {
 public:
  using Stat::Stat;
  void set(double v) { value_ = v; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

// Log-linear buckets (64 per power of two, so percentiles are within 1.6%); count, sum,
// min and max are exact. Bounded memory however many samples arrive.
class Histogram : public Stat {
 public:
  using Stat::Stat;
  void record(int64_t v) {  // inline: irq-off, preempt-off and lock sections record one each
    const size_t b = bucket_of(v);
    if (b >= counts_.size()) counts_.resize(b + 1, 0);
    ++counts_[b];
    if (count_ == 0 || v < min_) min_ = v;
    if (count_ == 0 || v > max_) max_ = v;
    ++count_;
    sum_ += static_cast<double>(v);
  }
  // Adds another histogram's samples (same bucket layout, so exact).
  void merge(const Histogram& other);
  uint64_t count() const { return count_; }
  int64_t min() const { return count_ ? min_ : 0; }
  int64_t max() const { return count_ ? max_ : 0; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }
  // The value below which a fraction q of samples lie (upper edge of its bucket, capped at max).
  int64_t percentile(double q) const;
  // Non-empty buckets as (upper bound, count), ascending: for histogram printers.
  std::vector<std::pair<int64_t, uint64_t>> buckets() const;

 private:
  static constexpr int kSubBits = 6;  // 64 sub-buckets per power of two
  static constexpr int64_t kSub = int64_t{1} << kSubBits;
  static size_t bucket_of(int64_t v) {
    if (v < 0) v = 0;
    if (v < kSub) return static_cast<size_t>(v);
    const int msb = 63 - __builtin_clzll(static_cast<uint64_t>(v));
    const int shift = msb - kSubBits;
    const int64_t sub = (v >> shift) - kSub;  // 0..kSub-1
    return static_cast<size_t>(kSub + shift * kSub + sub);
  }
  static int64_t bucket_upper(size_t b);
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
  int64_t min_ = 0, max_ = 0;
};

// A component's stats under a dotted prefix ("cpu3.l1"). Groups register with a
// registry in construction order; printers sort by name.
class StatRegistry;
class StatGroup {
 public:
  StatGroup(StatRegistry* registry, std::string prefix);
  StatGroup(const StatGroup&) = delete;
  StatGroup& operator=(const StatGroup&) = delete;
  const std::string& prefix() const { return prefix_; }
  const std::vector<Stat*>& stats() const { return stats_; }
  void add(Stat* s) { stats_.push_back(s); }

 private:
  std::string prefix_;
  std::vector<Stat*> stats_;
};

class StatRegistry {
 public:
  void add(StatGroup* g) { groups_.push_back(g); }
  const std::vector<StatGroup*>& groups() const { return groups_; }

 private:
  std::vector<StatGroup*> groups_;
};

}  // namespace quiesce
