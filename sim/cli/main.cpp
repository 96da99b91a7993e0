// quiesce: the command line. Exit codes: 0 ok, 1 an expectation failed, 2 bad input or
// usage, 3 an internal error (a bug: please report it with the scenario), 4 (sweep, merge)
// points broken or missing, 5 the environment failed (a disk full or read-only, a path too
// long, no process could be started), 128+N killed by signal N (130 SIGINT, 143 SIGTERM).
#include <boost/program_options.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "sim/base/error.h"
#include "sim/hw/platform.h"
#include "sim/kernel/kernel.h"
#include "sim/output/json.h"
#include "sim/run/explain.h"
#include "sim/run/hunt.h"
#include "sim/run/point.h"
#include "sim/run/shrink.h"
#include "sim/run/slurm.h"
#include "sim/run/sweep.h"
#include "sim/scenario/scenario.h"
#include "sim/workload/op_program.h"

namespace po = boost::program_options;
using namespace quiesce;

namespace {

constexpr const char* kVersion = "quiesce 0.1.0";

const char* kUsage =
    "usage: quiesce <verb> [options]\n"
    "\n"
    "verbs:\n"
    "  run SCENARIO.yaml [--set k=v]... [--seed N] [--out DIR]   run one scenario point\n"
    "  rerun DIR/points/pNNNNNN [--trace FILE] [--out DIR]       run a sweep's point again, exactly\n"
    "  sweep SCENARIO.yaml [--jobs N] [--shard I/N] [--resume] [--out DIR] [--slurm ...]\n"
    "                                                            run every point of its sweep:\n"
    "  merge DIR... [--out DIR]                                  join the outputs of sweep shards\n"
    "  hunt SCENARIO.yaml [--budget RUNS] [--target T] [--out DIR]\n"
    "                                                            search the timing for a run that\n"
    "                                                            detects; write a reproducer\n"
    "  status DIR                                                a sweep's progress (and its Slurm jobs)\n"
    "  explain POINT_DIR|SWEEP_DIR                               how a point ended, readably; a\n"
    "                                                            sweep's broken and detecting points\n"
    "  shrink POINT_DIR|SCENARIO.yaml [--budget N] [--jobs N]    a smaller scenario with the same deadlock\n"
    "                                                            (or report): fewer tasks, CPUs, less time\n"
    "  validate FILE...                                          check scenario or platform files\n"
    "  list platforms|params|workloads|variants|releases|hooks|primitives|operands|configs [--markdown]\n"
    "                                                      what is available\n"
    "\n"
    "  quiesce <verb> --help   options of a verb\n"
    "  quiesce --version\n"
    "\n"
    "exit codes: 0 ok, 1 an expectation failed, 2 bad input or usage, 3 internal error,\n"
    "            4 (sweep, merge) a point crashed, timed out or was invalid, or (merge) is missing,\n"
    "            5 the environment failed (disk full or read-only, path too long, no process),\n"
    "            130 interrupted (SIGINT), 143 terminated (SIGTERM)\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description& pos) {
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

// The options of a point's outputs, shared by run and rerun.
void add_output_options(po::options_description& desc) {
  desc.add_options()("out", po::value<std::string>(), "output directory (default results/<scenario name>)")(
      "quiet,q", "print nothing but errors")(
      "trace", po::value<std::string>(), "write a trace: Chrome/Perfetto JSON, or ftrace text for a .txt name")(
      "trace-format", po::value<std::string>(), "chrome or ftrace (default: from the --trace name)")(
      "trace-window", po::value<std::string>(),
      "keep only this much time, ending at the first deadlock or lockdep report (or at the end), e.g. 2ms")(
      "trace-max-bytes", po::value<std::string>(),
      "memory the trace may hold, e.g. 64MiB; the oldest events go first (default 256MiB; 1MiB to 4GiB)")(
      "trace-max-events", po::value<uint64_t>(), "also keep at most this many events (1000 to 50000000)")(
      "vcd", po::value<std::string>(), "write per-CPU signals as a VCD waveform (GTKWave)");
}

RunOptions output_options(const po::variables_map& vm) {
  RunOptions opt;
  if (vm.count("out")) opt.out_dir = vm["out"].as<std::string>();
  opt.quiet = vm.count("quiet") > 0;
  if (vm.count("trace")) opt.trace_path = vm["trace"].as<std::string>();
  if (vm.count("trace-format")) {
    opt.trace_format = vm["trace-format"].as<std::string>();
    if (opt.trace_format != "chrome" && opt.trace_format != "ftrace") throw UsageError("--trace-format is chrome or ftrace");
    if (opt.trace_path.empty()) throw UsageError("--trace-format goes with --trace FILE");
  }
  if (vm.count("trace-window")) {
    try {
      opt.trace_window = parse_time(vm["trace-window"].as<std::string>());
    } catch (const UnitError& e) {
      throw ConfigError("--trace-window", "", e.what());
    }
    if (opt.trace_path.empty()) throw UsageError("--trace-window goes with --trace FILE");
  }
  if (vm.count("trace-max-bytes")) {
    const std::string text = vm["trace-max-bytes"].as<std::string>();
    int64_t n = 0;
    try {
      n = parse_size(text);
    } catch (const UnitError& e) {
      throw ConfigError("--trace-max-bytes " + text, "", e.what());
    }
    if (n < static_cast<int64_t>(kMinTraceBytes) || n > static_cast<int64_t>(kMaxTraceBytes)) {
      throw ConfigError("--trace-max-bytes " + text, "", "must be between 1MiB and 4GiB");
    }
    if (opt.trace_path.empty()) throw UsageError("--trace-max-bytes goes with --trace FILE");
    opt.trace_max_bytes = static_cast<size_t>(n);
  }
  if (vm.count("trace-max-events")) {
    const uint64_t n = vm["trace-max-events"].as<uint64_t>();
    if (n < kMinTraceEvents || n > kMaxTraceEvents) {
      throw ConfigError("--trace-max-events " + std::to_string(n), "",
                        "must be between " + std::to_string(kMinTraceEvents) + " and " + std::to_string(kMaxTraceEvents));
    }
    if (opt.trace_path.empty()) throw UsageError("--trace-max-events goes with --trace FILE");
    opt.trace_max_events = static_cast<size_t>(n);
  }
  if (vm.count("vcd")) opt.vcd_path = vm["vcd"].as<std::string>();
  return opt;
}

int run_and_report(const Scenario& sc, const RunOptions& opt) {
  if (!sc.needs_kernel && (!opt.trace_path.empty() || !opt.vcd_path.empty())) {
    throw UsageError("--trace and --vcd record the kernel; this scenario runs bare metal");
  }
  PointResult r = run_point(sc, opt, std::cout);
  if (!r.io_error.empty()) std::cerr << "quiesce: " << r.io_error << "\n";
  if (!r.limit_error.empty()) {
    // A program's run-time error already reads "file:line:column: error: ...".
    std::cerr << (r.limit_error.find(": error: ") == std::string::npos ? "error: " : "") << r.limit_error << "\n";
  }
  return r.exit_code();
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description desc("quiesce run SCENARIO.yaml [options]");
  desc.add_options()("help,h", "this help")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a parameter by dotted path, e.g. --set cores=8 --set irq.ipi.latency=2us")(
      "seed", po::value<uint64_t>(), "seed of every random stream (overrides the scenario's)")(
      "scenario", po::value<std::string>(), "scenario file");
  add_output_options(desc);
  po::positional_options_description pos;
  pos.add("scenario", 1);
  auto vm = parse(args, desc, pos);
  if (vm.count("help")) {
    std::cout << desc << "\nWrites result.json and stats.txt into the output directory.\n";
    return 0;
  }
  if (!vm.count("scenario")) throw UsageError("quiesce run needs a scenario file");
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  std::optional<uint64_t> seed;
  if (vm.count("seed")) seed = vm["seed"].as<uint64_t>();
  auto sc = load_scenario(vm["scenario"].as<std::string>(), sets, seed);
  return run_and_report(*sc, output_options(vm));
}

