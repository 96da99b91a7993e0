#include "sim/run/shrink.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <ostream>
#include <sstream>

#include "sim/base/error.h"
#include "sim/output/files.h"
#include "sim/output/json.h"
#include "sim/run/internal/ddmin.h"
#include "sim/run/internal/point_pool.h"
#include "sim/run/internal/shrink_input.h"
#include "sim/run/point.h"
#include "sim/run/sweep.h"
#include "sim/scenario/scenario.h"

namespace fs = std::filesystem;

namespace quiesce {
namespace {

using run_internal::Ending;
using run_internal::ending_of;
using run_internal::kShrunkFile;
using run_internal::PlatformSets;
using run_internal::read_input;
using run_internal::read_json;
using run_internal::self_contained;
using run_internal::ShrinkInput;
using run_internal::text_at;
using run_internal::yaml_text;

// Host seconds a candidate may always take, however quick the input's own run was.
constexpr double kMinCandidateTimeout = 30;

// A duration a little past `t`: two significant digits, rounded up, in a readable unit.
std::string duration_past(Time t) {
  int64_t ns = t / kNs + 1, step = 1;
  while (ns / step >= 100) step *= 10;
  ns = (ns + step - 1) / step * step;
  if (ns >= 1000000) return format_number(static_cast<double>(ns) / 1e6) + "ms";
  if (ns >= 1000) return format_number(static_cast<double>(ns) / 1e3) + "us";
  return std::to_string(ns) + "ns";
}

// Candidate runs: each a child process in DIR/points/pNNNNNN, `jobs` at a time, at most
// `budget` in all. Only the runs of accepted candidates are kept.
class Runner {
 public:
  Runner(std::string dir, int jobs, int budget)
      : dir_(std::move(dir)), jobs_(std::max(1, jobs)), budget_(budget) {}

  // The first of `texts`, in order, whose run ends as `want` (its ending in *got, its run's
  // id in *id); "" texts (invalid candidates) are skipped without a run. -1 when none does,
  // or the budget ran out, or a signal stopped the runs.
  int first_reproducing(const std::vector<std::string>& texts, const Ending& want, Ending* got,
                        std::string* id) {
    size_t next = 0;
    while (next < texts.size() && !stopped()) {
      std::vector<size_t> chunk;
      for (; next < texts.size() && static_cast<int>(chunk.size()) < jobs_; ++next) {
        if (texts[next].empty()) continue;
        if (used_ + static_cast<int>(chunk.size()) >= budget_) {
          exhausted_ = true;
          break;
        }
        chunk.push_back(next);
      }
      if (chunk.empty()) break;
      const std::vector<Ending> ends = run(texts, chunk);
      int found = -1;
      for (size_t k = 0; k < chunk.size(); ++k) {
        const std::string run_id = point_id(first_id_ + k);
        if (found < 0 && !signal_ && ends[k].same(want)) {
          found = static_cast<int>(chunk[k]);
          *got = ends[k];
          *id = run_id;
        } else {
          std::error_code ec;
          fs::remove_all(dir_ + "/points/" + run_id, ec);
        }
      }
      if (found >= 0) return found;
    }
    return -1;
  }

  // Runs one text whatever its ending (the input as it is), and keeps its run.
  Ending run_one(const std::string& text, std::string* id) {
    const Ending e = run({text}, {0}).front();
    *id = point_id(first_id_);
    return e;
  }

  bool stopped() const { return exhausted_ || signal(); }
  bool exhausted() const { return exhausted_; }
  // Also a signal caught between runs (while candidates are made and checked).
  int signal() const { return signal_ ? signal_ : run_internal::pool_signal(); }
  int used() const { return used_; }
  int budget() const { return budget_; }
  // Host seconds after which a run is killed (and counts as not reproducing); 0: none.
  void set_timeout(double seconds) { timeout_s_ = seconds; }

