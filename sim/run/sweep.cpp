#include "sim/run/sweep.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "sim/output/files.h"
#include "sim/output/json.h"
#include "sim/output/sweep_files.h"
#include "sim/run/internal/spawn.h"
#include "sim/run/point.h"

namespace fs = std::filesystem;

namespace quiesce {
std::string point_id(uint64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "p%06llu", static_cast<unsigned long long>(index));
  return buf;
}

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_signal(int) { g_interrupted = 1; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail(const std::string& s, size_t n) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

SweepInfo sweep_info(const Scenario& sc) {
  SweepInfo info;
  info.name = sc.params.name();
  info.file = sc.file;
  info.total = sc.sweep.total;
  for (const auto& a : sc.sweep.axes) {
    SweepAxisInfo ai;
    ai.label = a.label();
    ai.keys = a.keys;
    for (const auto& row : a.rows) {
      std::vector<std::string> r;
      for (const auto& v : row) r.push_back(v.text);
      ai.values.push_back(r);
    }
    info.axes.push_back(ai);
  }
  return info;
}

std::string sweep_json(const Scenario& sc, const SweepInfo& info, const std::vector<Override>& sets) {
  JsonWriter j;
  j.begin_object();
  j.key("scenario").value(info.name);
  j.key("file").value(info.file);
  j.key("set").begin_array();
  for (const auto& o : sets) {
    YAML::Emitter e;
    e << YAML::Flow << o.value;
    j.value(o.key + "=" + e.c_str());
  }
  j.end_array();
  j.key("total_points").value(info.total);
  j.key("axes").begin_array();
  for (const auto& a : info.axes) {
    j.begin_object();
    j.key("key").value(a.label);
    if (a.keys.size() > 1) {
      j.key("zip").begin_array();
      for (const auto& k : a.keys) j.value(k);
      j.end_array();
    }
    j.key("values").begin_array();
    for (const auto& row : a.values) {
      if (row.size() == 1) {
        j.value(row[0]);
      } else {
        j.begin_array();
        for (const auto& v : row) j.value(v);
        j.end_array();
      }
    }
    j.end_array();
    j.end_object();
  }
  j.end_array();
  // The point list, while it stays a reasonable size (it can always be recomputed).
  if (info.total <= 100000) {
    j.key("points").begin_array();
    for (uint64_t i = 0; i < info.total; ++i) {
      j.begin_object();
      j.key("index").value(i);
      j.key("id").value(point_id(i));
      j.key("params").begin_object();
      for (const auto& p : sc.sweep.point(i)) j.key(p.key).value(p.value->text);
      j.end_object();
      j.end_object();
    }
    j.end_array();
  }
  j.end_object();
  return j.str();
}

double number_of(const YAML::Node& n) {
  try {
    return n.as<double>();
  } catch (const YAML::Exception&) {
    return 0;
  }
}

// Reads points/<id>/result.json back into a record; false when the point has no result.
bool read_record(const std::string& dir, const SweepSpec& spec, uint64_t index, PointRecord* rec) {
  const std::string pdir = dir + "/points/" + point_id(index);
  const std::string path = pdir + "/result.json";
  if (!fs::exists(path)) return false;
  rec->index = index;
  rec->id = point_id(index);
  for (const auto& p : spec.point(index)) rec->params.emplace_back(p.key, p.value->text);
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    rec->outcome = "crashed";
    rec->ok = false;
    rec->failures.push_back("unreadable result.json: " + e.msg);
    return true;
  }
  rec->outcome = doc["outcome"] ? doc["outcome"].as<std::string>() : "crashed";
  if (doc["metrics"] && doc["metrics"].IsMap()) {
    for (const auto& kv : doc["metrics"]) rec->metrics.emplace_back(kv.first.as<std::string>(), number_of(kv.second));
  }
  // How long the point ran in simulated time (a deadlock ends it early): studies compare
  // like with like only at equal simulated time.
  if (doc["simulated_time_ps"]) rec->metrics.emplace_back("simulated_ms", number_of(doc["simulated_time_ps"]) / 1e9);
  rec->ok = !rec->broken();
  if (doc["expectations"] && doc["expectations"].IsSequence()) {
    for (const auto& e : doc["expectations"]) {
      if (e["ok"] && e["ok"].as<std::string>() == "true") continue;
      rec->ok = false;
      rec->failures.push_back("expect " + e["key"].as<std::string>() + " " + e["expected"].as<std::string>() +
                              " (actual " + e["actual"].as<std::string>() + ")");
    }
  }
  if (doc["failure"]) rec->failures.push_back(doc["failure"].as<std::string>());
  // Only a broken point's stderr goes into the joined files: a point that ran has nothing
  // to add, and a process's own noise (pids, addresses) would make them differ run to run.
  if (rec->broken()) rec->stderr_tail = tail(read_text(pdir + "/stderr.txt"), 2000);
  return true;
}