int cmd_rerun(const std::vector<std::string>& args) {
  po::options_description desc("quiesce rerun DIR/points/pNNNNNN [options]");
  desc.add_options()("help,h", "this help")("point", po::value<std::string>(), "a sweep's point directory");
  add_output_options(desc);
  po::positional_options_description pos;
  pos.add("point", 1);
  auto vm = parse(args, desc, pos);
  if (vm.count("help")) {
    std::cout << desc
              << "\nRuns one point of a sweep again with its exact values (the scenario as the sweep read it, its\n"
                 "--set and the point's axis values), e.g. to record a trace. Writes into --out (default\n"
                 "results/<scenario>-<point>) and says whether the outcome matches the sweep's.\n";
    return 0;
  }
  if (!vm.count("point")) throw UsageError("quiesce rerun needs a point directory (DIR/points/pNNNNNN)");
  RunOptions opt = output_options(vm);
  PointRerun pr = prepare_rerun(vm["point"].as<std::string>(), std::cerr);
  if (opt.out_dir.empty()) opt.out_dir = "results/" + pr.scenario->params.name() + "-" + pr.id;
  const int code = run_and_report(*pr.scenario, opt);
  report_rerun(pr, opt.out_dir, std::cout);
  return code;
}

int cmd_sweep(const std::vector<std::string>& args) {
  po::options_description desc("quiesce sweep SCENARIO.yaml [options]");
  desc.add_options()("help,h", "this help")("jobs,j", po::value<int>(), "points run at once (default: the number of CPUs)")(
      "shard", po::value<std::string>(),
      "run only slice I of N (1-based): points whose index is I-1 modulo N (with --precision: variants)")(
      "precision", po::value<double>(),
      "sample until sure: run each variant's seeds in order until the 95% intervals of its P(lockdep report) and "
      "P(deadlock) are at most this wide either side (0.05: 5 points), or its seed axis runs out (its cap); "
      "the same as --set sweep.precision=X")(
      "precision-step", po::value<int>(), "with --precision: runs per variant between two looks (default 10)")(
      "resume", "run the points without a result and rerun broken ones (finish a killed or partial sweep)")(
      "force", "remove this directory's results (ours only) and start the sweep over")(
      "out", po::value<std::string>(), "sweep directory (default results/<scenario name>)")(
      "set", po::value<std::vector<std::string>>()->composing(), "override a parameter for every point")(
      "point-timeout", po::value<double>(), "seconds of host time a point may take; then it is recorded as timeout")(
      "no-plot", "do not run scripts/plot at the end")("quiet,q", "print nothing but errors")(
      "slurm", "submit to Slurm: job arrays of shards and a merge job (see README)")(
      "points-per-task", po::value<int>(), "with --slurm: points each array task runs (default 1)")(
      "partition", po::value<std::string>(), "with --slurm: the partition to submit to")(
      "time", po::value<std::string>(), "with --slurm: each task's time limit (Slurm's formats, e.g. 30:00)")(
      "sbatch-arg", po::value<std::vector<std::string>>()->composing(), "with --slurm: passed to every sbatch")(
      "dry-run", "with --slurm: write and print the job scripts, submit nothing")(
      "scenario", po::value<std::string>(), "scenario file");
  po::positional_options_description pos;
  pos.add("scenario", 1);
  auto vm = parse(args, desc, pos);
  if (vm.count("help")) {
    std::cout << desc
              << "\nWrites DIR/points/<id>/ per point and joins them into points.csv, points.jsonl, summary.md,\n"
                 "junit.xml (and plots). Exit code 1 when any point fails its expectations.\n";
    return 0;
  }
  if (!vm.count("scenario")) throw UsageError("quiesce sweep needs a scenario file");
  SweepOptions opt;
  if (vm.count("jobs")) {
    opt.jobs = vm["jobs"].as<int>();
    if (opt.jobs < 1 || opt.jobs > 1024) throw UsageError("--jobs takes 1 to 1024");
  }
  if (vm.count("shard")) parse_shard(vm["shard"].as<std::string>(), &opt.shard_index, &opt.shard_count);
  opt.resume = vm.count("resume") > 0;
  opt.force = vm.count("force") > 0;
  if (opt.force && opt.resume) throw UsageError("--force starts over; --resume finishes: choose one");
  // Shards share a tree while others write it: starting one over would remove their points.
  if (opt.force && (vm.count("shard") || vm.count("slurm"))) {
    throw UsageError("--force starts a whole sweep over; it does not go with --shard or --slurm");
  }
  if (vm.count("out")) opt.out_dir = vm["out"].as<std::string>();
  if (vm.count("set")) {
    for (const auto& kv : vm["set"].as<std::vector<std::string>>()) opt.sets.push_back(parse_set(kv));
  }
  // Recorded as --set, so that sweep.json, shards, Slurm's task.sh and rerun all see it.
  if (vm.count("precision")) {
    const double p = vm["precision"].as<double>();
    if (!(p > 0 && p <= 0.5)) throw UsageError("--precision takes a half-width from 0 to 0.5 (0.05: 5 percentage points)");
    opt.sets.push_back(parse_set("sweep.precision=" + format_number(p)));
  }
  if (vm.count("precision-step")) {
    if (!vm.count("precision")) throw UsageError("--precision-step goes with --precision");
    opt.sets.push_back(parse_set("sweep.precision_step=" + std::to_string(vm["precision-step"].as<int>())));
  }
  if (vm.count("point-timeout")) {
    opt.point_timeout_s = vm["point-timeout"].as<double>();
    if (!(opt.point_timeout_s > 0)) throw UsageError("--point-timeout takes a positive number of seconds");
  }
  opt.plot = vm.count("no-plot") == 0;
  opt.quiet = vm.count("quiet") > 0;
  if (vm.count("slurm")) {
    SlurmOptions so;
    if (vm.count("points-per-task")) so.points_per_task = vm["points-per-task"].as<int>();
    if (vm.count("partition")) so.partition = vm["partition"].as<std::string>();
    if (vm.count("time")) so.time_limit = vm["time"].as<std::string>();
    if (vm.count("sbatch-arg")) so.sbatch_args = vm["sbatch-arg"].as<std::vector<std::string>>();
    so.dry_run = vm.count("dry-run") > 0;
    if (vm.count("shard")) throw UsageError("--shard and --slurm don't mix: --slurm makes the shards");
    return slurm_sweep(vm["scenario"].as<std::string>(), opt, so, std::cout);
  }
  for (const char* k : {"points-per-task", "partition", "time", "sbatch-arg", "dry-run"}) {
    if (vm.count(k)) throw UsageError(std::string("--") + k + " goes with --slurm");
  }
  return run_sweep(vm["scenario"].as<std::string>(), opt, std::cout);
}

