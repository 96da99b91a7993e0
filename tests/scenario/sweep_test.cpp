// The sweep issue's acceptance: joined outputs identical whatever --jobs or sharding made
// them, kill-and-resume giving the same outputs with no partial file under a final name,
// and validation of sweep input with file:line:column.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

const char* kSmall = "tests/scenario/sweep/small.yaml";
const char* kJoined[] = {"/points.csv", "/points.jsonl", "/summary.md", "/junit.xml"};

CliResult sweep(const std::string& out, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"sweep", kSmall, "--out", out, "-q", "--no-plot"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_cli(args);
}

TEST(Sweep, JoinedOutputsAreIdenticalForAnyJobsAndShards) {
  std::string j1 = temp_dir("sw-j1"), j2 = temp_dir("sw-j2"), s1 = temp_dir("sw-s1"), s2 = temp_dir("sw-s2"),
              merged = temp_dir("sw-m");
  EXPECT_EQ(sweep(j1, {"--jobs", "1"}).code, 1) << "some points deadlock: expect fails";
  EXPECT_EQ(sweep(j2, {"--jobs", "2"}).code, 1);
  sweep(s1, {"--jobs", "2", "--shard", "1/2"});
  sweep(s2, {"--jobs", "2", "--shard", "2/2"});
  CliResult m = run_cli({"merge", s1, s2, "--out", merged, "--no-plot"});
  EXPECT_EQ(m.code, 1) << m.out << m.err;
  for (const char* f : kJoined) {
    const std::string ref = without_host_times(read_file(j1 + f));
    ASSERT_FALSE(ref.empty()) << f;
    EXPECT_EQ(without_host_times(read_file(j2 + f)), ref) << f << " differs between --jobs 1 and 2";
    EXPECT_EQ(without_host_times(read_file(merged + f)), ref) << f << " differs between one run and two merged shards";
  }
  const std::string csv = read_file(j1 + "/points.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 13) << "a header and 12 points";
  EXPECT_NE(csv.find("index,id,kernel.printk.wakeup,mem.handoff.cluster,seed,outcome,ok,"), std::string::npos);
  const std::string junit = read_file(j1 + "/junit.xml");
  EXPECT_NE(junit.find("<testsuites>\n  <testsuite name=\"small-sweep\" package=\"quiesce\" id=\"0\" tests=\"12\""),
            std::string::npos)
      << junit;
  EXPECT_NE(junit.find("<failure message=\"deadlock; expect deadlock == false (actual 1)\""), std::string::npos)
      << junit;
  const std::string summary = read_file(j1 + "/summary.md");
  EXPECT_NE(summary.find("| kernel.printk.wakeup | mem.handoff.cluster | points | P(lockdep report) [95% CI] | P(deadlock) [95% CI]"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("## By seed"), std::string::npos);
}

TEST(Sweep, ShardAloneIsMarkedIncompleteAndResumeRefusesADifferentSweep) {
  std::string s = temp_dir("sw-shard");
  sweep(s, {"--shard", "1/3"});
  EXPECT_NE(read_file(s + "/summary.md").find("**Incomplete:** 8 points have no result yet."), std::string::npos);
  CliResult first = sweep(s, {"--shard", "2/3"});
  CliResult again = sweep(s, {"--shard", "2/3"});
  EXPECT_EQ(again.code, first.code) << "a complete shard run again: its summary again, the same exit code";
  CliResult other = sweep(s, {"--resume", "--set", "duration=3ms"});
  EXPECT_EQ(other.code, 2);
  EXPECT_NE(other.err.find("holds another sweep: duration was 2ms, is 3ms"), std::string::npos) << other.err;
}

// Every file under its final name parses whole: a JSON object or a complete document.
void expect_no_partial_files(const std::string& dir) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    if (name.find(".tmp") != std::string::npos) continue;  // not a final name
    const std::string text = read_file(e.path().string());
    if (name == "result.json" || name == "sweep.json") {
      ASSERT_FALSE(text.empty()) << e.path();
      EXPECT_EQ(text.back(), '\n') << e.path();
      EXPECT_EQ(text.substr(text.size() - 2), "}\n") << e.path() << " is cut short";
    }
  }
}

