#pragma once
// The rcu_node tree's nodes and RCU's per-CPU data, shared by tree.cpp and exp.cpp.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "sim/kernel/kernel.h"
#include "sim/kernel/rcu/rcu.h"

namespace quiesce::kernel {

struct Rcu::Node {
  std::unique_ptr<RawSpinLock> lock;
  int parent = -1;
  int level = 0;
  uint64_t grpmask = 0;  // this node's bit in its parent's masks
  int grplo = 0, grphi = 0;
  uint64_t qsmask = 0;   // children that owe the current normal GP a quiescent state
  uint64_t expmask = 0;  // children that owe the current expedited GP one
  bool leaf = false;
  std::deque<Task*> blkd_tasks;
};

struct Rcu::Callback {
  uint64_t gp;  // runs once `completed_` reaches it
  std::function<void()> func;
  int cpu;  // queued on
};

struct Rcu::CpuData {
  int leaf = 0;
  uint64_t bit = 0;          // in the leaf's masks
  bool qs_pending = false;   // owes the current normal GP a quiescent state
  bool passed_qs = false;    // passed one, not yet reported to the tree
  bool deferred_qs = false;  // an expedited QS the variant deferred
  bool irq_work_pending = false;
  bool stop_requested = false;  // before 4.4: its stopper has work
  Addr dynticks = 0;            // rdtp->dynticks, read by the expedited GP's initiator
  std::deque<Callback> cbs;     // rdp->nxtlist: this CPU's callbacks, oldest first
  bool nocb_defer_wakeup = false;
  uint64_t dynticks_snap = 0;  // NO_HZ idle: its idle entries when the grace period began  // call_rcu() with irqs off owes its rcuop kthread a wakeup
};

}  // namespace quiesce::kernel