std::vector<PointRecord> collect(const std::string& dir, const SweepSpec& spec) {
  std::vector<PointRecord> out;
  for (uint64_t i = 0; i < spec.total; ++i) {
    PointRecord r;
    if (read_record(dir, spec, i, &r)) out.push_back(std::move(r));
  }
  return out;
}

void write_joined(const std::string& dir, const SweepInfo& info, const std::vector<PointRecord>& points) {
  write_file_atomic(dir + "/points.csv", points_csv(info, points));
  write_file_atomic(dir + "/points.jsonl", points_jsonl(points));
  write_file_atomic(dir + "/summary.md", summary_md(info, points));
  write_file_atomic(dir + "/junit.xml", junit_xml(info, points));
}

std::string source_root() {
  if (const char* root = std::getenv("QUIESCE_ROOT")) return root;
  return fs::path(platforms_dir()).parent_path().string();
}

// Runs argv (no shell): stdout to /dev/null, stderr to `stderr_path`. Whether it exited 0.
bool run_quietly(const std::vector<std::string>& argv, const std::string& stderr_path = "/dev/null") {
  return run_internal::run_argv(argv, nullptr, stderr_path) == 0;
}

void maybe_plot(const std::string& dir, bool plot, std::ostream& human, bool quiet) {
  if (!plot) return;
  const std::string script = source_root() + "/scripts/plot";
  if (!fs::exists(script)) return;
  // Debian's matplotlib belongs to /usr/bin/python3, which may not be the python3 on PATH;
  // scripts/plot finds it either way.
  if (!run_quietly({"python3", "-c", "import matplotlib"}) &&
      !run_quietly({"/usr/bin/python3", "-c", "import matplotlib"})) {
    if (!quiet) human << "plots skipped: python3-matplotlib is not installed (scripts/plot " << dir << " makes them)\n";
    return;
  }
  if (run_quietly({script, dir}, dir + "/plot.stderr")) {
    fs::remove(dir + "/plot.stderr");
    if (!quiet) human << "plots written by scripts/plot (listed in " << dir << "/plots.txt)\n";
  } else if (!quiet) {
    human << "scripts/plot failed; see " << dir << "/plot.stderr\n";
  }
}

struct Running {
  pid_t pid;
  uint64_t index;
  std::chrono::steady_clock::time_point start;
};

// The child: load the point's scenario, run it, exit with run's code.
[[noreturn]] void child_main(const std::string& path, const SweepSpec& spec, uint64_t index, const SweepOptions& opt,
                             const std::string& pdir, pid_t parent) {
  // A point dies with its sweep (a SIGKILLed sweep must not leave points running that a
  // resumed one would run again beside them).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(137);
  int err = ::open((pdir + "/stderr.txt.tmp").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int null = ::open("/dev/null", O_WRONLY);
  if (err >= 0) ::dup2(err, 2);
  if (null >= 0) ::dup2(null, 1);
  int code = 3;
  // Test-only: QUIESCE_TEST_CRASH_POINT=<index> makes that point die as a crash would.
  if (const char* crash = std::getenv("QUIESCE_TEST_CRASH_POINT")) {
    if (std::to_string(index) == crash) {
      std::cerr << "crashing point " << index << " on request (QUIESCE_TEST_CRASH_POINT)\n";
      std::abort();
    }
  }
  try {
    auto sc = load_scenario(path, point_overrides(spec, index, opt.sets));
    RunOptions ro;
    ro.out_dir = pdir;
    ro.quiet = true;
    PointResult r = run_point(*sc, ro, std::cout);
    if (!r.limit_error.empty()) std::cerr << "error: " << r.limit_error << "\n";
    code = r.exit_code();
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    code = 2;
  } catch (const std::exception& e) {
    std::cerr << "quiesce: internal error: " << e.what() << "\n";
    code = 3;
  }
  std::cout.flush();
  std::cerr.flush();
  ::_exit(code);
}

// A point without a result.json of its own (crash, invalid values, timeout) gets one.
void record_failure(const std::string& pdir, const std::string& outcome, const std::string& why) {
  JsonWriter j;
  j.begin_object();
  j.key("outcome").value(outcome);
  j.key("failure").value(why);
  j.key("metrics").begin_object().end_object();
  j.end_object();
  write_file_atomic(pdir + "/result.json", j.str());
}

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

}  // namespace

