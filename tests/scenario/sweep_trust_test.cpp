// Sweeps a CI can trust (issue 15): a test per defect seen, each through the real binary.
// Identity by content, broken points retried, one writer per directory, nothing deleted
// that is not ours, no shell, I/O errors with their own exit code, outputs that never
// replace inputs, strict reading of our own files, merges that say what they hold, values
// never silently dropped, signals, reruns of complete sweeps, `rerun` and `explain` of a
// sweep.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

namespace fs = std::filesystem;

// Four quick points of a small kernel scenario (seed axis), 1 ms each.
const char* kScenario =
    "name: trust\n"
    "workload:\n"
    "  - {task: sleeper, name: victim, cpu: 1, run: 3us, sleep: {dist: exponential, mean: 3us}}\n"
    "  - {task: cyclictest, interval: 100us}\n"
    "duration: 1ms\n"
    "expect: {deadlock: false}\n"
    "sweep:\n"
    "  seed: {range: [1, 4]}\n";

// `text` with every `from` replaced by `to` (plain text, not a pattern).
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string scenario_in(const std::string& dir, const std::string& text = kScenario) {
  return write_temp(dir, "s.yaml", text);
}

CliResult sweep(const std::string& path, const std::string& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"sweep", path, "--out", out, "--no-plot", "-q", "--jobs", "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_cli(args);
}