int cmd_hunt(const std::vector<std::string>& args) {
  po::options_description desc("quiesce hunt SCENARIO.yaml [options]");
  desc.add_options()("help,h", "this help")("budget", po::value<uint64_t>(), "most runs, base runs counted (default 100)")(
      "target", po::value<std::string>(), "detection (a lockdep report or a deadlock; default), lockdep, or deadlock (an actual one: aims at "
      "readers whose report meets another CPU's hold of the lock it needs)")(
      "point", po::value<uint64_t>(), "with a sweep: hunt at this point's values (from 0; default: the scenario as `run` runs it)")(
      "seed", po::value<uint64_t>(), "the first seed (default the scenario's, or the point's)")(
      "aims-per-seed", po::value<int>(), "aimed runs on one seed before the next (default 8)")(
      "set", po::value<std::vector<std::string>>()->composing(), "override a parameter by dotted path")(
      "out", po::value<std::string>(), "directory (default results/<scenario name>-hunt)")(
      "quiet,q", "print nothing but errors")("scenario", po::value<std::string>(), "scenario file");
  po::positional_options_description pos;
  pos.add("scenario", 1);
  auto vm = parse(args, desc, pos);
  if (vm.count("help")) {
    std::cout << desc
              << "\nRuns the scenario, learns from each run where an interrupt would land inside an RCU reader\n"
                 "with interrupts on (first those that end holding a lock), and forces one IPI's latency (a value\n"
                 "its distribution can draw) to arrive there; again from each new run, a new seed when nothing is\n"
                 "in reach. At the first detecting run writes DIR/reproducer.yaml (plain `quiesce run`\n"
                 "reproduces it) and DIR/hunt.json (the forced values and how likely they are). Exit 0 found,\n"
                 "1 not found within the budget.\n";
    return 0;
  }
  if (!vm.count("scenario")) throw UsageError("quiesce hunt needs a scenario file");
  HuntOptions opt;
  if (vm.count("budget")) opt.budget = vm["budget"].as<uint64_t>();
  if (opt.budget < 1 || opt.budget > 1000000) throw UsageError("--budget takes 1 to 1000000 runs");
  if (vm.count("target")) opt.target = vm["target"].as<std::string>();
  if (vm.count("point")) opt.point = vm["point"].as<uint64_t>();
  if (vm.count("seed")) opt.seed = vm["seed"].as<uint64_t>();
  if (vm.count("aims-per-seed")) opt.aims_per_seed = vm["aims-per-seed"].as<int>();
  if (opt.aims_per_seed < 0 || opt.aims_per_seed > 1000) throw UsageError("--aims-per-seed takes 0 to 1000");
  if (vm.count("set")) opt.sets = vm["set"].as<std::vector<std::string>>();
  if (vm.count("out")) opt.out_dir = vm["out"].as<std::string>();
  opt.quiet = vm.count("quiet") > 0;
  return run_hunt(vm["scenario"].as<std::string>(), opt, std::cout);
}

