#include "sim/run/slurm.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <regex>
#include <set>
#include <sstream>

#include "sim/output/files.h"
#include "sim/output/json.h"
#include "sim/run/internal/spawn.h"
#include "sim/run/internal/sweep_state.h"

namespace fs = std::filesystem;

namespace quiesce {
namespace {

std::string quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

using run_internal::on_path;
using run_internal::run_argv;

std::string self_binary() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("quiesce") : p.string();
}

int max_array_size() {
  std::string o;
  if (run_argv({"scontrol", "show", "config"}, &o) != 0) return 1001;
  std::smatch m;
  if (std::regex_search(o, m, std::regex(R"(MaxArraySize\s*=\s*(\d+))")))
    return std::max(1, std::stoi(m[1]));
  return 1001;
}

void write_script(const std::string& path, const std::string& text) {
  write_file_atomic(path, text);
  ::chmod(path.c_str(), 0755);
}

// Groups 0-based shard indices into arrays: each array is an offset plus indices below the
// cluster's MaxArraySize.
struct Array {
  uint64_t offset;
  std::vector<uint64_t> indices;  // relative to offset
};

std::vector<Array> plan_arrays(const std::vector<uint64_t>& shards, uint64_t max_array) {
  std::map<uint64_t, Array> by;
  for (uint64_t s : shards) {
    const uint64_t group = s / max_array;
    auto& a = by[group];
    a.offset = group * max_array;
    a.indices.push_back(s - a.offset);
  }
  std::vector<Array> out;
  for (auto& [g, a] : by) out.push_back(a);
  return out;
}

std::string array_spec(const std::vector<uint64_t>& idx) {
  // Contiguous runs as ranges: 0-9,12,15-17
  std::string s;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && idx[j + 1] == idx[j] + 1) ++j;
    if (!s.empty()) s += ",";
    s += std::to_string(idx[i]) + (j > i ? "-" + std::to_string(idx[j]) : "");
    i = j + 1;
  }
  return s;
}

std::string sbatch_flags(const SlurmOptions& o) {
  std::string f;
  if (!o.partition.empty()) f += " --partition=" + quote(o.partition);
  if (!o.time_limit.empty()) f += " --time=" + quote(o.time_limit);
  for (const auto& a : o.sbatch_args) f += " " + quote(a);
  return f;
}

// submit.sh (or resubmit-N.sh): the sbatch commands, readable and runnable by hand.
std::string submit_script(const std::string& slurm_dir, uint64_t shards,
                          const std::vector<Array>& arrays, const SlurmOptions& o,
                          const std::string& what) {
  std::string s = "#!/bin/bash\n# " + what +
                  "\n# Written by quiesce sweep --slurm; run it by hand if you used --dry-run.\n"
                  "set -euo pipefail\ncd " +
                  quote(slurm_dir) + "\narrays=\"\"\n";
  int k = 0;
  for (const auto& a : arrays) {
    ++k;
    s += "a" + std::to_string(k) + "=$(QUIESCE_SHARD_OFFSET=" + std::to_string(a.offset) +
         " QUIESCE_SHARDS=" + std::to_string(shards) +
         " sbatch --parsable --array=" + array_spec(a.indices) + sbatch_flags(o) + " task.sh)\n";
    s += "arrays=\"$arrays:${a" + std::to_string(k) + "%%;*}\"\necho \"array ${a" +
         std::to_string(k) + "%%;*}\"\n";
  }
  s += "m=$(sbatch --parsable --dependency=afterok$arrays" + sbatch_flags(o) +
       " merge.sh)\n"
       "echo \"merge ${m%%;*}\"\n";
  return s;
}

void check_slurm_options(const SlurmOptions& o) {
  if (!o.time_limit.empty() && !valid_slurm_time(o.time_limit)) {
    throw ConfigError("--time " + o.time_limit, "",
                      "not a Slurm time limit (minutes, M:S, H:M:S, D-H, D-H:M or D-H:M:S)");
  }
  if (o.points_per_task < 1) throw ConfigError("--points-per-task", "", "must be at least 1");
}

void check_cluster(const SlurmOptions& o) {
  if (!on_path("sbatch")) {
    throw ConfigError(
        "--slurm", "",
        "sbatch is not on PATH: is this a Slurm login node? (--dry-run writes the scripts only)");
  }
  if (!o.partition.empty()) {
    std::string parts;
    run_argv({"sinfo", "-h", "-o", "%R"}, &parts);
    std::set<std::string> names;
    std::istringstream in(parts);
    for (std::string p; in >> p;) names.insert(p);
    if (!names.count(o.partition)) {
      std::string all;
      for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
      throw ConfigError("--partition " + o.partition, "",
                        "unknown partition '" + o.partition +
                            "' (this cluster has: " + (all.empty() ? "none" : all) + ")");
    }
  }
}

