// Hostile input through the real binary: every verb that reads a scenario refuses it with
// one line (file:line:column where there is one), exit code 2, promptly and in bounded
// memory, and writes nothing. Also the resource caps: cores, duration, sweep points.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

// Measured in the normal build: every case below takes 5-30 ms and under 20 MB. The bounds
// leave room for a loaded CI machine, and for AddressSanitizer's shadow memory and slowdown.
#ifdef QUIESCE_SANITIZED
constexpr double kMaxSeconds = 2.0;
constexpr long kMaxRssKb = 256 * 1024;
#else
constexpr double kMaxSeconds = 1.0;
constexpr long kMaxRssKb = 64 * 1024;
#endif

struct Hostile {
  std::string name;
  std::string content;             // the scenario file's bytes (unless `path` or `write` is given)
  std::string path;                // an existing file to read instead (e.g. /dev/zero)
  std::vector<std::string> verbs;  // run with each of these
  std::vector<std::string> extra;  // further arguments (e.g. --set)
  std::string expected;            // regex for the one line after the file's name
  // Writes a large file piece by piece: this process's own peak memory is inherited by the
  // child's (Linux keeps the peak across fork and exec), so it must stay small.
  std::function<void(std::ostream&)> write = nullptr;
};

void write_100mb_scalar(std::ostream& out) {
  const std::string mb(1 << 20, 'x');
  out << "name: ";
  for (int i = 0; i < 100; ++i) out << mb;
  out << "\nworkload: [{task: hw_pingpong}]\n";
}

std::string alias_bomb() {
  // "Billion laughs": ten levels of ten aliases each, 10^10 nodes once expanded, under
  // `set:` where the loader copies values.
  std::string s =
      "workload: [{task: hw_pingpong}]\nset:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    s += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) s += (j ? ", *l" : "*l") + std::to_string(i - 1);
    s += "]\n";
  }
  return s + "  cores: *l9\n";
}

std::string random_bytes(size_t n) {
  std::mt19937 gen(42);  // fixed: the same bytes on every run
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xFF);
  return s;
}

const std::string kWorkload = "workload: [{task: hw_pingpong}]\n";
const std::vector<std::string> kFileVerbs = {"validate", "run", "sweep"};
const std::string kLimit = "the limit on YAML input";