 private:
  std::vector<Ending> run(const std::vector<std::string>& texts, const std::vector<size_t>& chunk) {
    first_id_ = next_id_;
    std::vector<uint64_t> ids;
    for (size_t k = 0; k < chunk.size(); ++k) ids.push_back(next_id_++);
    run_internal::PoolOptions po;
    po.jobs = jobs_;
    po.quiet = true;
    po.point_timeout_s = timeout_s_;
    const auto pool = run_internal::run_pool(
        dir_, ids, po,
        [&](uint64_t runid, const std::string& pdir) {
          const std::string& text = texts[chunk[runid - first_id_]];
          return run_internal::run_point_child(
              [&] { return load_scenario_text(text, kShrunkFile, {}); }, pdir);
        },
        [](uint64_t) { return false; });
    used_ += static_cast<int>(chunk.size());
    signal_ = pool.signal;
    std::vector<Ending> out;
    for (uint64_t runid : ids) {
      try {
        out.push_back(ending_of(read_json(dir_ + "/points/" + point_id(runid) + "/result.json")));
      } catch (const std::exception&) {
        out.emplace_back();  // no result (stopped by a signal): ends as nothing
      }
    }
    return out;
  }

  std::string dir_;
  int jobs_, budget_;
  int used_ = 0;
  uint64_t next_id_ = 0, first_id_ = 0;
  bool exhausted_ = false;
  int signal_ = 0;
  double timeout_s_ = 0;
};

// The size of a scenario, before and after.
struct Shape {
  size_t entries = 0, tasks = 0, steps = 0;
  int cores = 0;
  Time duration = 0;
  Json json() const {
    return Json{{"workload_entries", entries},
                {"tasks", tasks},
                {"cores", cores},
                {"duration", format_time(duration)},
                {"program_steps", steps}};
  }
};

// Steps of an op-program, those nested in `do:` lists included.
size_t step_count(const YAML::Node& list) {
  if (!list || !list.IsSequence()) return 0;
  size_t n = 0;
  for (const auto& step : list) n += 1 + (step.IsMap() ? step_count(step["do"]) : 0);
  return n;
}

Shape shape_of(const YAML::Node& doc) {
  const auto sc = load_scenario_text(yaml_text(doc), kShrunkFile, {});
  Shape s;
  s.entries = sc->workload.size();
  s.tasks = sc->task_names.size();
  s.cores = sc->platform.topology().cores;
  s.duration = sc->params.duration().ps;
  for (const auto& e : doc["workload"]) s.steps += step_count(e["program"]);
  return s;
}

// How an entry is named in the report: its name, else its type and position.
std::string entry_label(const YAML::Node& entry, size_t index) {
  if (entry["name"] && entry["name"].IsScalar()) return entry["name"].as<std::string>();
  for (const char* k : {"task", "irq", "softirq", "hook"}) {
    if (entry[k] && entry[k].IsScalar()) {
      return entry[k].as<std::string>() + "#" + std::to_string(index);
    }
  }
  return "entry #" + std::to_string(index);
}

// The candidate's text, or "" when it does not load (then it costs no run).
std::string runnable(const YAML::Node& doc) {
  const std::string text = yaml_text(doc);
  try {
    (void)load_scenario_text(text, kShrunkFile, {});
  } catch (const ConfigError&) {
    return "";
  }
  return text;
}

class Shrinker {
 public:
  Shrinker(Runner& runner, YAML::Node doc, Ending want, std::ostream& human, bool quiet)
      : runner_(runner),
        doc_(YAML::Clone(doc)),
        want_(std::move(want)),
        now_(want_),
        human_(human),
        quiet_(quiet) {}

  // One round of every reduction; whether any was accepted.
  bool round() {
    bool changed = false;
    changed |= cut_time();
    changed |= drop_entries();
    changed |= narrow_cpus();
    changed |= fewer_cores();
    changed |= drop_steps();
    changed |= fix_distributions();
    return changed;
  }

