#include "sim/run/hunt.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include "sim/base/error.h"
#include "sim/output/files.h"
#include "sim/output/json.h"
#include "sim/output/timing_windows.h"
#include "sim/run/internal/point_pool.h"
#include "sim/run/point.h"
#include "sim/run/sweep.h"
#include "sim/scenario/scenario.h"

namespace quiesce {
namespace {

constexpr int kMaxRefinements = 3;  // re-aims of one IPI whose window moved
// --target deadlock, until a record shows them (DeadlockAim): the flagship's on generic-smp.
constexpr Time kHandlerGuess = 320'000;
constexpr Time kReportGuess = 85'000;
// How long after an IPI's drawn arrival the other CPUs' runs are still taken as the record
// shows them: the base run's handler reaches another CPU only through its report's wakeup.
// (On the flagship a microsecond aims about as often as three and misses less.)
constexpr Time kOthersUnchanged = 1'000'000;

struct RunOutcome {
  std::string outcome;
  bool detected = false;
  double first_ns = -1;
  double lockdep_reports = 0;
  bool deadlock = false;
};

// One aimed value: which IPI, what it was drawn as, what it is forced to, and the window.
struct Aim {
  ForcedIpi f;
  Time drawn = 0;
  Time raised = 0;
  IrqId sgi = 0;
  TimingWindow window;
  Time lo = 0, hi = 0;            // the latencies that land inside the window
  std::optional<LockHeld> other;  // --target deadlock: the other CPU's hold it meets
  std::string other_class;
};

// What `--target deadlock` knows besides the record: the classes of a lockdep report's chain
// (from any run so far; none yet: any class), how much later an IPI's handler makes the rest
// of the reader it lands in run, and how long after taking its lock that reader's
// rcu_read_unlock() report reaches the last lock it takes (the waiter's rq->lock). Both are
// learnt from the last IPI seen landing in a reader that then reported.
struct DeadlockAim {
  std::set<std::string> classes;
  Time handler = 0;
  Time report = 0;
};

void learn(const TimingRecord& rec, DeadlockAim& dl) {
  for (int c : rec.report_classes) dl.classes.insert(rec.classes[static_cast<size_t>(c)]);
  for (const auto& s : rec.ipis) {
    for (size_t i = 0; i < rec.windows.size(); ++i) {
      const TimingWindow& w = rec.windows[i];
      if (w.cpu != s.to || s.arrival < w.start || s.arrival > w.end || !w.hot) continue;
      // The reader goes on after the handler: its next window has the same end.
      if (i + 1 >= rec.windows.size()) continue;
      const TimingWindow& next = rec.windows[i + 1];
      if (next.cpu != w.cpu || next.unlock != w.unlock || w.since < next.start) continue;
      Time last = 0;
      for (const auto& h : rec.held) {
        if (h.cpu == w.cpu && h.lock != w.lock && h.start > w.since && h.start <= w.unlock)
          last = std::max(last, h.start);
      }
      if (last == 0) continue;  // no report in this reader
      dl.handler = next.start - w.end;
      dl.report = last - w.since;
    }
  }
}

using Key = std::tuple<int, int, uint64_t>;
Key key_of(const ForcedIpi& f) { return {f.from, f.to, f.index}; }

std::string ps_text(Time t) { return std::to_string(t) + "ps"; }

// The scenario as one point: the file with `sweep:` taken out (so, as `quiesce run` runs
// it; with --point, at that sweep point's values), --set written into `set:`, the seed and the
// forced timing at top level.
YAML::Node point_document(const std::string& text, const std::string& path, const HuntOptions& opt,
                          uint64_t* point_index) {
  YAML::Node root = load_yaml_text(text);
  std::vector<std::pair<std::string, std::string>> values;
  if (opt.point) {
    auto sc = load_scenario(path, std::vector<std::string>{});
    *point_index = *opt.point;
    if (*point_index >= sc->sweep.total) {
      throw ConfigError(
          "--point " + std::to_string(*point_index), "",
          "the sweep has " + std::to_string(sc->sweep.total) + " point(s), numbered from 0");
    }
    for (const auto& p : sc->sweep.point(*point_index)) values.emplace_back(p.key, p.value->text);
  }
  // --set after the point's values: `--set cores=32` hunts the point at 32 cores.
  for (const auto& s : opt.sets) {
    const Override o = parse_set(s);
    values.emplace_back(o.key, s.substr(s.find('=') + 1));
  }
  root.remove("sweep");
  for (const auto& [key, value] : values) {
    if (key == "seed" || key == "platform") {
      root[key] = load_yaml_text(value);
      continue;
    }
    if (!root["set"] || !root["set"].IsMap()) root["set"] = YAML::Node(YAML::NodeType::Map);
    root["set"][key] = load_yaml_text(value);
  }
  root.remove("timing");
  return root;
}

std::string attempt_text(const YAML::Node& base, std::optional<uint64_t> seed,
                         const std::vector<ForcedIpi>& forced) {
  YAML::Node doc = YAML::Clone(base);
  if (seed) doc["seed"] = *seed;
  if (!forced.empty()) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& f : forced) {
      YAML::Node e(YAML::NodeType::Map);
      e.SetStyle(YAML::EmitterStyle::Flow);
      e["from"] = f.from;
      e["to"] = f.to;
      e["index"] = f.index;
      e["latency"] = ps_text(f.latency);
      list.push_back(e);
    }
    doc["timing"]["ipi"] = list;
  }
  YAML::Emitter em;
  em << doc;
  return std::string(em.c_str()) + "\n";
}

