#include "sim/run/sweep.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "sim/base/error.h"
#include "sim/output/files.h"
#include "sim/output/sweep_files.h"
#include "sim/run/internal/plot.h"
#include "sim/run/internal/point_pool.h"
#include "sim/run/internal/sampling.h"
#include "sim/run/internal/sweep_state.h"
#include "sim/run/point.h"

namespace fs = std::filesystem;

namespace quiesce {

using run_internal::SweepManifest;

std::string point_id(uint64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "p%06llu", static_cast<unsigned long long>(index));
  return buf;
}

namespace {

run_internal::Sampling sampling_of(const SweepInfo& info, const SweepSpec& spec) {
  return run_internal::Sampling(spec, info.precision, info.precision_step);
}

// `info` with its total the points its sampling asks for so far.
void write_joined(const std::string& dir, SweepInfo info, uint64_t asked, const std::vector<PointRecord>& points) {
  info.total = asked;
  write_file_atomic(dir + "/points.csv", points_csv(info, points));
  write_file_atomic(dir + "/points.jsonl", points_jsonl(points));
  write_file_atomic(dir + "/summary.md", summary_md(info, points));
  write_file_atomic(dir + "/junit.xml", junit_xml(info, points));
}

// The child of one point: the scenario as the sweep read it (an edit of the file during
// the sweep changes nothing), with the point's values.
int sweep_point_child(const SweepManifest& m, const SweepSpec& spec, const std::vector<Override>& sets, uint64_t index,
                      const std::string& pdir) {
  // Test-only: QUIESCE_TEST_CRASH_POINT=<index> makes that point die as a crash would.
  if (const char* crash = std::getenv("QUIESCE_TEST_CRASH_POINT")) {
    if (std::to_string(index) == crash) {
      std::cerr << "crashing point " << index << " on request (QUIESCE_TEST_CRASH_POINT)\n";
      std::abort();
    }
  }
  KeptYamlTrees::take();  // the scenario and platform trees, parsed once by the sweep
  return run_internal::run_point_child(
      [&] { return load_scenario_text(m.scenario_text, m.file, point_overrides(spec, index, sets)); }, pdir);
}

// The one-screen answer: how many points, which failed, the per-variant table.
void print_summary(const std::string& dir, SweepInfo info, uint64_t asked, const std::vector<PointRecord>& points,
                   const SweepOptions& opt, const run_internal::Sampling& sampling, std::ostream& human) {
  info.total = asked;
  size_t failed = 0, broken = 0;
  for (const auto& p : points) {
    if (!sampling.in_shard(p.index, opt.shard_index, opt.shard_count)) continue;
    broken += p.broken() ? 1 : 0;
    failed += !p.ok && !p.broken() ? 1 : 0;
  }
  const bool complete = points.size() == info.total;
  human << points.size() << "/" << info.total << " points have results; " << failed
        << (opt.shard_count > 1 ? " of this shard's" : "") << " failed their expectations";
  if (broken) human << ", " << broken << " broken (crashed, timed out or invalid: --resume reruns them)";
  human << (complete ? "" : " (incomplete: run the other shards, or --resume)") << "\n";
  const std::string summary = summary_md(info, points);
  const size_t from = summary.find("## By variant");
  if (from != std::string::npos) {
    // The per-variant table and how sure its figures are.
    const size_t sure = summary.find("## How sure", from);
    const size_t to = summary.find("\n## ", (sure == std::string::npos ? from : sure) + 1);
    human << "\n" << summary.substr(from, to == std::string::npos ? std::string::npos : to - from) << "\n";
  }
  human << "wrote " << dir << "/points.csv, points.jsonl, summary.md, junit.xml\n";
}

// The exit code of a sweep (this shard's points) or a merge (every point).
int exit_code_of(const std::vector<PointRecord>& points, const run_internal::Sampling& sampling, int shard_index,
                 int shard_count) {
  size_t bad = 0, broken = 0;
  for (const auto& p : points) {
    if (!sampling.in_shard(p.index, shard_index, shard_count)) continue;
    bad += p.ok ? 0 : 1;
    broken += p.broken() ? 1 : 0;
  }
  return broken ? kExitBroken : bad ? 1 : 0;
}

}  // namespace

std::string sweep_manifest(const Scenario& sc, const std::string& text, const std::vector<Override>& sets) {
  return run_internal::manifest_json(run_internal::make_manifest(sc, text, sets));
}

