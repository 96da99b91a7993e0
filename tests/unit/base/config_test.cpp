#include "sim/base/config.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <optional>

namespace quiesce {
namespace {

TEST(Config, ErrorsNameFileLineColumnAndPath) {
  ConfigNode doc = parse_yaml("a:\n  b: 1\n  c: [1, 2]\n", "x.yaml");
  try {
    doc["a"]["c"].scalar("a number");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "x.yaml:3:6");
    EXPECT_EQ(e.path(), "a.c");
    EXPECT_EQ(std::string(e.what()), "x.yaml:3:6: error: 'a.c': expected a number, got a list");
  }
}

TEST(Config, MissingChildReportsItsParentLocation) {
  ConfigNode doc = parse_yaml("a:\n  b: 1\n", "x.yaml");
  ConfigNode missing = doc["a"]["zzz"]["deeper"];
  EXPECT_FALSE(missing.present());
  EXPECT_EQ(missing.path(), "a.zzz.deeper");
  EXPECT_EQ(missing.where(), "x.yaml:2:3");
}

TEST(Config, SyntaxErrorsCarryTheirLine) {
  try {
    parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(e.where().find("bad.yaml:"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("YAML syntax"), std::string::npos);
  }
}

TEST(Config, UnknownKeysSuggestTheClosest) {
  ConfigNode doc = parse_yaml("name: x\nduraton: 5ms\n", "s.yaml");
  try {
    doc.expect_keys({"name", "duration", "seed"});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "s.yaml:2:1");
    EXPECT_EQ(e.message(), "unknown key 'duraton'; did you mean 'duration'?");
  }
}

TEST(Config, SetByPathCreatesMapsAndRecordsOrigin) {
  ConfigNode doc = parse_yaml("irq: {ipi: {latency: 1us}}\n", "p.yaml");
  set_by_path(doc, "irq.ipi.latency", YAML::Node("2us"), "--set irq.ipi.latency=2us");
  set_by_path(doc, "mem.handoff.socket", YAML::Node("70ns"), "--set mem.handoff.socket=70ns");
  EXPECT_EQ(doc.at_path("irq.ipi.latency").scalar(), "2us");
  EXPECT_EQ(doc.at_path("mem.handoff.socket").scalar(), "70ns");
  EXPECT_EQ(doc.at_path("irq.ipi.latency").where(), "--set irq.ipi.latency=2us");
}

TEST(Config, SetByPathRefusesToGoThroughAListOrAScalar) {
  ConfigNode doc = parse_yaml("cores: 4\nworkload: [a, b]\n", "p.yaml");
  EXPECT_THROW(set_by_path(doc, "cores.count", YAML::Node("1"), "--set"), ConfigError);
  EXPECT_THROW(set_by_path(doc, "workload.x", YAML::Node("1"), "--set"), ConfigError);
  EXPECT_THROW(set_by_path(doc, "a..b", YAML::Node("1"), "--set"), ConfigError);
}

TEST(Config, CopiesRebindRatherThanOverwrite) {
  ConfigNode doc = parse_yaml("a: {b: 1}\nc: 2\n", "p.yaml");
  ConfigNode n = doc;
  n = n["a"];  // must not write a's content over the document (yaml-cpp's Node::operator=)
  EXPECT_EQ(doc["c"].scalar(), "2");
  EXPECT_EQ(n["b"].scalar(), "1");
}

TEST(Config, DidYouMeanOnlySuggestsCloseWords) {
  EXPECT_EQ(did_you_mean("cors", {"cores", "clock"}), "cores");
  EXPECT_EQ(did_you_mean("zzzzzz", {"cores", "clock"}), "");
  EXPECT_EQ(did_you_mean("B", {"A"}), "") << "a one-letter name is not a typo of another";
}

TEST(Config, RefusesHostileYamlBeforeBuildingATree) {
  auto message = [](const std::string& text, const YamlLimits& limits = {}) {
    try {
      parse_yaml(text, "h.yaml", limits);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(std::string(70, '[') + std::string(70, ']')),
            "h.yaml:1:65: error: collections nest deeper than 64 levels, the limit on YAML input");
  EXPECT_EQ(message("a: &a [x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b]\n", YamlLimits{1 << 20, 64, 20}),
            "h.yaml:3:5: error: alias '*b' repeats 10 nodes and the document has more than 20 nodes "
            "(counting what aliases repeat), the limit on YAML input");
  EXPECT_EQ(message("a: &a [1, *a]\n"), "h.yaml:1:11: error: alias '*a' is inside the node it names (a cycle)");
  EXPECT_EQ(message("a: caf\xe9\n"),
            "h.yaml:1:7: error: not UTF-8: byte 0xE9 does not begin a valid character (save the file as UTF-8)");
  EXPECT_EQ(message(std::string("a: b\0c\n", 8)),
            "h.yaml:1:5: error: control character U+0000 (YAML allows only tab and line breaks)");
  EXPECT_EQ(message(std::string(100, 'x'), YamlLimits{64, 64, 100}),
            "h.yaml: error: larger than 64 bytes, the limit on YAML input");
  EXPECT_EQ(message("a: caf\xc3\xa9\n"), "accepted");
  EXPECT_EQ(message("\xef\xbb\xbf" "a: 1\n"), "accepted");  // a UTF-8 byte-order mark

  // A text that passed is not checked again (a sweep loads its scenario at every point),
  // but only under the same limits: tighter ones check it afresh. A refused text is
  // refused every time.
  const std::string bomb = "a: &a [x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b]\n";
  EXPECT_EQ(message(bomb), "accepted");
  EXPECT_EQ(message(bomb), "accepted");
  EXPECT_NE(message(bomb, YamlLimits{1 << 20, 64, 20}), "accepted");
  EXPECT_NE(message(bomb, YamlLimits{16, 64, 1000}), "accepted") << "larger than 16 bytes";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(message("a: &a [1, *a]\n"), "h.yaml:1:11: error: alias '*a' is inside the node it names (a cycle)");
  }
}

TEST(Config, MessagesAreOneLineOfBoundedLength) {
  ConfigError e("f.yaml:1:1", "a\nb", "unknown key '" + std::string(100000, 'k') + "\n'; did you mean 'x'?");
  const std::string what = e.what();
  EXPECT_EQ(what.find('\n'), std::string::npos);
  EXPECT_LT(what.size(), 1000u);
  EXPECT_NE(what.find("'a\\nb'"), std::string::npos) << what;
  EXPECT_NE(what.find("bytes left out"), std::string::npos) << what;
  EXPECT_NE(what.find("\\n'; did you mean 'x'?"), std::string::npos) << what;
  EXPECT_EQ(printable("caf\xe9"), "caf\\xE9");
}

// The bound is on the printed text: 300 stray bytes fit in 600 bytes but print as 1,200
// (\xNN each); a --set key of them gave a 4 KB message (found by fuzzing).
TEST(Config, PrintableBoundsTheEscapedText) {
  for (size_t n : {10, 150, 151, 300, 5000}) {
    const std::string bytes(n, '\x8C');
    const std::string p = printable(bytes, 600);
    EXPECT_LE(p.size(), 600u + 40u) << n;
    if (4 * n <= 600) {
      EXPECT_EQ(p.size(), 4 * n) << n;
    } else {
      EXPECT_NE(p.find("bytes left out"), std::string::npos) << n;
      EXPECT_EQ(p.rfind("\\x8C"), p.size() - 4) << n;  // the end is kept, whole escapes only
    }
  }
  const std::string mixed = std::string(100, 'a') + std::string(1000, '\x01') + "caf\xc3\xa9 end";
  const std::string p = printable(mixed, 200);
  EXPECT_LE(p.size(), 240u);
  EXPECT_EQ(p.substr(0, 100), std::string(100, 'a'));
  EXPECT_EQ(p.substr(p.size() - 9), "caf\xc3\xa9 end");
}

TEST(Config, AMappingMadeByAnOverrideIsNamedByIt) {
  ConfigNode doc = parse_yaml("sim: {}\n", "s.yaml");
  set_by_path(doc, "sim.quantum.x", YAML::Node("1"), "--set sim.quantum.x=1");
  EXPECT_EQ(doc.at_path("sim.quantum").where(), "--set sim.quantum.x=1");
}

// A sweep's point process takes the tree its parent kept for a text once: with its lines
// and columns, and never the same tree twice (a point changes its tree with its values).
TEST(Config, AForkedProcessTakesEachKeptTreeOnce) {
  const std::string text = "name: kept\nsim:\n  quantum: 1us\n";
  std::optional<KeptYamlTrees> kept(std::in_place);
  YAML::Node own = load_yaml_text(text);
  own["sim"]["quantum"] = "2us";  // the parent's own tree is not the kept one
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    KeptYamlTrees::take();
    int failures = KeptYamlTrees::count() != 1;
    YAML::Node first = load_yaml_text(text);
    failures += first["sim"]["quantum"].as<std::string>() != "1us";
    failures +=
        first["sim"]["quantum"].Mark().line != 2 || first["sim"]["quantum"].Mark().column != 11;
    first["sim"]["quantum"] = "5us";  // as a point's override would
    const YAML::Node second = load_yaml_text(text);
    failures += second["sim"]["quantum"].as<std::string>() != "1us";
    failures += second["sim"]["quantum"].Mark().line != 2;
    failures += load_yaml_text("other: 1\n")["other"].as<int>() != 1;  // not kept: parsed
    ::_exit(failures);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(load_yaml_text(text)["sim"]["quantum"].as<std::string>(),
            "1us");  // the parent parses afresh
  EXPECT_THROW(KeptYamlTrees second, std::logic_error);  // one at a time
  kept.reset();
  // Its end stops the keeping and drops what it kept: a process forked after has none.
  load_yaml_text("late: 1\n");
  const pid_t later = ::fork();
  ASSERT_GE(later, 0);
  if (later == 0) {
    KeptYamlTrees::take();
    ::_exit(KeptYamlTrees::count() == 0 ? 0 : 1);
  }
  ASSERT_EQ(::waitpid(later, &status, 0), later);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace quiesce
