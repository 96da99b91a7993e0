// Kill-anytime sweeps: a sweep SIGKILLed at random moments ten times (four under the
// sanitizers) and resumed each time
// ends with outputs byte-identical to an uninterrupted run, and at no moment does a file
// or point directory exist under its final name unless it is complete.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/scenario/run_cli.h"

namespace quiesce::test {
namespace {

namespace fs = std::filesystem;

const std::string kScenario = std::string(QUIESCE_SOURCE_DIR) + "/tests/scenario/sweep/kill.yaml";

pid_t start_sweep(const std::string& out, bool resume, const std::string& scenario = kScenario) {
  std::vector<std::string> args = {"sweep", scenario, "--set", "duration=5ms", "--jobs", "2", "--out", out,
                                   "--no-plot", "-q"};
  if (resume) args.push_back("--resume");
  return spawn_cli(args);
}

// Under the sanitizer build each point's stderr.txt starts with the ASan runtime's own
// warning about SystemC's stack switches, stamped with the pid and stack addresses: each
// "==<pid>==WARNING: ASan is ignoring requested __asan_handle_no_return..." up to its line's
// end becomes "(ASan warning)". A plain scan (std::regex over every file of every round was
// most of this test's time under the sanitizers).
std::string without_asan_warnings(const std::string& text) {
  static const std::string kMark = "==WARNING: ASan is ignoring requested __asan_handle_no_return";
  std::string out;
  size_t from = 0;  // text before `from` is in `out`
  for (size_t m = text.find(kMark); m != std::string::npos; m = text.find(kMark, m + 1)) {
    size_t d = m;
    while (d > from && std::isdigit(static_cast<unsigned char>(text[d - 1]))) --d;
    if (d == m || d < from + 2 || text.compare(d - 2, 2, "==") != 0) continue;
    const size_t eol = std::min(text.find('\n', m), text.size());
    out.append(text, from, d - 2 - from).append("(ASan warning)");
    from = eol;
    m = eol;
  }
  return out.append(text, from, std::string::npos);
}

// Every file under `root`, by relative path. Names of work in progress (`*.tmp.<pid>`
// files, `*.part` point directories) are left out: they are not final names.
std::map<std::string, std::string> final_files(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && name.size() > 5 && name.compare(name.size() - 5, 5, ".part") == 0) {
      it.disable_recursion_pending();
      continue;
    }
    // host.json (when, where and how long a point ran) is the host's, not a result.
    if (!it->is_regular_file() || name.find(".tmp.") != std::string::npos || name == "host.json")
      continue;
    out[fs::relative(it->path(), root).string()] =
        without_host_times(without_asan_warnings(read_file(it->path().string())));
  }
  return out;
}