std::string sweep_manifest(const Scenario& sc, const std::vector<Override>& sets) {
  return sweep_json(sc, sweep_info(sc), sets);
}

SweepCensus census(const std::string& dir) {
  const std::string m = dir + "/sweep.json";
  if (!fs::exists(m)) throw ConfigError(dir, "", "not a sweep directory (no sweep.json)");
  YAML::Node manifest;
  try {
    manifest = YAML::LoadFile(m);
  } catch (const YAML::Exception& e) {
    throw ConfigError(m, "", "unreadable: " + e.msg);
  }
  SweepCensus c;
  c.total = manifest["total_points"].as<uint64_t>();
  for (uint64_t i = 0; i < c.total; ++i) {
    const std::string r = dir + "/points/" + point_id(i) + "/result.json";
    if (!fs::exists(r)) {
      c.missing.push_back(i);
      continue;
    }
    std::string outcome = "crashed";
    bool ok = false;
    try {
      YAML::Node doc = YAML::LoadFile(r);
      if (doc["outcome"]) outcome = doc["outcome"].as<std::string>();
      ok = true;
      if (doc["expectations"]) {
        for (const auto& e : doc["expectations"]) ok = ok && e["ok"].as<std::string>() == "true";
      }
    } catch (const YAML::Exception&) {
    }
    if (outcome == "crashed" || outcome == "timeout" || outcome == "invalid") {
      ++c.broken;
      c.broken_points.push_back(i);
    } else if (ok) {
      ++c.ok;
    } else {
      ++c.failed;
    }
  }
  return c;
}

