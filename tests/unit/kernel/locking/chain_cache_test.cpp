#include "sim/kernel/locking/chain_cache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace quiesce::kernel {
namespace {

TEST(ChainCache, FindsWhatItStoredAndNothingElse) {
  ChainCache cache;
  const ChainCache::Chain a = {1 << 8, 2 << 8};
  const ChainCache::Chain b = {2 << 8, 1 << 8};  // the same entries in the other order
  const ChainCache::Chain prefix = {1 << 8};
  EXPECT_FALSE(cache.contains(a, ChainCache::hash(a)));
  cache.insert(a, ChainCache::hash(a));
  EXPECT_TRUE(cache.contains(a, ChainCache::hash(a)));
  EXPECT_FALSE(cache.contains(b, ChainCache::hash(b)));
  EXPECT_FALSE(cache.contains(prefix, ChainCache::hash(prefix)));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ChainCache, StacksWithOneHashAreComparedWhole) {
  // Two different stacks given one hash (as a collision would): each is found only as itself.
  ChainCache cache;
  const ChainCache::Chain a = {7, 8, 9};
  const ChainCache::Chain b = {7, 8, 10};
  const ChainCache::Chain c = {7, 8};
  const uint64_t h = 42;
  cache.insert(a, h);
  EXPECT_FALSE(cache.contains(b, h));
  EXPECT_FALSE(cache.contains(c, h));
  cache.insert(b, h);
  EXPECT_TRUE(cache.contains(a, h));
  EXPECT_TRUE(cache.contains(b, h));
  EXPECT_FALSE(cache.contains(c, h));
  EXPECT_EQ(cache.size(), 2u);
}

TEST(ChainCache, KeepsEveryStackAcrossGrowth) {
  // Far past the first table's 1024 slots (it grows at half full): nothing is lost or
  // confused when the slots are laid out again.
  ChainCache cache;
  std::vector<ChainCache::Chain> stored;
  for (uint64_t i = 0; i < 5000; ++i) {
    ChainCache::Chain chain(1 + i % 5, i);
    chain.back() = i << 8 | 1;
    cache.insert(chain, ChainCache::hash(chain));
    stored.push_back(chain);
  }
  EXPECT_EQ(cache.size(), stored.size());
  for (const auto& chain : stored) EXPECT_TRUE(cache.contains(chain, ChainCache::hash(chain)));
  for (uint64_t i = 0; i < 5000; ++i) {
    ChainCache::Chain other(1 + i % 5, i);
    other.back() = i << 8 | 2;  // never stored
    EXPECT_FALSE(cache.contains(other, ChainCache::hash(other)));
  }
}

}  // namespace
}  // namespace quiesce::kernel