TEST(KillAnytime, TenSigkillsAndResumesEndByteIdenticalWithNoPartialFileUnderItsFinalName) {
  setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
  const std::string dir = temp_dir("kill");
  const std::string ref = dir + "/reference", out = dir + "/killed";

  const auto t0 = std::chrono::steady_clock::now();
  const int ref_code = wait_exit(start_sweep(ref, false));
  const double full = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_LE(ref_code, 1) << "the uninterrupted run";
  const auto reference = final_files(ref);
  ASSERT_GT(reference.size(), 24u * 4) << "24 points and their files";
  std::set<std::string> ref_points;
  for (const auto& [path, _] : reference) {
    if (path.rfind("points/", 0) == 0) ref_points.insert(path.substr(0, path.find('/', 7)));
  }

  // An edited scenario is another sweep: a resume with it is refused, whatever was killed.
  const std::string edited = write_temp(dir, "edited.yaml",
                                        std::regex_replace(read_file(kScenario), std::regex("rcu.violations: 0"),
                                                           "rcu.violations: 1"));

  std::mt19937 rng(20261126);
  std::uniform_real_distribution<double> moment(0.02, std::max(0.1, full * 0.5));
  int killed_mid_run = 0;
  const int rounds = repetitions(10, 4);
  for (int round = 0; round < rounds; ++round) {
    const pid_t pid = start_sweep(out, round > 0);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::duration<double>(moment(rng)));
    if (::kill(pid, SIGKILL) == 0) ++killed_mid_run;
    wait_exit(pid);
    if (round % 3 == 1 && fs::exists(out + "/sweep.json")) {
      const auto before = final_files(out);
      EXPECT_EQ(wait_exit(start_sweep(out, true, edited)), 2) << "round " << round << ": an edited scenario resumed";
      EXPECT_EQ(final_files(out), before) << "round " << round << ": a refused resume changed the tree";
    }
    // What exists under a final name is whole: each point directory holds exactly the
    // reference point's files, byte for byte, and so does every joined file present.
    const auto now = final_files(out);
    std::set<std::string> points;
    for (const auto& [path, content] : now) {
      auto ref_it = reference.find(path);
      ASSERT_NE(ref_it, reference.end()) << "round " << round << ": unexpected file " << path;
      EXPECT_EQ(content, ref_it->second) << "round " << round << ": " << path << " is not whole";
      if (path.rfind("points/", 0) == 0) points.insert(path.substr(0, path.find('/', 7)));
    }
    for (const std::string& p : points) {
      for (auto it = reference.lower_bound(p + "/");
           it != reference.end() && it->first.rfind(p + "/", 0) == 0; ++it) {
        EXPECT_TRUE(now.count(it->first))
            << "round " << round << ": " << p << " lacks " << it->first;
      }
    }
  }
  EXPECT_GE(2 * killed_mid_run, rounds) << "most kills should land while the sweep runs";

  ASSERT_LE(wait_exit(start_sweep(out, true)), 1) << "the final resume";
  const auto final_tree = final_files(out);
  EXPECT_EQ(final_tree.size(), reference.size());
  for (const auto& [path, content] : reference) {
    auto it = final_tree.find(path);
    ASSERT_NE(it, final_tree.end()) << path << " missing after the final resume";
    EXPECT_EQ(it->second, content) << path << " differs from the uninterrupted run";
  }
  // And nothing half-made is left behind either.
  for (auto it = fs::recursive_directory_iterator(out); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().filename().string();
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << it->path();
    EXPECT_FALSE(name.size() > 5 && name.compare(name.size() - 5, 5, ".part") == 0) << it->path();
  }

  // Two sweeps started together into one directory: exactly one runs, the other refuses.
  const std::string both = dir + "/both";
  const pid_t a = start_sweep(both, false), b = start_sweep(both, false);
  const int ca = wait_exit(a), cb = wait_exit(b);
  EXPECT_TRUE((ca <= 1 && cb == 2) || (ca == 2 && cb <= 1)) << "exit codes " << ca << " and " << cb;
  EXPECT_EQ(final_files(both), reference) << "the sweep that ran is whole and alone";

  // A full disk mid-sweep, then resume once there is room: the same bytes as a run that
  // never lacked room. (Needs a tmpfs mount: root only.)
  if (::geteuid() == 0) {
    const std::string mnt = dir + "/small";
    fs::create_directories(mnt);
    std::vector<std::string> mount = {"mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", mnt};
    if (run_argv(mount) == 0) {
      const int full = wait_exit(start_sweep(mnt + "/o", false));
      EXPECT_TRUE(full == 5 || full == 4) << "a full disk: an I/O error (5), or points broken by it (4): " << full;
      EXPECT_EQ(run_argv({"mount", "-o", "remount,size=64m", mnt}), 0);
      EXPECT_LE(wait_exit(start_sweep(mnt + "/o", true)), 1) << "resumed with room";
      EXPECT_EQ(final_files(mnt + "/o"), reference) << "resumed after a full disk";
      run_argv({"umount", mnt});
    } else {
      std::printf("(full-disk case skipped: mount -t tmpfs is not permitted here)\n");
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace quiesce::test