int cmd_merge(const std::vector<std::string>& args) {
  po::options_description desc("quiesce merge DIR... [--out DIR]");
  desc.add_options()("help,h", "this help")("out", po::value<std::string>(), "where to join them (default: the first)")(
      "no-plot", "do not run scripts/plot")("dir", po::value<std::vector<std::string>>(), "sweep directories");
  po::positional_options_description pos;
  pos.add("dir", -1);
  auto vm = parse(args, desc, pos);
  if (vm.count("help")) {
    std::cout << desc << "\nJoins the shards of one sweep (from quiesce sweep --shard I/N) into one directory.\n";
    return 0;
  }
  if (!vm.count("dir")) throw UsageError("quiesce merge needs sweep directories");
  return merge_sweeps(vm["dir"].as<std::vector<std::string>>(), vm.count("out") ? vm["out"].as<std::string>() : "",
                      vm.count("no-plot") == 0, std::cout);
}

int cmd_status(const std::vector<std::string>& args) {
  po::options_description desc("quiesce status DIR");
  desc.add_options()("help,h", "this help")("dir", po::value<std::string>(), "a sweep directory");
  po::positional_options_description pos;
  pos.add("dir", 1);
  auto vm = parse(args, desc, pos);
  if (vm.count("help")) {
    std::cout << desc << "\nPoints done, failed, broken and missing; for a Slurm sweep, its jobs' states.\n"
                         "Exit code 0 when every point has a result.\n";
    return 0;
  }
  if (!vm.count("dir")) throw UsageError("quiesce status needs a sweep directory");
  return sweep_status(vm["dir"].as<std::string>(), std::cout);
}