struct Job {
  std::string kind, id;  // kind: array or merge
};

// DIR/slurm/jobs.txt: one "kind id" line per job ever submitted for this sweep.
std::vector<Job> read_jobs(const std::string& slurm_dir) {
  std::vector<Job> jobs;
  std::ifstream in(slurm_dir + "/jobs.txt");
  for (std::string kind, id; in >> kind >> id;) jobs.push_back({kind, id});
  return jobs;
}

void record_jobs(const std::string& slurm_dir, const std::vector<Job>& add) {
  std::string text;
  for (const auto& j : read_jobs(slurm_dir)) text += j.kind + " " + j.id + "\n";
  for (const auto& j : add) text += j.kind + " " + j.id + "\n";
  write_file_atomic(slurm_dir + "/jobs.txt", text);
}

// Runs a submit script and records the jobs it submitted (arrays, then the merge job), also
// those submitted before an sbatch refused, so that status and resume know of them.
void submit(const std::string& slurm_dir, const std::string& script, std::ostream& out) {
  const std::string err_file = slurm_dir + "/sbatch.err";
  std::string o;
  const int code = run_argv({"bash", script}, &o, err_file);
  std::vector<Job> jobs;
  std::istringstream in(o);
  for (std::string kind, id; in >> kind >> id;) {
    jobs.push_back({kind, id});
    out << "submitted " << kind << " job " << id << "\n";
  }
  record_jobs(slurm_dir, jobs);
  std::ifstream ein(err_file);
  std::ostringstream err;
  err << ein.rdbuf();
  ein.close();
  fs::remove(err_file);
  if (code != 0) {
    std::string why = err.str();
    while (!why.empty() && why.back() == '\n') why.pop_back();
    std::replace(why.begin(), why.end(), '\n', ' ');
    throw ConfigError(
        script, "",
        "sbatch refused the submission: " + why +
            (jobs.empty() ? std::string() : " (jobs submitted before it: see quiesce status)"));
  }
}

// State counts of a job's tasks ("PENDING" -> 3), from scontrol, which needs no accounting
// database; empty once Slurm has forgotten the job (MinJobAge after it ended).
std::map<std::string, int> job_states(const std::string& id) {
  std::string s;
  run_argv({"scontrol", "show", "job", "-o", id}, &s);
  std::map<std::string, int> states;
  static const std::regex state(R"(JobState=(\S+))");
  std::istringstream lines(s);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, state)) ++states[m[1]];
  }
  return states;
}

bool still_active(const std::map<std::string, int>& states) {
  for (const auto& [st, n] : states) {
    if (st == "PENDING" || st == "RUNNING" || st == "CONFIGURING" || st == "COMPLETING" ||
        st == "REQUEUED" || st == "RESIZING" || st == "SUSPENDED") {
      return true;
    }
  }
  return false;
}

}  // namespace

bool valid_slurm_time(const std::string& t) {
  static const std::regex re(
      R"(^(UNLIMITED|INFINITE|infinite|unlimited|\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2})$)");
  return std::regex_match(t, re);
}

