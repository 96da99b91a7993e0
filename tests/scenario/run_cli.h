#pragma once
// Runs the quiesce binary as a child process and captures exit code, stdout, stderr and
// host time, for end-to-end tests.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// The sanitizer build checks memory and undefined behaviour on every path a test takes;
// repeating one path many times for statistics (twenty seeds, ten kills) is the normal
// build's job, where it costs an eighth of the time. Under the sanitizers a repeated case
// runs `sanitized` of its `normal` repetitions: the same paths, fewer times.
inline int repetitions(int normal, int sanitized) {
#ifdef QUIESCE_SANITIZED
  (void)normal;
  return sanitized;
#else
  (void)sanitized;
  return normal;
#endif
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

// How run_child starts a child.
struct ChildOptions {
  std::string cwd;            // empty: this process's
  bool quiesce_root = false;  // set QUIESCE_ROOT to the source tree
  bool capture = true;        // keep stdout and stderr (else /dev/null)
  rlim_t max_file_bytes = 0;  // RLIMIT_FSIZE (SIGXFSZ ignored: a write past it fails with EFBIG), 0: none
};

// Runs argv[0] (found on PATH) with argv, no shell in between (arguments reach it as they
// are): its exit code (127 when it cannot be started, 128+N when signal N ended it), what it
// printed, its host time and its own peak resident memory (wait4()'s rusage of exactly it).
inline CliResult run_child(const std::vector<std::string>& args, const ChildOptions& o) {
  const std::string dir = temp_dir("child");
  const std::string out = o.capture ? dir + "/out" : "/dev/null", err = o.capture ? dir + "/err" : "/dev/null";
  std::vector<std::string> argv_s = args;
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);  // else the child's freopen would write this process's buffered output
  std::fflush(stderr);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) ::_exit(126);
    if (o.quiesce_root) ::setenv("QUIESCE_ROOT", QUIESCE_SOURCE_DIR, 1);
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) ::_exit(126);
    if (o.max_file_bytes) {
      std::signal(SIGXFSZ, SIG_IGN);
      struct rlimit lim {o.max_file_bytes, o.max_file_bytes};
      if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(126);
    }
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  CliResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.max_rss_kb = ru.ru_maxrss;
  if (o.capture) {
    r.out = read_file(out);
    r.err = read_file(err);
  }
  std::filesystem::remove_all(dir);
  return r;
}

// The binary itself, from the source tree.
inline CliResult run_cli_measured(const std::vector<std::string>& args, rlim_t max_file_bytes = 0) {
  std::vector<std::string> argv = {QUIESCE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildOptions o;
  o.cwd = QUIESCE_SOURCE_DIR;
  o.quiesce_root = true;
  o.max_file_bytes = max_file_bytes;
  return run_child(argv, o);
}

// Runs argv[0] (found on PATH), output discarded; its exit code.
inline int run_argv(const std::vector<std::string>& args) {
  ChildOptions o;
  o.capture = false;
  return run_child(args, o).code;
}

// Runs argv[0] (found on PATH) from `cwd` (empty: this process's): its exit code with its
// stdout and stderr.
inline CliResult run_argv_output(const std::vector<std::string>& args, const std::string& cwd = "") {
  ChildOptions o;
  o.cwd = cwd;
  return run_child(args, o);
}

// junit.xml with its host's account of the run (time, timestamp, hostname attributes)
// blanked: the rest of it is byte-identical whatever --jobs, shards or resumes made it.
// A plain scan, not std::regex: the sweep tests pass every output file through it, and
// std::regex over whole files is most of their time in the sanitizer build.
inline std::string without_host_times(const std::string& text) {
  static const std::string kNames[] = {" time", " timestamp", " hostname"};
  std::string out;
  out.reserve(text.size());
  size_t from = 0;  // text before `from` is in `out`
  for (size_t q = text.find("=\""); q != std::string::npos; q = text.find("=\"", q + 1)) {
    const auto names_it = [&](const std::string& n) {
      return q >= from + n.size() && text.compare(q - n.size(), n.size(), n) == 0;
    };
    if (!std::any_of(std::begin(kNames), std::end(kNames), names_it)) continue;
    const size_t close = text.find('"', q + 2);
    if (close == std::string::npos) break;
    out.append(text, from, q + 2 - from).append("*\"");
    from = close + 1;
    q = close;
  }
  return out.append(text, from, std::string::npos);
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