int cmd_explain(const std::vector<std::string>& args) {
  po::options_description desc("quiesce explain POINT_DIR");
  desc.add_options()("help,h", "this help")("dir", po::value<std::string>(), "a point's or a sweep's directory");
  po::positional_options_description pos;
  pos.add("dir", 1);
  auto vm = parse(args, desc, pos);
  if (vm.count("help")) {
    std::cout << desc << "\nA readable account of how a point ended: the deadlock's chain with which CPU held what\n"
                         "since when, the interrupt that opened the window, lockdep's first report, and the trace\n"
                         "lines around the end when the directory has trace.txt.\n";
    return 0;
  }
  if (!vm.count("dir")) throw UsageError("quiesce explain needs a point directory");
  return explain_point(vm["dir"].as<std::string>(), std::cout);
}

int cmd_shrink(const std::vector<std::string>& args) {
  po::options_description desc("quiesce shrink POINT_DIR|RUN_DIR|SCENARIO.yaml [options]");
  desc.add_options()("help,h", "this help")("out", po::value<std::string>(),
                                            "output directory (default results/<name>-<point>-shrink for a sweep point, DIR-shrink for a run directory, "
                                            "results/<name>-shrink for a file)")(
      "budget", po::value<int>(), "most candidate runs (default 200)")(
      "jobs,j", po::value<int>(), "candidate runs at once (default 1; the result is the same for any)")(
      "set", po::value<std::vector<std::string>>()->composing(), "with a scenario file: override a parameter")(
      "seed", po::value<uint64_t>(), "with a scenario file: its seed")("quiet,q", "print nothing but errors")(
      "input", po::value<std::string>(), "a sweep's point directory, a run's output directory or a scenario file");
  po::positional_options_description pos;
  pos.add("input", 1);
  auto vm = parse(args, desc, pos);
  if (vm.count("help")) {
    std::cout << desc
              << "\nDelta debugging: removes simulated time, workload entries, CPUs, op-program steps and random\n"
                 "distributions while each candidate, run on its own, ends the same way (the same outcome and the\n"
                 "same lock classes: the deadlock's chain or lockdep's first report). Writes shrunk.yaml (which\n"
                 "quiesce run reproduces), shrink.json and report.txt.\n";
    return 0;
  }
  if (!vm.count("input")) throw UsageError("quiesce shrink needs a point directory or a scenario file");
  ShrinkOptions opt;
  if (vm.count("out")) opt.out_dir = vm["out"].as<std::string>();
  if (vm.count("budget")) {
    opt.budget = vm["budget"].as<int>();
    if (opt.budget < 1 || opt.budget > 100000) throw UsageError("--budget takes 1 to 100000 runs");
  }
  if (vm.count("jobs")) {
    opt.jobs = vm["jobs"].as<int>();
    if (opt.jobs < 1 || opt.jobs > 1024) throw UsageError("--jobs takes 1 to 1024");
  }
  if (vm.count("set")) opt.sets = vm["set"].as<std::vector<std::string>>();
  if (vm.count("seed")) opt.seed = vm["seed"].as<uint64_t>();
  opt.quiet = vm.count("quiet") > 0;
  return shrink(vm["input"].as<std::string>(), opt, std::cout);
}