std::vector<Hostile> cases() {
  return {
      {"alias_bomb",
       alias_bomb(),
       "",
       kFileVerbs,
       {},
       R"(:\d+:\d+: error: alias '\*l\d' repeats \d+ nodes and the document has more than 100000 nodes )"
       R"(\(counting what aliases repeat\), )" +
           kLimit},
      {"alias_cycle",
       kWorkload + "set: {cores: &a [1, *a]}\n",
       "",
       kFileVerbs,
       {},
       R"(:2:21: error: alias '\*a' is inside the node it names \(a cycle\))"},
      {"nesting_10000_deep",
       "workload: " + std::string(10000, '[') + std::string(10000, ']') + "\n",
       "",
       kFileVerbs,
       {},
       R"(:1:74: error: collections nest deeper than 64 levels, )" + kLimit},
      {"nested_mappings_10000_deep",
       "workload:\n" +
           [] {
             std::string s;
             for (int i = 0; i < 10000; ++i) s += "{a: ";
             return s + "1" + std::string(10000, '}') + "\n";
           }(),
       "",
       {"validate", "run"},
       {},
       R"(:2:\d+: error: collections nest deeper than 64 levels, )" + kLimit},
      {"scalar_of_100MB",
       "",
       "",
       kFileVerbs,
       {},
       R"(: error: the file is larger than 1 MiB, )" + kLimit,
       write_100mb_scalar},
      {"endless_file",
       "",
       "/dev/zero",
       {"validate", "run"},
       {},
       R"(: error: the file is larger than 1 MiB, )" + kLimit},
      {"a_directory",
       "",
       std::string(QUIESCE_SOURCE_DIR) + "/scenarios",
       {"validate", "run"},
       {},
       R"(: error: is a directory, not a file)"},
      {"random_bytes",
       random_bytes(64 << 10),
       "",
       kFileVerbs,
       {},
       R"(:1:\d+: error: (not UTF-8: byte 0x[0-9A-F]{2} does not begin a valid character \(save the file as UTF-8\))"
       R"(|control character U\+00[0-9A-F]{2} \(YAML allows only tab and line breaks\)))"},
      {"latin1_not_utf8",
       "name: caf\xE9\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:10: error: not UTF-8: byte 0xE9 does not begin a valid character \(save the file as UTF-8\))"},
      {"utf16",
       std::string("\xFF\xFEn\0a\0m\0e\0:\0 \0x\0\n\0", 18),
       "",
       {"validate", "run"},
       {},
       R"(:1:1: error: not UTF-8: the file begins with a UTF-16 byte-order mark \(save it as UTF-8\))"},
      {"empty_file", "", "", {"validate"}, {}, R"(: error: the file is empty)"},
      {"empty_scenario", "", "", {"run", "sweep"}, {}, R"(: error: the scenario file is empty)"},
      {"cores_1e30",
       "platform: {cores: 1e30}\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:19: error: 'cores': expected an integer, got "1e30")"},
      {"cores_past_int64",
       "set: {cores: 99999999999999999999}\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:14: error: 'cores': integer "99999999999999999999" is too large)"},
      {"cores_negative",
       "set: {cores: -4}\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:14: error: 'cores': cores must be between 1 and 1024, got -4)"},
      {"cores_nan",
       "set: {cores: .nan}\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:14: error: 'cores': expected an integer, got ".nan")"},
      {"duration_past_64bit_ps",
       "duration: 10000000000s\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:11: error: 'duration': time "10000000000s" is too large \(at most 1000000s\))"},
      {"duration_of_2_to_63_ps",
       "duration: 9223372036854775808ps\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:11: error: 'duration': time "9223372036854775808ps" is too large \(at most 1000000s\))"},
      {"duration_negative",
       "duration: -5ms\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:11: error: 'duration': negative time "-5ms")"},
      {"duration_nan",
       "duration: .nan\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:11: error: 'duration': expected a time such as 150ns or 2us, got ".nan")"},
      {"latency_nan",
       "set: {irq.ipi.latency: nan us}\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:24: error: 'irq.ipi.latency': expected a time such as 150ns or 2us, got "nan us")"},
      {"seed_negative",
       "seed: -1\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:7: error: 'seed': seed must be 0 or more)"},
      // A 300-character name could not be made a directory: exit 3, "internal error".
      {"name_of_300_characters",
       "name: " + std::string(300, 'n') + "\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:7: error: 'name': the name names the output directory: 1 to 100 bytes, no '/', '\\' or control )"
       R"(characters, not beginning with '.')"},
      {"name_climbing_out_of_results",
       "name: ../../tmp/x\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:7: error: 'name': the name names the output directory: .*)"},
      // A platform name is a file name in platforms/: a 1,000-byte one made the file system
      // throw (exit 3, internal error; found by fuzzing), a path could reach any YAML file.
      {"platform_name_of_1000_bytes",
       "platform: " + std::string(1000, 'p') + "\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:11: error: 'platform': unknown platform 'p+\.\.\.\(\d+ bytes left out\)\.\.\.p+' \(available: )"
       R"(apple-m1pro, generic-smp, graviton3, xeon-2s-icelake, zen3-desktop\))"},
      {"platform_name_climbing_out_of_platforms",
       "platform: ../scenarios/perf-rcu-2015\n" + kWorkload,
       "",
       kFileVerbs,
       {},
       R"(:1:11: error: 'platform': unknown platform '\.\./scenarios/perf-rcu-2015' \(available: .*\))"},
      {"sweep_of_1e12_points",
       kWorkload + "sweep:\n  seed: {range: [1, 1000000]}\n  cores: {range: [1, 1000000]}\n",
       "",
       kFileVerbs,
       {},
       R"(:4:10: error: 'sweep.cores': the sweep expands to 1000000000000 points, more than )"
       R"(1000000 \(sweep.max_points\))"},
      {"sweep_axis_of_1e12_values",
       kWorkload + "sweep:\n  seed: {range: [1, 1e12]}\n",
       "",
       kFileVerbs,
       {},
       R"(:3:17: error: 'sweep.seed.range': this range has 1000000000000 values, more than the 1000000 points )"
       R"(a sweep may have \(sweep.max_points\))"},
  };
}

