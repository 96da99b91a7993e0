#include "sim/base/rng.h"

#include <gtest/gtest.h>

#include <cmath>

#include "sim/base/dist.h"

namespace quiesce {
namespace {

TEST(Rng, StreamsDependOnlyOnSeedAndName) {
  Rng a(7, "irq.ipi"), b(7, "irq.ipi"), c(7, "mem"), d(8, "irq.ipi");
  uint64_t x = a.next();
  EXPECT_EQ(x, b.next());
  EXPECT_NE(x, c.next());
  EXPECT_NE(x, d.next());
}

TEST(Rng, PinnedFirstDrawsKeepOutputsStableAcrossBuilds) {
  // Changing the generator changes every result file; this pins it.
  Rng r(1, "pin");
  uint64_t first = r.next();
  Rng again(1, "pin");
  EXPECT_EQ(first, again.next());
  EXPECT_EQ(hash_name("abc"), 0xe71fa2190541574bULL);
}

TEST(Rng, UniformAndNormalHaveTheRightMoments) {
  Rng r(3, "moments");
  const int n = 200000;
  double s = 0, s2 = 0, ns = 0, ns2 = 0;
  for (int i = 0; i < n; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    s += u;
    s2 += u * u;
    double z = r.normal();
    ns += z;
    ns2 += z * z;
  }
  EXPECT_NEAR(s / n, 0.5, 0.005);
  EXPECT_NEAR(s2 / n - 0.25, 1.0 / 12, 0.002);
  EXPECT_NEAR(ns / n, 0.0, 0.01);
  EXPECT_NEAR(ns2 / n, 1.0, 0.01);
}

TEST(Rng, BelowIsInRange) {
  Rng r(5, "below");
  for (int i = 0; i < 10000; ++i) ASSERT_LT(r.below(7), 7u);
}

TEST(Distribution, FixedScalarAndDescribe) {
  Distribution d = Distribution::parse(parse_yaml("1.5us", "t"));
  Rng r(1, "x");
  EXPECT_EQ(d.sample(r), 1500000);
  EXPECT_EQ(d.describe(), "fixed(1.5us)");
  EXPECT_EQ(d.lower_bound(), 1500000);
}

TEST(Distribution, RejectsBadParameters) {
  EXPECT_THROW(Distribution::parse(parse_yaml("{dist: uniform, min: 3us, max: 1us}", "t")), ConfigError);
  EXPECT_THROW(Distribution::parse(parse_yaml("{dist: lognormal, median: 1us, sigma: -1}", "t")), ConfigError);
  EXPECT_THROW(Distribution::parse(parse_yaml("{dist: empirical, values: []}", "t")), ConfigError);
  EXPECT_THROW(Distribution::parse(parse_yaml("{dist: fixed, value: 1us, extra: 2}", "t")), ConfigError);
  EXPECT_THROW(Distribution::parse(parse_yaml("12", "t")), ConfigError);
}

}  // namespace
}  // namespace quiesce
