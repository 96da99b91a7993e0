// Issue 16's acceptance for the trace and waveform files: the programs that read them read them
// right. The Chrome trace through speedscope's importer and Chrome DevTools' trace engine (npm
// packages run by node), the ftrace text through Perfetto's own line pattern and the shape of a
// Linux v4.4 trace, and the VCD byte for byte the same on every run.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// The consumers, installed once into the build tree (pinned: the script reads into speedscope's
// bundle). Empty when node or npm is missing or the install fails, with the reason in `why`.
std::string node_modules(std::string& why) {
  const std::string prefix = std::string(QUIESCE_BINARY_DIR) + "/node-trace";
  const std::string modules = prefix + "/node_modules";
  if (run_argv({"node", "--version"}) == 127) {
    why = "node is not installed";
    return "";
  }
  const bool present = std::filesystem::exists(modules + "/speedscope/package.json") &&
                       std::filesystem::exists(modules + "/@paulirish/trace_engine/package.json");
  if (present) return modules;
  if (run_argv({"npm", "--version"}) == 127) {
    why = "npm is not installed";
    return "";
  }
  std::filesystem::create_directories(prefix);
  CliResult r = run_argv_output({"npm", "install", "--prefix", prefix, "--no-audit", "--no-fund", "speedscope@1.25.0",
                                 "@paulirish/trace_engine@0.0.65"});
  if (r.code != 0) {
    why = "npm install speedscope @paulirish/trace_engine failed (offline?): " + r.err.substr(0, 400);
    return "";
  }
  return modules;
}

// What check_chrome_trace.mjs reports for one trace; fails the test on any consumer's error,
// warning, or slice lost or moved. Returns the report.
YAML::Node check_with_consumers(const std::string& modules, const std::string& trace) {
  const std::string script = std::string(QUIESCE_SOURCE_DIR) + "/tests/scenario/trace/check_chrome_trace.mjs";
  CliResult r = run_argv_output({"node", script, modules, trace});
  EXPECT_EQ(r.code, 0) << r.err;
  YAML::Node report = YAML::Load(r.out);
  for (const char* consumer : {"speedscope", "devtools"}) {
    const YAML::Node c = report[consumer];
    EXPECT_FALSE(c["error"]) << consumer << " threw:\n" << (c["error"] ? c["error"].as<std::string>() : "");
    if (c["error"]) continue;
    for (const auto& m : c["messages"]) ADD_FAILURE() << consumer << " said: " << m.as<std::string>();
    for (const auto& t : report["threads"]) {
      const std::string name = t.first.as<std::string>();
      const int x_events = t.second["x_events"].as<int>();
      if (x_events == 0) continue;
      const YAML::Node got = c["threads"][name];
      if (!got) {
        ADD_FAILURE() << consumer << " has no thread " << name;
        continue;
      }
      // Every X event, but for speedscope those of zero length (it draws none).
      EXPECT_EQ(got["slices"].as<int>(), got["wanted"].as<int>()) << consumer << " " << name;
      if (std::string(consumer) == "devtools") {
        EXPECT_EQ(got["wanted"].as<int>(), x_events) << name;
      }
      EXPECT_EQ(got["missing"].as<int>(), 0) << consumer << " " << name << " lost or moved slices, e.g. "
                                             << YAML::Dump(got["examples"]);
    }
  }
  return report;
}

