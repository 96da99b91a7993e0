// Hardware presets against the published figures they cite, and a platform built by the
// README's calibration recipe: hw-pingpong must print what the platform file says.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

const std::string kRoot = QUIESCE_SOURCE_DIR;

std::string pingpong_scenario(const YAML::Node& platform) {
  YAML::Node s;
  s["name"] = "pingpong-check";
  s["platform"] = platform;
  YAML::Node w;
  w["task"] = "hw_pingpong";
  w["rounds"] = 50;
  w["ipi_rounds"] = 20;
  s["workload"].push_back(w);
  s["duration"] = "100ms";
  YAML::Emitter e;
  e << s;
  return e.c_str();
}

// Runs hw-pingpong on `platform` (a preset name or a mapping); returns result.json.
std::string run_pingpong(const std::string& tag, const YAML::Node& platform) {
  const std::string dir = temp_dir("preset-" + tag);
  const std::string scen = write_temp(dir, "s.yaml", pingpong_scenario(platform));
  CliResult r = run_cli({"run", scen, "--out", dir + "/out", "-q"});
  EXPECT_EQ(r.code, 0) << tag << ": " << r.err;
  return read_file(dir + "/out/result.json");
}

TEST(Presets, EveryPublishedFigureIsReproducedWithinTenPercent) {
  int presets = 0, figures = 0;
  for (const auto& e : std::filesystem::directory_iterator(kRoot + "/platforms")) {
    if (e.path().extension() != ".yaml") continue;
    const std::string name = e.path().stem().string();
    ++presets;
    const YAML::Node file = YAML::LoadFile(e.path().string());
    const YAML::Node pub = file["published"];
    if (name != "generic-smp") {
      EXPECT_TRUE(pub && pub.size() > 0) << name << " cites no published figure";
    }
    const std::string json = run_pingpong(name, YAML::Node(name));
    if (!pub) continue;
    for (const auto& f : pub) {
      const std::string metric = f["metric"].as<std::string>();
      ++figures;
      EXPECT_GT(json_metric(json, metric, -1), 0) << name << ": hw-pingpong has no " << metric;
      const double err = json_metric(json, "published." + metric + ".error_pct", 1e9);
      EXPECT_LE(std::abs(err), 10.0) << name << ": " << metric << " published " << f["value"].as<std::string>()
                                     << " (" << f["source"].as<std::string>() << "), model off by " << err << "%";
    }
  }
  EXPECT_GE(presets, 5);
  EXPECT_GE(figures, 12);
}

// The README's worked example, read from the README itself.
YAML::Node readme_example() {
  const std::string readme = read_file(kRoot + "/README.md");
  const size_t mark = readme.find("<!-- calibration-example");
  EXPECT_NE(mark, std::string::npos) << "README lost its calibration example";
  const size_t open = readme.find("```yaml\n", mark);
  const size_t close = readme.find("```\n", open + 8);
  return YAML::Load(readme.substr(open + 8, close - open - 8));
}

TEST(Calibration, RoundNumbersByTheReadmeRecipeComeBackWithinTwoPercent) {
  const YAML::Node platform = readme_example();
  ASSERT_TRUE(platform["published"]);
  const std::string json = run_pingpong("round-numbers", platform);
  auto near = [&](const std::string& metric, double want) {
    const double got = json_metric(json, metric, -1);
    EXPECT_NEAR(got, want, 0.02 * want) << metric;
  };
  for (const auto& f : platform["published"]) {
    const double err = json_metric(json, "published." + f["metric"].as<std::string>() + ".error_pct", 1e9);
    EXPECT_LE(std::abs(err), 2.0) << f["metric"].as<std::string>();
  }
  // Each figure is what the platform says, at every distance, in every mode.
  near("pingpong.smt.cas_one_way_ns", 8);
  near("pingpong.cluster.cas_one_way_ns", 20);
  near("pingpong.socket.cas_one_way_ns", 80);
  near("pingpong.system.cas_one_way_ns", 200);
  near("pingpong.system.cas_round_trip_ns", 400);
  // Load then CAS: the hand-off, then an upgrade (by default the hand-off again) that
  // the 6 ns atomic overlaps.
  near("pingpong.cluster.load_cas_one_way_ns", 40);
  near("pingpong.system.load_cas_one_way_ns", 400);
  // Siblings: the SMT hand-off on the load, then the CAS hits in the shared L1.
  near("pingpong.smt.load_cas_one_way_ns", 8 + 6);
  for (const char* d : {"smt", "cluster", "socket", "system"}) near(std::string("pingpong.") + d + ".ipi_one_way_ns", 1000);
  near("pingpong.local.cas_ns", 6);
  near("pingpong.local.lock_unlock_ns", 12);
  EXPECT_EQ(json_metric(json, "pingpong.cluster.cpu_b", -1), 2) << "CPU 1 is CPU 0's SMT sibling";
  EXPECT_EQ(json_metric(json, "pingpong.system.cpu_b", -1), 32);
}