class HostileInput : public ::testing::TestWithParam<Hostile> {};

void PrintTo(const Hostile& h, std::ostream* os) { *os << h.name; }

TEST_P(HostileInput, OneLineExitCode2PromptlyInBoundedMemory) {
  const Hostile& h = GetParam();
  const std::string dir = temp_dir("hostile-" + h.name);
  std::string file = h.path;
  if (h.write) {
    file = dir + "/" + h.name + ".yaml";
    std::ofstream out(file, std::ios::binary);
    h.write(out);
  } else if (file.empty()) {
    file = write_temp(dir, h.name + ".yaml", h.content);
  }
  for (const auto& verb : h.verbs) {
    SCOPED_TRACE(verb);
    const std::string out = dir + "/out-" + verb;
    std::vector<std::string> args = {verb, file};
    if (verb != "validate") args.insert(args.end(), {"--out", out});
    if (verb == "sweep") args.insert(args.end(), {"--jobs", "1", "--no-plot"});
    args.insert(args.end(), h.extra.begin(), h.extra.end());
    CliResult r = run_cli_measured(args);
    EXPECT_EQ(r.code, 2) << r.err;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err.substr(0, 500);
    ASSERT_EQ(r.err.compare(0, file.size(), file), 0) << r.err.substr(0, 500);
    const std::string rest = r.err.substr(file.size(), r.err.size() - file.size() - 1);
    EXPECT_TRUE(std::regex_match(rest, std::regex(h.expected))) << rest.substr(0, 500);
    EXPECT_TRUE(r.out.empty()) << r.out.substr(0, 500);
    EXPECT_FALSE(std::filesystem::exists(out)) << "wrote " << out;
    EXPECT_LT(r.seconds, kMaxSeconds);
    EXPECT_LT(r.max_rss_kb, kMaxRssKb);
    std::printf("[ measured ] %s %s: %.3f s, %ld KB peak RSS\n", h.name.c_str(), verb.c_str(),
                r.seconds, r.max_rss_kb);
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Inputs, HostileInput, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Hostile>& i) { return i.param.name; });

// `--set` paths that run through a list or a single value.
struct BadSet {
  std::string name, set, expected;
};
class HostileSet : public ::testing::TestWithParam<BadSet> {};
void PrintTo(const BadSet& b, std::ostream* os) { *os << b.name; }