int cmd_validate(const std::vector<std::string>& args) {
  po::options_description desc("quiesce validate FILE... (scenarios or platforms)");
  desc.add_options()("help,h", "this help")("file", po::value<std::vector<std::string>>(), "files");
  po::positional_options_description pos;
  pos.add("file", -1);
  auto vm = parse(args, desc, pos);
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (!vm.count("file")) throw UsageError("quiesce validate needs at least one file");
  int bad = 0;
  for (const auto& f : vm["file"].as<std::vector<std::string>>()) {
    try {
      ConfigNode doc = load_yaml_file(f);
      if (doc.is_map() && doc["workload"].present()) {
        auto sc = load_scenario(f, std::vector<Override>{});
        validate_sweep_values(f, sc->sweep, {});
        std::cout << f << ": ok (scenario" << (sc->sweep.axes.empty() ? "" : ", sweep of " + std::to_string(sc->sweep.total) + " points") << ")\n";
      } else {
        if (!doc.present()) doc.fail("the file is empty");
        PlatformConfig pc;
        pc.load(doc);
        std::cout << f << ": ok (platform)\n";
      }
    } catch (const ConfigError& e) {
      std::cerr << e.what() << "\n";
      ++bad;
    }
  }
  return bad ? 2 : 0;
}

void print_table(const ParamTable& t, bool markdown) {
  if (markdown) {
    std::cout << "\n### " << t.title << "\n\n| key | type | default | range | meaning |\n|---|---|---|---|---|\n";
    for (const auto& r : t.rows) {
      std::cout << "| `" << r.name << "` | " << r.type << " | `" << r.def << "` | " << r.range << " | " << r.doc
                << " |\n";
    }
    return;
  }
  std::cout << "\n" << t.title << "\n";
  size_t w = 0, tw = 0, dw = 0;
  for (const auto& r : t.rows) {
    w = std::max(w, r.name.size());
    tw = std::max(tw, r.type.size());
    dw = std::max(dw, r.def.size());
  }
  for (const auto& r : t.rows) {
    std::cout << "  " << r.name << std::string(w - r.name.size() + 2, ' ') << r.type
              << std::string(tw - r.type.size() + 2, ' ') << r.def << std::string(dw - r.def.size() + 2, ' ')
              << r.doc << (r.range.empty() ? "" : " " + r.range) << "\n";
  }
}

