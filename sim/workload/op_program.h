#pragma once
// Op-programs: a task (or an interrupt handler, a hook, a callback) whose body is a list
// of kernel primitives written in YAML, so studies and tests can build lock patterns and
// users can write their own kernel bugs without C++:
//
//   program:
//     - repeat: 1000
//       do: [local_irq_save, {lock: this_rq()->lock}, {compute: 200},
//            {unlock: this_rq()->lock}, local_irq_restore, {sleep: 10us}]
//
// Every primitive, its operands and what it does is in primitive_docs() (op_parse.cpp),
// which `quiesce list primitives` prints and README's "Writing your own kernel bug"
// follows. Lock operands are a declared lock (`locks:`) or one of the kernel's own:
// this_rq()->lock, cpu_rq(N)->lock, task_rq(TASK)->lock, TASK->pi_lock,
// TASK->perf_event_ctxp->lock, TASK->sighand->siglock, rcu_get_root()->lock,
// rcu_node(N)->lock, rdp(CPU)->mynode->lock. TASK is a scenario task, a kernel thread
// (ksoftirqd/N, kworker/N:0, rcu_preempt, klogd, migration/N before 4.4) or `current`.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/base/dist.h"
#include "sim/base/rng.h"
#include "sim/workload/workload.h"

namespace quiesce {

// A lock operand: a declared lock, or one of the kernel's own locks.
struct LockRef {
  enum class Kind { Declared, ThisRq, CpuRq, TaskRq, PiLock, PerfCtx, Siglock, RcuNode, RcuLeaf };
  Kind kind = Kind::Declared;
  std::string name;  // the declared lock, or the task
  int n = 0;         // CPU or rcu_node index
  std::string text;  // as written
};

struct Op {
  enum class Kind {
    IrqSave, IrqRestore, IrqDisable, IrqEnable, PreemptDisable, PreemptEnable, BhDisable, BhEnable,
    MightSleep, MightWake, Wait, RcuReadLock, RcuReadUnlock, SynchronizeRcu, SynchronizeRcuExpedited, RcuBarrier,
    ConsoleLock, ConsoleUnlock,
    Lock, LockNested, Unlock, LockIrqsave, UnlockIrqrestore, LockIrq, UnlockIrq, LockBh, UnlockBh, Trylock,
    MutexLock, MutexUnlock, TaskRqLock, TaskRqUnlock,
    DownRead, DownReadTrylock, UpRead, UpReadNonOwner, RwsemRelease, DownWrite, DownWriteTrylock, UpWrite, Down, DownTrylock, Up,
    Compute, ComputeTime, Load, Store, Sleep, Wake, WakeUp, WaitOn, Complete, WaitForCompletion, RaiseSoftirq,
    QueueWork, FlushWork, CallRcu, IrqWorkQueue, SmpCallSingle, SmpCallMany, ModTimer, DelTimer, DelTimerSync,
    HrtimerStart, HrtimerCancel, SendSig, Printk, PrintkDeferred,
    SrcuReadLock, SrcuReadUnlock, SynchronizeSrcu, CallSrcu, Rwlock,
    Repeat, Choose, Frame, Since
  };
  Kind kind = Kind::Compute;
  std::string name;  // lock, variable, task, text, function, timer, work or semaphore
  LockRef lock;      // lock operations
  int64_t n = 0;     // cycles, count, softirq number, cpu, lockdep subclass
  bool flag = false; // wait (cross-CPU calls); write (rwlocks)
  // rwlocks: 0 plain, 1 _irq, 2 _irqsave/_irqrestore, 3 _bh; and whether it is the unlock.
  int flavor = 0;
  bool release = false;
  std::vector<int> cpus;  // smp_call_function_many: empty = all
  Time t = 0;
  std::shared_ptr<Distribution> dist;
  std::vector<Op> body;
  std::vector<Op> other;  // since: the code before that release
  kernel::Version version;  // since
  std::vector<std::pair<double, std::vector<Op>>> choices;
  std::string where;  // file:line:column, for run-time errors
};

// One primitive for `quiesce list primitives` and README.
struct PrimitiveDoc {
  const char* syntax;
  const char* linux_fn;  // the Linux function it follows (and release)
  const char* does;      // locks taken, wakeups, context rules
};
const std::vector<PrimitiveDoc>& primitive_docs();
// Every primitive's keyword (what a program item is written as).
std::vector<std::string> primitive_names();
// The kernel lock operands, each with what it reaches.
const std::vector<std::pair<std::string, std::string>>& kernel_operand_docs();

// Parses and validates a program list against the scenario's locks and tasks.
std::vector<Op> parse_program(const ConfigNode& list, const WorkloadEnv& env);

// Runs a program on the calling task (or in the interrupt handler, hook or callback that
// calls it). An `atomic` runner (hooks) never sleeps: a sleeping primitive where Linux may
// not sleep is reported (might_sleep) and skipped, as a callout inside the scheduler must.
class ProgramRunner {
 public:
  ProgramRunner(kernel::Kernel& k, SharedObjects& shared, uint64_t seed, const std::string& stream,
                bool atomic = false);
  ~ProgramRunner();
  void run(const std::vector<Op>& program);

 private:
  bool may_sleep();
  kernel::Task& task_of(const Op& op, const std::string& name);
  kernel::RawSpinLock& lock_of(const Op& op);
  kernel::KTimer& timer_of(const Op& op, bool hr);
  // The runner of a callback body (one per primitive and CPU: callbacks of one primitive
  // can run on several CPUs at once).
  ProgramRunner& sub(const Op& op, int cpu, bool atomic);

  kernel::Kernel& k_;
  SharedObjects& shared_;
  Rng rng_;
  const bool atomic_;
  std::vector<bool> saved_flags_;
  struct QueuedWork {
    kernel::WorkItem item;
    std::unique_ptr<ProgramRunner> runner;  // a kworker runs it: its own flag stack
  };
  std::map<const Op*, std::unique_ptr<QueuedWork>> works_;
  std::map<std::pair<const Op*, int>, std::unique_ptr<ProgramRunner>> subs_;
  std::map<std::pair<const Op*, int>, std::unique_ptr<kernel::IrqWork>> irq_works_;
  std::map<std::string, std::vector<int>> srcu_idx_;  // srcu_read_lock()'s indexes, per domain
  // task_rq(TASK)->lock as resolved when taken (TASK may move before the unlock, as C code
  // keeps the rq it locked).
  std::map<std::string, std::vector<kernel::RawSpinLock*>> task_rq_held_;
  kernel::RawSpinLock& acquired(const Op& op);
  kernel::RawSpinLock& released(const Op& op);
  uint64_t seed_;
  std::string stream_;
};

}  // namespace quiesce
