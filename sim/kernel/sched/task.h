#pragma once
// A kernel task: its own stack (a context), run only while it is a CPU's current task, on
// that CPU's SystemC thread. A context switch switches stacks on the thread
// (sched/context.cpp); the outgoing task resumes when some CPU switches it in again.
#include <systemc>

#include <bitset>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/base/stats.h"
#include "sim/kernel/arch.h"
#include "sim/kernel/locking/lockdep.h"

namespace quiesce::kernel {

struct RawSpinLock;
struct PerfContext;

// Preemptible RCU's per-task state (Linux's rcu_read_lock_nesting and the
// rcu_read_unlock_special flags).
struct RcuTaskState {
  int nesting = 0;
  bool blocked = false;      // preempted inside a reader: queued on a leaf's blocked list
  bool need_qs = false;      // the tick asked for a quiescent state
  bool exp_need_qs = false;  // the expedited IPI found it in a reader
  int blocked_node = -1;
  uint64_t blocks_gp = 0;    // the normal GP (number) it holds open, 0 if none
  uint64_t blocks_exp = 0;   // the expedited GP it holds open, 0 if none
  Time read_start = -1;      // outermost rcu_read_lock(), for the guarantee checker
  // The expedited IPI that found it inside a reader (what opened the 2015 window).
  int exp_ipi_from = -1;
  Time exp_ipi_raised = 0, exp_ipi_handled = 0;
};

inline constexpr int kMaxCpus = quiesce::kMaxCores;

enum class TaskState { Running, Runnable, Sleeping, Dead };
enum class Policy { Normal, Fifo };
const char* task_state_name(TaskState s);

struct WaitQueue;
struct TaskContext;
// Frees a context (sched/context.cpp), so that holders need not see its type.
struct TaskContextDeleter {
  void operator()(TaskContext* x) const;
};
using TaskContextPtr = std::unique_ptr<TaskContext, TaskContextDeleter>;

struct Task {
  Task() = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  int pid = 0;
  std::string comm;
  Policy policy = Policy::Normal;
  int rt_priority = 0;  // 1..99 for Fifo (higher runs first)
  TaskState state = TaskState::Sleeping;
  bool on_rq = false;   // runnable or running
  bool on_cpu = false;  // some CPU's current task
  bool is_idle = false;
  bool kthread = false;  // the kernel's own threads (ksoftirqd, kworker, klogd, rcu_preempt)
  const struct Mutex* blocked_on = nullptr;  // the mutex it sleeps on (task->blocked_on)
  int cpu = 0;  // the CPU it runs on, or will run on when woken
  std::bitset<kMaxCpus> allowed;
  Time slice_left = 0;

  std::function<void()> body;

  // lockdep's held-lock stack (interrupt handlers push onto the interrupted task's, as
  // in Linux) and the kernel-model call stack used for sites and backtraces.
  RawSpinLock* pi_lock = nullptr;  // p->pi_lock
  std::vector<HeldLock> held_locks;
  std::vector<const char*> frames;
  int lockdep_recursion = 0;  // lockdep_off() depth: lockdep ignores this task's locks meanwhile

  RcuTaskState rcu;
  PerfContext* perf_ctx = nullptr;  // task->perf_event_ctxp
  Time expected_wake = -1;  // the timer expiry a pending wakeup answers (wakeup latency)
  uint64_t wake_flow = 0;   // the trace flow from its last wakeup to its next switch-in
  Histogram* wakeup_latency = nullptr;
  std::function<void(Time)> on_wakeup_latency;  // a probe's own record (cyclictest's histogram)
  uint64_t switches = 0;
  void* workload = nullptr;  // owned by the workload that made the task
  // Its entry on the wait queue it sleeps on, linked in place as v4.4's on-stack
  // wait_queue_t is (see WaitQueue).
  Task* wq_next = nullptr;
  const WaitQueue* wq_on = nullptr;

  bool rt() const { return policy == Policy::Fifo; }

  TaskContextPtr context;  // its stack and where it resumes (sched/context.cpp)
};

}  // namespace quiesce::kernel