TEST(Sweep, KilledMidwayThenResumedGivesTheSameOutputs) {
  std::string ref = temp_dir("sw-ref"), killed = temp_dir("sw-kill");
  sweep(ref, {"--jobs", "2"});
  // Start the same sweep, SIGKILL it while points are being written, then resume.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<std::string> args = {QUIESCE_BIN, "sweep", kSmall, "--out", killed, "-q", "--no-plot", "--jobs", "2"};
    if (attempt) args.push_back("--resume");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
      if (::chdir(QUIESCE_SOURCE_DIR) != 0 || !std::freopen("/dev/null", "w", stdout) ||
          !std::freopen("/dev/null", "w", stderr)) {
        _exit(126);
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25 + 20 * attempt));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    expect_no_partial_files(killed);
  }
  CliResult r = sweep(killed, {"--resume", "--jobs", "2"});
  EXPECT_EQ(r.code, 1) << r.err;
  expect_no_partial_files(killed);
  for (const char* f : kJoined) EXPECT_EQ(without_host_times(read_file(killed + f)), without_host_times(read_file(ref + f))) << f;
}

struct BadSweep {
  const char* name;
  const char* yaml;
  const char* where;
  const char* text;
};
void PrintTo(const BadSweep& b, std::ostream* os) { *os << b.name; }
class BadSweepInput : public ::testing::TestWithParam<BadSweep> {};

