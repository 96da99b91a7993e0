// Sampling until sure (sweep.precision, --precision): each variant stops at the first look
// where its intervals are narrow enough, or at its seed axis's end; the points that makes
// do not depend on --jobs, shards or resuming.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

const char* kPrecision = "tests/scenario/sweep/precision.yaml";
const char* kJoined[] = {"/points.csv", "/points.jsonl", "/summary.md", "/junit.xml"};

CliResult sweep(const std::string& out, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"sweep", kPrecision, "--out", out, "-q", "--no-plot", "--precision", "0.1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_cli(args);
}

// points.csv's seeds per clock value, in file order.
std::map<std::string, std::vector<int>> seeds_by_clock(const std::string& csv) {
  std::map<std::string, std::vector<int>> out;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("index,id,clock,seed,outcome,ok,", 0), 0u) << line;
  static const std::regex row(R"(^[0-9]+,p[0-9]+,([^,]+),([0-9]+),)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, row)) out[m[1]].push_back(std::stoi(m[2]));
  }
  return out;
}

std::vector<int> one_to(int n) {
  std::vector<int> v;
  for (int i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

TEST(Precision, EachVariantStopsAtTheTargetOrItsCap) {
  const std::string out = temp_dir("prec-one");
  CliResult r = sweep(out, {"--jobs", "2"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const auto seeds = seeds_by_clock(read_file(out + "/points.csv"));
  // 100 MHz detects nothing. With 0 of n, the Wilson interval is [0, z^2/(n+z^2)]: its half
  // width is 0.139 at n = 10 and 0.0805 at n = 20, so the second look (20 runs) stops it.
  EXPECT_EQ(seeds.at("100MHz"), one_to(20));
  // 2 GHz: every run reports and about a third deadlock; a share near 1/3 needs about 85
  // runs for +-10 points, so the variant runs all 40 of its seeds, in order.
  EXPECT_EQ(seeds.at("2GHz"), one_to(40));
  const std::string summary = read_file(out + "/summary.md");
  EXPECT_NE(summary.find("60 of 60 points"), std::string::npos) << summary;
  EXPECT_NE(summary.find("1 of 2 variants got there; not (at their cap, or not finished):\n- `2GHz`: 40 runs"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("| 100MHz | 20 | 0 of 20: P ≤ 13.9%"), std::string::npos) << summary;
  // The README's worked example quotes this line.
  EXPECT_NE(summary.find("| 2GHz | 40 | 40 of 40: 100.0% [91.2–100.0] | 15 of 40: 37.5% [24.2–53.0] |"),
            std::string::npos)
      << summary;
}

TEST(Precision, ShardsResumeAndJobsGiveTheSameSweep) {
  const std::string one = temp_dir("prec-ref"), tree = temp_dir("prec-tree"), a = temp_dir("prec-a"),
                    b = temp_dir("prec-b"), merged = temp_dir("prec-m"), resumed = temp_dir("prec-resume");
  ASSERT_EQ(sweep(one, {"--jobs", "1"}).code, 0);
  // Two shards sharing a tree, as Slurm's array tasks do: each decides its own variant.
  ASSERT_EQ(sweep(tree, {"--jobs", "2", "--shard", "1/2"}).code, 0);
  ASSERT_EQ(sweep(tree, {"--jobs", "2", "--shard", "2/2", "--resume"}).code, 0);
  // Shards in directories of their own, merged.
  ASSERT_EQ(sweep(a, {"--shard", "1/2"}).code, 0);
  ASSERT_EQ(sweep(b, {"--shard", "2/2"}).code, 0);
  CliResult m = run_cli({"merge", a, b, "--out", merged, "--no-plot"});
  ASSERT_EQ(m.code, 0) << m.out << m.err;
  // One shard, then the whole sweep resumed.
  ASSERT_EQ(sweep(resumed, {"--shard", "2/2"}).code, 0);
  CliResult r = sweep(resumed, {"--resume"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const char* f : kJoined) {
    const std::string ref = without_host_times(read_file(one + f));
    ASSERT_FALSE(ref.empty()) << f;
    EXPECT_EQ(without_host_times(read_file(tree + f)), ref) << f << ": two shards in one tree";
    EXPECT_EQ(without_host_times(read_file(merged + f)), ref) << f << ": two shards merged";
    EXPECT_EQ(without_host_times(read_file(resumed + f)), ref) << f << ": one shard, then resumed";
  }
  // A shard's variants are whole: shard 1/2 holds clock 100MHz's 20 runs, nothing of 2GHz.
  const auto first = seeds_by_clock(read_file(a + "/points.csv"));
  EXPECT_EQ(first.size(), 1u);
  EXPECT_EQ(first.count("100MHz"), 1u);
  // `quiesce status` counts the points the sampling asked for, not the seed axis's cap.
  CliResult st = run_cli({"status", one});
  EXPECT_NE(st.out.find("60/60 points have results"), std::string::npos) << st.out << st.err;
}

TEST(Precision, TheSettingAndTheFlagAreOneSweepAndNeedASeedAxis) {
  const std::string flag = temp_dir("prec-flag"), set = temp_dir("prec-set");
  ASSERT_EQ(sweep(flag, {"--jobs", "2"}).code, 0);
  // --set sweep.precision is the flag's own spelling: the same sweep.json identity.
  CliResult r = run_cli({"sweep", kPrecision, "--out", flag, "-q", "--no-plot", "--set", "sweep.precision=0.1"});
  EXPECT_EQ(r.code, 0) << r.err << ": the same sweep, complete, so its summary again";
  // Without a seed axis there are no runs to add.
  const std::string text = std::regex_replace(read_file(std::string(QUIESCE_SOURCE_DIR) + "/" + kPrecision), std::regex(R"(  seed: \{range: \[1, 40\]\}\n)"), "");
  const std::string path = write_temp(set, "noseed.yaml", text);
  r = run_cli({"sweep", path, "--out", set + "/out", "-q", "--precision", "0.1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("sampling to a precision needs a `seed` axis"), std::string::npos) << r.err;
  // Axes stay the file's: only the sweep's settings may be set from outside.
  r = run_cli({"sweep", kPrecision, "--out", set + "/out2", "-q", "--set", "sweep.clock=1GHz"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("only its settings, e.g. sweep.precision, may be set"), std::string::npos) << r.err;
  r = run_cli({"sweep", kPrecision, "--out", set + "/out3", "-q", "--precision", "0.7"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--precision takes a half-width from 0 to 0.5"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace quiesce::test