void parse_shard(const std::string& text, int* index, int* count) {
  auto slash = text.find('/');
  const std::string origin = "--shard " + text;
  if (slash == std::string::npos) throw ConfigError(origin, "", "expected I/N, e.g. 2/4");
  try {
    size_t used = 0;
    *index = std::stoi(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("");
    std::string n = text.substr(slash + 1);
    *count = std::stoi(n, &used);
    if (used != n.size()) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw ConfigError(origin, "", "expected I/N with whole numbers, e.g. 2/4");
  }
  if (*count < 1 || *index < 1 || *index > *count) throw ConfigError(origin, "", "need 1 <= I <= N");
}

int run_sweep(const std::string& path, const SweepOptions& opt, std::ostream& human) {
  auto base = load_scenario(path, opt.sets);
  const SweepSpec& spec = base->sweep;
  validate_sweep_values(path, spec, opt.sets);
  const SweepInfo info = sweep_info(*base);
  const std::string dir = opt.out_dir.empty() ? "results/" + base->params.name() : opt.out_dir;
  make_dirs(dir + "/points");

  const std::string manifest = sweep_json(*base, info, opt.sets);
  const std::string manifest_path = dir + "/sweep.json";
  if (fs::exists(manifest_path) && read_text(manifest_path) != manifest) {
    throw ConfigError(manifest_path, "", "this directory holds a different sweep; use another --out");
  }
  std::vector<uint64_t> todo;
  size_t already = 0;
  for (uint64_t i = 0; i < spec.total; ++i) {
    if (static_cast<int>(i % static_cast<uint64_t>(opt.shard_count)) != opt.shard_index - 1) continue;
    if (fs::exists(dir + "/points/" + point_id(i) + "/result.json")) {
      if (!opt.resume) {
        throw ConfigError(dir, "", "already holds results of this sweep; add --resume to finish it, or use another --out");
      }
      ++already;
      continue;
    }
    todo.push_back(i);
  }
  write_file_atomic(manifest_path, manifest);
  if (opt.shard_count == 1) {
    // The only writer of this tree: what a killed run left half made goes. (Shards may share
    // the tree with others still writing, so they leave other points' leftovers alone.)
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.is_regular_file() && e.path().filename().string().find(".tmp.") != std::string::npos) fs::remove(e.path());
    }
    for (const auto& e : fs::directory_iterator(dir + "/points", ec)) {
      const std::string name = e.path().filename().string();
      if (name.size() > 5 && name.compare(name.size() - 5, 5, ".part") == 0) fs::remove_all(e.path());
    }
  }

  int jobs = opt.jobs > 0 ? opt.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const bool tty = ::isatty(2);
  if (!opt.quiet) {
    human << "sweep " << info.name << ": " << spec.total << " points";
    if (opt.shard_count > 1) human << ", shard " << opt.shard_index << "/" << opt.shard_count;
    if (already) human << ", " << already << " already done";
    human << ", " << todo.size() << " to run, " << jobs << " at a time, into " << dir << "\n";
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::vector<Running> running;
  size_t next = 0, done = 0, failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto last_line = t0;
  size_t last_done = static_cast<size_t>(-1);
  auto progress = [&](bool final) {
    if (opt.quiet) return;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double eta = done ? el / static_cast<double>(done) * static_cast<double>(todo.size() - done) : -1;
    std::ostringstream line;
    line << done << "/" << todo.size() << " done, " << failed << " failed, ETA " << eta_text(final ? 0 : eta);
    if (tty) {
      const int width = 30;
      const int fill = todo.empty() ? width : static_cast<int>(width * done / todo.size());
      std::cerr << "\r[" << std::string(static_cast<size_t>(fill), '#') << std::string(static_cast<size_t>(width - fill), ' ')
                << "] " << line.str() << "   " << (final ? "\n" : "") << std::flush;
    } else if ((final && done != last_done) ||
               std::chrono::duration<double>(std::chrono::steady_clock::now() - last_line).count() >= 10 ||
               (!final && todo.size() >= 10 && done % (todo.size() / 10) == 0)) {
      last_done = done;
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
    const std::string err = read_text(pdir + "/stderr.txt");
    if (timed_out) {
      record_failure(pdir, "timeout", "killed after --point-timeout " + format_number(opt.point_timeout_s) + "s");
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
      record_failure(pdir, "invalid", tail(err, 500));
    } else if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1) ||
               !fs::exists(pdir + "/result.json")) {
      record_failure(pdir, "crashed",
                     WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                         : "exit code " + std::to_string(WEXITSTATUS(status)));
    }
    fs::remove_all(final_dir);
    fs::rename(pdir, final_dir);
    PointRecord rec;
    if (!read_record(dir, spec, r.index, &rec) || !rec.ok) ++failed;
    ++done;
    progress(false);
  };

  while ((next < todo.size() || !running.empty()) && !g_interrupted) {
    while (next < todo.size() && static_cast<int>(running.size()) < jobs) {
      const uint64_t index = todo[next++];
      const std::string pdir = dir + "/points/" + point_id(index) + ".part";
      fs::remove_all(pdir);  // left by a killed sweep
      make_dirs(pdir);
      std::cout.flush();
      std::cerr.flush();
      const pid_t parent = ::getpid();
      pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error("fork failed");
      if (pid == 0) child_main(path, spec, index, opt, pdir, parent);
      running.push_back({pid, index, std::chrono::steady_clock::now()});
    }
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      auto it = std::find_if(running.begin(), running.end(), [pid](const Running& r) { return r.pid == pid; });
      if (it != running.end()) {
        Running r = *it;
        running.erase(it);
        finish(r, status, false);
      }
      continue;
    }
    if (opt.point_timeout_s > 0) {
      const auto now = std::chrono::steady_clock::now();
      for (size_t i = 0; i < running.size();) {
        if (std::chrono::duration<double>(now - running[i].start).count() > opt.point_timeout_s) {
          ::kill(running[i].pid, SIGKILL);
          ::waitpid(running[i].pid, &status, 0);
          Running r = running[i];
          running.erase(running.begin() + static_cast<long>(i));
          finish(r, status, true);
        } else {
          ++i;
        }
      }
    }
    ::usleep(2000);
  }
  if (g_interrupted) {
    for (const auto& r : running) ::kill(r.pid, SIGKILL);
    for (const auto& r : running) ::waitpid(r.pid, nullptr, 0);
    if (!opt.quiet) std::cerr << "\nsweep interrupted: run it again with --resume to finish\n";
    return 130;
  }
  progress(true);

  std::vector<PointRecord> points = collect(dir, spec);
  write_joined(dir, info, points);
  // The exit code speaks for this shard's points only: shards sharing an output tree
  // (Slurm array tasks) must not fail for a point another shard broke.
  size_t bad = 0, broken = 0;
  for (const auto& p : points) {
    if (static_cast<int>(p.index % static_cast<uint64_t>(opt.shard_count)) != opt.shard_index - 1) continue;
    bad += p.ok ? 0 : 1;
    broken += p.broken() ? 1 : 0;
  }
  const bool complete = points.size() == spec.total;
  if (!opt.quiet) {
    human << points.size() << "/" << spec.total << " points have results; " << bad
          << (opt.shard_count > 1 ? " of this shard's failed their expectations" : " failed their expectations")
          << (complete ? "" : " (incomplete: run the other shards, or --resume)") << "\n";
    // The per-variant table, as the study's one-screen answer.
    const std::string summary = summary_md(info, points);
    const size_t from = summary.find("## By variant");
    if (from != std::string::npos) {
      const size_t to = summary.find("\n## ", from + 1);
      human << "\n" << summary.substr(from, to == std::string::npos ? std::string::npos : to - from) << "\n";
    }
    human << "wrote " << dir << "/points.csv, points.jsonl, summary.md, junit.xml\n";
  }
  if (complete) maybe_plot(dir, opt.plot, human, opt.quiet);
  return broken ? kExitBroken : bad ? 1 : 0;
}