TEST(TraceConsumers, SpeedscopeAndDevtoolsNestEverySliceOnEveryCpuTrack) {
#ifdef QUIESCE_SANITIZED
  GTEST_SKIP() << "what the trace's consumers read is the same bytes in the normal build, which runs this";
#endif
  std::string why;
  const std::string modules = node_modules(why);
  if (modules.empty()) {
    GTEST_SKIP() << "\n*** SKIPPED: the Chrome trace's consumers cannot run here: " << why
                 << ".\n*** Install node and npm (the test installs speedscope and @paulirish/trace_engine into "
                 << QUIESCE_BINARY_DIR << "/node-trace) to run it. ***\n";
  }
  struct Case {
    std::string what;
    std::vector<std::string> args;
  };
  const std::string dir = temp_dir("trace-consumers");
  const std::vector<Case> cases = {
      // A whole record: irq handlers inside tasks on both CPUs.
      {"small", {"run", "tests/scenario/trace/small.yaml", "--out", dir + "/small", "-q", "--trace", dir + "/small.json"}},
      // A window ending at the deadlock: slices begun before it and still open at its end.
      {"deadlock",
       {"run", "scenarios/perf-rcu-2015.yaml", "--out", dir + "/deadlock", "-q", "--trace", dir + "/deadlock.json",
        "--trace-window", "200us", "--set", "kernel.lockdep.enabled=false"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    CliResult r = run_cli(c.args);
    ASSERT_LE(r.code, 1) << r.err;
    const std::string trace = dir + "/" + c.what + ".json";
    YAML::Node report = check_with_consumers(modules, trace);
    int nested_ss = 0, nested_dt = 0, slices = 0;
    std::ostringstream counts;
    for (const auto& t : report["threads"]) {
      const std::string name = t.first.as<std::string>();
      if (!std::regex_match(name, std::regex("CPU[0-9]+"))) continue;  // the task tracks
      EXPECT_GT(t.second["x_events"].as<int>(), 0) << name;
      slices += t.second["x_events"].as<int>();
      const YAML::Node ss = report["speedscope"]["threads"][name], dt = report["devtools"]["threads"][name];
      if (ss && ss["maxDepth"].as<int>() >= 2) ++nested_ss;
      if (dt && dt["maxDepth"].as<int>() >= 2) ++nested_dt;
      counts << " " << name << ": " << t.second["x_events"].as<int>() << " slices, depth "
             << (ss ? ss["maxDepth"].as<int>() : -1) << "/" << (dt ? dt["maxDepth"].as<int>() : -1) << ";";
    }
    EXPECT_GT(nested_ss, 0) << "speedscope nests irqs inside tasks";
    EXPECT_GT(nested_dt, 0) << "DevTools nests irqs inside tasks";
    std::printf("[ trace ] %s: %d task-track slices (speedscope/DevTools depth):%s\n", c.what.c_str(), slices,
                counts.str().c_str());
    if (c.what == "deadlock") {
      const std::string json = read_file(trace);
      EXPECT_TRUE(has(json, "\"still_open\": true")) << "the deadlocked CPUs' slices last to the end";
      EXPECT_TRUE(has(json, "\"began_before_trace\": true")) << "slices begun before the window start with it";
    }
  }
}

// Perfetto's systrace line pattern, from google/perfetto
// src/trace_processor/importers/systrace/systrace_line_tokenizer.cc at commit
// 522051b5a56bed09f78e9f4c5031a521b96f3e61 (SystraceLineTokenizer's line_matcher_, std::regex):
// the task is the text before the match, then pid, optional tgid, CPU, flags, timestamp, event.
const std::regex& perfetto_line() {
  static const std::regex re(R"(-(\d+)\s+\(?\s*(\d+|-+)?\)?\s?\[(\d+)\]\s*)"
                             R"([a-zA-Z0-9.]{0,4}\s+(\d+\.\d+):\s+(\S+):)");
  return re;
}

TEST(FtraceConsumers, PerfettoReadsEveryLineAndTheEventsItImports) {
#ifdef QUIESCE_SANITIZED
  GTEST_SKIP() << "what the trace's consumers read is the same bytes in the normal build, which runs this";
#endif
  const std::string dir = temp_dir("ftrace-perfetto");
  // perf-rcu-2015 up to its deadlock: RCU's softirq, expedited-GP IPIs, locks and RCU readers
  // (RCU's softirq runs about twice a millisecond here: the window holds a few).
  CliResult r = run_cli({"run", "scenarios/perf-rcu-2015.yaml", "--out", dir, "-q", "--trace", dir + "/t.txt",
                         "--trace-window", "2ms", "--set", "kernel.lockdep.enabled=false"});
  ASSERT_LE(r.code, 1) << r.err;
  const std::string text = read_file(dir + "/t.txt");
  std::istringstream in(text);
  std::string line, header;
  std::map<std::string, int> events;
  std::map<int, std::vector<std::string>> open;  // per thread, as Perfetto's slice tracker keeps them
  int lines = 0, unmatched_ends = 0, sched_wakeup = 0;
  size_t entries = 0;
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.rfind("#", 0) == 0) {
      if (has(line, "TASK-PID")) header = line;
      if (std::regex_search(line, m, std::regex(R"(entries-in-buffer/entries-written: (\d+)/)"))) entries = std::stoul(m[1]);
      continue;
    }
    ++lines;
    ASSERT_TRUE(std::regex_search(line, m, perfetto_line())) << "Perfetto cannot read:\n" << line;
    const std::string event = m[5];
    const int pid = std::stoi(m[1]);
    ++events[event];
    // Columns as in the header: '[' under CPU#, the flags under ||||, the timestamp ending
    // under TIMESTAMP's last letter.
    ASSERT_FALSE(header.empty());
    EXPECT_EQ(line.find('['), header.find("CPU#")) << line << "\n" << header;
    EXPECT_EQ(line.find(']') + 2, header.find("||||")) << line << "\n" << header;
    EXPECT_EQ(line.find(": "), header.find("TIMESTAMP") + 9) << line << "\n" << header;
    if (event == "sched_wakeup") ++sched_wakeup;
    if (event == "sched_waking") {
      EXPECT_TRUE(std::regex_search(line, std::regex(R"(: sched_waking: comm=\S+ pid=\d+ prio=\d+ target_cpu=\d{3}$)")))
          << line;
    }
    if (event == "tracing_mark_write") {
      const std::string body = m.suffix().str();
      std::smatch b;
      if (std::regex_match(body, b, std::regex(R"( B\|(\d+)\|(.+))"))) {
        ++events["B"];
        EXPECT_EQ(std::stoi(b[1]), pid) << line;
        open[pid].push_back(b[2]);
      } else if (std::regex_match(body, b, std::regex(R"( E\|(\d+))"))) {
        ++events["E"];
        EXPECT_EQ(std::stoi(b[1]), pid) << line;
        if (open[pid].empty()) {
          ++unmatched_ends;
        } else {
          open[pid].pop_back();
        }
      } else {
        EXPECT_TRUE(std::regex_match(body, std::regex(R"( C\|\d+\|\S+\|-?\d+)"))) << "an atrace mark: " << line;
      }
    }
  }
  EXPECT_EQ(static_cast<size_t>(lines), entries) << "the header counts the lines";
  EXPECT_EQ(sched_wakeup, 0) << "Perfetto reads sched_waking, not sched_wakeup";
  EXPECT_EQ(unmatched_ends, 0) << "every E ends a slice its thread began";
  for (const char* e : {"sched_switch", "sched_waking", "irq_handler_entry", "irq_handler_exit", "softirq_entry",
                        "softirq_exit", "ipi_raise", "ipi_entry", "ipi_exit", "B", "E"}) {
    EXPECT_GT(events[e], 0) << e;
  }
  // Marks for the sections the issue names.
  for (const char* section : {"|irqs off: ", "|preempt off: ", "|rcu reader", "|spin ", "|hold "}) {
    EXPECT_TRUE(has(text, section)) << section;
  }
  EXPECT_EQ(header, "#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION") << "Linux v4.4's header";
}

