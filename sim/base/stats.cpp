#include "sim/base/stats.h"

#include <algorithm>
#include <cmath>

namespace quiesce {

Stat::Stat(StatGroup* group, std::string name, std::string desc, std::string unit)
    : name_(std::move(name)), desc_(std::move(desc)), unit_(std::move(unit)) {
  group->add(this);
}

StatGroup::StatGroup(StatRegistry* registry, std::string prefix) : prefix_(std::move(prefix)) {
  if (registry) registry->add(this);
}

int64_t Histogram::bucket_upper(size_t b) {
  if (b < static_cast<size_t>(kSub)) return static_cast<int64_t>(b);
  size_t shift = (b - kSub) / kSub;
  int64_t sub = static_cast<int64_t>((b - kSub) % kSub);
  return ((kSub + sub + 1) << shift) - 1;
}

void Histogram::merge(const Histogram& o) {
  if (o.count_ == 0) return;
  if (counts_.size() < o.counts_.size()) counts_.resize(o.counts_.size(), 0);
  for (size_t b = 0; b < o.counts_.size(); ++b) counts_[b] += o.counts_[b];
  min_ = count_ ? std::min(min_, o.min_) : o.min_;
  max_ = count_ ? std::max(max_, o.max_) : o.max_;
  count_ += o.count_;
  sum_ += o.sum_;
}

int64_t Histogram::percentile(double q) const {
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t b = 0; b < counts_.size(); ++b) {
    seen += counts_[b];
    if (seen >= rank) return std::clamp(bucket_upper(b), min_, max_);
  }
  return max_;
}

std::vector<std::pair<int64_t, uint64_t>> Histogram::buckets() const {
  std::vector<std::pair<int64_t, uint64_t>> out;
  for (size_t b = 0; b < counts_.size(); ++b) {
    if (counts_[b]) out.emplace_back(bucket_upper(b), counts_[b]);
  }
  return out;
}

}  // namespace quiesce
