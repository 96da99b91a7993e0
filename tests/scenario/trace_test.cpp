// The tracing issue's acceptance: the Chrome trace's structure (complete, nested slices) and IPI flows, the ftrace
// text layout (golden), the VCD through GTKWave's vcd2fst, and quiesce explain; and issue
// 15's: the trace bounded in bytes, a window that keeps its report, the deadlock report's
// held and spun-on locks apart, and a VCD that is whole or absent.
#include <gtest/gtest.h>
#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <map>
#include <set>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

struct JsonTrace {
  YAML::Node events;
};

JsonTrace load(const std::string& path) { return {YAML::LoadFile(path)["traceEvents"]}; }

// Microseconds (as the file has them) to whole picoseconds.
int64_t ps(const YAML::Node& us) { return std::llround(us.as<double>() * 1e6); }

TEST(ChromeTrace, EverySliceIsCompleteNamedAndNestedOnItsTrack) {
  std::string dir = temp_dir("trace-json");
  CliResult r = run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--out", dir, "-q", "--trace", dir + "/trace.json",
                         "--trace-window", "200us"});
  ASSERT_NE(read_file(dir + "/trace.json"), "") << r.err;
  JsonTrace t = load(dir + "/trace.json");
  ASSERT_TRUE(t.events.IsSequence());
  std::map<int, std::vector<std::pair<int64_t, int64_t>>> slices;  // per track: [start, end)
  std::map<int, int64_t> last_moment;  // per track, in file order: an X's end, another event's time
  std::map<std::string, int> phases;
  for (const auto& e : t.events) {
    const std::string ph = e["ph"].as<std::string>();
    ++phases[ph];
    if (ph == "M") continue;
    EXPECT_TRUE(e["name"] && e["cat"]) << "every event has a name and a category: " << YAML::Dump(e);
    const int tid = e["tid"].as<int>();
    int64_t moment = ps(e["ts"]);
    if (ph == "X") {
      // ts + dur is exact in doubles (times are on a binary grid), so equal ends compare equal.
      const int64_t end = std::llround((e["ts"].as<double>() + e["dur"].as<double>()) * 1e6);
      ASSERT_GE(end, moment);
      slices[tid].push_back({moment, end});
      moment = end;  // written when it ends
    }
    EXPECT_GE(moment, last_moment[tid]) << "time went back on track " << tid;
    last_moment[tid] = moment;
  }
  // Slices on one track nest: each lies inside the one open around it or after it.
  for (auto& [tid, v] : slices) {
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    std::vector<int64_t> ends;
    for (const auto& [start, end] : v) {
      while (!ends.empty() && start >= ends.back()) ends.pop_back();
      if (!ends.empty()) {
        EXPECT_LE(end, ends.back()) << "slices overlap on track " << tid << " at " << start << " ps";
      }
      ends.push_back(end);
    }
  }
  for (const char* ph : {"X", "b", "e", "s", "f", "C", "i"}) EXPECT_GT(phases[ph], 0) << ph;
  EXPECT_EQ(phases["B"] + phases["E"], 0) << "slices are complete events, not begin/end pairs";
  // The window: the 200 us that end at lockdep's first report.
  YAML::Node other = YAML::LoadFile(dir + "/trace.json")["otherData"];
  const double trigger_us = other["trigger_ps"].as<double>() / 1e6;
  EXPECT_EQ(other["window_ps"].as<int64_t>(), 200000000);
  double lo = 1e300, hi = -1;
  for (const auto& e : t.events) {
    if (e["ph"].as<std::string>() == "M") continue;
    lo = std::min(lo, e["ts"].as<double>());
    hi = std::max(hi, e["ts"].as<double>() + (e["dur"] ? e["dur"].as<double>() : 0.0));
  }
  // Times are on a grid of 2^-16 us (sim/output/trace_files.cpp).
  EXPECT_LE(hi, trigger_us + 1e-5);
  EXPECT_GE(lo, trigger_us - 200 - 1e-5);
}