RunOutcome read_outcome(const std::string& pdir, const std::string& target) {
  RunOutcome r;
  const Json j = Json::parse(read_file_bounded(pdir + "/result.json", 64u << 20));
  r.outcome = j.value("outcome", "");
  const Json m = j.value("metrics", Json::object());
  auto num = [&](const char* k) {
    return m.contains(k) && m[k].is_number() ? m[k].get<double>() : -1.0;
  };
  r.lockdep_reports = std::max(0.0, num("lockdep_reports"));
  r.deadlock = num("deadlock") > 0;
  r.first_ns = num("detection.first_ns");
  if (target == "lockdep")
    r.detected = r.lockdep_reports > 0;
  else if (target == "deadlock")
    r.detected = r.deadlock;
  else
    r.detected = r.lockdep_reports > 0 || r.deadlock;
  return r;
}

const SentIpi* find_ipi(const TimingRecord& rec, const Key& k) {
  for (const auto& s : rec.ipis) {
    if (key_of(ForcedIpi{s.from, s.to, s.index, 0}) == k) return &s;
  }
  return nullptr;
}

bool landed(const TimingRecord& rec, const SentIpi& s) {
  for (const auto& w : rec.windows) {
    if (w.cpu == s.to && s.arrival >= w.start && s.arrival <= w.end) return true;
  }
  return false;
}

// The record's lock holds indexed for coincidence(): each lock's holds, and for each hold
// the holds on its CPU that were open when it was taken.
struct HeldIndex {
  std::map<uint64_t, std::vector<size_t>> by_lock;
  std::vector<std::vector<size_t>> enclosing;
  explicit HeldIndex(const std::vector<LockHeld>& held) : enclosing(held.size()) {
    std::vector<size_t> open;
    for (size_t i = 0; i < held.size(); ++i) {
      by_lock[held[i].lock].push_back(i);
      open.erase(std::remove_if(open.begin(), open.end(),
                                [&](size_t j) {
                                  return held[j].cpu != held[i].cpu || held[j].end <= held[i].start;
                                }),
                 open.end());
      enclosing[i] = open;
      open.push_back(i);
    }
  }
};