TEST(FtraceConsumers, IpiTargetMasksAreWholeBitmapWords) {
  // 40 CPUs: masks are two 32-bit words, and a wakeup from CPU0 of a task on CPU39 sends the
  // rescheduling IPI to bit 7 of the upper word.
  const std::string dir = temp_dir("ftrace-mask");
  const std::string scenario = write_temp(dir, "wide.yaml", R"(name: trace-wide
set: {cores: 40}
workload:
  - {task: sleeper, name: worker, cpu: 39, run: 2us, sleep: 50us, loops: 1}
  - task: program
    name: waker
    cpu: 0
    program: [{sleep: 10us}, {wake: worker}]
duration: 40us
)");
  CliResult r = run_cli({"run", scenario, "--out", dir, "-q", "--trace", dir + "/t.txt"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string text = read_file(dir + "/t.txt");
  std::set<int> targets;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!has(line, "ipi_raise: ")) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(line, m, std::regex(R"(target_mask=([0-9a-f]{8}),([0-9a-f]{8}) \()"))) << line;
    const unsigned long long mask = std::stoull(m[1].str() + m[2].str(), nullptr, 16);
    ASSERT_EQ(mask & (mask - 1), 0u) << "one target: " << line;
    for (int b = 0; b < 64; ++b) {
      if (mask >> b & 1) targets.insert(b);
    }
  }
  EXPECT_TRUE(targets.count(39)) << "the IPI to CPU39 is bit 39, not bit 7\n" << text.substr(0, 4000);
}

TEST(Vcd, TwoRunsGiveIdenticalFiles) {
  const std::string dir = temp_dir("vcd-twice");
  std::string first;
  for (int run = 0; run < 2; ++run) {
    if (run == 1) std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // another wall-clock second
    const std::string path = dir + "/w" + std::to_string(run) + ".vcd";
    CliResult r = run_cli({"run", "tests/scenario/trace/small.yaml", "--out", dir, "-q", "--vcd", path});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string vcd = read_file(path);
    ASSERT_TRUE(std::regex_search(vcd, std::regex(R"(\$enddefinitions +\$end)")));
    ASSERT_EQ(vcd.find("$date"), 0u) << vcd.substr(0, 300);
    const std::string date = vcd.substr(0, vcd.find("$end"));
    EXPECT_FALSE(std::regex_search(date, std::regex(R"(\d\d:\d\d:\d\d)"))) << "no time of day\n" << date;
    if (run == 0) {
      first = vcd;
    } else {
      EXPECT_TRUE(vcd == first) << "the second run's VCD differs from the first's";
    }
  }
}

}  // namespace
}  // namespace quiesce::test