// The upgrade is set apart from the transfer; an IPI can differ per distance.
TEST(Calibration, UpgradeAndPerDistanceIpiAreTheirOwnFigures) {
  YAML::Node platform = readme_example();
  platform["mem"]["upgrade"]["socket"] = "30ns";
  platform["irq"]["ipi"]["by_distance"]["system"] = "3us";
  const std::string json = run_pingpong("upgrade", platform);
  EXPECT_NEAR(json_metric(json, "pingpong.socket.cas_one_way_ns", -1), 80, 0.5) << "a blind CAS moves the line once";
  EXPECT_NEAR(json_metric(json, "pingpong.socket.load_cas_one_way_ns", -1), 80 + 30, 0.5);
  EXPECT_NEAR(json_metric(json, "pingpong.system.ipi_one_way_ns", -1), 3000, 0.5);
  EXPECT_NEAR(json_metric(json, "pingpong.socket.ipi_one_way_ns", -1), 1000, 0.5);
}

TEST(Calibration, ReplacedAndUnknownDistancesAreRefusedWithTheirMeaning) {
  const std::string dir = temp_dir("calib-bad");
  const std::string base = "name: x\nworkload: [{task: hw_pingpong}]\n";
  CliResult r = run_cli({"run", write_temp(dir, "a.yaml", base + "set: {mem.c2c.same_cluster: 20ns}\n"), "-q"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("mem.c2c was replaced by mem.handoff"), std::string::npos) << r.err;
  r = run_cli({"run", write_temp(dir, "b.yaml", base + "set: {mem.handoff.clustr: 20ns}\n"), "-q"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean 'cluster'?"), std::string::npos) << r.err;
  r = run_cli({"run", write_temp(dir, "c.yaml", base + "platform: {cores: 8, topology: {levels: [{name: ccx, size: 4}]}}\n"),
               "-q"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("mem.handoff has no figure for distance 'ccx'"), std::string::npos) << r.err;
  r = run_cli({"run", write_temp(dir, "d.yaml", base + "set: {cores: 6, topology.threads_per_core: 4}\n"), "-q"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("6 CPUs do not make whole cores of 4 threads"), std::string::npos) << r.err;
  r = run_cli({"run",
               write_temp(dir, "e.yaml",
                          base + "platform: {cores: 8, topology: {levels: [{name: c, groups: [{size: 2}, {size: 3}]}]}}\n"),
               "-q"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("its groups hold 5 units, but the level below has 8 cores"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace quiesce::test

namespace quiesce::test {
namespace {

// An architect compares machines: `--set platform=NAME` and a sweep axis over presets.
TEST(Presets, SetOrSweepNamesAnotherPreset) {
  const std::string dir = temp_dir("preset-axis");
  CliResult r = run_cli({"run", "scenarios/hw-pingpong.yaml", "--set", "platform=graviton3", "--out", dir + "/one", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string one = read_file(dir + "/one/result.json");
  EXPECT_EQ(json_metric(one, "pingpong.mesh.cas_one_way_ns"), 46);
  // The resolved configuration gives tables as tables, not as YAML text.
  EXPECT_NE(one.find("\"mem.handoff\": {\n"), std::string::npos) << one;
  EXPECT_NE(one.find("\"mesh\": \"46ns\""), std::string::npos);
  r = run_cli({"run", "scenarios/hw-pingpong.yaml", "--set", "platform=gravitn3", "-q"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean 'graviton3'?"), std::string::npos) << r.err;
  r = run_cli({"run", "scenarios/hw-pingpong.yaml", "--set", "platform.cores=8", "-q"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("override its keys directly (e.g. cores=8)"), std::string::npos) << r.err;

  const std::string scen = write_temp(dir, "s.yaml",
                                      "name: presets\nworkload: [{task: hw_pingpong, rounds: 10, ipi_rounds: 2}]\n"
                                      "duration: 100ms\nsweep: {platform: [generic-smp, apple-m1pro]}\n");
  r = run_cli({"sweep", scen, "--out", dir + "/sweep", "-q", "--no-plot"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string csv = read_file(dir + "/sweep/points.csv");
  EXPECT_NE(csv.find(",p000000,generic-smp,ok,"), std::string::npos) << csv.substr(0, 200);
  EXPECT_NE(csv.find(",p000001,apple-m1pro,ok,"), std::string::npos);
}

}  // namespace
}  // namespace quiesce::test
