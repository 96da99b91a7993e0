#include "sim/workload/workload.h"

#include "sim/workload/hw_pingpong.h"

namespace quiesce {

const std::vector<WorkloadType>& workload_types() {
  static const std::vector<WorkloadType> types = {hw_pingpong_type()};
  return types;
}

const WorkloadType* find_workload_type(const std::string& name) {
  for (const auto& t : workload_types()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const WorkloadType& validate_workload_entry(const ConfigNode& entry, const Topology& topology) {
  if (!entry.is_map()) entry.fail("a workload entry is a mapping with 'task:'");
  ConfigNode task = entry["task"];
  if (!task.present()) entry.fail("missing 'task:' (the workload type)");
  std::string name = task.scalar("a workload type name");
  const WorkloadType* t = find_workload_type(name);
  if (!t) {
    std::vector<std::string> names;
    for (const auto& w : workload_types()) names.push_back(w.name);
    std::string msg = "unknown workload type '" + name + "'";
    std::string hint = did_you_mean(name, names);
    if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
    task.fail(msg);
  }
  auto params = t->params();
  check_known_keys(entry, {params.get()});
  params->load(entry);
  t->make(entry, topology);
  return *t;
}

}  // namespace quiesce