// An actual deadlock needs another CPU that holds a lock of the chain when the hot reader's
// report reaches that lock (predicted: the reader's lock taken, later by the handler, plus
// the report's length) and then takes the reader's lock after the reader took it, before
// `valid_until` (up to there the other CPU's run is taken to be the record's).
std::optional<LockHeld> coincidence(const TimingRecord& rec, const HeldIndex& index,
                                    const TimingWindow& w, Time arrival, Time valid_until,
                                    const DeadlockAim& dl) {
  if (!w.hot || w.lock == 0) return std::nullopt;
  auto takes = index.by_lock.find(w.lock);
  if (takes == index.by_lock.end()) return std::nullopt;
  const Time since = w.since >= arrival ? w.since + dl.handler : w.since;
  const Time report = since + dl.report;
  for (size_t i : takes->second) {
    const LockHeld& take = rec.held[i];
    if (take.cpu == w.cpu || take.start <= since || take.start >= valid_until) continue;
    for (size_t j : index.enclosing[i]) {
      const LockHeld& x = rec.held[j];
      if (x.lock == w.lock || x.start >= report) continue;
      if (!dl.classes.empty() && !dl.classes.count(rec.classes[static_cast<size_t>(x.cls)]))
        continue;
      return x;
    }
  }
  return std::nullopt;
}

// The best IPI to aim at a window: among IPIs raised at or after `after` (not `tried`),
// each window on its target that a latency in its distribution's support reaches. Preferred:
// kinds not known to land without effect, readers that end holding a lock, windows before
// the IPI's own arrival (the target's run up to there does not depend on it), then the most
// likely latency.
std::optional<Aim> choose_aim(const TimingRecord& rec, const PlatformConfig& platform, Time after,
                              const std::set<Key>& tried, const std::map<IrqId, int>& fruitless,
                              const std::optional<Key>& only, const DeadlockAim* dl) {
  std::optional<Aim> best;
  double best_score = -std::numeric_limits<double>::infinity();
  std::optional<HeldIndex> held;
  if (dl) held.emplace(rec.held);
  for (const auto& s : rec.ipis) {
    const Key k{s.from, s.to, s.index};
    if (only ? k != *only : s.forced || s.raised < after || tried.count(k)) continue;
    const Distribution& dist = platform.ipi_latency_between(s.from, s.to);
    const Time lo = dist.lower_bound(), hi = dist.upper_bound();
    if (lo >= hi) continue;  // a fixed latency leaves nothing to aim
    // Arrival = raised + latency - off while the latency is above the send's floor.
    const Time off = s.latency - (s.arrival - s.raised);
    for (const auto& w : rec.windows) {
      if (w.cpu != s.to || w.end <= s.raised) continue;
      const Time wlo = std::max(lo, w.start - s.raised + off + 1),
                 whi = std::min(hi, w.end - s.raised + off - 1);
      if (wlo > whi) continue;
      Time l = std::clamp(w.start + (w.end - w.start) / 2 - s.raised + off, wlo, whi);
      if (!dist.contains(l)) continue;
      std::optional<LockHeld> other;
      if (dl) {
        // Only a reader whose end meets another CPU's hold can deadlock; the rest wait.
        other = coincidence(rec, *held, w, s.raised + l - off, s.arrival + kOthersUnchanged, *dl);
        if (!other) continue;
      }
      // In order of weight: a reader that ends holding a lock, a kind not yet fruitless, an
      // exact aim, then the likelier latency (a log density: tens apart at most).
      double score = dist.log_density(l);
      if (w.hot) score += 1000.0;
      auto f = fruitless.find(s.id);
      if (f != fruitless.end()) score -= 300.0 * f->second;
      if (w.end <= s.arrival) score += 100.0;
      if (score > best_score) {
        best_score = score;
        best = Aim{ForcedIpi{s.from, s.to, s.index, l},
                   s.drawn,
                   s.raised,
                   s.id,
                   w,
                   wlo,
                   whi,
                   other,
                   other ? rec.classes[static_cast<size_t>(other->cls)] : ""};
      }
    }
  }
  return best;
}

