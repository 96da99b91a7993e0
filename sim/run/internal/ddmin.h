#pragma once
// Zeller and Hildebrandt's ddmin over a list of items: the smallest subset it finds on
// which a test still holds (1-minimal when the budget lasts: removing any one item of the
// result makes the test fail). Candidates go to the caller in batches, in a fixed order,
// and the first that passes in that order is taken, so the result does not depend on how
// the caller runs a batch (one at a time or in parallel).
#include <cstddef>
#include <functional>
#include <vector>

namespace quiesce::run_internal {

// Given candidates (each a sorted subset of the items' indices), the index of the first
// that passes, in order; -1 when none does, or when the caller's budget ran out.
using FirstPassing = std::function<int(const std::vector<std::vector<size_t>>& candidates)>;

// Shrinks the items 0..n-1 (the whole set is assumed to pass); returns the indices kept,
// ascending. Never offers the empty set.
std::vector<size_t> ddmin(size_t n, const FirstPassing& first_passing);

}  // namespace quiesce::run_internal
