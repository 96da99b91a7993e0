// Intervals and survival against hand-computed values (Wilson, Clopper-Pearson's zero
// bound, Kaplan-Meier with Greenwood's variance and log-log limits).
#include <gtest/gtest.h>

#include "sim/base/proportion.h"

namespace quiesce {
namespace {

TEST(Proportion, WilsonIntervalsMatchHandValues) {
  const Interval a = wilson(2, 5);
  EXPECT_NEAR(a.lo, 0.117621, 1e-6);
  EXPECT_NEAR(a.hi, 0.769276, 1e-6);
  const Interval zero = wilson(0, 5);
  EXPECT_EQ(zero.lo, 0);
  EXPECT_NEAR(zero.hi, 0.434482, 1e-6);
  const Interval all = wilson(5, 5);
  EXPECT_NEAR(all.lo, 0.565518, 1e-6);
  EXPECT_EQ(all.hi, 1);
  const Interval one = wilson(1, 20);
  EXPECT_NEAR(one.lo, 0.008881, 1e-6);
  EXPECT_NEAR(one.hi, 0.236131, 1e-6);
  EXPECT_EQ(wilson(0, 0).hi, 1) << "no runs: nothing known";
}

// "0 -> 20% -> 40% -> 0 along one axis" from 5 seeds each: every interval overlaps.
TEST(Proportion, FiveSeedSwingsAreNoise) {
  const Interval zero = wilson(0, 5), two = wilson(2, 5);
  EXPECT_LT(two.lo, zero.hi);
}

TEST(Proportion, CleanRunsBoundPAndSayHowManyMoreAreNeeded) {
  EXPECT_NEAR(zero_detection_bound(5), 0.450720, 1e-6);
  EXPECT_NEAR(zero_detection_bound(10), 0.258866, 1e-6);
  EXPECT_NEAR(zero_detection_bound(299), 0.00997, 1e-5);
  EXPECT_EQ(clean_runs_for(0.01), 299u);
  EXPECT_EQ(clean_runs_for(0.05), 59u);
  EXPECT_GT(zero_detection_bound(298), 0.01);
  EXPECT_LE(zero_detection_bound(299), 0.01);
}

// Detections at 1, 3, 4; runs censored at 2 and 5 (they ended without one).
TEST(Proportion, KaplanMeierMatchesHandValues) {
  const Survival s = kaplan_meier({{1, true}, {2, false}, {3, true}, {4, true}, {5, false}});
  EXPECT_EQ(s.n, 5u);
  EXPECT_EQ(s.events, 3u);
  ASSERT_EQ(s.steps.size(), 3u);
  EXPECT_EQ(s.steps[0].at_risk, 5u);
  EXPECT_EQ(s.steps[1].at_risk, 3u) << "the run censored at 2 left the risk set";
  EXPECT_NEAR(s.steps[0].s, 0.8, 1e-12);
  EXPECT_NEAR(s.steps[1].s, 0.533333, 1e-6);
  EXPECT_NEAR(s.steps[2].s, 0.266667, 1e-6);
  EXPECT_NEAR(s.steps[1].lo, 0.068332, 1e-6);
  EXPECT_NEAR(s.steps[1].hi, 0.863071, 1e-6);
  EXPECT_NEAR(s.steps[2].hi, 0.686136, 1e-6);
  ASSERT_TRUE(s.median && s.median_lo);
  EXPECT_EQ(*s.median, 4);
  EXPECT_EQ(*s.median_lo, 1);
  EXPECT_FALSE(s.median_hi) << "the upper limit never falls to 0.5: not reached";
}

TEST(Proportion, KaplanMeierWithoutDetectionsHasNoMedian) {
  const Survival s = kaplan_meier({{5, false}, {5, false}});
  EXPECT_EQ(s.events, 0u);
  EXPECT_TRUE(s.steps.empty());
  EXPECT_FALSE(s.median);
  // A censoring at the time of a detection is still at risk then.
  const Survival t = kaplan_meier({{2, false}, {2, true}});
  ASSERT_EQ(t.steps.size(), 1u);
  EXPECT_EQ(t.steps[0].at_risk, 2u);
  EXPECT_NEAR(t.steps[0].s, 0.5, 1e-12);
}

}  // namespace
}  // namespace quiesce