int merge_sweeps(const std::vector<std::string>& dirs, const std::string& out_arg, bool plot, std::ostream& human) {
  if (dirs.empty()) throw ConfigError("merge", "", "give at least one sweep directory");
  const std::string out = out_arg.empty() ? dirs.front() : out_arg;
  std::string manifest;
  for (const auto& d : dirs) {
    const std::string m = d + "/sweep.json";
    if (!fs::exists(m)) throw ConfigError(m, "", "not a sweep directory (no sweep.json)");
    const std::string text = read_text(m);
    if (manifest.empty()) manifest = text;
    if (text != manifest) throw ConfigError(m, "", "a different sweep from " + dirs.front() + "'s");
  }
  make_dirs(out + "/points");
  for (const auto& d : dirs) {
    if (fs::equivalent(d, out)) continue;
    for (const auto& e : fs::directory_iterator(d + "/points")) {
      const fs::path target = fs::path(out) / "points" / e.path().filename();
      if (!fs::exists(e.path() / "result.json") || fs::exists(target / "result.json")) continue;
      const fs::path tmp = target.string() + ".merging";
      fs::remove_all(tmp);
      fs::copy(e.path(), tmp, fs::copy_options::recursive);
      fs::remove_all(target);
      fs::rename(tmp, target);
    }
  }
  write_file_atomic(out + "/sweep.json", manifest);
  // The manifest holds the axes: the points' parameters come from it, not from a scenario
  // file that may have changed since.
  YAML::Node m = YAML::Load(manifest);
  SweepInfo info;
  info.name = m["scenario"].as<std::string>();
  info.file = m["file"].as<std::string>();
  info.total = m["total_points"].as<uint64_t>();
  SweepSpec spec;
  spec.total = info.total;
  for (const auto& a : m["axes"]) {
    SweepAxisInfo ai;
    ai.label = a["key"].as<std::string>();
    Axis axis;
    if (a["zip"]) {
      for (const auto& k : a["zip"]) axis.keys.push_back(k.as<std::string>());
    } else {
      axis.keys = {ai.label};
    }
    ai.keys = axis.keys;
    for (const auto& v : a["values"]) {
      std::vector<std::string> row;
      if (v.IsSequence()) {
        for (const auto& x : v) row.push_back(x.as<std::string>());
      } else {
        row.push_back(v.as<std::string>());
      }
      ai.values.push_back(row);
      std::vector<AxisValue> arow;
      for (const auto& x : row) arow.push_back({x, ""});
      axis.rows.push_back(arow);
    }
    info.axes.push_back(ai);
    spec.axes.push_back(axis);
  }
  std::vector<PointRecord> points = collect(out, spec);
  write_joined(out, info, points);
  size_t bad = 0, broken = 0;
  for (const auto& p : points) {
    bad += p.ok ? 0 : 1;
    broken += p.broken() ? 1 : 0;
  }
  human << "merged " << dirs.size() << " director" << (dirs.size() == 1 ? "y" : "ies") << " into " << out << ": "
        << points.size() << "/" << info.total << " points, " << bad << " failed\n";
  if (points.size() == info.total) maybe_plot(out, plot, human, false);
  return broken ? kExitBroken : bad ? 1 : 0;
}

}  // namespace quiesce
