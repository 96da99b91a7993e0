#include "sim/run/internal/point_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "sim/base/error.h"
#include "sim/base/units.h"
#include "sim/output/files.h"
#include "sim/output/json.h"
#include "sim/run/point.h"
#include "sim/run/sweep.h"

namespace fs = std::filesystem;

namespace quiesce::run_internal {
namespace {

volatile std::sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

struct Running {
  pid_t pid;
  uint64_t index;
  std::chrono::steady_clock::time_point start;
  std::chrono::system_clock::time_point wall_start;
};

std::string eta_text(double seconds) {
  if (seconds < 0) return "?";
  char buf[32];
  if (seconds < 90) {
    std::snprintf(buf, sizeof buf, "%.0fs", seconds);
  } else if (seconds < 5400) {
    std::snprintf(buf, sizeof buf, "%.0fm%02.0fs", std::floor(seconds / 60), std::fmod(seconds, 60));
  } else {
    std::snprintf(buf, sizeof buf, "%.1fh", seconds / 3600);
  }
  return buf;
}

std::string tail_of(const std::string& path, size_t n) {
  std::string s;
  try {
    s = read_file_bounded(path, 64u << 20);
  } catch (const std::exception&) {
    return "";
  }
  return utf8_tail(s, n);
}

std::string utc_iso8601(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

// When, where and how long the point's process ran, beside its result: for junit.xml,
// which reporters read durations from. Kept out of result.json, which a rerun of the same
// point reproduces byte for byte.
void record_host(const std::string& pdir, const Running& r) {
  const Json j = {{"hostname", host_name()},
                  {"started", utc_iso8601(r.wall_start)},
                  {"host_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - r.start).count()}};
  write_file_atomic(pdir + "/host.json", json_text(j));
}

// The child: its stderr into the point's stderr.txt.tmp, its stdout to /dev/null; the
// sweep's signal handlers undone (a SIGTERM to the process group ends the points too).
[[noreturn]] void start_child(const std::function<int(uint64_t, const std::string&)>& child, uint64_t index,
                              const std::string& pdir, pid_t parent) {
  // A point dies with its sweep (a SIGKILLed sweep must not leave points running that a
  // resumed one would run again beside them).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(137);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  const int err = ::open((pdir + "/stderr.txt.tmp").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int null = ::open("/dev/null", O_WRONLY);
  if (err >= 0) ::dup2(err, 2);
  if (null >= 0) ::dup2(null, 1);
  int code = 3;
  try {
    code = child(index, pdir);
  } catch (const std::exception& e) {
    std::cerr << "quiesce: internal error: " << e.what() << "\n";
  }
  std::cout.flush();
  std::cerr.flush();
  ::_exit(code);
}

// SIGCHLD blocked while the pool runs, so that the pool can wait for it (sigtimedwait);
// the mask as it was, again, after (and in each child, which inherits the mask).
struct BlockedChld {
  sigset_t set{}, before{};
  BlockedChld() {
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &set, &before);
  }
  ~BlockedChld() { restore(); }
  void restore() const { ::sigprocmask(SIG_SETMASK, &before, nullptr); }
  BlockedChld(const BlockedChld&) = delete;
  BlockedChld& operator=(const BlockedChld&) = delete;
};

}  // namespace

int run_point_child(const std::function<std::unique_ptr<Scenario>()>& load, const std::string& pdir,
                    const std::string& windows_path) {
  try {
    auto sc = load();
    RunOptions ro;
    ro.out_dir = pdir;
    ro.quiet = true;
    ro.windows_path = windows_path;
    auto report = [](const PointResult& r) {
      if (!r.io_error.empty()) std::cerr << "quiesce: " << r.io_error << "\n";
      if (!r.limit_error.empty()) std::cerr << "error: " << r.limit_error << "\n";
      return r.exit_code();
    };
    // This process exists for the one point: it ends with the outputs written, its
    // simulation left standing (see RunOptions::finished).
    ro.finished = [&report](const PointResult& r) {
      const int code = report(r);
      std::cout.flush();
      std::cerr.flush();
      ::_exit(code);
    };
    return report(run_point(*sc, ro, std::cout));
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const IoError& e) {
    std::cerr << "quiesce: " << e.what() << "\n";
    return kExitIo;
  }
}

int pool_signal() { return g_signal; }

void record_failure(const std::string& pdir, const std::string& outcome, const std::string& why) {
  const Json j = {{"outcome", outcome}, {"failure", why}, {"metrics", Json::object()}};
  write_file_atomic(pdir + "/result.json", json_text(j));
}

PoolResult run_pool(const std::string& dir, const std::vector<uint64_t>& todo, const PoolOptions& opt,
                    const std::function<int(uint64_t, const std::string&)>& child,
                    const std::function<bool(uint64_t)>& failed) {
  PoolResult res;
  // Not reset: a signal caught after an earlier pool of this process (the handler stays)
  // stops this one before it starts a point.
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const BlockedChld chld;
  const bool tty = ::isatty(2);
  std::vector<Running> running;
  size_t next = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto last_line = t0;
  size_t last_done = static_cast<size_t>(-1);
  auto progress = [&](bool final) {
    if (opt.quiet || todo.empty()) return;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double eta = res.done ? el / static_cast<double>(res.done) * static_cast<double>(todo.size() - res.done) : -1;
    std::ostringstream line;
    line << res.done << "/" << todo.size() << " done, " << res.failed << " failed, ETA "
         << eta_text(final ? 0 : eta);
    if (tty) {
      const int width = 30;
      const int fill = todo.empty() ? width : static_cast<int>(width * res.done / todo.size());
      std::cerr << "\r[" << std::string(static_cast<size_t>(fill), '#')
                << std::string(static_cast<size_t>(width - fill), ' ') << "] " << line.str() << "   "
                << (final ? "\n" : "") << std::flush;
    } else if ((final && res.done != last_done) ||
               std::chrono::duration<double>(std::chrono::steady_clock::now() - last_line).count() >= 10 ||
               (!final && todo.size() >= 10 && res.done % (todo.size() / 10) == 0)) {
      last_done = res.done;
      std::cerr << "sweep: " << line.str() << "\n";
      last_line = std::chrono::steady_clock::now();
    }
  };
  // A point runs in points/pNNNNNN.part and becomes points/pNNNNNN, whole, when it ends:
  // whatever kills the sweep, a point directory under its final name is complete.
  auto finish = [&](const Running& r, int status, bool timed_out) {
    const std::string final_dir = dir + "/points/" + point_id(r.index);
    const std::string pdir = final_dir + ".part";
    std::error_code ec;
    fs::rename(pdir + "/stderr.txt.tmp", pdir + "/stderr.txt", ec);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (timed_out) {
      record_failure(pdir, "timeout", "killed after --point-timeout " + format_number(opt.point_timeout_s) + "s");
    } else if (code == 2) {
      record_failure(pdir, "invalid", tail_of(pdir + "/stderr.txt", 500));
    } else if (code == kExitIo) {
      record_failure(pdir, "crashed", "the environment failed: " + tail_of(pdir + "/stderr.txt", 500));
    } else if ((code != 0 && code != 1) || !fs::exists(pdir + "/result.json", ec)) {
      record_failure(pdir, "crashed",
                     WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                         : "exit code " + std::to_string(code));
    }
    record_host(pdir, r);
    fs::remove_all(final_dir, ec);
    fs::rename(pdir, final_dir, ec);
    if (ec) throw IoError("rename " + pdir + " to", final_dir, ec.value());
    if (failed(r.index)) ++res.failed;
    ++res.done;
    progress(false);
  };

  while ((next < todo.size() || !running.empty()) && !g_signal) {
    while (next < todo.size() && static_cast<int>(running.size()) < opt.jobs) {
      const uint64_t index = todo[next++];
      const std::string pdir = dir + "/points/" + point_id(index) + ".part";
      std::error_code ec;
      fs::remove_all(pdir, ec);  // left by a killed sweep
      make_dirs(pdir);
      std::cout.flush();
      std::cerr.flush();
      const pid_t parent = ::getpid();
      const pid_t pid = ::fork();
      if (pid < 0) {
        const int err = errno;
        for (const auto& r : running) ::kill(r.pid, SIGKILL);
        for (const auto& r : running) ::waitpid(r.pid, nullptr, 0);
        throw IoError("start a process for", pdir, err);
      }
      if (pid == 0) {
        chld.restore();
        start_child(child, index, pdir, parent);
      }
      running.push_back({pid, index, std::chrono::steady_clock::now(), std::chrono::system_clock::now()});
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      auto it = std::find_if(running.begin(), running.end(), [pid](const Running& r) { return r.pid == pid; });
      if (it != running.end()) {
        const Running r = *it;
        running.erase(it);
        finish(r, status, false);
      }
      continue;
    }
    double wait_s = 0.1;  // at most: a stray wake-up costs nothing
    if (opt.point_timeout_s > 0) {
      const auto now = std::chrono::steady_clock::now();
      for (size_t i = 0; i < running.size();) {
        const double left =
            opt.point_timeout_s - std::chrono::duration<double>(now - running[i].start).count();
        if (left < 0) {
          ::kill(running[i].pid, SIGKILL);
          ::waitpid(running[i].pid, &status, 0);
          const Running r = running[i];
          running.erase(running.begin() + static_cast<long>(i));
          finish(r, status, true);
        } else {
          wait_s = std::min(wait_s, left + 0.001);
          ++i;
        }
      }
    }
    // Until a point ends (SIGCHLD, blocked since before the first fork, so one that came
    // after the waitpid above is pending and returns at once), a timeout or a signal: a
    // free slot is refilled as soon as its point ends, not at the next tick of a poll.
    if (!running.empty() && !g_signal) {
      timespec ts{};
      ts.tv_sec = static_cast<time_t>(wait_s);
      ts.tv_nsec = static_cast<long>((wait_s - static_cast<double>(ts.tv_sec)) * 1e9);
      ::sigtimedwait(&chld.set, nullptr, &ts);
    }
  }
  if (g_signal) {
    for (const auto& r : running) ::kill(r.pid, SIGKILL);
    for (const auto& r : running) ::waitpid(r.pid, nullptr, 0);
    res.signal = g_signal;
    return res;
  }
  progress(true);
  return res;
}

}  // namespace quiesce::run_internal
