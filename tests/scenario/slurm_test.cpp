// `quiesce sweep --slurm` and `quiesce status` without a cluster: stand-in sbatch, sinfo,
// scontrol and scancel on PATH log what they are asked and answer as Slurm would. The real
// daemons are exercised by tests/cluster/slurm_test.sh.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "run_cli.h"

namespace quiesce::test {
namespace {

namespace fs = std::filesystem;

const std::string kSmall = std::string(QUIESCE_SOURCE_DIR) + "/tests/scenario/sweep/small.yaml";

// A directory of stand-in Slurm commands, put first on PATH for the test's lifetime.
class FakeSlurm {
 public:
  explicit FakeSlurm(const std::string& dir)
      : dir_(dir + "/fakebin"), old_path_(std::getenv("PATH")) {
    fs::create_directories(dir_);
    // sbatch: logs its environment's shard variables and arguments; prints "<id>;cluster".
    tool("sbatch", "n=$(( $(cat " + dir_ + "/next 2>/dev/null || echo 100) + 1 ))\necho $n >" +
                       dir_ + "/next\n" +
                       "echo \"QUIESCE_SHARD_OFFSET=${QUIESCE_SHARD_OFFSET:-} "
                       "QUIESCE_SHARDS=${QUIESCE_SHARDS:-} $*\" >>" +
                       dir_ + "/sbatch.log\necho \"$n;ci\"\n");
    tool("sinfo", "printf 'debug\\nbatch\\n'\n");
    // scontrol show config | show job -o ID: states come from files the test writes.
    tool("scontrol",
         "if [ \"$2\" = config ]; then echo 'MaxArraySize            = 2'; exit 0; fi\ncat " +
             dir_ +
             "/state-$4 2>/dev/null || { echo \"slurm_load_jobs error: Invalid job id specified\" "
             ">&2; exit 1; }\n");
    tool("scancel", "echo \"$*\" >>" + dir_ + "/scancel.log\n");
    setenv("PATH", (dir_ + ":" + old_path_).c_str(), 1);
  }
  ~FakeSlurm() { setenv("PATH", old_path_.c_str(), 1); }
  void state(const std::string& id, const std::string& lines) {
    write_temp(dir_, "state-" + id, lines);
  }
  std::string log(const std::string& tool) const { return read_file(dir_ + "/" + tool + ".log"); }
  const std::string& dir() const { return dir_; }