// When no IPI's latency can vary (a fixed irq.ipi.latency), what to say: only seeds are left.
std::optional<std::string> fixed_ipi_latency(const PlatformConfig& platform) {
  std::set<Time> values;
  for (int from = 0; from < platform.topology().cores; ++from) {
    for (int to = 0; to < platform.topology().cores; ++to) {
      if (from == to) continue;
      const Distribution& d = platform.ipi_latency_between(from, to);
      if (d.lower_bound() < d.upper_bound()) return std::nullopt;
      values.insert(d.lower_bound());
    }
  }
  if (values.empty()) return std::nullopt;
  const std::string what = values.size() == 1
                               ? "irq.ipi.latency is fixed at " + format_time(*values.begin())
                               : "every IPI latency is fixed (by CPU distance)";
  return what + ": no IPI timing to search; trying seeds";
}

struct ForcedReport {
  Aim aim;
  Json json(const PlatformConfig& platform) const {
    const Distribution& d = platform.ipi_latency_between(aim.f.from, aim.f.to);
    const double ld = d.log_density(aim.f.latency), lmode = d.log_density(d.mode());
    Json j{{"from", aim.f.from},
           {"to", aim.f.to},
           {"index", aim.f.index},
           {"sgi", aim.sgi},
           {"raised_ps", aim.raised},
           {"latency_ps", aim.f.latency},
           {"drawn_ps", aim.drawn},
           {"distribution", d.describe()},
           {"support_ps", Json::array({d.lower_bound(), d.upper_bound()})},
           {"quantile", json_number(d.cdf(aim.f.latency))},
           {"density_vs_mode", json_number(std::exp(ld - lmode))},
           {"log_density_vs_drawn", json_number(ld - d.log_density(aim.drawn))},
           {"window_ps", Json::array({aim.window.start, aim.window.end})},
           {"window_probability", json_number(d.cdf(aim.hi) - d.cdf(aim.lo - 1))}};
    if (aim.other) {
      j["meets"] = Json{{"cpu", aim.other->cpu},
                        {"class", aim.other_class},
                        {"held_ps", Json::array({aim.other->start, aim.other->end})}};
    }
    return j;
  }
};

}  // namespace

