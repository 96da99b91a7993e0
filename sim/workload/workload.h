#pragma once
// Workloads: what runs on the simulated machine. Each YAML `workload:` entry names a
// type (`task: hw_pingpong`); the type declares its parameters (listed by `quiesce list
// params`), builds its threads at elaboration and reports metrics at the end. Types are
// registered in one explicit table (workload_types()), never by static self-registration.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/base/config.h"
#include "sim/base/params.h"
#include "sim/base/units.h"
#include "sim/hw/platform.h"
#include "sim/kernel/kernel.h"

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
  std::vector<std::pair<std::string, std::string>> files;  // extra output files: name, content
};

// A lock declared under the scenario's `locks:` (op-programs name them). Its class may not
// be one of the kernel's own (Kernel::kernel_lock_classes): those locks are operands.
struct LockDecl {
  std::string name;
  std::string cls;              // lockdep class name (default: the lock's name)
  std::string kind = "raw_spin";  // raw_spin | spin | mutex | rwsem | semaphore | rwlock
  std::string share_line_with;  // another lock's name: same cache line (false sharing)
  int count = 1;                // a semaphore's initial count
};

// What validation knows about the whole scenario when it checks one entry.
struct WorkloadEnv {
  Topology topology;
  std::vector<LockDecl> locks;
  std::vector<std::string> task_names;  // every task any entry creates
  int irq_index = 0;                   // device irq entries seen so far (SPI numbering)
  size_t entry_index = 0;              // this entry's position in `workload:`
  uint64_t seed = 1;
  std::string release = "4.4";  // kernel.release (kernel threads, `since:`)
};

// Named objects shared by every entry's op-programs at run time.
struct SharedObjects {
  kernel::Kernel* kernel = nullptr;
  std::map<std::string, std::unique_ptr<kernel::RawSpinLock>> locks;
  std::map<std::string, std::unique_ptr<kernel::Mutex>> mutexes;
  std::map<std::string, std::unique_ptr<kernel::RwSemaphore>> rwsems;
  std::map<std::string, std::unique_ptr<kernel::Semaphore>> semaphores;
  std::map<std::string, std::unique_ptr<kernel::RwLock>> rwlocks;
  std::map<std::string, std::unique_ptr<kernel::KTimer>> timers;
  std::map<std::string, std::unique_ptr<kernel::SrcuStruct>> srcus;
  kernel::SrcuStruct& srcu(const std::string& name);
  std::map<std::string, kernel::WorkItem*> works;  // named queue_work items (flush_work)
  std::map<std::string, Addr> vars;
  std::map<std::string, kernel::Task*> tasks;
  std::map<std::string, std::unique_ptr<kernel::WaitQueue>> queues;
  std::map<std::string, std::unique_ptr<kernel::Completion>> completions;
  Addr var(const std::string& name);
  // A scenario's wait queue, or the kernel's own of that name (log_wait, rsp->gp_wq).
  kernel::WaitQueue& queue(const std::string& name);
  kernel::Completion& completion(const std::string& name);
  // Creates the declared locks (during elaboration).
  void create_locks(const std::vector<LockDecl>& decls);
};

// The operand that reaches the kernel's own lock of class `cls` ("&rq->lock", also as
// "rq->lock" or a subclass "&rq->lock/1"), or "" when the kernel owns no such class.
std::string kernel_class_operand(const std::string& cls);
// Parses and validates a scenario's `locks:` mapping.
std::vector<LockDecl> parse_locks(const ConfigNode& node);
// The task names an entry will create (for `wake:` targets and duplicate checks).
std::vector<std::string> entry_task_names(const ConfigNode& entry, size_t index, const Topology& topology);

class Workload {
 public:
  virtual ~Workload() = default;
  // Creates threads and wiring (called during elaboration). `kernel` is null for
  // bare-metal workloads.
  virtual void elaborate(Platform& platform, kernel::Kernel* kernel, SharedObjects* shared) = 0;
  // True when the workload has nothing left to do (the run may end early).
  virtual bool finished() const = 0;
  // False for open-ended workloads (loops forever, device sources): they never hold a run
  // open and never make it incomplete.
  virtual bool bounded() const { return true; }
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
  bool needs_kernel = true;
  std::vector<std::string> extra_keys;  // keys the type parses itself (e.g. `program`)
  std::function<std::unique_ptr<ParamGroup>()> params;
  // `entry` is the YAML mapping; its keys have been checked against params(). Also called
  // by validation, so every check on the entry lives here.
  std::function<std::unique_ptr<Workload>(const ConfigNode& entry, const WorkloadEnv& env)> make;
};

const std::vector<WorkloadType>& workload_types();
const WorkloadType* find_workload_type(const std::string& name);

// Validates one `workload:` entry (its type, its keys, its values). Returns the type.
const WorkloadType& validate_workload_entry(const ConfigNode& entry, const WorkloadEnv& env);
// The type an entry names (`task:` or, for device interrupts, `irq:`); assumes validated.
const WorkloadType& entry_type(const ConfigNode& entry);

}  // namespace quiesce
