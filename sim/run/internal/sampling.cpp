#include "sim/run/internal/sampling.h"

#include <algorithm>
#include <map>

#include "sim/base/error.h"
#include "sim/run/internal/sweep_state.h"

namespace quiesce::run_internal {

Sampling::Sampling(const SweepSpec& spec, double precision, uint64_t step)
    : total_(spec.total), precision_(precision), step_(std::max<uint64_t>(step, 1)) {
  if (!adaptive()) return;
  size_t at = spec.axes.size();
  for (size_t a = 0; a < spec.axes.size(); ++a) {
    if (spec.axes[a].label() == "seed") at = a;
  }
  if (at == spec.axes.size()) {
    throw ConfigError("sweep.precision", "",
                      "sampling to a precision needs a `seed` axis: its values are each variant's runs, in order, "
                      "and its length their cap (e.g. seed: {range: [1, 400]})");
  }
  seeds_ = spec.axes[at].rows.size();
  for (size_t a = at + 1; a < spec.axes.size(); ++a) stride_ *= spec.axes[a].rows.size();
}

// A point's index is (outer, seed, inner) in mixed radix; its unit is (outer, inner).
uint64_t Sampling::unit_of(uint64_t index) const {
  if (!adaptive()) return index;
  const uint64_t outer = index / (seeds_ * stride_), inner = index % stride_;
  return outer * stride_ + inner;
}

uint64_t Sampling::index_of(uint64_t unit, uint64_t ordinal) const {
  const uint64_t outer = unit / stride_, inner = unit % stride_;
  return (outer * seeds_ + ordinal) * stride_ + inner;
}

Sampling::Unit Sampling::walk(uint64_t unit, const Lookup& have) const {
  Unit u;
  if (!adaptive()) {
    u.asked = {unit};
    const PointRecord* r = have(unit);
    u.decided = u.met = r && !r->broken();
    return u;
  }
  size_t lockdep = 0, deadlock = 0;
  bool good = true;  // every point so far has a good result
  for (uint64_t n = 0; n < seeds_;) {
    const uint64_t look = std::min(seeds_, n + step_);
    for (; n < look; ++n) {
      const uint64_t index = index_of(unit, n);
      u.asked.push_back(index);
      const PointRecord* r = have(index);
      if (!r || r->broken()) {
        good = false;
        continue;
      }
      lockdep += r->lockdep_reported() ? 1 : 0;
      deadlock += r->deadlocked() ? 1 : 0;
    }
    if (!good) return u;
    if (wilson_half_width(lockdep, n) <= precision_ && wilson_half_width(deadlock, n) <= precision_) {
      u.decided = u.met = true;
      return u;
    }
  }
  u.decided = true;  // at the cap
  return u;
}

const PointRecord* RecordCache::get(uint64_t index) {
  auto it = read_.find(index);
  if (it != read_.end()) return &it->second;
  if (absent_.count(index)) return nullptr;
  PointRecord r;
  if (!read_point_record(dir_, spec_, index, &r)) {
    absent_.insert(index);
    return nullptr;
  }
  return &read_.emplace(index, std::move(r)).first->second;
}

bool RecordCache::reread(uint64_t index) {
  read_.erase(index);
  absent_.erase(index);
  return get(index) != nullptr;
}

std::vector<PointRecord> sampled_records(const std::string& dir, const SweepSpec& spec, const Sampling& sampling,
                                         uint64_t* asked, std::vector<uint64_t>* missing) {
  RecordCache cache(dir, spec);
  const Sampling::Lookup lookup = [&](uint64_t i) { return cache.get(i); };
  std::vector<uint64_t> want;
  for (uint64_t u = 0; u < sampling.units(); ++u) {
    const Sampling::Unit unit = sampling.walk(u, lookup);
    want.insert(want.end(), unit.asked.begin(), unit.asked.end());
  }
  std::sort(want.begin(), want.end());
  if (asked) *asked = want.size();
  std::vector<PointRecord> out;
  for (uint64_t i : want) {
    if (const PointRecord* r = cache.get(i)) {
      out.push_back(*r);
    } else if (missing) {
      missing->push_back(i);
    }
  }
  return out;
}

}  // namespace quiesce::run_internal