SweepCensus census(const std::string& dir) {
  const SweepManifest m = run_internal::read_manifest(dir);
  SweepCensus c;
  const run_internal::Sampling sampling = sampling_of(m.info, m.spec);
  const std::vector<PointRecord> points = run_internal::sampled_records(dir, m.spec, sampling, &c.total, &c.missing);
  for (uint64_t i : c.missing) c.missing_units.push_back(sampling.unit_of(i));
  for (const auto& rec : points) {
    if (rec.broken()) {
      ++c.broken;
      c.broken_points.push_back(rec.index);
      c.broken_units.push_back(sampling.unit_of(rec.index));
    } else if (rec.ok) {
      ++c.ok;
    } else {
      ++c.failed;
    }
  }
  return c;
}

uint64_t shard_units(const Scenario& sc) {
  return run_internal::Sampling(sc.sweep, sc.sweep_params.precision(), static_cast<uint64_t>(sc.sweep_params.precision_step()))
      .units();
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
  const std::string text = read_yaml_file(path);
  const KeptYamlTrees yaml_trees;  // for the points' processes (sweep_point_child)
  auto base = load_scenario_text(text, path, opt.sets);
  const SweepSpec& spec = base->sweep;
  validate_sweep_values_text(text, path, spec, opt.sets);
  const SweepManifest want = run_internal::make_manifest(*base, text, opt.sets);
  const std::string dir = opt.out_dir.empty() ? "results/" + base->params.name() : opt.out_dir;
  run_internal::check_sweep_dir(dir);
  make_dirs(dir + "/points");
  run_internal::SweepLock lock(dir, opt.shard_index, opt.shard_count);

  const std::string manifest_path = dir + "/sweep.json";
  std::error_code ec;
  // The joined outputs name the scenario file as the sweep's first run was given it, so
  // that they stay the same bytes whichever path a resume used.
  SweepInfo info = want.info;
  if (opt.force) {
    run_internal::remove_sweep_outputs(dir);
  } else if (fs::exists(manifest_path, ec)) {
    const SweepManifest have = run_internal::read_manifest(dir);
    info.file = have.file;
    const std::string diff = run_internal::manifest_difference(have, want);
    if (!diff.empty()) {
      throw ConfigError(manifest_path, "",
                        "holds another sweep: " + diff + "; use another --out, or --force to start this one over");
    }
  }
  if (opt.shard_count == 1) run_internal::remove_leftovers(dir);  // shards share the tree with others

  const run_internal::Sampling sampling = sampling_of(want.info, spec);
  // This shard's results, each read once: those there before, then each point as it ends.
  run_internal::RecordCache kept(dir, spec);
  const run_internal::Sampling::Lookup lookup = [&](uint64_t i) { return kept.get(i); };
  std::vector<uint64_t> shard_units;
  for (uint64_t u = 0; u < sampling.units(); ++u) {
    if (static_cast<int>(u % static_cast<uint64_t>(opt.shard_count)) == opt.shard_index - 1) shard_units.push_back(u);
  }
  // The points this shard's units ask for now that have no good result and have not run
  // in this command: a broken one (a crash, a timeout, a failure of the environment: not a
  // result) runs again once; if it breaks again its unit stays undecided.
  std::set<uint64_t> ran;
  size_t have = 0, broken = 0, undecided = 0;
  auto next_round = [&]() {
    std::vector<uint64_t> todo;
    have = broken = undecided = 0;
    for (uint64_t u : shard_units) {
      const run_internal::Sampling::Unit unit = sampling.walk(u, lookup);
      undecided += unit.decided ? 0 : 1;
      for (uint64_t i : unit.asked) {
        const PointRecord* rec = lookup(i);
        if (rec) {
          ++have;
          broken += rec->broken() ? 1 : 0;
        }
        if ((!rec || rec->broken()) && !ran.count(i)) todo.push_back(i);
      }
    }
    std::sort(todo.begin(), todo.end());
    return todo;
  };
  std::vector<uint64_t> todo = next_round();
  const bool complete = have > 0 && todo.size() == broken && !opt.resume;
  if (have > 0 && !opt.resume && !complete) {
    throw ConfigError(dir, "",
                      "already holds " + std::to_string(have) + " point(s) of this sweep; add --resume to finish it " +
                          "(it reruns missing and broken points), or --force to start over");
  }
  if (complete) todo.clear();  // a rerun of a finished sweep: its summary again
  if (!fs::exists(manifest_path, ec)) write_file_atomic(manifest_path, run_internal::manifest_json(want));

  run_internal::PoolOptions po;
  po.jobs = opt.jobs > 0 ? opt.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  po.point_timeout_s = opt.point_timeout_s;
  po.quiet = opt.quiet;
  if (!opt.quiet) {
    human << "sweep " << want.scenario << ": ";
    if (sampling.adaptive()) {
      human << sampling.units() << " variants sampled to ±" << 100 * want.info.precision << " percentage points (95%), "
            << spec.total / sampling.units() << " seeds each at most";
    } else {
      human << spec.total << " points";
    }
    if (opt.shard_count > 1) human << ", shard " << opt.shard_index << "/" << opt.shard_count;
    if (complete) {
      human << ", all done before (--force runs them again), from " << dir << "\n";
    } else {
      if (have) human << ", " << have - broken << " already done";
      if (broken) human << ", " << broken << " broken to run again";
      human << ", " << todo.size() << (sampling.adaptive() ? " to run first" : " to run") << ", " << po.jobs
            << " at a time, into " << dir << "\n";
    }
  }
  // Without precision one round runs every point; with it, each round runs the next look's
  // points of the units still undecided.
  for (int round = 1; !todo.empty(); ++round) {
    if (sampling.adaptive() && round > 1 && !opt.quiet) {
      human << "round " << round << ": " << undecided << " of " << shard_units.size()
            << " variants not yet sure, " << todo.size() << " points to run\n";
    }
    const run_internal::PoolResult pool = run_internal::run_pool(
        dir, todo, po,
        [&](uint64_t index, const std::string& pdir) { return sweep_point_child(want, spec, opt.sets, index, pdir); },
        [&](uint64_t index) {
          ran.insert(index);
          return !kept.reread(index) || !kept.get(index)->ok;
        });
    if (pool.signal) {
      if (!opt.quiet) std::cerr << "\nsweep interrupted: run it again with --resume to finish\n";
      return 128 + pool.signal;
    }
    if (!sampling.adaptive()) break;
    todo = next_round();
  }

  // Other shards' points (a shared tree) are read now: they may have been written meanwhile.
  kept.forget_absent();
  uint64_t asked = 0;
  std::vector<PointRecord> points;
  for (uint64_t u = 0; u < sampling.units(); ++u) {
    for (uint64_t i : sampling.walk(u, lookup).asked) {
      ++asked;
      if (const PointRecord* rec = lookup(i)) points.push_back(*rec);
    }
  }
  std::sort(points.begin(), points.end(), [](const PointRecord& a, const PointRecord& b) { return a.index < b.index; });
  write_joined(dir, info, asked, points);
  if (!opt.quiet) print_summary(dir, info, asked, points, opt, sampling, human);
  if (points.size() == asked) run_internal::maybe_plot(dir, opt.plot, human, opt.quiet);
  // The exit code speaks for this shard's points only: shards sharing an output tree
  // (Slurm array tasks) must not fail for a point another shard broke.
  return exit_code_of(points, sampling, opt.shard_index, opt.shard_count);
}

