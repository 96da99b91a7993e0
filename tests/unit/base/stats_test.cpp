#include "sim/base/stats.h"

#include <gtest/gtest.h>

namespace quiesce {
namespace {

TEST(Stats, CountersRegisterWithTheirGroup) {
  StatRegistry r;
  StatGroup g(&r, "cpu0.l1");
  Counter hits(&g, "hits", "L1 hits", "count");
  ++hits;
  hits += 4;
  EXPECT_EQ(hits.value(), 5u);
  ASSERT_EQ(r.groups().size(), 1u);
  EXPECT_EQ(r.groups()[0]->stats()[0]->name(), "hits");
}

TEST(Stats, HistogramIsExactForSmallValuesAndWithinTwoPercentAbove) {
  StatRegistry r;
  StatGroup g(&r, "x");
  Histogram h(&g, "lat", "latency", "ps");
  for (int v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), 100);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
  EXPECT_EQ(h.percentile(0.5), 50);
  Histogram big(&g, "big", "big", "ps");
  for (int64_t v = 1; v <= 100000; ++v) big.record(v * 1000);
  for (double q : {0.5, 0.9, 0.99}) {
    double exact = q * 1e8;
    EXPECT_NEAR(static_cast<double>(big.percentile(q)), exact, exact * 0.016) << q;
  }
  EXPECT_EQ(big.percentile(1.0), 100000000);
}

TEST(Stats, MergedHistogramsEqualOneFedEverySample) {
  StatGroup g(nullptr, "x");
  Histogram a(&g, "a", "a", "ps"), b(&g, "b", "b", "ps"), both(&g, "both", "both", "ps");
  for (int64_t v = 1; v < 5000; v += 7) {
    (v % 2 ? a : b).record(v * 97);
    both.record(v * 97);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), both.count());
  EXPECT_EQ(a.min(), both.min());
  EXPECT_EQ(a.max(), both.max());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.percentile(q), both.percentile(q));
}

TEST(Stats, EmptyHistogramReportsZeros) {
  StatGroup g(nullptr, "x");
  Histogram h(&g, "lat", "latency", "ps");
  EXPECT_EQ(h.percentile(0.99), 0);
  EXPECT_EQ(h.max(), 0);
}

}  // namespace
}  // namespace quiesce