TEST_P(BadSweepInput, NamesFileLineColumnAndExits2) {
  const BadSweep& b = GetParam();
  std::string dir = temp_dir(std::string("bsw-") + b.name);
  std::string path = write_temp(dir, "s.yaml", b.yaml);
  CliResult r = run_cli({"sweep", path, "--out", dir + "/out", "-q"});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(path + ":" + b.where + ": error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(b.text), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

#define W "workload: [{task: sleeper, name: s, cpu: 1, loops: 2}]\n"
INSTANTIATE_TEST_SUITE_P(
    Inputs, BadSweepInput,
    ::testing::Values(
        BadSweep{"empty_axis", "name: x\n" W "sweep: {cores: []}\n", "3:16", "empty sweep axis"},
        BadSweep{"wrong_type", "name: x\n" W "sweep: {cores: [2, four]}\n", "3:20", "expected an integer"},
        BadSweep{"bad_unit", "name: x\n" W "sweep: {irq.ipi.latency: [1us, 2 lightyears]}\n", "3:32", "unknown time unit"},
        BadSweep{"unknown_key", "name: x\n" W "sweep: {mem.handoff.sockt: [1ns]}\n", "3:9", "did you mean 'socket'?"},
        BadSweep{"unknown_variant", "name: x\n" W "sweep: {kernel.printk.wakeup: [direct, deffered]}\n", "3:40",
                 "unknown value 'deffered' (choose release | direct | deferred); did you mean 'deferred'?"},
        BadSweep{"unknown_platform", "name: x\nplatform: generic\n" W, "2:11", "unknown platform 'generic'"},
        BadSweep{"cpu_past_cores", "name: x\n" W "sweep: {cores: [1, 2]}\n", "2:42", "past the core count (1)"},
        BadSweep{"duplicate_task", "name: x\nworkload: [{task: sleeper, name: s}, {task: sleeper, name: s}]\n", "2:60",
                 "duplicate task name 's'"},
        BadSweep{"bad_range", "name: x\n" W "sweep: {seed: {range: [5, 1]}}\n", "3:27", "below the low end"},
        BadSweep{"huge", "name: x\n" W "sweep: {seed: {range: [1, 1000000]}, cores: {range: [1, 64]}}\n", "3:45",
                 "more than 1000000"},
        BadSweep{"zip_lengths", "name: x\n" W "sweep: {zip: [{cores: [2, 4], seed: [1]}]}\n", "3:37", "has 1 values"},
        // An expectation that varies along an axis is checked per value, where it is written.
        BadSweep{"expect_word", "name: x\n" W "sweep: {expect.deadlock: [false, maybe]}\n", "3:34",
                 "'maybe' is not a number, a time or true/false (only `outcome` takes a word)"},
        BadSweep{"expect_list", "name: x\n" W "sweep: {expect.deadlock: [false, [1]]}\n", "3:34",
                 "expected a value or a comparison"},
        BadSweep{"expect_unit", "name: x\n" W "sweep: {expect.irq_latency.max: [\"< 20 parsecs\"]}\n", "3:34",
                 "'20 parsecs' is not a number or a time to compare with <"},
        BadSweep{"expect_no_metric", "name: x\n" W "sweep: {zip: [{seed: [1, 2], expect.lockdep..x: [1, 2]}]}\n",
                 "3:15", "not a dotted key path"}),
    [](const ::testing::TestParamInfo<BadSweep>& i) { return std::string(i.param.name); });
#undef W

// scripts/plot runs as a child with an argument vector (no shell): a sweep directory whose
// path a shell would split or expand still gets its plots.
TEST(Sweep, PlotsAreWrittenEvenWhereAShellWouldMisreadThePath) {
  const std::string out = temp_dir("sw plot $HOME 'q'");
  CliResult r = run_cli({"sweep", kSmall, "--out", out, "--jobs", "2"});
  EXPECT_EQ(r.code, 1) << r.err;
  if (r.out.find("plots skipped: python3-matplotlib is not installed") != std::string::npos) GTEST_SKIP();
  EXPECT_NE(r.out.find("plots written by scripts/plot"), std::string::npos) << r.out << r.err;
  EXPECT_FALSE(read_file(out + "/plots.txt").empty());
  EXPECT_FALSE(std::filesystem::exists(out + "/plot.stderr"));
}

TEST(Sweep, ZipGroupsVaryTogether) {
  std::string dir = temp_dir("sw-zip");
  std::string path = write_temp(dir, "s.yaml",
                                "name: z\nworkload: [{task: sleeper, name: s, loops: 3}]\nduration: 1ms\n"
                                "sweep:\n  zip: [{cores: [2, 4], mem.handoff.socket: [50ns, 90ns]}]\n  seed: [1, 2]\n");
  CliResult r = run_cli({"sweep", path, "--out", dir + "/out", "-q", "--no-plot"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string csv = read_file(dir + "/out/points.csv");
  EXPECT_NE(csv.find("0,p000000,2,50ns,1,ok,true"), std::string::npos) << csv;
  EXPECT_NE(csv.find("3,p000003,4,90ns,2,ok,true"), std::string::npos) << csv;
  EXPECT_EQ(csv.find(",2,90ns,"), std::string::npos) << "zip values never cross";
}

// `expect.METRIC` in a zip group gives each point its own expectation (the file's is the
// default, `~` drops it): the sweep's verdict is about what each variant must show.
TEST(Sweep, ExpectationsVaryAlongAnAxis) {
  const std::string dir = temp_dir("sw-expect");
  const std::string head =
      "name: per-point\nworkload: [{task: sleeper, name: s, loops: 3}]\nduration: 1ms\n"
      "expect: {deadlock: true}\nsweep:\n  zip: [{cores: [2, 4, 8], expect.rcu.violations: [0, 0, 0], ";
  const std::string fails = write_temp(dir, "fails.yaml", head + "expect.deadlock: [false, ~, true]}]\n");
  CliResult r = run_cli({"sweep", fails, "--out", dir + "/fails", "-q", "--no-plot"});
  EXPECT_EQ(r.code, 1) << "point 2 expects a deadlock and has none\n" << r.err;
  const std::string jsonl = read_file(dir + "/fails/points.jsonl");
  EXPECT_NE(jsonl.find("\"id\": \"p000000\", \"params\": {\"cores\": 2, \"expect.rcu.violations\": 0, "
                       "\"expect.deadlock\": false}, \"outcome\": \"ok\", \"ok\": true"),
            std::string::npos)
      << jsonl;
  EXPECT_NE(jsonl.find("\"expect.deadlock\": null}, \"outcome\": \"ok\", \"ok\": true"), std::string::npos)
      << "~ drops the file's `deadlock: true`\n" << jsonl;
  EXPECT_NE(jsonl.find("\"expect.deadlock\": true}, \"outcome\": \"ok\", \"ok\": false"), std::string::npos) << jsonl;
  const std::string junit = read_file(dir + "/fails/junit.xml");
  EXPECT_NE(junit.find("tests=\"3\" failures=\"1\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("<failure message=\"ok; expect deadlock == true (actual 0)\""), std::string::npos) << junit;
  // A dotted metric is one expectation, not a mapping of `rcu:`.
  const std::string p1 = read_file(dir + "/fails/points/p000001/result.json");
  EXPECT_NE(p1.find("\"key\": \"rcu.violations\""), std::string::npos) << p1;
  EXPECT_EQ(p1.find("\"key\": \"deadlock\""), std::string::npos) << p1;

  const std::string holds = write_temp(dir, "holds.yaml", head + "expect.deadlock: [false, ~, false]}]\n");
  r = run_cli({"sweep", holds, "--out", dir + "/holds", "-q", "--no-plot"});
  EXPECT_EQ(r.code, 0) << r.err;
  // `--set expect.METRIC` does the same for a whole run.
  EXPECT_EQ(run_cli({"run", holds, "--out", dir + "/run", "-q", "--set", "expect.deadlock=false"}).code, 0);
  EXPECT_EQ(run_cli({"run", holds, "--out", dir + "/run", "-q"}).code, 1) << "the file's deadlock: true";
}

// abba-sweep's tasks start after a random delay: whether the sections ever overlap, and
// when each detector fires, depends on the seed (once, every point deadlocked at 1.115 us).
TEST(Sweep, AbbaSweepOutcomesDependOnTheSeed) {
  const std::string dir = temp_dir("sw-abba");
  std::string text = read_file(std::string(QUIESCE_SOURCE_DIR) + "/scenarios/abba-sweep.yaml");
  const size_t at = text.find("\nsweep:");
  ASSERT_NE(at, std::string::npos);
  text = text.substr(0, at) + "\nsweep: {seed: {range: [1, 6]}}\n";
  const std::string path = write_temp(dir, "abba.yaml", text);
  CliResult r = run_cli({"sweep", path, "--out", dir + "/out", "-q", "--no-plot", "--set", "mem.handoff.cluster=1us",
                         "--set", "kernel.printk.wakeup=direct"});
  EXPECT_EQ(r.code, 0) << "lockdep sees the cycle on every point\n" << r.err;
  const std::string jsonl = read_file(dir + "/out/points.jsonl");
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 6);
  std::set<std::string> outcomes, first_detection, deadlock_at;
  std::istringstream lines(jsonl);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"re("outcome": "([a-z_]+)")re"))) outcomes.insert(m[1]);
    if (std::regex_search(line, m, std::regex(R"re("detection.first_ns": ([0-9.e+]+))re"))) first_detection.insert(m[1]);
    if (std::regex_search(line, m, std::regex(R"re("deadlock.time_ns": ([0-9.e+]+))re"))) deadlock_at.insert(m[1]);
  }
  EXPECT_EQ(outcomes, (std::set<std::string>{"deadlock", "ok"})) << jsonl;
  EXPECT_EQ(first_detection.size(), 6u) << jsonl;
  EXPECT_GE(deadlock_at.size(), 2u) << jsonl;
}

}  // namespace
}  // namespace quiesce::test