int merge_sweeps(const std::vector<std::string>& dirs, const std::string& out_arg, bool plot, std::ostream& human) {
  if (dirs.empty()) throw ConfigError("merge", "", "give at least one sweep directory");
  const std::string out = out_arg.empty() ? dirs.front() : out_arg;
  const SweepManifest first = run_internal::read_manifest(dirs.front());
  for (size_t i = 1; i < dirs.size(); ++i) {
    const std::string diff = run_internal::manifest_difference(first, run_internal::read_manifest(dirs[i]));
    if (!diff.empty()) {
      throw ConfigError(dirs[i] + "/sweep.json", "", "another sweep than " + dirs.front() + "'s: " + diff);
    }
  }
  run_internal::check_sweep_dir(out);
  std::error_code ec;
  if (fs::exists(out + "/sweep.json", ec)) {
    const std::string diff = run_internal::manifest_difference(first, run_internal::read_manifest(out));
    if (!diff.empty()) throw ConfigError(out + "/sweep.json", "", "holds another sweep: " + diff);
  }
  make_dirs(out + "/points");
  run_internal::SweepLock lock(out, 1, 1);
  const std::string out_manifest = out + "/sweep.json";
  if (!fs::exists(out_manifest, ec)) {
    write_file_atomic(out_manifest, read_file_bounded(dirs.front() + "/sweep.json", run_internal::kMaxManifestBytes));
  }
  // A point's result comes from whichever input has a good one; a broken one only when no
  // input has better, whatever the order the directories were given in.
  for (const auto& d : dirs) {
    if (fs::equivalent(d, out, ec)) continue;
    for (uint64_t i = 0; i < first.info.total; ++i) {
      PointRecord src, dst;
      if (!run_internal::read_point_record(d, first.spec, i, &src)) continue;
      const bool have = run_internal::read_point_record(out, first.spec, i, &dst);
      if (have && !(dst.broken() && !src.broken())) continue;
      const fs::path from = fs::path(d) / "points" / point_id(i);
      const fs::path target = fs::path(out) / "points" / point_id(i);
      const fs::path tmp = target.string() + ".merging";
      fs::remove_all(tmp);
      fs::copy(from, tmp, fs::copy_options::recursive);
      fs::remove_all(target);
      fs::rename(tmp, target);
    }
  }
  const run_internal::Sampling sampling = sampling_of(first.info, first.spec);
  uint64_t asked = 0;
  std::vector<uint64_t> missing;
  const std::vector<PointRecord> points = run_internal::sampled_records(out, first.spec, sampling, &asked, &missing);
  write_joined(out, first.info, asked, points);
  size_t failed = 0, broken = 0;
  for (const auto& p : points) {
    broken += p.broken() ? 1 : 0;
    failed += !p.ok && !p.broken() ? 1 : 0;
  }
  human << "merged " << dirs.size() << " director" << (dirs.size() == 1 ? "y" : "ies") << " into " << out << ": "
        << points.size() << "/" << asked << " points, " << failed << " failed their expectations, "
        << broken << " broken\n";
  if (!missing.empty()) {
    human << missing.size() << " point(s) missing:";
    for (size_t i = 0; i < missing.size() && i < 20; ++i) human << " " << point_id(missing[i]);
    if (missing.size() > 20) human << " and " << missing.size() - 20 << " more";
    human << " (run their shards, or quiesce sweep --resume --out " << out << ")\n";
    return kExitBroken;
  }
  run_internal::maybe_plot(out, plot, human, false);
  return exit_code_of(points, sampling, 1, 1);
}