 private:
  void tool(const std::string& name, const std::string& body) {
    const std::string p = write_temp(dir_, name, "#!/bin/sh\n" + body);
    ::chmod(p.c_str(), 0755);
  }
  std::string dir_, old_path_;
};

int sh(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

size_t lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// With --precision a shard is a set of variants (each decided by the shard that runs it):
// the plan has one task per variant, and every task passes the precision on.
TEST(Slurm, PrecisionSweepsShardByVariant) {
  const std::string dir = temp_dir("slurm-prec");
  FakeSlurm slurm(dir);
  const std::string out = dir + "/sweep";
  CliResult r = run_cli({"sweep", "tests/scenario/sweep/precision.yaml", "--slurm", "--dry-run", "--precision", "0.1",
                         "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "2 variants in 2 shard(s)")) << r.out;
  EXPECT_TRUE(has(read_file(out + "/slurm/task.sh"), "--set 'sweep.precision=0.1'")) << read_file(out + "/slurm/task.sh");
}

TEST(Slurm, DryRunWritesScriptsAUserCanSubmitAndRunByHand) {
  const std::string dir = temp_dir("slurm-dry");
  FakeSlurm slurm(dir);
  const std::string out = dir + "/sweep";
  CliResult r =
      run_cli({"sweep", kSmall, "--slurm", "--dry-run", "--points-per-task", "4", "--partition",
               "debug", "--time", "1:00:00", "--sbatch-arg=--qos=low", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "12 points in 3 shard(s), 2 job array(s) and a merge job")) << r.out;
  EXPECT_TRUE(has(r.out, "==> " + out + "/slurm/task.sh <==")) << "the scripts are printed";
  EXPECT_TRUE(has(r.out, "dry run: nothing submitted")) << r.out;
  EXPECT_FALSE(fs::exists(slurm.dir() + "/sbatch.log")) << "a dry run submits nothing";
  EXPECT_FALSE(fs::exists(out + "/slurm/jobs.txt"));

  // Under MaxArraySize=2 the 3 shards go in two arrays: 0-1, and 0 at offset 2.
  const std::string submit = read_file(out + "/slurm/submit.sh");
  EXPECT_TRUE(has(
      submit,
      "QUIESCE_SHARD_OFFSET=0 QUIESCE_SHARDS=3 sbatch --parsable --array=0-1 --partition='debug' "
      "--time='1:00:00' '--qos=low' task.sh"))
      << submit;
  EXPECT_TRUE(has(submit, "QUIESCE_SHARD_OFFSET=2 QUIESCE_SHARDS=3 sbatch --parsable --array=0 "))
      << submit;
  EXPECT_TRUE(has(submit, "--dependency=afterok$arrays")) << submit;
  const std::string manifest = read_file(out + "/slurm/manifest.json");
  EXPECT_TRUE(has(manifest, "\"shards\": 3")) << manifest;
  for (const char* f : {"task.sh", "merge.sh", "submit.sh"}) {
    struct stat st {};
    ASSERT_EQ(::stat((out + "/slurm/" + f).c_str(), &st), 0) << f;
    EXPECT_TRUE(st.st_mode & S_IXUSR) << f << " is executable";
  }

  // Submitting by hand: two arrays, then the merge job depending on both.
  ASSERT_EQ(sh("bash " + out + "/slurm/submit.sh >" + dir + "/ids.txt"), 0);
  EXPECT_EQ(read_file(dir + "/ids.txt"), "array 101\narray 102\nmerge 103\n");
  const std::string log = slurm.log("sbatch");
  EXPECT_EQ(lines(log), 3u) << log;
  EXPECT_TRUE(
      has(log, "--dependency=afterok:101:102 --partition=debug --time=1:00:00 --qos=low merge.sh"))
      << log;

  // What Slurm would then run: each array task, then the merge.
  const std::string env = "cd " + dir + " && QUIESCE_ROOT=" QUIESCE_SOURCE_DIR " QUIESCE_SHARDS=3 ";
  ASSERT_EQ(sh(env + "SLURM_ARRAY_TASK_ID=0 QUIESCE_SHARD_OFFSET=0 bash " + out +
               "/slurm/task.sh >/dev/null 2>&1"),
            0);
  EXPECT_TRUE(fs::exists(out + "/points/p000003/result.json"))
      << "shard 1/3 holds points 0, 3, 6, 9";
  EXPECT_FALSE(fs::exists(out + "/points/p000001/result.json"));
  ASSERT_EQ(sh(env + "SLURM_ARRAY_TASK_ID=1 QUIESCE_SHARD_OFFSET=0 bash " + out +
               "/slurm/task.sh >/dev/null 2>&1"),
            0);
  ASSERT_EQ(sh(env + "SLURM_ARRAY_TASK_ID=0 QUIESCE_SHARD_OFFSET=2 bash " + out +
               "/slurm/task.sh >/dev/null 2>&1"),
            0);
  EXPECT_TRUE(fs::exists(out + "/points/p000011/result.json"))
      << "shard 3/3 (offset 2, task 0) holds point 11";
  ASSERT_EQ(sh(env + "bash " + out + "/slurm/merge.sh >" + dir + "/merge.txt 2>&1"), 0)
      << read_file(dir + "/merge.txt");
  EXPECT_TRUE(has(read_file(dir + "/merge.txt"), "12/12 points")) << read_file(dir + "/merge.txt");

  r = run_cli({"sweep", kSmall, "--jobs", "2", "--no-plot", "-q", "--out", dir + "/local"});
  ASSERT_LE(r.code, 1) << r.err;
  for (const char* f : {"points.csv", "points.jsonl", "summary.md", "junit.xml", "sweep.json"}) {
    EXPECT_EQ(without_host_times(read_file(out + "/" + f)), without_host_times(read_file(dir + "/local/" + f)))
        << f << " differs from the local run";
  }
}

TEST(Slurm, BadInputGivesOneClearMessageAndExitCode2) {
  const std::string dir = temp_dir("slurm-bad");
  {
    // No sbatch anywhere on PATH.
    const std::string old = std::getenv("PATH");
    setenv("PATH", (dir + "/empty").c_str(), 1);
    CliResult r = run_cli({"sweep", kSmall, "--slurm", "--out", dir + "/a"});
    setenv("PATH", old.c_str(), 1);
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.err, "sbatch is not on PATH")) << r.err;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_FALSE(fs::exists(dir + "/a")) << "nothing written on a refused submission";
  }
  FakeSlurm slurm(dir);
  CliResult r = run_cli({"sweep", kSmall, "--slurm", "--partition", "gpu", "--out", dir + "/b"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "unknown partition 'gpu' (this cluster has: batch, debug)")) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/b"));
  for (const char* t : {"soon", "1:2:3:4", "-5", "1-", "90m"}) {
    r = run_cli({"sweep", kSmall, "--slurm", "--time", t, "--out", dir + "/c"});
    EXPECT_EQ(r.code, 2) << t;
    EXPECT_TRUE(has(r.err, "--time " + std::string(t) + ": error: not a Slurm time limit"))
        << r.err;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir + "/c"));
  r = run_cli({"sweep", kSmall, "--slurm", "--points-per-task", "0", "--out", dir + "/d"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "must be at least 1")) << r.err;
  r = run_cli({"sweep", kSmall, "--slurm", "--shard", "1/2"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "--shard and --slurm don't mix")) << r.err;
  r = run_cli({"sweep", kSmall, "--dry-run"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "--dry-run goes with --slurm")) << r.err;
  EXPECT_FALSE(fs::exists(slurm.dir() + "/sbatch.log"));
}

TEST(Slurm, ValidTimeLimitsAreAccepted) {
  const std::string dir = temp_dir("slurm-time");
  FakeSlurm slurm(dir);
  int k = 0;
  for (const char* t :
       {"30", "30:00", "2:30:00", "1-0", "1-12", "1-12:30", "1-12:30:15", "UNLIMITED"}) {
    CliResult r = run_cli({"sweep", kSmall, "--slurm", "--dry-run", "--time", t, "--out",
                           dir + "/" + std::to_string(k++)});
    EXPECT_EQ(r.code, 0) << t << ": " << r.err;
  }
}

TEST(Slurm, StatusAndResumeFollowTheJobs) {
  const std::string dir = temp_dir("slurm-status");
  FakeSlurm slurm(dir);
  const std::string out = dir + "/sweep";
  CliResult r = run_cli({"sweep", kSmall, "--slurm", "--points-per-task", "4", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(
      has(r.out, "submitted array job 101\nsubmitted array job 102\nsubmitted merge job 103\n"))
      << r.out;
  EXPECT_TRUE(has(r.out, "watch it: quiesce status " + out)) << r.out;
  EXPECT_EQ(read_file(out + "/slurm/jobs.txt"), "array 101\narray 102\nmerge 103\n");

  // Submitting again into the same directory is refused: it is resumed, not restarted.
  r = run_cli({"sweep", kSmall, "--slurm", "--points-per-task", "4", "--out", out});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "add --resume")) << r.err;

  // Shard 1 of 3 ran (points 0, 3, 6, 9); the rest is still queued or running.
  r = run_cli({"sweep", kSmall, "--shard", "1/3", "--out", out, "--no-plot", "-q"});
  ASSERT_LE(r.code, 1) << r.err;
  slurm.state("101",
              "JobId=104 ArrayJobId=101 ArrayTaskId=0 JobState=COMPLETED\n"
              "JobId=101 ArrayJobId=101 ArrayTaskId=1 JobState=RUNNING\n");
  slurm.state("102", "JobId=102 ArrayJobId=102 ArrayTaskId=0 JobState=PENDING Reason=Resources\n");
  slurm.state("103", "JobId=103 JobState=PENDING Reason=Dependency\n");
  r = run_cli({"status", out});
  EXPECT_EQ(r.code, 1) << "incomplete";
  EXPECT_TRUE(has(r.out, "4/12 points have results")) << r.out;
  EXPECT_TRUE(has(r.out, "8 missing")) << r.out;
  EXPECT_TRUE(has(r.out, "array job 101: 1 COMPLETED 1 RUNNING\n")) << r.out;
  EXPECT_TRUE(has(r.out, "array job 102: 1 PENDING\n")) << r.out;
  EXPECT_TRUE(has(r.out, "merge job 103: 1 PENDING\n")) << r.out;

  r = run_cli({"sweep", kSmall, "--slurm", "--resume", "--out", out});
  EXPECT_EQ(r.code, 2) << "resuming while shards still run would run them twice";
  EXPECT_TRUE(has(r.err, "array job 101 of this sweep is still queued or running")) << r.err;

  // The other shards failed; their merge job waits on a dependency that can never be met.
  slurm.state("101",
              "JobId=104 ArrayJobId=101 ArrayTaskId=0 JobState=COMPLETED\n"
              "JobId=101 ArrayJobId=101 ArrayTaskId=1 JobState=FAILED\n");
  slurm.state("102", "JobId=102 ArrayJobId=102 ArrayTaskId=0 JobState=FAILED\n");
  r = run_cli({"sweep", kSmall, "--slurm", "--resume", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "cancelled the earlier merge job 103")) << r.out;
  EXPECT_EQ(slurm.log("scancel"), "103\n");
  EXPECT_TRUE(has(r.out, "resubmitting 2 of 3 shards (8 missing, 0 broken points)")) << r.out;
  const std::string again = read_file(out + "/slurm/resubmit-1.sh");
  EXPECT_TRUE(has(again, "QUIESCE_SHARD_OFFSET=0 QUIESCE_SHARDS=3 sbatch --parsable --array=1 "))
      << again;
  EXPECT_TRUE(has(again, "QUIESCE_SHARD_OFFSET=2 QUIESCE_SHARDS=3 sbatch --parsable --array=0 "))
      << again;
  EXPECT_EQ(read_file(out + "/slurm/jobs.txt"),
            "array 101\narray 102\nmerge 103\narray 104\narray 105\nmerge 106\n");

  r = run_cli({"sweep", kSmall, "--slurm", "--resume", "--out", out, "--set", "duration=3ms"});
  EXPECT_EQ(r.code, 2) << "another --set is another sweep";
  EXPECT_TRUE(has(r.err, "holds another sweep: duration was 2ms, is 3ms")) << r.err;

  r = run_cli({"status", dir});
  EXPECT_EQ(r.code, 2) << "not a sweep directory";
  EXPECT_TRUE(has(r.err, "not a sweep directory")) << r.err;
}

}  // namespace
}  // namespace quiesce::test
