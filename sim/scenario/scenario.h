#pragma once
// A scenario: one YAML file naming a platform, overrides, the workload, the duration and
// the seed. Loading validates everything up front, so a run never starts on bad input:
// every problem is a ConfigError with file:line:column and the key path.
//
// Overrides (`set:` in the file, then `--set key=value` on the command line) are dotted
// paths. Paths that start with a scenario key (name, description, duration, seed, sim,
// workload) change the scenario; all others change the platform (`cores`,
// `irq.ipi.latency`, `mem.handoff.system`, ...). `expect.METRIC` sets one expectation
// (the metric's name whole, dots and all); a null value drops it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/config.h"
#include "sim/base/params.h"
#include "sim/hw/platform.h"
#include "sim/scenario/sweep.h"
#include "sim/workload/workload.h"

namespace quiesce {

struct ScenarioParams : ParamGroup {
  ScenarioParams() : ParamGroup("", "scenario: what to run and for how long") {}
  Param<std::string> name{this, "name", "unnamed", "scenario name (names the output directory)"};
  Param<std::string> description{this, "description", "", "one line on what the scenario studies"};
  Param<Duration> duration{this, "duration", "10ms", "simulated time to run (the run may end earlier)"};
  Param<int64_t> seed{this, "seed", "1", "seed of every random stream"};
};

struct SimParams : ParamGroup {
  Param<Duration> quantum{this, "quantum", "0ns",
                          "0 = exact; larger lets each core run ahead this far (faster, approximate)"};
  Param<int64_t> max_events{this, "max_events", "1000000000",
                            "most simulated events (instruction boundaries) per point; past it the point stops "
                            "with outcome event_limit (exit code 2)"};
  Param<int64_t> max_delta_cycles{this, "max_delta_cycles", "1000000",
                                  "most delta cycles at one simulated time; past it the point stops with outcome "
                                  "livelock, naming the processes still waking"};
  SimParams() : ParamGroup("sim", "simulation kernel settings") {
    max_events.range(1, 1e15);
    max_delta_cycles.range(1000, 1e12);
  }
};

inline constexpr Time kMaxDuration = 3600 * kSec;
inline constexpr size_t kMaxNameBytes = 100;  // a scenario's name is its output directory

// One `expect:` assertion: a metric (or `outcome`) and what it must satisfy.
struct Expectation {
  std::string key;
  std::string op;    // == != < <= > >=
  std::string text;  // the expected value as written (for messages)
  double number = 0;
  bool is_number = true;
  std::string where;
};

struct Scenario {
  std::string file;
  ConfigNode doc;
  ConfigNode platform_tree;
  ScenarioParams params;
  SimParams sim;
  kernel::KernelParams kernel;
  kernel::VariantParams variants;
  PlatformConfig platform;
  std::vector<ConfigNode> workload;
  std::vector<LockDecl> locks;
  std::vector<Expectation> expect;
  bool needs_kernel = false;
  std::vector<std::string> task_names;
  SweepParams sweep_params;
  // `timing: {ipi: [...]}`: SGIs whose end-to-end latency is given rather than drawn (what
  // `quiesce hunt` writes into a reproducer).
  std::vector<ForcedIpi> forced_ipis;
  SweepSpec sweep;  // `quiesce run` ignores it (runs the base point); `quiesce sweep` expands it
  // What validation knew about every entry, reused to build them.
  WorkloadEnv env_for(size_t entry_index) const;
  std::vector<int> irq_sources_before;  // [i]: device interrupt sources among entries 0..i-1
};

// One override by dotted path, with where its key and value were written.
struct Override {
  std::string key;
  YAML::Node value;
  std::string key_origin, value_origin;
};

// "key=value" from the command line, the value parsed as YAML.
Override parse_set(const std::string& key_equals_value);

// Applies, in order: the file's `set:`, then `overrides`, then `seed`.
std::unique_ptr<Scenario> load_scenario(const std::string& path, const std::vector<Override>& overrides,
                                        std::optional<uint64_t> seed = std::nullopt);
// The same from text already read; `file` names it in messages and in Scenario::file.
std::unique_ptr<Scenario> load_scenario_text(const std::string& text, const std::string& file,
                                             const std::vector<Override>& overrides,
                                             std::optional<uint64_t> seed = std::nullopt);
// `sets` are "key=value" texts from the command line.
std::unique_ptr<Scenario> load_scenario(const std::string& path, const std::vector<std::string>& sets,
                                        std::optional<uint64_t> seed = std::nullopt);
// The overrides of sweep point `index`: `base` then the point's axis values.
std::vector<Override> point_overrides(const SweepSpec& spec, uint64_t index, const std::vector<Override>& base);
// Loads the scenario once per value of every sweep axis (the others at their first value),
// so a bad value fails with its own location before a sweep starts.
void validate_sweep_values(const std::string& path, const SweepSpec& spec, const std::vector<Override>& base);
void validate_sweep_values_text(const std::string& text, const std::string& file, const SweepSpec& spec,
                                const std::vector<Override>& base);

// The scenario-level keys that `set:` paths may start with.
bool is_scenario_key(const std::string& first_segment);

// Every parameter group a user can set, for `quiesce list params`.
struct ParamTable {
  std::string title;
  std::vector<ParamRow> rows;
};
std::vector<ParamTable> all_param_tables();

}  // namespace quiesce