  const YAML::Node& doc() const { return doc_; }
  const Ending& now() const { return now_; }
  const Json& steps() const { return steps_; }

 private:
  // Tries `candidates` (documents with what each changes); keeps the first that reproduces.
  bool accept_first(const std::vector<std::pair<YAML::Node, std::string>>& candidates) {
    return accept_index(candidates) >= 0;
  }

  int accept_index(const std::vector<std::pair<YAML::Node, std::string>>& candidates) {
    if (runner_.stopped()) return -1;  // not even checked: ddmin asks on until it gives up
    std::vector<std::string> texts;
    for (const auto& c : candidates) texts.push_back(runnable(c.first));
    Ending got;
    std::string id;
    const int i = runner_.first_reproducing(texts, want_, &got, &id);
    if (i < 0) return -1;
    const auto& [doc, what] = candidates[static_cast<size_t>(i)];
    doc_.reset(YAML::Clone(doc));  // not operator=, which writes through to what doc_ shared
    now_ = got;
    steps_.push_back(Json{{"run", id}, {"change", what}, {"detected", format_time(got.detected)}});
    if (!quiet_) {
      human_ << "  " << id << ": " << what << " (still " << got.text() << " at "
             << format_time(got.detected) << ")\n";
    }
    return i;
  }

  YAML::Node with_set(const std::string& key, const YAML::Node& value) const {
    PlatformSets sets{{key, value}};
    return self_contained(doc_, sets, doc_["name"].as<std::string>());
  }

  // (1) Simulated time: just past the detection.
  bool cut_time() {
    const Time duration = shape_of(doc_).duration;
    std::vector<std::pair<YAML::Node, std::string>> cs;
    for (Time t : {now_.detected, 2 * now_.detected}) {
      if (t <= 0) continue;
      const std::string text = duration_past(t);
      if (parse_time(text) >= duration) continue;
      YAML::Node d = YAML::Clone(doc_);
      d["duration"] = text;
      cs.emplace_back(d, "duration " + format_time(duration) + " -> " + text);
    }
    return accept_first(cs);
  }

  // ddmin over the YAML list `items`: each candidate is the document as it is now with the
  // shorter list put in by `place`, and told by `what` (the indices kept before, and now).
  using Place = std::function<void(YAML::Node& doc, const YAML::Node& shorter)>;
  using What = std::function<std::string(const std::vector<size_t>& before,
                                         const std::vector<size_t>& keep)>;
  bool ddmin_list(const std::vector<YAML::Node>& items, const Place& place, const What& what) {
    std::vector<size_t> kept(items.size());
    for (size_t i = 0; i < kept.size(); ++i) kept[i] = i;
    const YAML::Node base = YAML::Clone(doc_);
    bool changed = false;
    run_internal::ddmin(items.size(), [&](const std::vector<std::vector<size_t>>& subsets) {
      std::vector<std::pair<YAML::Node, std::string>> cs;
      for (const auto& keep : subsets) {
        YAML::Node d = YAML::Clone(base);
        YAML::Node shorter(YAML::NodeType::Sequence);
        for (size_t k : keep) shorter.push_back(YAML::Clone(items[k]));
        place(d, shorter);
        cs.emplace_back(d, what(kept, keep));
      }
      const int hit = accept_index(cs);
      if (hit >= 0) kept = subsets[static_cast<size_t>(hit)];
      changed = changed || hit >= 0;
      return hit;
    });
    return changed;
  }

  // (2) Workload entries, by ddmin (an entry that expands to every CPU is one entry).
  bool drop_entries() {
    std::vector<YAML::Node> entries;
    for (const auto& e : doc_["workload"]) entries.push_back(YAML::Clone(e));
    return ddmin_list(
        entries, [](YAML::Node& d, const YAML::Node& shorter) { d["workload"] = shorter; },
        [&](const std::vector<size_t>& before, const std::vector<size_t>& keep) {
          std::string removed;
          for (size_t i : before) {
            if (std::binary_search(keep.begin(), keep.end(), i)) continue;
            removed += (removed.empty() ? "" : ", ") + entry_label(entries[i], i);
          }
          return "workload: removed " + removed;
        });
  }