namespace quiesce::test {
namespace {

TEST(Sweep, CrashedAndTimedOutPointsAreRecordedAndTheSweepGoesOn) {
  std::string dir = temp_dir("sw-crash");
  std::string slow = write_temp(dir, "slow.yaml",
                                "name: slow\nworkload: [{task: sleeper, name: s, run: 1us, sleep: 1us}, {task: cyclictest, "
                                "interval: 1us}]\nduration: {D}\nsweep: {seed: [1, 2, 3]}\n");
  // seed 3 (point 2) crashes on request; all points are too slow for the timeout below when long.
  std::string text = read_file(slow);
  write_temp(dir, "slow.yaml", std::regex_replace(text, std::regex("\\{D\\}"), "100us"));
  setenv("QUIESCE_TEST_CRASH_POINT", "2", 1);
  CliResult r = run_cli({"sweep", slow, "--out", dir + "/a", "-q", "--no-plot"});
  unsetenv("QUIESCE_TEST_CRASH_POINT");
  EXPECT_EQ(r.code, 4) << "a crashed point is a broken sweep, not a failed expectation";
  std::string jsonl = read_file(dir + "/a/points.jsonl");
  EXPECT_NE(jsonl.find("\"id\": \"p000002\", \"params\": {\"seed\": 3}, \"outcome\": \"crashed\", \"ok\": false"),
            std::string::npos)
      << jsonl;
  EXPECT_NE(jsonl.find("\"id\": \"p000001\", \"params\": {\"seed\": 2}, \"outcome\": \"ok\""), std::string::npos);
  std::string junit = read_file(dir + "/a/junit.xml");
  EXPECT_NE(junit.find("<error message=\"crashed; killed by signal 6\" type=\"crashed\">"), std::string::npos) << junit;
  EXPECT_NE(junit.find("crashing point 2 on request"), std::string::npos) << "the point's stderr is kept";

  // Shards share an output tree: each one's exit code speaks for its own points only.
  setenv("QUIESCE_TEST_CRASH_POINT", "2", 1);
  r = run_cli({"sweep", slow, "--out", dir + "/s", "-q", "--no-plot", "--shard", "1/2"});
  EXPECT_EQ(r.code, 4) << "shard 1/2 holds the crashed point 2";
  r = run_cli({"sweep", slow, "--out", dir + "/s", "-q", "--no-plot", "--shard", "2/2"});
  unsetenv("QUIESCE_TEST_CRASH_POINT");
  EXPECT_EQ(r.code, 0) << "shard 2/2 ran point 1 fine; point 2's crash is shard 1's\n" << r.err;

  write_temp(dir, "slow.yaml", std::regex_replace(text, std::regex("\\{D\\}"), "100s"));
  r = run_cli({"sweep", slow, "--out", dir + "/b", "-q", "--no-plot", "--point-timeout", "0.3", "--jobs", "3"});
  EXPECT_EQ(r.code, 4);
  EXPECT_LT(r.seconds, 10);
  jsonl = read_file(dir + "/b/points.jsonl");
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 3);
  EXPECT_NE(jsonl.find("\"outcome\": \"timeout\""), std::string::npos) << jsonl;
  EXPECT_NE(read_file(dir + "/b/summary.md").find("3 crashed, timed out or invalid"), std::string::npos);
}


// A sweep with a passing point, a failed expectation (seed 1 must deadlock and does not)
// and a crash (point 2), for the joined files' consumers below.
std::string mixed_sweep(const std::string& dir) {
  const std::string p = write_temp(dir, "mixed.yaml",
                                   "name: mixed\nworkload: [{task: sleeper, name: s, run: 1us, sleep: 1us}, "
                                   "{task: cyclictest, interval: 10us}]\nduration: 100us\n"
                                   "sweep: {zip: [{seed: [1, 2, 3], expect.deadlock: [true, ~, ~]}]}\n");
  setenv("QUIESCE_TEST_CRASH_POINT", "2", 1);
  CliResult r = run_cli({"sweep", p, "--out", dir + "/out", "-q", "--no-plot"});
  unsetenv("QUIESCE_TEST_CRASH_POINT");
  EXPECT_EQ(r.code, 4) << r.err;
  return dir + "/out";
}

// What CI reporters need: a time on every testsuite and testcase (else "duration NaN"),
// when and where it ran, and a well-formed file whatever a point printed.
TEST(Junit, EveryTestcaseHasATimeAndTheFileIsWellFormed) {
  const std::string out = mixed_sweep(temp_dir("junit-wf"));
  const std::string junit = read_file(out + "/junit.xml");
  CliResult lint = run_argv_output({"xmllint", "--noout", out + "/junit.xml"});
  ASSERT_NE(lint.code, 127) << "xmllint is missing: scripts/bootstrap installs libxml2-utils";
  EXPECT_EQ(lint.code, 0) << lint.err << junit;
  const std::regex testcase(R"re(<testcase classname="mixed" name="[^"]*" time="([0-9]+\.[0-9]{3})")re");
  double sum = 0;
  int cases = 0;
  for (std::sregex_iterator it(junit.begin(), junit.end(), testcase), end; it != end; ++it) {
    sum += std::stod((*it)[1]);
    ++cases;
  }
  EXPECT_EQ(cases, 3) << junit;
  EXPECT_GT(sum, 0) << "points take host time";
  std::smatch m;
  ASSERT_TRUE(std::regex_search(junit, m,
                                std::regex(R"re(<testsuite name="mixed" package="quiesce" id="0" tests="3" failures="1" )re"
                                           R"re(errors="1" skipped="0" time="([0-9]+\.[0-9]{3})" )re"
                                           R"re(timestamp="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}" hostname="[^"]+">)re")))
      << junit;
  EXPECT_NEAR(std::stod(m[1]), sum, 1e-6) << "the suite's time is its testcases'";
  EXPECT_NE(junit.find("<system-out>"), std::string::npos);
  EXPECT_NE(junit.find("<system-err>"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(out + "/points/p000000/host.json")) << "the point's host time, beside its result";
}

// Against both schemas reporters are written to: Jenkins xunit's junit-10.xsd and the Apache
// Ant JUnit schema (windyroad/JUnit-Schema). They are third-party files, not in this
// repository: tests/scenario/junit/README.md says where to get them; QUIESCE_JUNIT_XSD_DIR
// or tests/scenario/junit/ holds them.
TEST(Junit, ValidatesAgainstJenkinsAndAntSchemas) {
  const char* env = std::getenv("QUIESCE_JUNIT_XSD_DIR");
  const std::string xsd_dir = env ? env : std::string(QUIESCE_SOURCE_DIR) + "/tests/scenario/junit";
  for (const char* x : {"junit-10.xsd", "JUnit.xsd"}) {
    if (!std::filesystem::exists(xsd_dir + "/" + x)) {
      GTEST_SKIP() << xsd_dir << "/" << x << " is missing: see tests/scenario/junit/README.md";
    }
  }
  const std::string out = mixed_sweep(temp_dir("junit-xsd"));
  for (const char* x : {"junit-10.xsd", "JUnit.xsd"}) {
    CliResult lint = run_argv_output({"xmllint", "--noout", "--schema", xsd_dir + "/" + x, out + "/junit.xml"});
    EXPECT_EQ(lint.code, 0) << x << ":\n" << lint.err << read_file(out + "/junit.xml");
  }
}

// points.jsonl types parameters as YAML reads them (points.csv shows the same text), and a
// histogram with no samples has no value: null in JSON, an empty cell in CSV, never 0.
TEST(Sweep, JsonlTypesParamsAndMetricsWithoutSamplesAreEmpty) {
  const std::string out = mixed_sweep(temp_dir("typed"));
  const std::string jsonl = read_file(out + "/points.jsonl");
  EXPECT_NE(jsonl.find("\"params\": {\"seed\": 1, \"expect.deadlock\": true}"), std::string::npos) << jsonl;
  EXPECT_NE(jsonl.find("\"params\": {\"seed\": 2, \"expect.deadlock\": null}"), std::string::npos) << jsonl;
  // No threaded irqs (kernel.threadirqs off): irq_thread_latency has no samples.
  EXPECT_NE(jsonl.find("\"irq_thread_latency.count\": 0, \"irq_thread_latency.p50_ns\": null, "
                       "\"irq_thread_latency.p99_ns\": null, \"irq_thread_latency.max_ns\": null"),
            std::string::npos)
      << jsonl;
  const std::string csv = read_file(out + "/points.csv");
  std::istringstream in(csv);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  auto cells = [](const std::string& line) {
    std::vector<std::string> c;
    std::stringstream ss(line);
    std::string x;
    while (std::getline(ss, x, ',')) c.push_back(x);
    if (!line.empty() && line.back() == ',') c.push_back("");
    return c;
  };
  const auto h = cells(header), r = cells(row);
  ASSERT_EQ(h.size(), r.size()) << header << "\n" << row;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i] == "irq_thread_latency.p99_ns") {
      EXPECT_EQ(r[i], "") << "no samples, no value";
    }
    if (h[i] == "irq_thread_latency.count") {
      EXPECT_EQ(r[i], "0");
    }
    if (h[i] == "seed") {
      EXPECT_EQ(r[i], "1");
    }
  }
  const std::string result = read_file(out + "/points/p000000/result.json");
  EXPECT_NE(result.find("\"irq_thread_latency.p99_ns\": null"), std::string::npos) << result;
}

}  // namespace
}  // namespace quiesce::test
