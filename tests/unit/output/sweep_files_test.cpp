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
