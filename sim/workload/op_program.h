#pragma once
// Op-programs: a task (or an interrupt handler) whose body is a list of kernel primitives
// written in YAML, so studies and tests can build lock patterns without C++:
//
//   program:
//     - repeat: 1000
//       do: [local_irq_save, {lock: ctx_lock}, {compute: 200}, {unlock: ctx_lock},
//            local_irq_restore, {sleep: 10us}]
//
// Primitives: local_irq_save/local_irq_restore (a stack), local_irq_disable/enable,
// preempt_disable/enable, local_bh_disable/enable, might_sleep, might_wake, wait (sleep
// until woken), rcu_read_lock/rcu_read_unlock, synchronize_rcu, synchronize_rcu_expedited; {lock|unlock|lock_irqsave|unlock_irqrestore|lock_irq|unlock_irq|lock_bh|
// unlock_bh|trylock: LOCK} for raw spinlocks, {lock_nested: {lock: LOCK, subclass: 0..7}}
// (spin_lock_nested(): lockdep sees class "<class>/<subclass>"), {mutex_lock|mutex_unlock:
// LOCK} for mutexes;
// {compute: CYCLES or TIME}; {load: VAR}; {store: VAR}; {sleep: TIME or distribution};
// {wake: TASK}; {wake_up: QUEUE} (wake a named wait queue's waiters, if any);
// {wait_on: QUEUE} (sleep on it until woken); {complete: NAME} and
// {wait_for_completion: NAME} (a named completion); {raise_softirq: NR or NAME}; {queue_work: {cpu: N, do: [...]}};
// {printk: TEXT}; {printk_deferred: TEXT}; {repeat: N, do: [...]};
// {choose: [{weight: W, do: [...]}, ...]}; {frame: FUNCTION, do: [...]} (names a kernel
// function for lockdep's sites and backtraces).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/base/dist.h"
#include "sim/base/rng.h"
#include "sim/workload/workload.h"

namespace quiesce {

struct Op {
  enum class Kind {
    IrqSave, IrqRestore, IrqDisable, IrqEnable, PreemptDisable, PreemptEnable, BhDisable, BhEnable,
    MightSleep, MightWake, Wait, RcuReadLock, RcuReadUnlock, SynchronizeRcu, SynchronizeRcuExpedited,
    ConsoleLock, ConsoleUnlock,
    Lock, LockNested, Unlock, LockIrqsave, UnlockIrqrestore, LockIrq, UnlockIrq, LockBh, UnlockBh, Trylock,
    MutexLock, MutexUnlock,
    Compute, ComputeTime, Load, Store, Sleep, Wake, WakeUp, WaitOn, Complete, WaitForCompletion, RaiseSoftirq, QueueWork, Printk, PrintkDeferred,
    Repeat, Choose, Frame
  };
  Kind kind = Kind::Compute;
  std::string name;  // lock, variable, task, text or function
  int64_t n = 0;     // cycles, count, softirq number, cpu, lockdep subclass
  Time t = 0;
  std::shared_ptr<Distribution> dist;
  std::vector<Op> body;
  std::vector<std::pair<double, std::vector<Op>>> choices;
  std::string where;  // file:line:column, for run-time errors
};

// Parses and validates a program list against the scenario's locks and tasks.
std::vector<Op> parse_program(const ConfigNode& list, const WorkloadEnv& env);

// Runs a program on the calling task (or in the interrupt handler that calls it).
class ProgramRunner {
 public:
  ProgramRunner(kernel::Kernel& k, SharedObjects& shared, uint64_t seed, const std::string& stream);
  void run(const std::vector<Op>& program);

 private:
  kernel::Kernel& k_;
  SharedObjects& shared_;
  Rng rng_;
  std::vector<bool> saved_flags_;
  struct QueuedWork {
    kernel::WorkItem item;
    std::unique_ptr<ProgramRunner> runner;  // a kworker runs it: its own flag stack
  };
  std::map<const Op*, std::unique_ptr<QueuedWork>> works_;
  uint64_t seed_;
  std::string stream_;
};

}  // namespace quiesce