TEST_P(HostileSet, OneLineNamingTheOverride) {
  const BadSet& b = GetParam();
  for (const std::string verb : {"run", "sweep"}) {
    SCOPED_TRACE(verb);
    const std::string out = temp_dir("hostile-set") + "/out";
    CliResult r =
        run_cli_measured({verb, "tests/scenario/sweep/small.yaml", "--out", out, "--set", b.set});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, b.expected + "\n");
    EXPECT_FALSE(std::filesystem::exists(out));
    EXPECT_LT(r.seconds, kMaxSeconds);
    EXPECT_LT(r.max_rss_kb, kMaxRssKb);
    std::printf("[ measured ] --set %s %s: %.3f s, %ld KB peak RSS\n", b.set.c_str(), verb.c_str(),
                r.seconds, r.max_rss_kb);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Paths, HostileSet,
    ::testing::Values(BadSet{"through_a_list", "workload.0.cpu=1",
                             "--set workload.0.cpu=1: error: 'workload': cannot set "
                             "'workload.0.cpu': 'workload' is a list, "
                             "not a mapping"},
                      BadSet{"through_a_scalar", "cores.x=1",
                             "--set cores.x=1: error: 'cores': cannot set 'cores.x': 'cores' is a "
                             "single value, not a mapping"},
                      BadSet{"through_a_locks_entry_value", "locks.A.class.x=1",
                             "--set locks.A.class.x=1: error: 'locks.A.class': cannot set "
                             "'locks.A.class.x': 'locks.A.class' is "
                             "a single value, not a mapping"},
                      BadSet{"alias_cycle_in_the_value", "cores=&a [1, *a]",
                             "--set cores=&a [1, *a]: error: 'cores': in the value: alias '*a' is "
                             "inside the node it names (a "
                             "cycle)"},
                      BadSet{"value_not_utf8", "name=caf\xE9",
                             "--set name=caf\\xE9: error: 'name': in the value: not UTF-8: byte "
                             "0xE9 does not begin a valid "
                             "character (save the file as UTF-8)"}),
    [](const ::testing::TestParamInfo<BadSet>& i) { return i.param.name; });

// The resource caps, each refused at one past its bound and accepted at it.
struct Cap {
  std::string name, accepted, refused, expected;
};
class ResourceCap : public ::testing::TestWithParam<Cap> {};
void PrintTo(const Cap& c, std::ostream* os) { *os << c.name; }

TEST_P(ResourceCap, RefusedPastItsBoundWithAClearMessage) {
  const Cap& c = GetParam();
  const std::string dir = temp_dir("cap-" + c.name);
  const std::string ok = write_temp(dir, "ok.yaml", c.accepted);
  const std::string bad = write_temp(dir, "bad.yaml", c.refused);
  CliResult r = run_cli_measured({"validate", ok});
  EXPECT_EQ(r.code, 0) << r.err;
  r = run_cli_measured({"validate", bad});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, bad + c.expected + "\n");
  EXPECT_LT(r.seconds, kMaxSeconds);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Caps, ResourceCap,
    ::testing::Values(
        Cap{"cores_per_platform", "set: {cores: 1024}\n" + kWorkload,
            "set: {cores: 1025}\n" + kWorkload,
            ":1:14: error: 'cores': cores must be between 1 and 1024, got 1025"},
        Cap{"simulated_duration", "duration: 3600s\n" + kWorkload, "duration: 3601s\n" + kWorkload,
            ":1:11: error: 'duration': duration must be above 0 and at most 3600s"},
        // 100 x 100 x 100 points: few values to validate one by one.
        Cap{"sweep_points_default",
            kWorkload + "sweep: {seed: {range: [1, 100]}, name: {range: [1, 100]}, description: "
                        "{range: [1, 100]}}\n",
            kWorkload + "sweep: {seed: {range: [0, 100]}, name: {range: [1, 100]}, description: "
                        "{range: [1, 100]}}\n",
            ":2:72: error: 'sweep.description': the sweep expands to 1010000 points, more than "
            "1000000 "
            "(sweep.max_points)"},
        Cap{"sweep_points_lowered",
            kWorkload + "sweep: {max_points: 6, seed: [1, 2, 3], cores: [2, 4]}\n",
            kWorkload + "sweep: {max_points: 5, seed: [1, 2, 3], cores: [2, 4]}\n",
            ":2:48: error: 'sweep.cores': the sweep expands to 6 points, more than 5 "
            "(sweep.max_points)"},
        Cap{"sweep_points_bound", kWorkload + "sweep: {max_points: 10000000}\n",
            kWorkload + "sweep: {max_points: 10000001}\n",
            ":2:21: error: 'sweep.max_points': value 10000001 is out of range [1, 1e+07]"}),
    [](const ::testing::TestParamInfo<Cap>& i) { return i.param.name; });

}  // namespace
}  // namespace quiesce::test