PointRerun prepare_rerun(const std::string& point_dir, std::ostream& warn) {
  fs::path p = fs::path(point_dir);
  if (p.filename().empty()) p = p.parent_path();  // a trailing slash
  const std::string id = p.filename().string();
  static const std::regex id_re("p([0-9]{6,18})");
  std::smatch match;
  if (!std::regex_match(id, match, id_re) || p.parent_path().filename() != "points") {
    throw ConfigError(point_dir, "", "not a sweep's point directory (expected DIR/points/pNNNNNN)");
  }
  const std::string dir = p.parent_path().parent_path().string();
  const SweepManifest m = run_internal::read_manifest(dir.empty() ? "." : dir);
  const uint64_t index = std::stoull(match[1].str());
  if (index >= m.info.total) {
    throw ConfigError(point_dir, "", "the sweep has " + std::to_string(m.info.total) + " points; no " + id);
  }
  std::vector<Override> sets;
  for (const auto& kv : m.sets) sets.push_back(parse_set(kv));
  PointRerun r;
  r.id = id;
  r.scenario_text = m.scenario_text;
  r.file = m.file;
  r.overrides = point_overrides(m.spec, index, sets);
  r.scenario = load_scenario_text(m.scenario_text, m.file, r.overrides);
  // The same scenario text and overrides may still resolve differently: another platform
  // file, another build of quiesce. Said, not refused: a rerun is how one finds out.
  const auto base = load_scenario_text(m.scenario_text, m.file, sets);
  const std::string diff = run_internal::manifest_difference(m, run_internal::make_manifest(*base, m.scenario_text, sets));
  if (!diff.empty()) warn << "warning: this is not exactly how the sweep ran: " << diff << "\n";
  PointRecord rec;
  if (run_internal::read_point_record(dir.empty() ? "." : dir, m.spec, index, &rec)) r.original_outcome = rec.outcome;
  return r;
}

void report_rerun(const PointRerun& rerun, const std::string& out_dir, std::ostream& human) {
  if (rerun.original_outcome.empty()) {
    human << "rerun of " << rerun.id << ": the sweep has no result for it to compare with\n";
    return;
  }
  std::string now;
  try {
    const std::string text = read_file_bounded(out_dir + "/result.json", run_internal::kMaxResultBytes);
    static const std::regex re(R"re("outcome": "([a-z_]+)")re");
    std::smatch m;
    if (std::regex_search(text, m, re)) now = m[1].str();
  } catch (const std::exception&) {
  }
  human << "rerun of " << rerun.id << ": outcome " << now << ", the sweep's " << rerun.original_outcome
        << (now == rerun.original_outcome ? " (the same)" : " (DIFFERENT)") << "\n";
}

}  // namespace quiesce