int cmd_list(const std::vector<std::string>& args) {
  po::options_description desc("quiesce list platforms|params|workloads|variants|releases|hooks|primitives|operands|configs [--markdown]");
  desc.add_options()("help,h", "this help")("markdown", "params as Markdown tables")(
      "names", "primitives: only their keywords, one a line")(
      "what", po::value<std::string>(), "platforms, params or workloads");
  po::positional_options_description pos;
  pos.add("what", 1);
  auto vm = parse(args, desc, pos);
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (!vm.count("what")) {
    throw UsageError("quiesce list needs one of: platforms, params, workloads, variants, releases, hooks, primitives, "
                     "operands, configs");
  }
  std::string what = vm["what"].as<std::string>();
  if (what == "platforms") {
    for (const auto& name : list_platforms()) {
      std::string desc_text;
      try {
        ConfigNode doc = load_yaml_file(platforms_dir() + "/" + name + ".yaml");
        ConfigNode d = doc["description"];
        if (d.present() && d.is_scalar()) desc_text = d.scalar();
      } catch (const ConfigError&) {
        desc_text = "(invalid file)";
      }
      std::printf("%-22s %s\n", name.c_str(), desc_text.c_str());
    }
    return 0;
  }
  if (what == "params") {
    bool md = vm.count("markdown") > 0;
    if (md) {
      std::cout << "# Parameter reference\n\nGenerated by `quiesce list params --markdown` from the "
                   "parameter declarations in sim/. Times take a unit (ps, ns, us, ms, s); cycle "
                   "counts may be bare or say `cycles`.\n";
    }
    for (const auto& t : all_param_tables()) print_table(t, md);
    if (md) {
      std::cout << "\n### Keys that are not parameters\n\n"
                   "| key | what |\n|---|---|\n"
                   "| `platform` | a preset name from platforms/ or an inline mapping of the platform keys above |\n"
                   "| `set` | dotted key paths to values, applied before the run (scenario keys or platform keys) |\n"
                   "| `workload` | the list of entries: `task: TYPE` (above), `irq: NAME`, `softirq: VECTOR` or `hook: POINT` |\n"
                   "| `locks` | named locks for op-programs: `{class, kind: raw_spin\\|spin\\|mutex\\|rwsem\\|semaphore, "
                   "share_line_with, count}`; a kernel class is refused (use the kernel's lock: quiesce list operands) |\n"
                   "| `expect` | metric (or `outcome`) to value or comparison, e.g. `irq_latency.p99: \"< 20us\"` |\n"
                   "| `expect.METRIC` | in `set:`, `--set` or a sweep axis: one expectation of the run or point "
                   "(the metric's whole name follows, e.g. `expect.rcu.violations`); `~` drops it. In a `zip:` "
                   "group it gives each variant its own, e.g. `expect.deadlock: [~, false]` |\n"
                   "| `sweep` | axes: a list, `{range}`, `{log_range\\|lin_range, points}`, `zip:` groups |\n"
                   "| `program` | in `program`, `irq`, `softirq` and `hook` entries: the op-program (see README) |\n";
    }
    return 0;
  }
  if (what == "variants") {
    kernel::VariantParams v;
    for (const auto& r : describe(v)) {
      if (r.range.find(" | ") == std::string::npos) continue;  // a variant is a choice
      std::printf("%-32s %s\n  %s (default %s)\n", r.name.c_str(), r.range.c_str(), r.doc.c_str(), r.def.c_str());
    }
    std::printf("%-32s %s\n  %s (default %s)\n", "kernel.lockdep.might_wake", "true | false",
                "report wakeups under scheduler locks or locks nesting under one (Peter Zijlstra's 2015 proposal)",
                "false");
    std::printf("%-32s %s\n  %s (default %s)\n", "kernel.printk.wakeup", "release | direct | deferred",
                "how printk wakes klogd: as the release does (the tick before 3.9, an irq_work after), by itself, "
                "or through an irq_work",
                "release");
    std::printf("%-32s %s\n  %s (default %s)\n", "kernel.release", "2.6.39 .. 5.10 (quiesce list releases)",
                "the Linux release modelled; every variant set to `release` follows it", "4.4");
    return 0;
  }
  if (what == "releases") {
    // The releases the model names, then each behaviour that changed, keyed to its commit.
    std::printf("releases: %s to %s; listed:", kernel::kOldestRelease, kernel::kNewestRelease);
    for (const auto& r : kernel::listed_releases()) std::printf(" %s", r.c_str());
    std::printf("\n(default %s; any version in the range parses; see docs/kernel-model.md)\n", "4.4");
    std::printf("since   commit (?: id not checked, release bracketed from trees)  behaviour and subject\n");
    for (const auto& c : kernel::release_changes()) {
      std::printf("%-7s %-13s %-38s %s\n", c.since, *c.commit ? (std::string(c.commit) + (c.id_checked ? "" : "?")).c_str() : "-",
                  c.key, c.subject);
    }
    return 0;
  }
  if (what == "hooks") {
    for (int h = 0; h < static_cast<int>(kernel::Kernel::Hook::Count); ++h) {
      const auto hk = static_cast<kernel::Kernel::Hook>(h);
      std::printf("%-16s %s\n", kernel::Kernel::hook_name(hk), kernel::Kernel::hook_doc(hk));
    }
    return 0;
  }
  if (what == "primitives") {
    if (vm.count("names")) {
      for (const auto& n : primitive_names()) std::printf("%s\n", n.c_str());
      return 0;
    }
    for (const auto& d : primitive_docs()) std::printf("%s\n    %s: %s\n", d.syntax, d.linux_fn, d.does);
    return 0;
  }
  if (what == "operands") {
    std::printf("lock operands (spinlocks): a lock declared under locks:, or the kernel's own:\n");
    for (const auto& o : kernel_operand_docs()) std::printf("  %-30s %s\n", o.first.c_str(), o.second.c_str());
    std::printf("TASK: a scenario task, a kernel thread (swapper/N, ksoftirqd/N, kworker/N:0, rcu_preempt, klogd, "
                "migration/N before 4.4) or current\n");
    std::printf("wait queues: a scenario's own name, or the kernel's log_wait (klogd) and rsp->gp_wq (the RCU GP "
                "kthread)\n");
    std::printf("lock classes the kernel owns (a declared lock may not borrow them):\n");
    for (const auto& c : kernel::Kernel::kernel_lock_classes()) std::printf("  %-30s -> %s\n", c.cls, c.operand);
    return 0;
  }
  if (what == "configs") {
    for (const auto& c : kernel::kernel_configs()) std::printf("%-28s %-30s %s\n", c.param, c.linux_option, c.doc);
    return 0;
  }
  if (what == "workloads") {
    for (const auto& t : workload_types()) std::printf("%-16s %s\n", t.name.c_str(), t.doc.c_str());
    return 0;
  }
  throw UsageError("unknown list '" + what +
                   "' (platforms, params, workloads, variants, releases, hooks, primitives, operands or configs)");
}

}  // namespace