TEST(ChromeTrace, TheDeadlockPointsIpiFlowsConnectSenderAndHandler) {
  // Lockdep off, so the window ends at the deadlock rather than at lockdep's first report.
  std::string dir = temp_dir("trace-flow");
  run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--out", dir, "-q", "--trace", dir + "/trace.json", "--trace-window",
           "30us", "--set", "kernel.lockdep.enabled=false"});
  ASSERT_NE(read_file(dir + "/result.json").find("\"outcome\": \"deadlock\""), std::string::npos);
  JsonTrace t = load(dir + "/trace.json");
  std::map<std::string, std::pair<int, double>> starts, finishes;
  std::map<int, std::string> track_names;
  for (const auto& e : t.events) {
    const std::string ph = e["ph"].as<std::string>();
    if (ph == "M" && e["name"].as<std::string>() == "thread_name") {
      track_names[e["tid"].as<int>()] = e["args"]["name"].as<std::string>();
    }
    if ((ph == "s" || ph == "f") && e["name"].as<std::string>() == "ipi") {
      auto& m = ph == "s" ? starts : finishes;
      m[e["id"].as<std::string>()] = {e["tid"].as<int>(), e["ts"].as<double>()};
    }
  }
  int connected = 0, cross_cpu = 0;
  for (const auto& [id, f] : finishes) {
    auto s = starts.find(id);
    if (s == starts.end()) continue;  // sent before the window
    ++connected;
    EXPECT_LE(s->second.second, f.second) << "an IPI arrives after it is sent";
    if (s->second.first != f.first) ++cross_cpu;
  }
  EXPECT_GT(connected, 0);
  EXPECT_GT(cross_cpu, 0) << "IPIs from one CPU's track to another's";
  EXPECT_EQ(track_names[1], "CPU0");
}

TEST(FtraceText, GoldenLayoutForASmallScenario) {
  std::string dir = temp_dir("trace-txt");
  CliResult r = run_cli({"run", "tests/scenario/trace/small.yaml", "--out", dir, "-q", "--trace", dir + "/trace.txt"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string got = read_file(dir + "/trace.txt");
  const std::string golden_path = std::string(QUIESCE_SOURCE_DIR) + "/tests/scenario/golden/ftrace_small.txt";
  if (std::getenv("QUIESCE_UPDATE_GOLDEN")) std::ofstream(golden_path, std::ios::binary) << got;
  EXPECT_EQ(got, read_file(golden_path)) << "regenerate with QUIESCE_UPDATE_GOLDEN=1 after checking the change";
  for (const char* event : {"sched_switch: prev_comm=", "sched_waking: comm=worker", "irq_handler_entry: irq=32 name=nic",
                            "irq_handler_exit: irq=32 ret=handled", "ipi_raise: target_mask=00000000,0000000",
                            "ipi_entry: (", "tracing_mark_write: B|", "tracing_mark_write: E|",
                            "print: hello from waker"}) {
    EXPECT_NE(got.find(event), std::string::npos) << event;
  }
}

TEST(Vcd, GtkwaveConvertsIt) {
  if (run_argv({"vcd2fst", "--help"}) == 127) {
    GTEST_SKIP() << "vcd2fst (Debian's gtkwave) is not installed; scripts/bootstrap installs it";
  }
  std::string dir = temp_dir("vcd");
  CliResult r = run_cli({"run", "tests/scenario/trace/small.yaml", "--out", dir, "-q", "--vcd", dir + "/w.vcd"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string vcd = read_file(dir + "/w.vcd");
  for (const char* sig : {"irqs_disabled", "preempt_count", "in_hardirq", "in_softirq", "task", "spinning"}) {
    EXPECT_NE(vcd.find(sig), std::string::npos) << sig;
  }
  EXPECT_EQ(run_argv({"vcd2fst", dir + "/w.vcd", dir + "/w.fst"}), 0);
  EXPECT_GT(read_file(dir + "/w.fst").size(), 100u);
}

TEST(Explain, NamesTheCpusTheFourLockClassesAndTheIpi) {
  std::string dir = temp_dir("explain");
  run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--out", dir, "-q", "--trace", dir + "/trace.txt", "--trace-window",
           "10us"});
  CliResult r = run_cli({"explain", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"Outcome: deadlock", "CPU0", "CPU1", "&rq->lock", "&ctx->lock", "&rsp->expedited_wq->lock", "&p->pi_lock",
                        "the expedited-GP IPI from CPU1", "rcu_read_unlock_special", "lines of the trace"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
  EXPECT_EQ(run_cli({"explain", "/nonexistent"}).code, 2);
}


bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// Files in `dir` whose name holds ".tmp." (what an atomic writer leaves when it fails).
std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) v.push_back(e.path().string());
  }
  return v;
}

TEST(TraceMemory, ASmallByteBoundDropsTheOldestEventsAndSaysSo) {
  const std::string dir = temp_dir("trace-bytes");
  CliResult r = run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--set", "kernel.lockdep.enabled=false", "--set",
                         "duration=2ms", "-q", "--out", dir, "--trace", dir + "/t.txt", "--trace-max-bytes", "1MiB"});
  EXPECT_LE(r.code, 1) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.err, m,
      std::regex(R"(warning: .*t\.txt holds the last ([0-9]+) trace events; [0-9]+ earlier ones were dropped at )"
                 R"(--trace-max-bytes 1\.0 MiB \(they held ([0-9.]+) MiB\))")))
      << r.err;
  EXPECT_LE(std::stod(m[2]), 1.0);
  const unsigned long kept = std::stoul(m[1]);
  EXPECT_GT(kept, 1000u) << "a megabyte holds thousands of events";
  EXPECT_LT(kept, (1u << 20) / 56) << "and no more than its bytes allow";
  const std::string trace = read_file(dir + "/t.txt");
  ASSERT_TRUE(std::regex_search(trace, m, std::regex(R"(# entries-in-buffer/entries-written: (\d+)/(\d+))")));
  EXPECT_LE(std::stoul(m[1]), kept);
  EXPECT_GT(std::stoul(m[2]), kept);
}