// Waits until `path` exists (at most 20 s).
bool wait_for(const std::string& path) {
  for (int i = 0; i < 2000; ++i) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// 1. A sweep is its content: an edit between runs is refused naming what changed; the same
// file by another path is the same sweep.
TEST(SweepTrust, IdentityIsTheResolvedContentNotThePath) {
  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("trust-id");
  const std::string path = scenario_in(dir);
  const std::string out = dir + "/out";
  ASSERT_EQ(sweep(path, out).code, 0);
  const std::string summary = read_file(out + "/summary.md");

  struct Edit {
    const char* from;
    const char* to;
    const char* named;
  };
  for (const Edit& e : {Edit{"duration: 1ms", "duration: 500us", "duration was 1ms, is 500us"},
                        Edit{"expect: {deadlock: false}", "expect: {deadlock: true}", "expect.deadlock was false, is true"},
                        Edit{"duration: 1ms", "duration: 1ms\nset: {irq.ipi.latency: 2us}", "irq.ipi.latency"},
                        // A hunt's forced timing is part of what a point runs.
                        Edit{"duration: 1ms", "duration: 1ms\ntiming: {ipi: [{from: 0, to: 1, index: 0, latency: 1us}]}",
                             "timing.ipi[0].latency"}}) {
    write_temp(dir, "edited.yaml", replaced(kScenario, e.from, e.to));
    CliResult r = sweep(dir + "/edited.yaml", out, {"--resume"});
    EXPECT_EQ(r.code, 2) << e.to << "\n" << r.err;
    EXPECT_NE(r.err.find("holds another sweep: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(e.named), std::string::npos) << r.err;
  }
  // The same content by another path, or written another way, is the same sweep.
  write_temp(dir, "same.yaml", replaced(kScenario, "duration: 1ms", "duration: 1000us  # same"));
  for (const std::string& p : {dir + "/./s.yaml", dir + "/../" + fs::path(dir).filename().string() + "/s.yaml",
                               dir + "/same.yaml"}) {
    CliResult r = sweep(p, out, {"--resume"});
    EXPECT_EQ(r.code, 0) << p << "\n" << r.err;
  }
  EXPECT_EQ(read_file(out + "/summary.md"), summary);
  // Shards of an edited scenario do not merge.
  write_temp(dir, "edited.yaml", replaced(kScenario, "duration: 1ms", "duration: 500us"));
  sweep(path, dir + "/s1", {"--shard", "1/2"});
  sweep(dir + "/edited.yaml", dir + "/s2", {"--shard", "2/2"});
  CliResult m = run_cli({"merge", dir + "/s1", dir + "/s2", "--out", dir + "/m", "--no-plot"});
  EXPECT_EQ(m.code, 2) << m.out << m.err;
  EXPECT_NE(m.err.find("duration was 1ms, is 500us"), std::string::npos) << m.err;
  fs::remove_all(dir);
}

// 2. and 14. Broken points are not results: --resume reruns them. A complete sweep run
// again prints its summary again; --force starts over.
TEST(SweepTrust, ResumeRerunsBrokenPointsAndACompleteSweepRunsTwice) {
  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("trust-broken");
  const std::string path = scenario_in(dir), out = dir + "/out";
  setenv("QUIESCE_TEST_CRASH_POINT", "1", 1);
  CliResult r = sweep(path, out);
  unsetenv("QUIESCE_TEST_CRASH_POINT");
  ASSERT_EQ(r.code, 4) << r.err;
  EXPECT_NE(read_file(out + "/points/p000001/result.json").find("\"crashed\""), std::string::npos);
  r = sweep(path, out, {"--resume"});
  EXPECT_EQ(r.code, 0) << "the crashed point ran again\n" << r.err;
  EXPECT_NE(read_file(out + "/points/p000001/result.json").find("\"outcome\": \"ok\""), std::string::npos);

  const std::string before = read_file(out + "/points.csv");
  r = run_cli({"sweep", path, "--out", out, "--no-plot"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("all done before"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4/4 points have results"), std::string::npos) << r.out;
  EXPECT_EQ(read_file(out + "/points.csv"), before);
  fs::remove_all(out + "/points/p000002");
  r = sweep(path, out);
  EXPECT_EQ(r.code, 2) << "incomplete, and neither --resume nor --force";
  EXPECT_NE(r.err.find("add --resume"), std::string::npos) << r.err;
  r = sweep(path, out, {"--force", "--shard", "1/2"});
  EXPECT_EQ(r.code, 2) << "a shard must not start over a tree others write";
  EXPECT_TRUE(fs::exists(out + "/points/p000001/result.json"));
  r = sweep(path, out, {"--force"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_file(out + "/points.csv"), before);
  fs::remove_all(dir);
}

// 3. One writer per directory: a second sweep into it refuses, naming the holder's pid.
TEST(SweepTrust, TwoSweepsIntoOneDirectoryExactlyOneRuns) {
  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("trust-lock");
  const std::string path = scenario_in(dir, replaced(kScenario, "duration: 1ms", "duration: 20ms"));
  const std::string out = dir + "/out";
  const pid_t first = spawn_cli({"sweep", path, "--out", out, "--no-plot", "-q", "--jobs", "1"});
  ASSERT_GT(first, 0);
  ASSERT_TRUE(wait_for(out + "/sweep.json"));
  CliResult second = sweep(path, out, {"--resume"});
  EXPECT_EQ(second.code, 2) << second.err;
  EXPECT_NE(second.err.find("another quiesce is writing this sweep directory (pid " + std::to_string(first) + ")"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(wait_exit(first), 0) << "the first sweep is untouched by the second";
  EXPECT_EQ(read_file(out + "/points.csv").find("crashed"), std::string::npos);
  fs::remove_all(dir);
}

// 4. A directory of the user's files is refused and left as it was.
TEST(SweepTrust, NeverDeletesWhatIsNotOurs) {
  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("trust-ours");
  const std::string path = scenario_in(dir), out = dir + "/mine";
  fs::create_directories(out + "/points/notes.part");
  write_temp(out, "draft.tmp.123", "my draft");
  write_temp(out + "/points/notes.part", "a.txt", "mine");
  CliResult r = sweep(path, out);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("holds files that are not a sweep's"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(out + "/draft.tmp.123"), "my draft");
  EXPECT_EQ(read_file(out + "/points/notes.part/a.txt"), "mine");
  // In a sweep directory of ours, only our own leftovers go.
  const std::string sw = dir + "/sweep";
  ASSERT_EQ(sweep(path, sw).code, 0);
  write_temp(sw, "notes.tmp.7", "mine too");
  write_temp(sw, "points.csv.tmp.99999", "a leftover of ours");
  fs::remove_all(sw + "/points/p000003");
  ASSERT_EQ(sweep(path, sw, {"--resume"}).code, 0);
  EXPECT_EQ(read_file(sw + "/notes.tmp.7"), "mine too");
  EXPECT_FALSE(fs::exists(sw + "/points.csv.tmp.99999"));
  fs::remove_all(dir);
}

// 5. No child through a shell anywhere in sim/; a path a shell would run stays a path.
TEST(SweepTrust, NoShellInSim) {
  const std::regex shell(R"((std::system|\bsystem\s*\(|\bpopen\s*\(|"/bin/sh"|"sh",\s*"-c"|execl\s*\())");
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(std::string(QUIESCE_SOURCE_DIR) + "/sim")) {
    const std::string ext = e.path().extension().string();
    if (!e.is_regular_file() || (ext != ".cpp" && ext != ".h")) continue;
    ++files;
    std::istringstream in(read_file(e.path().string()));
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      const std::string code = line.substr(0, line.find("//"));
      EXPECT_FALSE(std::regex_search(code, shell)) << e.path() << ":" << n << ": " << line;
    }
  }
  EXPECT_GT(files, 50);

  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("trust-shell");
  const std::string path = scenario_in(dir);
  const std::string out = dir + "/x';touch PWNED;'y it's";
  CliResult r = run_cli({"sweep", path, "--out", out, "-q", "--jobs", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(fs::exists(std::string(QUIESCE_SOURCE_DIR) + "/PWNED"));
  EXPECT_FALSE(fs::exists(out + "/plot.stderr")) << read_file(out + "/plot.stderr");
  fs::remove_all(dir);
}

// 6. I/O errors have their own exit code, name the path and the system's reason, and the
// outputs are checked before anything is simulated.
TEST(SweepTrust, IoErrorsExit5WithPathAndReasonBeforeSimulating) {
  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("trust-io");
  const std::string path = scenario_in(dir);
  const std::string file = write_temp(dir, "a-file", "x");
  CliResult r = sweep(path, file);
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.err.find(file + ": Not a directory"), std::string::npos) << r.err;
  r = run_cli({"run", path, "--out", dir + "/" + std::string(4096, 'a'), "-q"});
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.err.find("File name too long"), std::string::npos) << r.err;
  // A long run whose trace cannot be written stops at once, not after simulating.
  fs::create_directories(dir + "/a-dir");
  r = run_cli({"run", path, "--set", "duration=2s", "--out", dir + "/o", "--trace", dir + "/a-dir", "-q"});
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.err.find("Is a directory"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, 5);
  r = run_cli({"run", path, "--set", "duration=2s", "--out", dir + "/o", "--vcd", file + "/w.vcd", "-q"});
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.err.find("Not a directory"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, 5);
  fs::remove_all(dir);
}

// 7. Outputs never overwrite inputs, nor the point's own files.
TEST(SweepTrust, OutputsNeverOverwriteInputs) {
  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("trust-inputs");
  const std::string path = scenario_in(dir);
  CliResult r = run_cli({"run", path, "--out", dir + "/o", "--trace", path, "-q"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("is the scenario file"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(path), kScenario);
  r = run_cli({"run", path, "--out", dir + "/o", "--trace", dir + "/o/result.json", "-q"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("is the point's own result.json"), std::string::npos) << r.err;
  r = run_cli({"run", path, "--out", dir + "/o", "--trace", dir + "/t.json", "--vcd", dir + "/t.json", "-q"});
  EXPECT_EQ(r.code, 2) << r.err;
  fs::remove_all(dir);
}

// 9. Our own files are read strictly and within bounds: a wrong shape is refused naming
// the file and the key, exit 2, promptly, in status, explain, merge and resume.
TEST(SweepTrust, DamagedSweepFilesAreRefusedNamingFileAndKey) {
  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("trust-strict");
  const std::string path = scenario_in(dir), out = dir + "/out";
  ASSERT_EQ(sweep(path, out).code, 0);
  const std::string manifest = read_file(out + "/sweep.json");
  const std::string result = read_file(out + "/points/p000002/result.json");

  write_temp(out, "sweep.json", replaced(manifest, R"("total_points": 4)", R"("total_points": 1e11)"));
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status", out}, {"explain", out}, {"merge", out, "--out", dir + "/m", "--no-plot"},
        {"sweep", path, "--out", out, "--resume", "--no-plot", "-q"}}) {
    CliResult r = run_cli(args);
    EXPECT_EQ(r.code, 2) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(out + "/sweep.json: error: 'total_points': expected a whole number"), std::string::npos)
        << args[0] << ": " << r.err;
    EXPECT_LT(r.seconds, 10);
  }
  write_temp(out, "sweep.json", manifest);
  write_temp(out + "/points/p000002", "result.json",
             replaced(result, R"("outcome": "ok")", R"("outcome": 7)"));
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status", out}, {"explain", out + "/points/p000002"},
        {"merge", out, "--out", dir + "/m2", "--no-plot"}, {"sweep", path, "--out", out, "--resume", "--no-plot", "-q"}}) {
    CliResult r = run_cli(args);
    EXPECT_EQ(r.code, 2) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("p000002/result.json: error: 'outcome': expected a string"), std::string::npos)
        << args[0] << ": " << r.err;
  }
  fs::remove_all(dir);
}

// 10. A merge missing shards exits non-zero naming the missing points; a good result wins
// over a broken one whatever the order of the inputs.
TEST(SweepTrust, MergesSayWhatTheyHold) {
  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("trust-merge");
  const std::string path = scenario_in(dir);
  ASSERT_EQ(sweep(path, dir + "/s1", {"--shard", "1/2"}).code, 0);
  CliResult m = run_cli({"merge", dir + "/s1", "--out", dir + "/m", "--no-plot"});
  EXPECT_EQ(m.code, 4) << m.out << m.err;
  EXPECT_NE(m.out.find("2 point(s) missing: p000001 p000003"), std::string::npos) << m.out;

  ASSERT_EQ(sweep(path, dir + "/good").code, 0);
  setenv("QUIESCE_TEST_CRASH_POINT", "1", 1);
  ASSERT_EQ(sweep(path, dir + "/bad").code, 4);
  unsetenv("QUIESCE_TEST_CRASH_POINT");
  for (const auto& order : {std::vector<std::string>{dir + "/bad", dir + "/good"}, {dir + "/good", dir + "/bad"}}) {
    const std::string to = dir + "/m-" + fs::path(order[0]).filename().string();
    CliResult r = run_cli({"merge", order[0], order[1], "--out", to, "--no-plot"});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_EQ(read_file(to + "/points.csv"), read_file(dir + "/good/points.csv"));
  }
  fs::remove_all(dir);
}

// 11. Empty values and --set of a swept key are refused, not silently dropped.
TEST(SweepTrust, ValuesAreNotSilentlyDropped) {
  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("trust-values");
  const std::string path = scenario_in(dir);
  for (const char* set : {"cores=", "duration=", "name=", "duration= "}) {
    CliResult r = run_cli({"run", path, "--set", set, "--out", dir + "/o", "-q"});
    EXPECT_EQ(r.code, 2) << set << " " << r.err;
    EXPECT_NE(r.err.find("has no value"), std::string::npos) << r.err;
  }
  CliResult r = sweep(path, dir + "/o", {"--set", "seed=3"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("'seed' is an axis of this sweep (" + path + ":8:3)"), std::string::npos) << r.err;
  r = run_cli({"sweep", std::string(QUIESCE_SOURCE_DIR) + "/scenarios/perf-rcu-2015.yaml", "--set",
               "kernel.perf.lock_task_context=irq_save", "--out", dir + "/f", "-q"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("'kernel.perf.lock_task_context' is an axis of this sweep"), std::string::npos) << r.err;
  fs::remove_all(dir);
}

// 13. SIGTERM exits 143 and takes the points with it; a closed stdout pipe does not change
// a complete sweep's exit code.
TEST(SweepTrust, SignalsAndClosedPipes) {
  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("trust-signals");
  const std::string path = scenario_in(dir, replaced(kScenario, "duration: 1ms", "duration: 20ms"));
  const pid_t pid = spawn_cli({"sweep", path, "--out", dir + "/o", "--no-plot", "-q", "--jobs", "2"});
  ASSERT_TRUE(wait_for(dir + "/o/points/p000000.part/stderr.txt.tmp"));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid), 143);
  // No point process outlives its sweep.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::string lock = dir + "/o";
  CliResult again = sweep(path, lock, {"--resume"});
  EXPECT_EQ(again.code, 0) << "nothing holds the directory any more\n" << again.err;

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);  // nobody reads: every write to stdout fails with EPIPE
  const pid_t p2 = spawn_cli({"sweep", scenario_in(dir), "--out", dir + "/p", "--no-plot", "--jobs", "2"}, fds[1]);
  ::close(fds[1]);
  EXPECT_EQ(wait_exit(p2), 0);
  EXPECT_FALSE(read_file(dir + "/p/points.csv").empty());
  fs::remove_all(dir);
}

// 17. and 18. `rerun` repeats a point exactly; `explain` of a sweep lists its broken and
// detecting points; timed-out points are broken, not failed expectations.
TEST(SweepTrust, RerunExplainAndTimeouts) {
  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("trust-rerun");
  const std::string path = scenario_in(dir), out = dir + "/out";
  setenv("QUIESCE_TEST_CRASH_POINT", "3", 1);
  ASSERT_EQ(sweep(path, out).code, 4);
  unsetenv("QUIESCE_TEST_CRASH_POINT");
  // The scenario changes after the sweep: a rerun uses the sweep's own copy.
  write_temp(dir, "s.yaml", "garbage: [");
  CliResult r = run_cli({"rerun", out + "/points/p000002", "--out", dir + "/re", "--trace", dir + "/re/trace.txt"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("rerun of p000002: outcome ok, the sweep's ok (the same)"), std::string::npos) << r.out;
  auto metrics_of = [](const std::string& json) { return json.substr(json.find("\"metrics\""), json.find("\"details\"") - json.find("\"metrics\"")); };
  EXPECT_EQ(metrics_of(read_file(dir + "/re/result.json")), metrics_of(read_file(out + "/points/p000002/result.json")));
  EXPECT_FALSE(read_file(dir + "/re/trace.txt").empty());
  r = run_cli({"rerun", out + "/points/p000009"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("the sweep has 4 points; no p000009"), std::string::npos) << r.err;

  r = run_cli({"explain", out});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("1 broken point(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(out + "/points/p000003  crashed  seed=4"), std::string::npos) << r.out;

  write_temp(dir, "slow.yaml", replaced(kScenario, "duration: 1ms", "duration: 100s"));
  r = run_cli({"sweep", dir + "/slow.yaml", "--out", dir + "/t", "--no-plot", "--point-timeout", "0.3", "--jobs", "2"});
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.out.find("0 failed their expectations, 4 broken"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

// 16. The first `scripts/quiesce` builds the binary it runs, not every test, and shows
// ninja's progress.
TEST(SweepTrust, ScriptsQuiesceBuildsOnlyTheBinary) {
  const std::string script = read_file(std::string(QUIESCE_SOURCE_DIR) + "/scripts/quiesce");
  EXPECT_NE(script.find("scripts/build\" --progress quiesce"), std::string::npos) << script;
  const std::string build = read_file(std::string(QUIESCE_SOURCE_DIR) + "/scripts/build");
  EXPECT_NE(build.find("--progress"), std::string::npos);
}

}  // namespace
}  // namespace quiesce::test