  // (2b) An entry on every CPU (`cpus: all`) on one CPU instead.
  bool narrow_cpus() {
    const auto sc = load_scenario_text(yaml_text(doc_), kShrunkFile, {});
    bool changed = false;
    for (size_t i = 0; i < sc->workload.size() && !runner_.stopped(); ++i) {
      const auto params = entry_type(sc->workload[i]).params();
      bool has_cpus = false;
      for (const ParamBase* p : params->params()) has_cpus = has_cpus || p->name() == "cpus";
      const YAML::Node cpus = doc_["workload"][i]["cpus"];
      if (!has_cpus || (cpus && !(cpus.IsScalar() && cpus.as<std::string>() == "all"))) continue;
      std::vector<std::pair<YAML::Node, std::string>> cs;
      for (int c = 0; c < sc->platform.topology().cores; ++c) {
        YAML::Node d = YAML::Clone(doc_);
        d["workload"][i]["cpus"] = c;
        cs.emplace_back(
            d, entry_label(d["workload"][i], i) + ": every CPU -> CPU" + std::to_string(c));
      }
      changed = accept_first(cs) || changed;
    }
    return changed;
  }

  // (3) CPUs: the fewest cores every remaining entry still fits on.
  bool fewer_cores() {
    const int cores = shape_of(doc_).cores;
    std::vector<std::pair<YAML::Node, std::string>> cs;
    for (int k = 1; k < cores; ++k) {
      cs.emplace_back(with_set("cores", YAML::Node(k)),
                      "cores " + std::to_string(cores) + " -> " + std::to_string(k));
    }
    return accept_first(cs);
  }

  // (4) The steps of each op-program, by ddmin: its list, then each nested `do:` list; and
  // each `repeat:` count down to 1 or half.
  bool drop_steps() {
    bool changed = false;
    for (size_t i = 0; i < doc_["workload"].size() && !runner_.stopped(); ++i) {
      const YAML::Node program = doc_["workload"][i]["program"];
      if (program && program.IsSequence()) changed = reduce_steps(i, {}) || changed;
    }
    return changed;
  }

  // The step list of entry `i` at `path` (indices of steps whose `do:` leads to it) in `doc`.
  static YAML::Node steps_at(YAML::Node doc, size_t i, const std::vector<size_t>& path) {
    YAML::Node list = doc["workload"][i]["program"];
    for (size_t k : path) list.reset(list[k]["do"]);  // reset: `=` would write through into doc
    return list;
  }

  std::string steps_label(size_t i, const std::vector<size_t>& path) {
    std::string s = entry_label(doc_["workload"][i], i) + ": program";
    for (size_t k : path) s += " step " + std::to_string(k + 1);
    return s;
  }

  bool reduce_steps(size_t i, const std::vector<size_t>& path) {
    bool changed = false;
    std::vector<YAML::Node> steps;
    for (const auto& step : steps_at(doc_, i, path)) steps.push_back(YAML::Clone(step));
    if (steps.size() >= 2) {
      changed = ddmin_list(
          steps,
          [&](YAML::Node& d, const YAML::Node& shorter) {
            if (path.empty()) {
              d["workload"][i]["program"] = shorter;
              return;
            }
            const std::vector<size_t> up(path.begin(), path.end() - 1);
            steps_at(d, i, up)[path.back()]["do"] = shorter;
          },
          [&](const std::vector<size_t>& before, const std::vector<size_t>& keep) {
            return steps_label(i, path) + ": steps " + std::to_string(before.size()) + " -> " +
                   std::to_string(keep.size());
          });
    }
    for (size_t k = 0; k < steps_at(doc_, i, path).size() && !runner_.stopped(); ++k) {
      std::vector<size_t> inner = path;
      inner.push_back(k);
      const YAML::Node step = steps_at(doc_, i, path)[k];
      if (!step.IsMap()) continue;
      if (step["repeat"] && step["repeat"].IsScalar()) changed = fewer_repeats(i, inner) || changed;
      if (step["do"] && step["do"].IsSequence()) changed = reduce_steps(i, inner) || changed;
    }
    return changed;
  }