TEST(TraceMemory, TheByteBoundIsChecked) {
  const std::string dir = temp_dir("trace-bytes-bad");
  for (const char* n : {"1KiB", "1048575", "5GiB"}) {
    CliResult bad = run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--out", dir, "--trace", dir + "/u.txt",
                             "--trace-max-bytes", n});
    EXPECT_EQ(bad.code, 2) << n;
    EXPECT_TRUE(has(bad.err, "--trace-max-bytes " + std::string(n))) << bad.err;
    EXPECT_TRUE(has(bad.err, "must be between 1MiB and 4GiB")) << bad.err;
  }
  CliResult words = run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--out", dir, "--trace", dir + "/u.txt",
                             "--trace-max-bytes", "lots"});
  EXPECT_EQ(words.code, 2);
  EXPECT_TRUE(has(words.err, "--trace-max-bytes lots")) << words.err;
  CliResult alone = run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--out", dir, "--trace-max-bytes", "64MiB"});
  EXPECT_EQ(alone.code, 2);
  EXPECT_TRUE(has(alone.err, "--trace-max-bytes goes with --trace FILE")) << alone.err;
  CliResult help = run_cli({"run", "--help"});
  EXPECT_TRUE(has(help.out, "--trace-max-bytes")) << help.out;
}

TEST(TraceWindow, EndsWithTheLockdepReportItself) {
  // The window ends at lockdep's first report: the report's own event is its last moment.
  std::string dir = temp_dir("trace-window-report");
  CliResult r = run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--out", dir, "-q", "--trace", dir + "/trace.txt",
                         "--trace-window", "20us"});
  ASSERT_LE(r.code, 1) << r.err;
  const std::string lockdep = read_file(dir + "/lockdep.log");
  ASSERT_TRUE(has(lockdep, "possible circular locking dependency detected")) << lockdep;
  const std::string trace = read_file(dir + "/trace.txt");
  std::istringstream in(trace);
  std::string line, last, report;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    last = line;
    if (has(line, "print: ") && has(line, "possible circular locking dependency detected")) report = line;
  }
  ASSERT_FALSE(report.empty()) << "the report's line is in the window\n" << trace.substr(trace.size() > 3000 ? trace.size() - 3000 : 0);
  // Nothing after it (the window ends there), and it carries the reporting CPU.
  const std::regex stamp(R"(\[(\d{3})\] .... +([0-9.]+): )");
  std::smatch a, b;
  ASSERT_TRUE(std::regex_search(report, a, stamp)) << report;
  ASSERT_TRUE(std::regex_search(last, b, stamp)) << last;
  EXPECT_EQ(a[2].str(), b[2].str()) << "the report is the window's last moment\n" << report << "\n" << last;
}

TEST(TraceWindow, EndsWithTheDeadlockAndEveryCpuOfItsCycleSpinning) {
  std::string dir = temp_dir("trace-window-deadlock");
  run_cli({"run", "tests/scenario/kernel/abba.yaml", "--set", "seed=1", "--set", "kernel.lockdep.enabled=false", "--out", dir,
           "-q", "--trace", dir + "/trace.json", "--trace-window", "20us"});
  ASSERT_TRUE(has(read_file(dir + "/result.json"), "\"outcome\": \"deadlock\""));
  JsonTrace t = load(dir + "/trace.json");
  std::set<std::string> spinning;  // spins that began and never ended
  bool deadlock_instant = false;
  for (const auto& e : t.events) {
    const std::string ph = e["ph"].as<std::string>();
    if (ph == "i" && e["name"].as<std::string>() == "deadlock") deadlock_instant = true;
    if ((ph == "b" || ph == "e") && e["name"].as<std::string>().rfind("spin ", 0) == 0) {
      const std::string key = e["name"].as<std::string>() + "@" + e["tid"].as<std::string>();
      if (ph == "b") spinning.insert(key);
      if (ph == "e") spinning.erase(key);
    }
  }
  EXPECT_TRUE(deadlock_instant);
  EXPECT_EQ(spinning.size(), 2u) << "both CPUs of the ABBA cycle spin at the window's end";
}

