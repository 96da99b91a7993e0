#pragma once
// Runs the quiesce binary as a child process and captures exit code, stdout, stderr and
// host time, for end-to-end tests.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace quiesce::test {

struct CliResult {
  int code = -1;
  std::string out, err;
  double seconds = 0;
  long max_rss_kb = 0;  // peak resident memory of the quiesce process (run_cli_measured only)
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A metric's value from result.json text ("name": number), or `missing`.
inline double json_metric(const std::string& json, const std::string& name, double missing = -1) {
  std::regex re("\"" + std::regex_replace(name, std::regex(R"([.])"), R"(\.)") + R"re(": (-?[0-9.e+]+))re");
  std::smatch m;
  return std::regex_search(json, m, re) ? std::stod(m[1]) : missing;
}

inline std::string temp_dir(const std::string& name) {
  std::string d = std::filesystem::temp_directory_path().string() + "/quiesce-test-" + name + "-" +
                  std::to_string(::getpid());
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

inline std::string write_temp(const std::string& dir, const std::string& name, const std::string& text) {
  std::string p = dir + "/" + name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

// Runs the binary itself (no shell in between: arguments reach it as they are) from the
// source tree, and reports its own peak resident memory, from wait4()'s rusage of exactly
// that child.
inline CliResult run_cli_measured(const std::vector<std::string>& args) {
  const std::string dir = temp_dir("cli-measured");
  const std::string out = dir + "/out", err = dir + "/err";
  std::vector<std::string> argv_s = {QUIESCE_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);  // else the child's freopen would write this process's buffered output
  std::fflush(stderr);
  auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(QUIESCE_SOURCE_DIR) != 0) ::_exit(126);
    ::setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  CliResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.max_rss_kb = ru.ru_maxrss;
  r.out = read_file(out);
  r.err = read_file(err);
  std::filesystem::remove_all(dir);
  return r;
}

// Runs argv[0] (found on PATH) with argv, no shell, output discarded; its exit code, or 127
// when it cannot be started.
inline int run_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s = args;
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!std::freopen("/dev/null", "w", stdout) || !std::freopen("/dev/null", "w", stderr)) ::_exit(126);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs argv[0] (found on PATH) with argv, no shell, from `cwd` (empty: this process's): its exit
// code (127 when it cannot be started) with its stdout and stderr.
inline CliResult run_argv_output(const std::vector<std::string>& args, const std::string& cwd = "") {
  const std::string dir = temp_dir("argv-output");
  const std::string out = dir + "/out", err = dir + "/err";
  std::vector<std::string> argv_s = args;
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) ::_exit(126);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  std::filesystem::remove_all(dir);
  return r;
}

// junit.xml with its host's account of the run (time, timestamp, hostname attributes)
// blanked: the rest of it is byte-identical whatever --jobs, shards or resumes made it.
inline std::string without_host_times(const std::string& text) {
  static const std::regex attrs(R"re( (time|timestamp|hostname)="[^"]*")re");
  return std::regex_replace(text, attrs, " $1=\"*\"");
}

inline CliResult run_cli(const std::vector<std::string>& args) { return run_cli_measured(args); }

// Starts the binary with `args` in the background (no shell), from the current directory:
// its stdout to `stdout_fd` when given, else /dev/null; its stderr to /dev/null. The pid, or
// -1 when it could not be started.
inline pid_t spawn_cli(const std::vector<std::string>& args, int stdout_fd = -1) {
  std::vector<std::string> a = {QUIESCE_BIN};
  a.insert(a.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

// The exit code of a child started by spawn_cli (128 + N when signal N ended it).
inline int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// One `quiesce run` into a fresh directory: exit code, result.json, lockdep.log, stderr.
struct Point {
  int code;
  std::string json, lockdep, err;
  std::string outcome() const {
    std::smatch m;
    std::regex re(R"re("outcome": "([a-z_]+)")re");
    return std::regex_search(json, m, re) ? m[1].str() : "";
  }
};

inline Point run_point(const std::string& scenario, const std::vector<std::string>& extra) {
  std::string out = temp_dir("point");
  std::vector<std::string> args = {"run", scenario, "--out", out, "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  CliResult r = run_cli(args);
  return {r.code, read_file(out + "/result.json"), read_file(out + "/lockdep.log"), r.err};
}

}  // namespace quiesce::test
