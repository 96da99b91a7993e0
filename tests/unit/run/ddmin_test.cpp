#include "sim/run/internal/ddmin.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace quiesce::run_internal {
namespace {

bool has(const std::vector<size_t>& set, size_t x) {
  return std::find(set.begin(), set.end(), x) != set.end();
}

// A test over batches that counts the candidates it was shown.
FirstPassing batch_of(const std::function<bool(const std::vector<size_t>&)>& pass, size_t* shown) {
  return [pass, shown](const std::vector<std::vector<size_t>>& candidates) {
    for (size_t i = 0; i < candidates.size(); ++i) {
      ++*shown;
      if (pass(candidates[i])) return static_cast<int>(i);
    }
    return -1;
  };
}

TEST(Ddmin, KeepsExactlyTheTwoItemsTheFailureNeeds) {
  size_t shown = 0;
  const auto kept = ddmin(
      16, batch_of([](const std::vector<size_t>& s) { return has(s, 3) && has(s, 11); }, &shown));
  EXPECT_EQ(kept, (std::vector<size_t>{3, 11}));
  EXPECT_LT(shown, 60u);
}

TEST(Ddmin, OneItemAloneIsFoundByHalving) {
  size_t shown = 0;
  const auto kept =
      ddmin(64, batch_of([](const std::vector<size_t>& s) { return has(s, 42); }, &shown));
  EXPECT_EQ(kept, (std::vector<size_t>{42}));
  EXPECT_LE(shown, 2u * 6u);  // two halves per level, six levels
}

TEST(Ddmin, ResultIsOneMinimal) {
  // Passes when at least three of the items 1, 4, 6, 9 are present.
  auto pass = [](const std::vector<size_t>& s) {
    return has(s, 1) + has(s, 4) + has(s, 6) + has(s, 9) >= 3;
  };
  size_t shown = 0;
  const auto kept = ddmin(12, batch_of(pass, &shown));
  ASSERT_TRUE(pass(kept));
  ASSERT_EQ(kept.size(), 3u);
  for (size_t drop = 0; drop < kept.size(); ++drop) {
    std::vector<size_t> less = kept;
    less.erase(less.begin() + static_cast<long>(drop));
    EXPECT_FALSE(pass(less));
  }
}

TEST(Ddmin, NeverOffersTheEmptySetAndStopsAtOneItem) {
  size_t shown = 0;
  bool empty_seen = false;
  const auto kept = ddmin(5, [&](const std::vector<std::vector<size_t>>& cs) {
    for (size_t i = 0; i < cs.size(); ++i) {
      ++shown;
      empty_seen = empty_seen || cs[i].empty();
      if (!cs[i].empty()) return static_cast<int>(i);  // anything passes
    }
    return -1;
  });
  EXPECT_FALSE(empty_seen);
  EXPECT_EQ(kept.size(), 1u);
}

TEST(Ddmin, AnExhaustedBudgetKeepsWhatLastPassed) {
  // The budget allows one passing answer; after it every batch reports none.
  int answers = 1;
  const auto kept = ddmin(8, [&](const std::vector<std::vector<size_t>>& cs) {
    if (answers-- <= 0) return -1;
    return has(cs[0], 2) ? 0 : -1;
  });
  EXPECT_EQ(kept, (std::vector<size_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace quiesce::run_internal
