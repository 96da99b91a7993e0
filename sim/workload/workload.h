#pragma once
// Workloads: what runs on the simulated machine. Each YAML `workload:` entry names a
// type (`task: hw_pingpong`); the type declares its parameters (listed by `quiesce list
// params`), builds its threads at elaboration and reports metrics at the end. Types are
// registered in one explicit table (workload_types()), never by static self-registration.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/base/config.h"
#include "sim/base/params.h"
#include "sim/base/units.h"
#include "sim/hw/platform.h"

namespace quiesce {

struct Metric {
  std::string name;  // dotted
  double value;
  std::string unit;
};

// What a workload hands back: metrics, a human table, and whether it finished its work.
struct WorkloadReport {
  std::vector<Metric> metrics;
  std::string table;
};

class Workload {
 public:
  virtual ~Workload() = default;
  // Creates threads and wiring on `platform` (called during elaboration).
  virtual void elaborate(Platform& platform) = 0;
  // True when the workload has nothing left to do (the run may end early).
  virtual bool finished() const = 0;
  virtual void report(WorkloadReport& out) const = 0;
  // The run layer is told when this workload has finished (see finished()).
  void on_finished(std::function<void()> f) { on_finished_ = std::move(f); }

 protected:
  void signal_finished() {
    if (on_finished_) on_finished_();
  }

 private:
  std::function<void()> on_finished_;
};

struct WorkloadType {
  std::string name;
  std::string doc;
  std::function<std::unique_ptr<ParamGroup>()> params;
  // `entry` is the YAML mapping; its parameters have been validated against params().
  // Also called by validation, so every check on the entry lives here.
  std::function<std::unique_ptr<Workload>(const ConfigNode& entry, const Topology& topology)> make;
};

const std::vector<WorkloadType>& workload_types();
const WorkloadType* find_workload_type(const std::string& name);

// Validates one `workload:` entry (its type, its keys, its values) on `topology`.
// Returns the type.
const WorkloadType& validate_workload_entry(const ConfigNode& entry, const Topology& topology);

}  // namespace quiesce
