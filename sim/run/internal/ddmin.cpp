#include "sim/run/internal/ddmin.h"

#include <algorithm>

namespace quiesce::run_internal {

std::vector<size_t> ddmin(size_t n, const FirstPassing& first_passing) {
  std::vector<size_t> kept(n);
  for (size_t i = 0; i < n; ++i) kept[i] = i;
  size_t parts = 2;
  while (kept.size() >= 2) {
    parts = std::min(parts, kept.size());
    // The parts, then their complements (for two parts these are the parts again).
    std::vector<std::vector<size_t>> subsets, candidates;
    for (size_t p = 0; p < parts; ++p) {
      const size_t from = kept.size() * p / parts, to = kept.size() * (p + 1) / parts;
      subsets.emplace_back(kept.begin() + static_cast<long>(from),
                           kept.begin() + static_cast<long>(to));
    }
    candidates = subsets;
    if (parts > 2) {
      for (size_t p = 0; p < parts; ++p) {
        std::vector<size_t> rest;
        for (size_t q = 0; q < parts; ++q) {
          if (q != p) rest.insert(rest.end(), subsets[q].begin(), subsets[q].end());
        }
        candidates.push_back(std::move(rest));
      }
    }
    const int hit = first_passing(candidates);
    if (hit >= 0) {
      const bool subset = static_cast<size_t>(hit) < parts;
      kept = candidates[static_cast<size_t>(hit)];
      parts = subset ? 2 : std::max<size_t>(parts - 1, 2);
      continue;
    }
    if (parts >= kept.size()) break;
    parts = std::min(parts * 2, kept.size());
  }
  return kept;
}

}  // namespace quiesce::run_internal