// libsystemc references sc_main; quiesce drives elaboration itself (see sim/run/point.h).
int sc_main(int, char**) { return 3; }

int main(int argc, char** argv) {
  // A closed stdout (`quiesce sweep ... | head`) must not turn a finished run into exit 141:
  // what could not be printed is lost, the results and the exit code are not.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::cout << kUsage;
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
      std::cout << kVersion << "\n";
      return 0;
    }
    std::string verb = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (verb == "run") return cmd_run(rest);
    if (verb == "rerun") return cmd_rerun(rest);
    if (verb == "validate") return cmd_validate(rest);
    if (verb == "sweep") return cmd_sweep(rest);
    if (verb == "merge") return cmd_merge(rest);
    if (verb == "hunt") return cmd_hunt(rest);
    if (verb == "explain") return cmd_explain(rest);
    if (verb == "status") return cmd_status(rest);
    if (verb == "list") return cmd_list(rest);
    if (verb == "shrink") return cmd_shrink(rest);
    std::string hint = did_you_mean(
        verb, {"run", "rerun", "sweep", "merge", "hunt", "shrink", "status", "explain", "validate", "list"});
    throw UsageError("unknown verb '" + verb + "'" + (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const IoError& e) {
    std::cerr << "quiesce: " << e.what() << "\n";
    return kExitIo;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "quiesce: " << e.what() << "\n";
    return kExitIo;
  } catch (const UsageError& e) {
    std::cerr << "quiesce: " << e.what() << "\n\n" << kUsage;
    return 2;
  } catch (const po::error& e) {
    std::cerr << "quiesce: " << e.what() << "\n(see quiesce " << (args.empty() ? "" : args[0]) << " --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "quiesce: internal error: " << e.what() << "\n";
    return 3;
  }
}
