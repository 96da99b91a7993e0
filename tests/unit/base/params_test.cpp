#include "sim/base/params.h"

#include <gtest/gtest.h>

namespace quiesce {
namespace {

struct Demo : ParamGroup {
  Demo() : ParamGroup("demo", "a demo component") { count.range(1, 64); }
  Param<int64_t> count{this, "count", "4", "how many"};
  Param<Duration> period{this, "timing.period", "10us", "how often"};
  Param<Cycles> cost{this, "timing.cost", "150", "what it costs"};
  Param<Choice> mode{this, "mode", "fast", "which way"};
  Param<Distribution> latency{this, "latency", "{dist: uniform, min: 1us, max: 3us}", "spread"};
};

TEST(Params, DefaultsApplyWhenKeysAreAbsent) {
  Demo d;
  d.mode.choices({"fast", "slow"});
  d.load(parse_yaml("other: 1\n", "t.yaml"));
  EXPECT_EQ(d.count(), 4);
  EXPECT_EQ(d.period().ps, 10 * kUs);
  EXPECT_EQ(d.cost().value, 150);
  EXPECT_EQ(d.mode().value, "fast");
  EXPECT_DOUBLE_EQ(d.latency().mean(), 2e6);
}

TEST(Params, ValuesAreReadByDottedPath) {
  Demo d;
  d.mode.choices({"fast", "slow"});
  d.load(parse_yaml("demo: {count: 8, timing: {period: 2ms, cost: 9 cycles}, mode: slow}\n", "t.yaml"));
  EXPECT_EQ(d.count(), 8);
  EXPECT_EQ(d.period().ps, 2 * kMs);
  EXPECT_EQ(d.cost().value, 9);
  EXPECT_EQ(d.mode().value, "slow");
}

void expect_error(const std::string& yaml, const std::string& where, const std::string& text) {
  Demo d;
  d.mode.choices({"fast", "slow"});
  try {
    ConfigNode doc = parse_yaml(yaml, "t.yaml");
    check_known_keys(doc, {&d});
    d.load(doc);
    FAIL() << "no error for " << yaml;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), where) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(Params, BadValuesNameTheirLocation) {
  expect_error("demo:\n  count: four\n", "t.yaml:2:10", "expected an integer");
  expect_error("demo:\n  count: 100\n", "t.yaml:2:10", "out of range [1, 64]");
  expect_error("demo:\n  timing: {period: 10}\n", "t.yaml:2:20", "needs a unit");
  expect_error("demo:\n  mode: fats\n", "t.yaml:2:9", "did you mean 'fast'");
  expect_error("demo:\n  latency: {dist: lognormal, median: 1us}\n", "t.yaml:2:12", "missing 'sigma'");
  expect_error("demo:\n  latency: {dist: gauss}\n", "t.yaml:2:19", "unknown distribution 'gauss'");
}

TEST(Params, UnknownKeysAreFoundAtAnyDepth) {
  expect_error("demo:\n  timing: {perod: 1us}\n", "t.yaml:2:12", "unknown key 'perod'; did you mean 'period'?");
  expect_error("dmeo: {count: 1}\n", "t.yaml:1:1", "did you mean 'demo'?");
}

TEST(Params, DescribeListsEveryDeclaration) {
  Demo d;
  auto rows = describe(d);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].name, "demo.count");
  EXPECT_EQ(rows[0].type, "integer");
  EXPECT_EQ(rows[0].range, "[1, 64]");
  EXPECT_EQ(rows[1].name, "demo.timing.period");
  EXPECT_EQ(rows[1].type, "time");
}

}  // namespace
}  // namespace quiesce