TEST(DeadlockReport, EachCpuHoldsApartFromWhatItSpinsOn) {
  for (const char* lockdep : {"true", "false"}) {
    std::string dir = temp_dir("deadlock-holds");
    CliResult r = run_cli({"run", "tests/scenario/kernel/abba.yaml", "--set", "seed=1", "--set",
                           std::string("kernel.lockdep.enabled=") + lockdep, "--out", dir});
    const std::string json = read_file(dir + "/result.json");
    ASSERT_TRUE(has(json, "\"outcome\": \"deadlock\"")) << json;
    CliResult ex = run_cli({"explain", dir});
    ASSERT_EQ(ex.code, 0) << ex.err;
    for (const std::string& text : {r.out, ex.out}) {
      // CPU0 took A and spins on B, CPU1 the other way round.
      for (const auto& [cpu, held, spun, owner] :
           std::vector<std::tuple<std::string, std::string, std::string, std::string>>{{"CPU0", "A", "B", "CPU1"},
                                                                                       {"CPU1", "B", "A", "CPU0"}}) {
        std::smatch m;
        const std::regex block("\n" + cpu + R"(: [^\n]*\n  holds: ([^\n]*)\n  spins on: ([^\n]*))");
        ASSERT_TRUE(std::regex_search(text, m, block)) << "lockdep " << lockdep << "\n" << text;
        EXPECT_TRUE(std::regex_search(m[1].str(), std::regex("^" + held + R"( \(lock_)" + held + ", since "))) << m[1];
        EXPECT_FALSE(has(m[1].str(), "(lock_" + spun)) << "the lock it spins on is not among those it holds: " << m[1];
        EXPECT_EQ(m[2].str(), spun + " (lock_" + spun + "), held by " + owner);
      }
    }
  }
}

TEST(Vcd, IsWholeAndLeavesNoTemporaryFile) {
  std::string dir = temp_dir("vcd-whole");
  CliResult r = run_cli({"run", "tests/scenario/trace/small.yaml", "--out", dir, "-q", "--vcd", dir + "/w.vcd"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string vcd = read_file(dir + "/w.vcd");
  ASSERT_TRUE(std::regex_search(vcd, std::regex(R"(\$enddefinitions +\$end)"))) << vcd.substr(0, 500);
  ASSERT_FALSE(vcd.empty());
  EXPECT_EQ(vcd.back(), '\n') << "ends with a whole line";
  // The last timestamp is 100 us or near it (the run's end), and only value changes follow it.
  const size_t last = vcd.rfind("\n#");
  ASSERT_NE(last, std::string::npos);
  const std::string after = vcd.substr(last + 2);
  const long long ps = std::stoll(after.substr(0, after.find('\n')));
  EXPECT_GT(ps, 50000000) << "the waveform reaches the end of the run";
  std::istringstream rest(after.substr(after.find('\n') + 1));
  std::string line;
  while (std::getline(rest, line)) EXPECT_TRUE(std::regex_match(line, std::regex(R"(([01xz]|b[01xz]+ )\S+)"))) << line;
  EXPECT_TRUE(temp_files(dir).empty());
  // And without ".vcd", SystemC's naming is kept: the name gets it.
  r = run_cli({"run", "tests/scenario/trace/small.yaml", "--out", dir, "-q", "--vcd", dir + "/wave"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_file(dir + "/wave.vcd"), vcd);
}

TEST(Vcd, AWriteErrorFailsTheRunAndLeavesNoFile) {
  std::string dir = temp_dir("vcd-full");
  // A 30 ms run's VCD is about 1.5 MB; 256 KiB holds every other file but not that.
  const std::string scenario = write_temp(dir, "long.yaml", R"(name: vcd-long
set: {cores: 2}
workload:
  - {task: sleeper, name: worker, cpu: 0, run: 4us, sleep: 6us, loops: 2000}
  - {task: cyclictest, cpus: "1", interval: 20us, loops: 1000}
duration: 30ms
)");
  CliResult r = run_cli_measured({"run", scenario, "--out", dir, "-q", "--vcd", dir + "/w.vcd"}, 256 << 10);
  EXPECT_EQ(r.code, 5) << "an I/O error";
  EXPECT_TRUE(has(r.err, "cannot write " + dir + "/w.vcd: File too large")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/w.vcd"));
  EXPECT_TRUE(temp_files(dir).empty());
  // An unwritable place (under a file) is refused before the run.
  r = run_cli({"run", "tests/scenario/trace/small.yaml", "--out", dir, "-q", "--vcd", scenario + "/w.vcd"});
  EXPECT_EQ(r.code, 5);
  EXPECT_TRUE(has(r.err, scenario + ": Not a directory")) << r.err;
}

}  // namespace
}  // namespace quiesce::test