  bool fewer_repeats(size_t i, const std::vector<size_t>& at) {
    std::vector<size_t> up(at.begin(), at.end() - 1);
    long long count = 0;
    try {
      count = steps_at(doc_, i, up)[at.back()]["repeat"].as<long long>();
    } catch (const YAML::Exception&) {
      return false;
    }
    std::vector<std::pair<YAML::Node, std::string>> cs;
    for (long long fewer : {1LL, count / 2}) {
      if (fewer < 1 || fewer >= count || (!cs.empty() && fewer == 1)) continue;
      YAML::Node d = YAML::Clone(doc_);
      steps_at(d, i, up)[at.back()]["repeat"] = fewer;
      cs.emplace_back(d, steps_label(i, at) + ": repeat " + std::to_string(count) + " -> " +
                             std::to_string(fewer));
    }
    return accept_first(cs);
  }

  // (5) A random distribution in an entry as its mean (or median): one fewer draw to explain.
  bool fix_distributions() {
    bool changed = false;
    for (size_t i = 0; i < doc_["workload"].size() && !runner_.stopped(); ++i) {
      std::vector<std::string> keys;
      for (const auto& kv : doc_["workload"][i]) keys.push_back(kv.first.as<std::string>());
      for (const auto& key : keys) {
        const YAML::Node v = doc_["workload"][i][key];
        if (!v.IsMap() || !v["dist"]) continue;
        for (const char* typical : {"mean", "median", "value"}) {
          if (!v[typical] || !v[typical].IsScalar()) continue;
          YAML::Node d = YAML::Clone(doc_);
          d["workload"][i][key] = v[typical].as<std::string>();
          const std::string what = entry_label(d["workload"][i], i) + ": " + key + " " +
                                   v["dist"].as<std::string>() + " -> fixed " +
                                   v[typical].as<std::string>();
          changed = accept_first({{d, what}}) || changed;
          break;
        }
      }
    }
    return changed;
  }

