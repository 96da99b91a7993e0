#include <gtest/gtest.h>

#include <regex>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

const std::string kRoot = QUIESCE_SOURCE_DIR;

TEST(HwPingpong, RunsAndReportsEveryDistance) {
  std::string out = temp_dir("pp");
  CliResult r = run_cli({"run", "scenarios/hw-pingpong.yaml", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("0-1       cluster"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0-2       socket"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("outcome: ok"), std::string::npos) << r.out;
  std::string json = read_file(out + "/result.json");
  EXPECT_NE(json.find("\"outcome\": \"ok\""), std::string::npos);
  // generic-smp: a blind CAS hand-off is mem.handoff.cluster (20 ns), one way; a
  // load-then-CAS one adds the upgrade (the hand-off again), which the 10 ns CAS overlaps.
  EXPECT_EQ(json_metric(json, "pingpong.cluster.cas_one_way_ns"), 20) << json;
  EXPECT_EQ(json_metric(json, "pingpong.cluster.cas_round_trip_ns"), 40) << json;
  EXPECT_EQ(json_metric(json, "pingpong.cluster.load_cas_one_way_ns"), 40) << json;
  EXPECT_EQ(json_metric(json, "pingpong.socket.cas_one_way_ns"), 60) << json;
  EXPECT_EQ(json_metric(json, "pingpong.local.cas_ns"), 10) << json;
  std::string stats = read_file(out + "/stats.txt");
  std::regex line(R"(^mem\.dir\.c2c_transfers +[0-9]+ +# cache-to-cache transfers \(count\)$)",
                  std::regex::multiline);
  EXPECT_TRUE(std::regex_search(stats, line)) << stats;
}

TEST(HwPingpong, SmtAndCrossSocketPairsOnTheServerPreset) {
  std::string out = temp_dir("pp2s");
  CliResult r = run_cli({"run", "scenarios/hw-pingpong.yaml", "--out", out, "--set", "platform_name=x"});
  EXPECT_EQ(r.code, 2);  // unknown platform key: a clear error
  std::string scen = write_temp(out, "s.yaml",
                                "name: pp2s\nplatform: xeon-2s-icelake\nworkload: [{task: hw_pingpong, rounds: 20, "
                                "ipi_rounds: 5}]\n");
  r = run_cli({"run", scen, "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("0-1       smt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0-2       socket"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0-64      system"), std::string::npos) << r.out;
}

TEST(Determinism, SameScenarioAndSeedGiveByteIdenticalOutputs) {
  std::string a = temp_dir("det-a"), b = temp_dir("det-b");
  ASSERT_EQ(run_cli({"run", "scenarios/hw-pingpong.yaml", "--out", a, "--seed", "5"}).code, 0);
  ASSERT_EQ(run_cli({"run", "scenarios/hw-pingpong.yaml", "--out", b, "--seed", "5"}).code, 0);
  for (const char* f : {"/result.json", "/stats.txt"}) {
    std::string x = read_file(a + f), y = read_file(b + f);
    EXPECT_FALSE(x.empty());
    EXPECT_EQ(x, y) << f;
  }
  std::string c = temp_dir("det-c");
  ASSERT_EQ(run_cli({"run", "scenarios/hw-pingpong.yaml", "--out", c, "--seed", "6"}).code, 0);
  EXPECT_NE(read_file(a + "/stats.txt"), read_file(c + "/stats.txt")) << "the seed must matter";
}

// --- bad input: one clear message with file:line:column, exit code 2, no crash ------------

struct BadInput {
  const char* name;
  const char* yaml;
  const char* where;  // expected "file:line:col" suffix (after the temp path)
  const char* text;   // expected part of the message
};

void PrintTo(const BadInput& b, std::ostream* os) { *os << b.name; }

class BadScenario : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadScenario, GivesOneClearMessageAndExitCode2) {
  const BadInput& b = GetParam();
  std::string dir = temp_dir(std::string("bad-") + b.name);
  std::string path = write_temp(dir, "s.yaml", b.yaml);
  CliResult r = run_cli({"run", path, "--out", dir + "/out"});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  std::string where = std::string(b.where).empty() ? path : path + ":" + b.where;
  EXPECT_NE(r.err.find(where + ": error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(b.text), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one message: " << r.err;
  EXPECT_LT(r.seconds, 5.0);
}


INSTANTIATE_TEST_SUITE_P(
    Inputs, BadScenario,
    ::testing::Values(
        BadInput{"malformed", "name: x\nworkload: [{task: hw_pingpong}\n", "3:1", "YAML syntax"},
        BadInput{"unknown_key", "name: x\nduraton: 5ms\nworkload: [{task: hw_pingpong}]\n", "2:1",
                 "unknown key 'duraton'; did you mean 'duration'?"},
        BadInput{"unknown_nested_key", "name: x\nset: {mem.handoff.sockt: 5ns}\nworkload: [{task: hw_pingpong}]\n",
                 "2:7", "did you mean 'socket'?"},
        BadInput{"wrong_unit", "name: x\nduration: 5 parsecs\nworkload: [{task: hw_pingpong}]\n", "2:11",
                 "unknown time unit \"parsecs\""},
        BadInput{"missing_unit", "name: x\nset: {irq.ipi.latency: 5}\nworkload: [{task: hw_pingpong}]\n", "2:24",
                 "needs a unit"},
        BadInput{"negative_cores", "name: x\nset: {cores: -4}\nworkload: [{task: hw_pingpong}]\n", "2:14",
                 "cores must be between 1 and 1024, got -4"},
        BadInput{"absurd_cores", "name: x\nset: {cores: 1000000}\nworkload: [{task: hw_pingpong}]\n", "2:14",
                 "cores must be between 1 and 1024"},
        BadInput{"overflowing_cores", "name: x\nset: {cores: 1e30}\nworkload: [{task: hw_pingpong}]\n", "2:14",
                 "expected an integer"},
        BadInput{"unknown_platform", "name: x\nplatform: generic-smpp\nworkload: [{task: hw_pingpong}]\n", "2:11",
                 "unknown platform 'generic-smpp'; did you mean 'generic-smp'?"},
        BadInput{"unknown_task", "name: x\nworkload: [{task: hw_pingpog}]\n", "2:19",
                 "did you mean 'hw_pingpong'?"},
        BadInput{"pingpong_cpu_past_cores", "name: x\nworkload: [{task: hw_pingpong, first_cpu: 9}]\n", "2:43",
                 "past the core count"},
        BadInput{"empty", "", "", "empty"},
        BadInput{"not_a_mapping", "- 1\n- 2\n", "1:1", "a scenario is a mapping"}),
    [](const ::testing::TestParamInfo<BadInput>& i) { return std::string(i.param.name); });

TEST(BadInput, SetOverrideFromTheCommandLineIsNamed) {
  CliResult r = run_cli({"run", "scenarios/hw-pingpong.yaml", "--set", "cores=many"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--set cores=many: error: 'cores': expected an integer"), std::string::npos) << r.err;
  r = run_cli({"run", "scenarios/hw-pingpong.yaml", "--set", "cores.count=4"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("is a single value, not a mapping"), std::string::npos) << r.err;
}

TEST(BadInput, UsageErrorsExitWith2) {
  EXPECT_EQ(run_cli({"frobnicate"}).code, 2);
  EXPECT_EQ(run_cli({"run"}).code, 2);
  EXPECT_EQ(run_cli({"run", "scenarios/hw-pingpong.yaml", "--no-such-flag"}).code, 2);
  CliResult r = run_cli({"run", "/nonexistent/s.yaml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/nonexistent/s.yaml: error: cannot open file"), std::string::npos) << r.err;
}

TEST(Cli, HelpAndVersion) {
  CliResult r = run_cli({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "quiesce 0.1.0\n");
  for (const char* verb : {"run", "validate", "list"}) {
    r = run_cli({verb, "--help"});
    EXPECT_EQ(r.code, 0) << verb;
    EXPECT_NE(r.out.find(std::string("quiesce ") + verb), std::string::npos) << r.out;
  }
}

TEST(Cli, EveryShippedPlatformAndScenarioValidates) {
  std::vector<std::string> args = {"validate"};
  for (const char* dir : {"platforms", "scenarios"}) {
    for (const auto& e : std::filesystem::directory_iterator(kRoot + "/" + dir)) {
      if (e.path().extension() == ".yaml") args.push_back(e.path().string());
    }
  }
  ASSERT_GE(args.size(), 5u);
  CliResult r = run_cli(args);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), static_cast<long>(args.size() - 1)) << r.out;
}

TEST(Cli, ListsPlatformsAndParams) {
  CliResult r = run_cli({"list", "platforms"});
  EXPECT_EQ(r.code, 0);
  for (const char* p : {"generic-smp", "zen3-desktop", "xeon-2s-icelake", "graviton3", "apple-m1pro"}) {
    EXPECT_NE(r.out.find(p), std::string::npos) << p;
  }
  r = run_cli({"list", "params"});
  EXPECT_EQ(r.code, 0);
  for (const char* k : {"irq.ipi.latency", "mem.handoff", "topology.levels", "core.op.irq_entry", "sim.quantum"}) {
    EXPECT_NE(r.out.find(k), std::string::npos) << k;
  }
}

}  // namespace
}  // namespace quiesce::test

namespace quiesce::test {
namespace {

TEST(Docs, ParameterReferenceIsGeneratedFromTheDeclarations) {
  CliResult r = run_cli({"list", "params", "--markdown"});
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(read_file(std::string(QUIESCE_SOURCE_DIR) + "/docs/params.md"), r.out)
      << "docs/params.md is stale: regenerate it with quiesce list params --markdown > docs/params.md";
}

}  // namespace
}  // namespace quiesce::test

namespace quiesce::test {
namespace {

TEST(Cli, ListsTheKernelVariants) {
  CliResult r = run_cli({"list", "variants"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* v : {"kernel.perf.lock_task_context", "preempt_disable | irq_save", "kernel.rcu.unlock_special",
                        "v4.4 | deferred_softirq | deferred_workqueue | deferred_irq_work", "kernel.printk.stall_warning",
                        "kernel.lockdep.might_wake"}) {
    EXPECT_NE(r.out.find(v), std::string::npos) << v << "\n" << r.out;
  }
}

TEST(Cli, IrqLoadIsADeviceInterruptSource) {
  std::string dir = temp_dir("irqload");
  std::string p = write_temp(dir, "s.yaml",
                             "name: il\nworkload: [{task: irq_load, irq: nic, cpu: 1, period: 20us, handler: 1us}]\n"
                             "duration: 1ms\nexpect: {irq.nic.count: \">= 40\"}\n");
  CliResult r = run_cli({"run", p, "--out", dir + "/out", "-q"});
  EXPECT_EQ(r.code, 0) << r.err << read_file(dir + "/out/result.json");
}

}  // namespace
}  // namespace quiesce::test