int slurm_sweep(const std::string& path, const SweepOptions& sw, const SlurmOptions& o,
                std::ostream& out) {
  check_slurm_options(o);
  const std::string text = read_yaml_file(path);
  auto base = load_scenario_text(text, path, sw.sets);
  const SweepSpec& spec = base->sweep;
  validate_sweep_values_text(text, path, spec, sw.sets);
  // What shards divide: points, or with sweep.precision variants (a shard decides its own).
  const uint64_t units = shard_units(*base);
  const bool adaptive = base->sweep_params.precision() > 0;
  const char* unit_name = adaptive ? " variants" : " points";
  const std::string dir =
      fs::absolute(sw.out_dir.empty() ? "results/" + base->params.name() : sw.out_dir).string();
  const std::string slurm_dir = dir + "/slurm";
  const run_internal::SweepManifest want = run_internal::make_manifest(*base, text, sw.sets);
  // Refuses a directory that holds another sweep, naming what changed.
  auto check_same = [&] {
    const std::string diff = run_internal::manifest_difference(run_internal::read_manifest(dir), want);
    if (!diff.empty()) {
      throw ConfigError(dir + "/sweep.json", "", "holds another sweep: " + diff + "; use another --out");
    }
  };
  if (!o.dry_run) check_cluster(o);
  const uint64_t max_array =
      static_cast<uint64_t>(o.dry_run && !on_path("scontrol") ? 1001 : max_array_size());

  if (sw.resume) {
    // Resubmit only the shards with missing or broken points.
    if (!fs::exists(slurm_dir + "/manifest.json"))
      throw ConfigError(dir, "", "no Slurm sweep here to resume (no slurm/manifest.json)");
    check_same();
    const std::string mpath = slurm_dir + "/manifest.json";
    uint64_t shards = 0;
    try {
      const Json m = Json::parse(read_file_bounded(mpath, 64u << 20));
      if (m.is_object() && m.contains("shards") && m["shards"].is_number_unsigned()) shards = m["shards"].get<uint64_t>();
    } catch (const nlohmann::json::exception& e) {
      throw ConfigError(mpath, "", std::string("malformed JSON: ") + e.what());
    }
    if (shards < 1 || shards > units) {
      throw ConfigError(mpath, "shards",
                        std::string("expected a whole number from 1 to the sweep's") + unit_name +
                            " (not as quiesce writes it)");
    }
    if (!o.dry_run) {
      // Shards still queued or running would be submitted twice; a merge job left waiting
      // on a failed array (clusters without kill_invalid_depend) would wait forever.
      const auto jobs = read_jobs(slurm_dir);
      for (const auto& job : jobs) {
        if (job.kind != "merge" && still_active(job_states(job.id))) {
          throw ConfigError(
              dir, "",
              "array job " + job.id +
                  " of this sweep is still queued or running; wait for it (quiesce status " + dir +
                  ") or scancel it, then resume");
        }
      }
      for (const auto& job : jobs) {
        if (job.kind == "merge" && still_active(job_states(job.id))) {
          run_argv({"scancel", job.id}, nullptr);
          out << "cancelled the earlier merge job " << job.id << "\n";
        }
      }
    }
    SweepCensus c = census(dir);
    std::set<uint64_t> redo;
    for (uint64_t u : c.missing_units) redo.insert(u % shards);
    for (size_t k = 0; k < c.broken_points.size(); ++k) {
      // A broken point runs again: its old result goes, so the shard's --resume redoes it.
      fs::remove_all(dir + "/points/" + point_id(c.broken_points[k]));
      redo.insert(c.broken_units[k] % shards);
    }
    if (!c.broken_points.empty()) {
      out << "removed the results of " << c.broken_points.size()
          << " broken point(s) so that they run again\n";
    }
    if (redo.empty()) {
      out << "nothing to resubmit: all " << c.total << " points have results; merging\n";
      return merge_sweeps({dir}, dir, sw.plot, out);
    }
    const std::vector<uint64_t> list(redo.begin(), redo.end());
    int n = 1;
    while (fs::exists(slurm_dir + "/resubmit-" + std::to_string(n) + ".sh")) ++n;
    const std::string script = slurm_dir + "/resubmit-" + std::to_string(n) + ".sh";
    write_script(script, submit_script(slurm_dir, shards, plan_arrays(list, max_array), o,
                                       "Resubmits " + std::to_string(list.size()) + " of " +
                                           std::to_string(shards) +
                                           " shards (the ones with missing or broken points)."));
    out << "resubmitting " << list.size() << " of " << shards << " shards (" << c.missing.size()
        << " missing, " << c.broken_points.size() << " broken points): " << script << "\n";
    if (o.dry_run) {
      std::ifstream in(script);
      out << in.rdbuf();
      return 0;
    }
    submit(slurm_dir, script, out);
    out << "watch it: quiesce status " << dir << "\n";
    return 0;
  }

  run_internal::check_sweep_dir(dir);
  make_dirs(dir + "/points");
  make_dirs(slurm_dir);
  if (fs::exists(dir + "/sweep.json")) {
    check_same();
    // A plan that was only written (--dry-run) may be written again; one with jobs or
    // results is resumed, not restarted.
    const SweepCensus c = census(dir);
    if (!read_jobs(slurm_dir).empty() || c.missing.size() != c.total) {
      throw ConfigError(
          dir, "", "already holds this sweep; add --resume to finish it, or use another --out");
    }
  }
  if (!fs::exists(dir + "/sweep.json")) write_file_atomic(dir + "/sweep.json", run_internal::manifest_json(want));
  const uint64_t per = static_cast<uint64_t>(o.points_per_task);
  const uint64_t shards = (units + per - 1) / per;
  std::string sets;
  for (const auto& s : sw.sets) {
    YAML::Emitter e;
    e << YAML::Flow << s.value;
    sets += " --set " + quote(s.key + "=" + e.c_str());
  }
  const std::string bin = self_binary();
  const std::string scen = fs::absolute(path).string();
  std::string env_root;
  if (const char* root = std::getenv("QUIESCE_ROOT"))
    env_root = "export QUIESCE_ROOT=" + quote(root) + "\n";
  write_script(
      slurm_dir + "/task.sh",
      "#!/bin/bash\n#SBATCH --job-name=quiesce-" + base->params.name() +
          "\n#SBATCH --output=" + slurm_dir +
          "/task-%A_%a.out\n"
          "# One shard of the sweep: QUIESCE_SHARD_OFFSET + SLURM_ARRAY_TASK_ID + 1 of "
          "QUIESCE_SHARDS.\n"
          "# Exit 1 from quiesce only means points failed their expectations: the shard is done.\n"
          "set -u\n" +
          env_root + "cd " + quote(fs::current_path().string()) +
          "\n"
          "shard=$(( ${QUIESCE_SHARD_OFFSET:-0} + SLURM_ARRAY_TASK_ID + 1 ))\n" +
          quote(bin) + " sweep " + quote(scen) + sets +
          " --shard \"$shard/$QUIESCE_SHARDS\" --out " + quote(dir) +
          " --resume --no-plot\ncode=$?\n[ \"$code\" -le 1 ] && exit 0\nexit \"$code\"\n");
  write_script(slurm_dir + "/merge.sh",
               "#!/bin/bash\n#SBATCH --job-name=quiesce-" + base->params.name() +
                   "-merge\n#SBATCH --output=" + slurm_dir +
                   "/merge-%j.out\n# Joins every shard's points into points.csv, summary.md, "
                   "junit.xml, plots.\n"
                   "set -u\n" +
                   env_root + quote(bin) + " merge " + quote(dir) +
                   "\ncode=$?\n[ \"$code\" -le 1 ] && exit 0\nexit \"$code\"\n");
  std::vector<uint64_t> all(shards);
  for (uint64_t i = 0; i < shards; ++i) all[i] = i;
  const auto arrays = plan_arrays(all, max_array);
  write_script(slurm_dir + "/submit.sh",
               submit_script(slurm_dir, shards, arrays, o,
                             std::to_string(units) + unit_name + " in " + std::to_string(shards) +
                                 " shards of up to " + std::to_string(per) + ", in " +
                                 std::to_string(arrays.size()) + " array(s)."));
  Json j = {{"scenario", scen},          {"out", dir},       {"points", spec.total}, {"points_per_task", per},
            {"shards", shards},         {"max_array_size", max_array}};
  Json list = Json::array();
  for (const auto& a : arrays) list.push_back(Json{{"offset", a.offset}, {"array", array_spec(a.indices)}});
  j["arrays"] = list;
  write_file_atomic(slurm_dir + "/manifest.json", json_text(j));
  out << "sweep " << base->params.name() << ": " << units << unit_name << " in " << shards
      << " shard(s), " << arrays.size() << " job array(s) and a merge job; job directory "
      << slurm_dir << "\n";
  if (o.dry_run) {
    for (const char* f : {"task.sh", "merge.sh", "submit.sh"}) {
      std::ifstream in(slurm_dir + "/" + f);
      out << "\n==> " << slurm_dir << "/" << f << " <==\n" << in.rdbuf();
    }
    out << "\n(dry run: nothing submitted; run " << slurm_dir << "/submit.sh to submit)\n";
    return 0;
  }
  submit(slurm_dir, slurm_dir + "/submit.sh", out);
  out << "watch it: quiesce status " << dir << "\n";
  return 0;
}

int sweep_status(const std::string& dir, std::ostream& out) {
  SweepCensus c = census(dir);
  const uint64_t done = c.ok + c.failed + c.broken;
  out << dir << ": " << done << "/" << c.total << " points have results (" << c.ok << " ok, "
      << c.failed << " failed their expectations, " << c.broken << " crashed/timed out/invalid), "
      << c.missing.size() << " missing\n";
  const auto jobs = read_jobs(dir + "/slurm");
  if (!jobs.empty() && !on_path("scontrol"))
    out << "  (scontrol is not on PATH: the Slurm jobs' states are unknown here)\n";
  for (const auto& job : jobs) {
    const auto states = job_states(job.id);
    out << "  " << job.kind << " job " << job.id << ":";
    if (states.empty()) out << " no longer known to Slurm (ended more than MinJobAge ago)";
    for (const auto& [st, n] : states) out << " " << n << " " << st;
    out << "\n";
  }
  return c.missing.empty() && c.broken == 0 ? 0 : 1;
}

}  // namespace quiesce