  Runner& runner_;
  YAML::Node doc_;
  const Ending want_;
  Ending now_;
  Json steps_ = Json::array();
  std::ostream& human_;
  bool quiet_;
};

// "a -> b" for one figure of the report.
template <class T>
std::string before_after(const T& a, const T& b) {
  std::ostringstream s;
  s << a;
  if (!(a == b)) s << " -> " << b;
  return s.str();
}

}  // namespace

int shrink(const std::string& input, const ShrinkOptions& opt, std::ostream& human) {
  const auto t0 = std::chrono::steady_clock::now();
  ShrinkInput in = read_input(input, opt, std::cerr);
  Ending original;
  if (!in.original.empty()) {
    const Json r = read_json(in.original);
    original = ending_of(r);
    if (!original.detects()) {
      throw ConfigError(input, "",
                        "nothing to shrink: the point ended " + text_at(r, "outcome") +
                            " with no deadlock, lockup, stall or lockdep report");
    }
  }
  const std::string out = opt.out_dir.empty() ? in.default_out : opt.out_dir;
  make_dirs(out);
  std::error_code ec;
  fs::remove_all(out + "/runs", ec);  // a previous shrink's runs (ours only)
  make_dirs(out + "/runs/points");

  Runner runner(out + "/runs", opt.jobs, std::max(1, opt.budget));
  const Shape before = shape_of(in.doc);
  std::string first_id;
  const auto first_start = std::chrono::steady_clock::now();
  const Ending want = runner.run_one(yaml_text(in.doc), &first_id);
  // A candidate runs no longer than the input (its duration is cut first); one that takes
  // ten times as long has lost its way (a livelock of the smaller machine), and is dropped.
  const double first_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - first_start).count();
  runner.set_timeout(std::max(kMinCandidateTimeout, 10 * first_s));
  // Stopped before the input's own run ended: nothing found yet. Stopped after it: the
  // input is the smallest found so far, and is written like any other result.
  if (runner.signal() && !want.detects()) return 128 + runner.signal();
  if (!want.detects()) {
    if (original.detects()) {
      throw ConfigError(input, "",
                        "does not reproduce: it ended as " + original.text() +
                            ", run again it detects nothing (see " + out + "/runs/points/" +
                            first_id + ")");
    }
    throw ConfigError(
        input, "",
        "nothing to shrink: the scenario ends with no deadlock, lockup, stall or lockdep report");
  }
  if (original.detects() &&
      !(original.outcome == want.outcome && (original.classes.empty() || original.same(want)))) {
    throw ConfigError(
        input, "",
        "does not reproduce: it ended as " + original.text() + ", run again as " + want.text());
  }
  if (!opt.quiet) {
    human << "shrink " << input << ": " << want.text() << " at " << format_time(want.detected)
          << "; budget " << runner.budget() << " runs, " << std::max(1, opt.jobs) << " at a time\n";
  }
  Shrinker s(runner, in.doc, want, human, opt.quiet);
  while (!runner.stopped() && s.round()) {
  }
  const Shape after = shape_of(s.doc());
  const double host = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::ostringstream report;
  report << "shrink of " << input << ": " << want.text() << "\n"
         << "  workload entries " << before_after(before.entries, after.entries) << " (tasks "
         << before_after(before.tasks, after.tasks) << "), cores "
         << before_after(before.cores, after.cores) << ", duration "
         << before_after(format_time(before.duration), format_time(after.duration))
         << ", program steps " << before_after(before.steps, after.steps) << "\n"
         << "  detected at "
         << before_after(format_time(want.detected), format_time(s.now().detected)) << "; "
         << s.steps().size() << " step(s) accepted, " << runner.used() << " run(s) of a budget of "
         << runner.budget()
         << (runner.exhausted() ? " (spent: a larger --budget may shrink it further)" : "")
         << (runner.signal() ? " (interrupted: the smallest found so far)" : "") << ", "
         << format_number(std::round(host * 10) / 10) << " s host time\n";
  for (const auto& step : s.steps()) report << "    " << step["change"].get<std::string>() << "\n";

  const std::string text = yaml_text(s.doc());
  // One line each, whatever the paths hold (a line break would end the comment).
  write_file_atomic(out + "/shrunk.yaml", "# Shrunk by `quiesce shrink " + printable(input) +
                                              "`: it ends as " + printable(s.now().text()) +
                                              ".\n# quiesce run " + printable(out) +
                                              "/shrunk.yaml reproduces it.\n" + text);
  const Json j = {
      {"input", input},
      {"ending", Json{{"outcome", want.outcome}, {"kind", want.kind}, {"classes", want.chain}}},
      {"runs", runner.used()},
      {"budget", runner.budget()},
      {"budget_spent", runner.exhausted()},
      {"interrupted", runner.signal() != 0},
      {"jobs", std::max(1, opt.jobs)},
      {"host_seconds", host},
      {"first_run", first_id},
      {"before", before.json()},
      {"after", after.json()},
      {"detected",
       Json{{"before", format_time(want.detected)}, {"after", format_time(s.now().detected)}}},
      {"steps", s.steps()}};
  write_file_atomic(out + "/shrink.json", json_text(j));
  write_file_atomic(out + "/report.txt", report.str());
  if (!opt.quiet) {
    human << report.str() << "wrote " << out
          << "/shrunk.yaml (quiesce run reproduces it), shrink.json, report.txt\n";
  }
  return runner.signal() ? 128 + runner.signal() : 0;
}

}  // namespace quiesce