int run_hunt(const std::string& path, const HuntOptions& opt, std::ostream& human) {
  if (opt.target != "detection" && opt.target != "lockdep" && opt.target != "deadlock") {
    throw ConfigError("--target " + opt.target, "", "is detection, lockdep or deadlock");
  }
  const std::string text = read_yaml_file(path);
  uint64_t point = 0;
  const YAML::Node base = point_document(text, path, opt, &point);
  auto first = load_scenario_text(attempt_text(base, std::nullopt, {}), path, {});
  if (!first->needs_kernel)
    throw ConfigError(path, "", "hunt searches a kernel's timing; this scenario runs bare metal");
  const PlatformConfig& platform = first->platform;
  uint64_t seed = opt.seed.value_or(static_cast<uint64_t>(first->params.seed()));
  const std::string dir =
      opt.out_dir.empty() ? "results/" + first->params.name() + "-hunt" : opt.out_dir;
  std::error_code ec;
  if (std::filesystem::exists(dir + "/sweep.json", ec)) {
    throw ConfigError("--out " + dir, "", "holds a sweep; a hunt writes a directory of its own");
  }
  make_dirs(dir);
  // A hunt's directory holds one hunt: the last one's runs and reproducer go.
  std::filesystem::remove_all(dir + "/points", ec);
  std::filesystem::remove(dir + "/reproducer.yaml", ec);
  std::filesystem::remove(dir + "/hunt.json", ec);

  if (!opt.quiet) {
    human << "hunt: " << path << (opt.point ? " (sweep point " + std::to_string(point) + ")" : "")
          << ", target " << opt.target << ", budget " << opt.budget << " runs, from seed " << seed
          << "\n";
  }
  const std::optional<std::string> fixed = fixed_ipi_latency(platform);
  if (fixed && !opt.quiet) human << *fixed << "\n";
  Json runs = Json::array();
  std::vector<ForcedIpi> forced;
  std::vector<Aim> aims;  // the aims behind `forced`, in order
  std::set<Key> tried;
  std::map<IrqId, int> fruitless;
  DeadlockAim dl;
  dl.handler = kHandlerGuess;
  dl.report = kReportGuess;
  Time after = 0;
  int aims_this_seed = 0, refinements = 0;
  std::optional<Aim> pending;  // the aim of the run in flight
  Aim missed;                  // the last aim that missed its window
  for (uint64_t run = 0; run < opt.budget; ++run) {
    const std::string scenario = attempt_text(base, seed, forced);
    run_internal::PoolOptions po;
    po.jobs = 1;
    po.quiet = true;
    auto child = [&](uint64_t, const std::string& pdir) {
      write_file_atomic(pdir + "/scenario.yaml", scenario);
      return run_internal::run_point_child(
          [&] { return load_scenario_text(scenario, pdir + "/scenario.yaml", {}); }, pdir,
          pdir + "/windows.txt");
    };
    const auto pool = run_internal::run_pool(dir, {run}, po, child, [](uint64_t) { return false; });
    if (pool.signal) return 128 + pool.signal;
    const std::string pdir = dir + "/points/" + point_id(run);
    const RunOutcome out = read_outcome(pdir, opt.target);
    if (out.outcome == "crashed" || out.outcome == "invalid" || out.outcome == "timeout") {
      throw std::runtime_error("hunt run " + pdir + " ended " + out.outcome +
                               " (see its stderr.txt)");
    }
    Json rj = {{"run", run},
               {"seed", seed},
               {"forced", forced.size()},
               {"outcome", out.outcome},
               {"lockdep_reports", json_number(out.lockdep_reports)},
               {"deadlock", out.deadlock}};
    if (!opt.quiet) {
      human << "  run " << run + 1 << ": seed " << seed << ", " << forced.size()
            << " forced IPI(s): " << out.outcome
            << (out.lockdep_reports > 0
                    ? ", " + format_number(out.lockdep_reports) + " lockdep report(s)"
                    : "")
            << "\n";
    }
    if (out.detected) {
      runs.push_back(rj);
      write_file_atomic(dir + "/reproducer.yaml",
                        "# Written by quiesce hunt from " + path + " (" + std::to_string(run + 1) +
                            " runs): `quiesce run` of this file reproduces the detection.\n" +
                            scenario);
      Json fj = Json::array();
      double joint = 0;
      for (const auto& a : aims) {
        Json one = ForcedReport{a}.json(platform);
        joint += one["log_density_vs_drawn"].is_number() ? one["log_density_vs_drawn"].get<double>()
                                                         : 0.0;
        fj.push_back(one);
      }
      const Json hj = {{"scenario", path},
                       {"point", opt.point ? Json(point) : Json()},
                       {"target", opt.target},
                       {"found", true},
                       {"runs", run + 1},
                       {"seed", seed},
                       {"outcome", out.outcome},
                       {"lockdep_reports", json_number(out.lockdep_reports)},
                       {"deadlock", out.deadlock},
                       {"detection_first_ns", json_number(out.first_ns)},
                       {"forced", fj},
                       {"joint_log_density_vs_drawn", json_number(joint)},
                       {"ipi_latency_fixed", fixed.has_value()},
                       {"history", runs}};
      write_file_atomic(dir + "/hunt.json", json_text(hj));
      if (!opt.quiet) {
        human << "found in " << run + 1 << " run(s): seed " << seed << ", " << out.outcome
              << ", first detection at " << format_time_approx(out.first_ns * 1e3) << "\n";
        for (const auto& one : fj) {
          human << "  IPI CPU" << one["from"].get<int>() << "->CPU" << one["to"].get<int>() << " #"
                << one["index"].get<uint64_t>() << " (sgi " << one["sgi"].get<int>() << ") latency "
                << format_time(one["latency_ps"].get<Time>()) << " (drawn "
                << format_time(one["drawn_ps"].get<Time>()) << "): quantile "
                << format_number(std::round(one["quantile"].get<double>() * 1e4) / 1e4) << " of "
                << one["distribution"].get<std::string>() << ", density "
                << format_number(std::round(one["density_vs_mode"].get<double>() * 1e3) / 1e3)
                << " x the mode's; a random draw lands in its window with P = "
                << format_number(std::round(one["window_probability"].get<double>() * 1e5) / 1e5)
                << "\n";
          if (one.contains("meets")) {
            human << "    its reader's report meets CPU" << one["meets"]["cpu"].get<int>()
                  << " holding " << one["meets"]["class"].get<std::string>() << " from "
                  << format_time(one["meets"]["held_ps"][0].get<Time>()) << "\n";
          }
        }
        if (!fj.empty()) {
          human << "  joint log density against the drawn values: "
                << format_number(std::round(joint * 100) / 100) << "\n";
        }
        human << "wrote " << dir << "/reproducer.yaml (quiesce run " << dir
              << "/reproducer.yaml) and " << dir << "/hunt.json\n";
      }
      return 0;
    }
    const TimingRecord rec = parse_timing_windows(
        read_file_bounded(pdir + "/windows.txt", 1u << 30), pdir + "/windows.txt");
    rj["windows"] = rec.windows.size();
    learn(rec, dl);
    runs.push_back(rj);
    // Where the last aim landed: in its window (a kind that did nothing there) or not (aim
    // it again from this record, up to kMaxRefinements times).
    if (pending) {
      const SentIpi* s = find_ipi(rec, key_of(pending->f));
      if (s && landed(rec, *s)) {
        ++fruitless[pending->sgi];
        after = pending->raised;
        refinements = 0;
      } else {
        missed = *pending;
        forced.pop_back();
        aims.pop_back();
        if (++refinements > kMaxRefinements) {
          tried.insert(key_of(pending->f));
          refinements = 0;
        }
      }
      pending.reset();
    }
    std::optional<Aim> aim;
    const DeadlockAim* dlp = opt.target == "deadlock" ? &dl : nullptr;
    if (aims_this_seed < opt.aims_per_seed) {
      std::set<Key> skip = tried;
      for (const auto& f : forced) skip.insert(key_of(f));
      // A miss is aimed again first: its window moved with the IPI's old arrival.
      if (refinements > 0)
        aim = choose_aim(rec, platform, after, skip, fruitless, key_of(missed.f), dlp);
      if (!aim) aim = choose_aim(rec, platform, after, skip, fruitless, std::nullopt, dlp);
    }
    if (!aim) {
      ++seed;
      forced.clear();
      aims.clear();
      tried.clear();
      after = 0;
      aims_this_seed = 0;
      refinements = 0;
      continue;
    }
    ++aims_this_seed;
    forced.push_back(aim->f);
    aims.push_back(*aim);
    pending = aim;
  }
  const Json hj = {{"scenario", path},     {"point", opt.point ? Json(point) : Json()},
                   {"target", opt.target}, {"found", false},
                   {"runs", opt.budget},   {"ipi_latency_fixed", fixed.has_value()},
                   {"history", runs}};
  write_file_atomic(dir + "/hunt.json", json_text(hj));
  if (!opt.quiet)
    human << "not found in " << opt.budget << " runs; wrote " << dir << "/hunt.json\n";
  return 1;
}

}  // namespace quiesce
