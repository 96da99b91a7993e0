#include "sim/base/units.h"

#include <gtest/gtest.h>

#include <limits>

#include "sim/base/params.h"

namespace quiesce {
namespace {

TEST(Units, ParsesTimesWithEveryUnit) {
  EXPECT_EQ(parse_time("150ns"), 150 * kNs);
  EXPECT_EQ(parse_time("2us"), 2 * kUs);
  EXPECT_EQ(parse_time("2 us"), 2 * kUs);
  EXPECT_EQ(parse_time("1.5ms"), 1500 * kUs);
  EXPECT_EQ(parse_time("3s"), 3 * kSec);
  EXPECT_EQ(parse_time("500ps"), 500);
  EXPECT_EQ(parse_time("0ns"), 0);
  EXPECT_EQ(parse_time("1e3ns"), kUs);
}

TEST(Units, RejectsTimesWithoutOrWithWrongUnits) {
  EXPECT_THROW(parse_time("150"), UnitError);
  EXPECT_THROW(parse_time("150 furlongs"), UnitError);
  EXPECT_THROW(parse_time("-1us"), UnitError);
  EXPECT_THROW(parse_time("nan us"), UnitError);
  EXPECT_THROW(parse_time("1e30s"), UnitError);
  EXPECT_THROW(parse_time(""), UnitError);
  try {
    parse_time("10 sec");
    FAIL();
  } catch (const UnitError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown time unit \"sec\""), std::string::npos);
  }
}

TEST(Units, ParsesCyclesAndLatencies) {
  EXPECT_EQ(parse_cycles("300"), 300);
  EXPECT_EQ(parse_cycles("300 cycles"), 300);
  EXPECT_EQ(parse_cycles("1 cycle"), 1);
  EXPECT_THROW(parse_cycles("3.5"), UnitError);
  EXPECT_THROW(parse_cycles("30ns"), UnitError);
  Latency l = parse_latency("80 cycles");
  EXPECT_TRUE(l.cycles);
  EXPECT_EQ(l.to_ps(500), 40000);
  Latency t = parse_latency("40ns");
  EXPECT_FALSE(t.cycles);
  EXPECT_EQ(t.to_ps(500), 40000);
}

TEST(Units, ParsesFrequenciesAndSizes) {
  EXPECT_DOUBLE_EQ(parse_frequency("2GHz"), 2e9);
  EXPECT_DOUBLE_EQ(parse_frequency("800 MHz"), 8e8);
  EXPECT_THROW(parse_frequency("2"), UnitError);
  EXPECT_THROW(parse_frequency("0GHz"), UnitError);
  EXPECT_EQ(parse_size("32KiB"), 32768);
  EXPECT_EQ(parse_size("64"), 64);
  EXPECT_EQ(parse_size("1MiB"), 1 << 20);
  EXPECT_THROW(parse_size("32KB"), UnitError);
}

TEST(Units, FormatsTimesExactly) {
  EXPECT_EQ(format_time(1500 * kNs), "1.5us");
  EXPECT_EQ(format_time(7), "7ps");
  EXPECT_EQ(format_time(50 * kMs), "50ms");
  EXPECT_EQ(format_time(0), "0ps");
  EXPECT_EQ(parse_time(format_time(123456789)), 123456789);
}

TEST(Units, TimesStayWellInsideSixtyFourBits) {
  EXPECT_EQ(parse_time("1000000s"), kMaxInputTime);
  EXPECT_THROW(parse_time("1000001s"), UnitError);
  EXPECT_THROW(parse_time("9223372036854775807ps"), UnitError);
  // Found by fuzzing: 1e15 cycles of a slow clock overflowed to a negative time.
  EXPECT_EQ((Latency{921337245380245, true}).to_ps(1000000), kMaxInputTime);
  EXPECT_EQ((Latency{300, true}).to_ps(500), 150000);
  EXPECT_THROW(parse_frequency("1e-9Hz"), UnitError);
  EXPECT_EQ(Frequency{1}.period_ps(), kSec);
}

TEST(Units, TimesParseExactlyAndFormatBackExactly) {
  // Found by fuzzing: through a double, times past 2^53 ps (2.5 hours) lost their last digits.
  EXPECT_EQ(parse_time("138562338564775807ps"), 138562338564775807);
  EXPECT_EQ(parse_time(format_time(138562338564775807)), 138562338564775807);
  EXPECT_EQ(parse_time("138562.338564775807s"), 138562338564775807);
  EXPECT_EQ(parse_time("0.5ps"), 1);
  EXPECT_EQ(parse_time("0.49ps"), 0);
  EXPECT_EQ(parse_time("0.05ns"), 50);
  EXPECT_EQ(parse_time("100.50us"), 100500000);
  EXPECT_EQ(parse_time("1e-3us"), 1000);
  EXPECT_EQ(parse_time("-0ns"), 0);
  EXPECT_THROW(parse_time("-0.001ps"), UnitError);
  EXPECT_THROW(parse_time("1e99999999999s"), UnitError);
  EXPECT_EQ(parse_time("1e-99999999999s"), 0);
}

TEST(Units, FormatsTheMostNegativeTime) {
  // Found by fuzzing (UBSan): negating the most negative time overflowed.
  EXPECT_EQ(format_time(std::numeric_limits<Time>::min()), "-9223372.036854775808s");
  EXPECT_EQ(format_time(-1500000), "-1.5us");
}

}  // namespace
}  // namespace quiesce
