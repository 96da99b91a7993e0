// The joined sweep files as their readers parse them: junit.xml stays valid UTF-8 whatever
// bytes a point's stderr tail holds, and a metric without a value stays empty.
#include "sim/output/sweep_files.h"

#include <gtest/gtest.h>

#include <limits>

#include "sim/base/error.h"
#include "sim/output/json.h"

namespace quiesce {
namespace {

PointRecord broken_point(const std::string& stderr_tail) {
  PointRecord p;
  p.id = "p000000";
  p.outcome = "crashed";
  p.ok = false;
  p.failures = {"killed by signal 6"};
  p.stderr_tail = stderr_tail;
  p.host_seconds = 1.25;
  return p;
}

TEST(Utf8Tail, CutsAtACharacterBoundary) {
  const std::string s = "ab\xC3\xA9\xE2\x82\xAC";  // "abé€"
  EXPECT_EQ(utf8_tail(s, 100), s);
  EXPECT_EQ(utf8_tail(s, 4), "...\xE2\x82\xAC") << "not the last byte of é";
  EXPECT_EQ(utf8_tail(s, 5), "...\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(utf8_tail(s, 2), "...") << "nothing whole fits";
}

TEST(ValidUtf8, ReplacesWhatDoesNotBeginACharacter) {
  EXPECT_EQ(valid_utf8("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(valid_utf8("\xA9x"), "\xEF\xBF\xBDx") << "a continuation byte alone";
  EXPECT_EQ(valid_utf8("x\xE2\x82"), "x\xEF\xBF\xBD\xEF\xBF\xBD") << "a character cut short";
  EXPECT_EQ(valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "an overlong '/'";
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "a surrogate";
}

TEST(JunitXml, AStderrTailCutInsideACharacterStaysValidUtf8) {
  SweepInfo info;
  info.name = "s";
  info.file = "s.yaml";
  info.total = 1;
  // The tail begins inside "€" (its last two bytes) and ends inside "é" (its first byte).
  const std::string xml = junit_xml(info, {broken_point("...\x82\xAC abort \xC3")});
  EXPECT_EQ(valid_utf8(xml), xml) << "every byte sequence in junit.xml is a character";
  EXPECT_NE(xml.find("\xEF\xBF\xBD\xEF\xBF\xBD abort \xEF\xBF\xBD</error>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("time=\"1.250\""), std::string::npos) << xml;
}

TEST(PointsFiles, AMetricWithoutAValueIsEmpty) {
  SweepInfo info;
  info.name = "s";
  PointRecord p;
  p.id = "p000000";
  p.outcome = "ok";
  p.metrics = {{"a.count", 0}, {"a.p99_ns", std::numeric_limits<double>::quiet_NaN()}};
  EXPECT_EQ(p.metric("a.p99_ns"), nullptr);
  EXPECT_NE(points_csv(info, {p}).find("\n0,p000000,ok,true,0,\n"), std::string::npos) << points_csv(info, {p});
  EXPECT_NE(points_jsonl({p}).find("\"a.p99_ns\": null"), std::string::npos);
}

}  // namespace
}  // namespace quiesce

namespace quiesce {
namespace {

// A variant whose 5 seeds give 2 reports (at 1 and 3 ms) and one whose 10 give none: the
// summary gives the intervals, the zero bound and the runs it still needs, and the
// Kaplan-Meier median with the clean runs censored at their 5 ms.
TEST(SummaryMd, EveryShareCarriesItsIntervalAndCleanVariantsTheirBound) {
  SweepInfo info;
  info.name = "s";
  info.file = "s.yaml";
  SweepAxisInfo v{"variant", {"variant"}, {{"bug"}, {"fix"}}};
  SweepAxisInfo seed{"seed", {"seed"}, {}};
  info.axes = {v, seed};
  std::vector<PointRecord> points;
  auto add = [&](const std::string& variant, int s, double first_ns) {
    PointRecord p;
    p.index = points.size();
    p.id = "p" + std::to_string(p.index);
    p.params = {{"variant", variant}, {"seed", std::to_string(s)}};
    p.outcome = "ok";
    p.metrics = {{"lockdep_reports", first_ns > 0 ? 1 : 0}, {"deadlock", 0}, {"simulated_ms", 5}};
    if (first_ns > 0) p.metrics.push_back({"detection.first_ns", first_ns});
    points.push_back(p);
  };
  for (int s = 1; s <= 5; ++s) add("bug", s, s == 1 ? 1e6 : s == 2 ? 3e6 : 0);
  for (int s = 1; s <= 10; ++s) add("fix", s, 0);
  info.total = points.size();
  const std::string md = summary_md(info, points);
  EXPECT_NE(md.find("| bug | 5 | 40.0% [11.8–76.9] | 0.0% [0.0–43.4] |"), std::string::npos) << md;
  EXPECT_NE(md.find("| fix | 10 | 0.0% [0.0–27.8] | 0.0% [0.0–27.8] |"), std::string::npos) << md;
  EXPECT_NE(md.find("| bug | 5 | 2 of 5: 40.0% [11.8–76.9] | 0 of 5: P ≤ 45.1%; 294 more clean runs for ≤ 1% | "
                    "not reached [1000.000 – not reached] |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| fix | 10 | 0 of 10: P ≤ 25.9%; 289 more clean runs for ≤ 1% | 0 of 10: P ≤ 25.9%; 289 more "
                    "clean runs for ≤ 1% | none in 10 |"),
            std::string::npos)
      << md;
}

}  // namespace
}  // namespace quiesce
