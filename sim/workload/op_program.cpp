#include "sim/workload/op_program.h"

#include <algorithm>
#include <cstdlib>

namespace quiesce {
namespace {

using kernel::Kernel;

struct Simple {
  const char* name;
  Op::Kind kind;
};
const Simple kSimple[] = {
    {"local_irq_save", Op::Kind::IrqSave},       {"local_irq_restore", Op::Kind::IrqRestore},
    {"local_irq_disable", Op::Kind::IrqDisable}, {"local_irq_enable", Op::Kind::IrqEnable},
    {"preempt_disable", Op::Kind::PreemptDisable}, {"preempt_enable", Op::Kind::PreemptEnable},
    {"local_bh_disable", Op::Kind::BhDisable},   {"local_bh_enable", Op::Kind::BhEnable},
    {"might_sleep", Op::Kind::MightSleep},       {"might_wake", Op::Kind::MightWake},
    {"wait", Op::Kind::Wait},
    {"rcu_read_lock", Op::Kind::RcuReadLock},    {"rcu_read_unlock", Op::Kind::RcuReadUnlock},
    {"synchronize_rcu", Op::Kind::SynchronizeRcu}, {"synchronize_rcu_expedited", Op::Kind::SynchronizeRcuExpedited},
    {"console_lock", Op::Kind::ConsoleLock},     {"console_unlock", Op::Kind::ConsoleUnlock},
};
const Simple kLockOps[] = {
    {"lock", Op::Kind::Lock},          {"unlock", Op::Kind::Unlock},
    {"lock_irqsave", Op::Kind::LockIrqsave}, {"unlock_irqrestore", Op::Kind::UnlockIrqrestore},
    {"lock_irq", Op::Kind::LockIrq},   {"unlock_irq", Op::Kind::UnlockIrq},
    {"lock_bh", Op::Kind::LockBh},     {"unlock_bh", Op::Kind::UnlockBh},
    {"trylock", Op::Kind::Trylock},    {"mutex_lock", Op::Kind::MutexLock},
    {"mutex_unlock", Op::Kind::MutexUnlock},
};
const char* kKeyed[] = {"compute", "load", "store", "sleep", "wake", "wake_up", "wait_on", "complete", "wait_for_completion", "raise_softirq", "queue_work",
                        "printk", "printk_deferred", "repeat", "choose", "frame", "lock_nested"};

std::vector<std::string> all_op_names() {
  std::vector<std::string> v;
  for (const auto& s : kSimple) v.push_back(s.name);
  for (const auto& s : kLockOps) v.push_back(s.name);
  for (const char* k : kKeyed) v.push_back(k);
  return v;
}

[[noreturn]] void unknown_op(const ConfigNode& n, const std::string& name) {
  for (const auto& s : kSimple) {
    if (name == s.name) n.fail("'" + name + "' takes no argument: write it as a plain item (- " + name + ")");
  }
  std::string msg = "unknown primitive '" + name + "'";
  std::string hint = did_you_mean(name, all_op_names());
  if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
  n.fail(msg);
}

int64_t whole(const ConfigNode& n, const char* what, int64_t lo, int64_t hi) {
  std::string s = n.scalar(what);
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end || v < lo || v > hi) {
    n.fail(std::string("expected ") + what + " from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got \"" + s + "\"");
  }
  return v;
}

Op parse_op(const ConfigNode& n, const WorkloadEnv& env);

std::vector<Op> parse_list(const ConfigNode& list, const WorkloadEnv& env) {
  if (!list.is_list()) list.fail("expected a list of primitives");
  std::vector<Op> out;
  for (const auto& item : list.items()) out.push_back(parse_op(item, env));
  return out;
}

void check_lock(const ConfigNode& n, const std::string& name, const WorkloadEnv& env, bool mutex) {
  std::vector<std::string> names;
  for (const auto& d : env.locks) {
    names.push_back(d.name);
    if (d.name == name) {
      if (mutex != (d.kind == "mutex")) {
        n.fail("lock '" + name + "' is a " + d.kind + (mutex ? "; use lock/unlock" : "; use mutex_lock/mutex_unlock"));
      }
      return;
    }
  }
  std::string msg = "lock '" + name + "' is not declared under the scenario's 'locks:'";
  std::string hint = did_you_mean(name, names);
  if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
  n.fail(msg);
}

Op parse_op(const ConfigNode& n, const WorkloadEnv& env) {
  Op op;
  op.where = n.where();
  if (n.is_scalar()) {
    std::string name = n.scalar();
    for (const auto& s : kSimple) {
      if (name == s.name) {
        op.kind = s.kind;
        return op;
      }
    }
    unknown_op(n, name);
  }
  if (!n.is_map()) n.fail("a primitive is a name or a one-key mapping");
  auto keys = n.keys();
  std::string key = keys.empty() ? "" : keys.front();
  if (key == "repeat") {
    n.expect_keys({"repeat", "do"});
    op.kind = Op::Kind::Repeat;
    op.n = whole(n["repeat"], "a repeat count", 0, 100000000);
    op.body = parse_list(n["do"], env);
    return op;
  }
  if (key == "frame") {
    n.expect_keys({"frame", "do"});
    op.kind = Op::Kind::Frame;
    op.name = n["frame"].scalar("a function name");
    op.body = parse_list(n["do"], env);
    return op;
  }
  if (keys.size() != 1) n.fail("a primitive is a one-key mapping (e.g. {lock: A})");
  ConfigNode v = n[key];
  for (const auto& s : kLockOps) {
    if (key == s.name) {
      op.kind = s.kind;
      op.name = v.scalar("a lock name");
      check_lock(v, op.name, env, op.kind == Op::Kind::MutexLock || op.kind == Op::Kind::MutexUnlock);
      return op;
    }
  }
  if (key == "lock_nested") {
    op.kind = Op::Kind::LockNested;
    if (!v.is_map()) v.fail("expected {lock: LOCK, subclass: 0..7}");
    v.expect_keys({"lock", "subclass"});
    op.name = v["lock"].scalar("a lock name");
    check_lock(v["lock"], op.name, env, false);
    op.n = whole(v["subclass"], "a lockdep subclass", 0, kernel::kLockdepSubclasses - 1);
    return op;
  }
  if (key == "compute") {
    std::string s = v.scalar("cycles or a time");
    try {
      Latency l = parse_latency(s);
      if (l.cycles) {
        op.kind = Op::Kind::Compute;
        op.n = static_cast<int64_t>(l.value);
      } else {
        op.kind = Op::Kind::ComputeTime;
        op.t = static_cast<Time>(l.value);
      }
    } catch (const UnitError& e) {
      v.fail(e.what());
    }
    return op;
  }
  if (key == "load" || key == "store") {
    op.kind = key == "load" ? Op::Kind::Load : Op::Kind::Store;
    op.name = v.scalar("a variable name");
    return op;
  }
  if (key == "sleep") {
    op.kind = Op::Kind::Sleep;
    op.dist = std::make_shared<Distribution>(Distribution::parse(v));
    return op;
  }
  if (key == "wake") {
    op.kind = Op::Kind::Wake;
    op.name = v.scalar("a task name");
    if (std::find(env.task_names.begin(), env.task_names.end(), op.name) == env.task_names.end()) {
      std::string msg = "no task named '" + op.name + "'";
      std::string hint = did_you_mean(op.name, env.task_names);
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      v.fail(msg);
    }
    return op;
  }
  if (key == "complete" || key == "wait_for_completion") {
    op.kind = key == "complete" ? Op::Kind::Complete : Op::Kind::WaitForCompletion;
    op.name = v.scalar("a completion name");
    return op;
  }
  if (key == "wake_up" || key == "wait_on") {
    op.kind = key == "wake_up" ? Op::Kind::WakeUp : Op::Kind::WaitOn;
    op.name = v.scalar("a wait queue name");
    return op;
  }
  if (key == "raise_softirq") {
    op.kind = Op::Kind::RaiseSoftirq;
    std::string s = v.scalar("a softirq number or name");
    for (int i = 0; i < kernel::NR_SOFTIRQS; ++i) {
      if (s == kernel::softirq_name(i) || s == std::to_string(i)) {
        op.n = i;
        return op;
      }
    }
    v.fail("unknown softirq '" + s + "' (HI, TIMER, NET_TX, NET_RX, BLOCK, IRQ_POLL, TASKLET, SCHED, HRTIMER, RCU)");
  }
  if (key == "queue_work") {
    op.kind = Op::Kind::QueueWork;
    v.expect_keys({"cpu", "do"});
    op.n = whole(v["cpu"], "a CPU", 0, env.topology.cores - 1);
    op.body = parse_list(v["do"], env);
    return op;
  }
  if (key == "printk" || key == "printk_deferred") {
    op.kind = key == "printk" ? Op::Kind::Printk : Op::Kind::PrintkDeferred;
    op.name = v.scalar("a message");
    return op;
  }
  if (key == "choose") {
    op.kind = Op::Kind::Choose;
    if (!v.is_list() || v.size() == 0) v.fail("expected a list of {weight: W, do: [...]}");
    for (const auto& c : v.items()) {
      c.expect_keys({"weight", "do"});
      std::string w = c["weight"].scalar("a weight");
      char* end = nullptr;
      double weight = std::strtod(w.c_str(), &end);
      if (*end || !(weight >= 0)) c["weight"].fail("a weight is a number >= 0");
      op.choices.emplace_back(weight, parse_list(c["do"], env));
    }
    return op;
  }
  unknown_op(n, key);
}

}  // namespace

std::vector<Op> parse_program(const ConfigNode& list, const WorkloadEnv& env) { return parse_list(list, env); }

ProgramRunner::ProgramRunner(Kernel& k, SharedObjects& shared, uint64_t seed, const std::string& stream)
    : k_(k), shared_(shared), rng_(seed, stream), seed_(seed), stream_(stream) {}

void ProgramRunner::run(const std::vector<Op>& program) {
  for (const Op& op : program) {
    switch (op.kind) {
      case Op::Kind::IrqSave: saved_flags_.push_back(k_.local_irq_save()); break;
      case Op::Kind::IrqRestore:
        if (saved_flags_.empty()) throw ConfigError(op.where, "", "local_irq_restore without a local_irq_save");
        k_.local_irq_restore(saved_flags_.back());
        saved_flags_.pop_back();
        break;
      case Op::Kind::IrqDisable: k_.local_irq_disable(); break;
      case Op::Kind::IrqEnable: k_.local_irq_enable(); break;
      case Op::Kind::PreemptDisable: k_.preempt_disable(); break;
      case Op::Kind::PreemptEnable: k_.preempt_enable(); break;
      case Op::Kind::BhDisable: k_.local_bh_disable(); break;
      case Op::Kind::BhEnable: k_.local_bh_enable(); break;
      case Op::Kind::ConsoleLock: k_.console_lock(); break;
      case Op::Kind::ConsoleUnlock: k_.console_unlock(); break;
      case Op::Kind::MightSleep: k_.might_sleep(); break;
      case Op::Kind::MightWake: k_.might_wake(); break;
      case Op::Kind::Wait:
        k_.might_sleep();
        if (k_.in_interrupt()) break;  // reported; a handler cannot sleep
        k_.set_current_state(kernel::TaskState::Sleeping);
        k_.schedule();
        break;
      case Op::Kind::RcuReadLock: k_.rcu().rcu_read_lock(); break;
      case Op::Kind::RcuReadUnlock: k_.rcu().rcu_read_unlock(); break;
      case Op::Kind::SynchronizeRcu:
        if (k_.in_interrupt()) {
          k_.might_sleep();
          break;
        }
        k_.rcu().synchronize_rcu();
        break;
      case Op::Kind::SynchronizeRcuExpedited:
        if (k_.in_interrupt()) {
          k_.might_sleep();
          break;
        }
        k_.rcu().synchronize_rcu_expedited();
        break;
      case Op::Kind::Lock: k_.raw_spin_lock(*shared_.locks.at(op.name)); break;
      case Op::Kind::LockNested: k_.raw_spin_lock_nested(*shared_.locks.at(op.name), static_cast<int>(op.n)); break;
      case Op::Kind::Unlock: k_.raw_spin_unlock(*shared_.locks.at(op.name)); break;
      case Op::Kind::LockIrqsave: saved_flags_.push_back(k_.raw_spin_lock_irqsave(*shared_.locks.at(op.name))); break;
      case Op::Kind::UnlockIrqrestore: {
        if (saved_flags_.empty()) throw ConfigError(op.where, "", "unlock_irqrestore without lock_irqsave");
        const bool f = saved_flags_.back();
        saved_flags_.pop_back();
        k_.raw_spin_unlock_irqrestore(*shared_.locks.at(op.name), f);
        break;
      }
      case Op::Kind::LockIrq: k_.raw_spin_lock_irq(*shared_.locks.at(op.name)); break;
      case Op::Kind::UnlockIrq: k_.raw_spin_unlock_irq(*shared_.locks.at(op.name)); break;
      case Op::Kind::LockBh: k_.raw_spin_lock_bh(*shared_.locks.at(op.name)); break;
      case Op::Kind::UnlockBh: k_.raw_spin_unlock_bh(*shared_.locks.at(op.name)); break;
      case Op::Kind::Trylock: k_.raw_spin_trylock(*shared_.locks.at(op.name)); break;
      case Op::Kind::MutexLock:
        if (k_.in_interrupt()) {
          k_.might_sleep();
          break;
        }
        k_.mutex_lock(*shared_.mutexes.at(op.name));
        break;
      case Op::Kind::MutexUnlock: k_.mutex_unlock(*shared_.mutexes.at(op.name)); break;
      case Op::Kind::Compute: k_.compute(static_cast<uint64_t>(op.n)); break;
      case Op::Kind::ComputeTime: k_.compute_for(op.t); break;
      case Op::Kind::Load: k_.this_core().load(shared_.var(op.name)); break;
      case Op::Kind::Store: k_.this_core().store(shared_.var(op.name), 1); break;
      case Op::Kind::Sleep:
        if (k_.in_interrupt()) {
          k_.might_sleep();  // reported; a handler cannot sleep
          break;
        }
        k_.sleep_for(op.dist->sample(rng_));
        break;
      case Op::Kind::Wake: k_.wake_up_process(*shared_.tasks.at(op.name)); break;
      case Op::Kind::WakeUp:
        shared_.queue_wakes[op.name] = shared_.queue_waits[op.name];
        k_.wake_up(shared_.queue(op.name));
        break;
      case Op::Kind::WaitOn: {
        k_.might_sleep();
        if (k_.in_interrupt()) break;
        kernel::WaitQueue& q = shared_.queue(op.name);
        const uint64_t gen = ++shared_.queue_waits[op.name];
        k_.wait_event(q, [this, &op, gen] { return shared_.queue_wakes[op.name] >= gen; });
        break;
      }
      case Op::Kind::Complete: k_.complete(shared_.completion(op.name)); break;
      case Op::Kind::WaitForCompletion:
        if (k_.in_interrupt()) {
          k_.might_sleep();
          break;
        }
        k_.wait_for_completion(shared_.completion(op.name));
        break;
      case Op::Kind::RaiseSoftirq: k_.raise_softirq(static_cast<int>(op.n)); break;
      case Op::Kind::QueueWork: {
        auto& slot = works_[&op];
        if (!slot) {
          slot = std::make_unique<QueuedWork>();
          slot->runner = std::make_unique<ProgramRunner>(k_, shared_, seed_, stream_ + ".work" + std::to_string(works_.size()));
          slot->item.name = "op_program_work";
          ProgramRunner* r = slot->runner.get();
          const std::vector<Op>* body = &op.body;
          slot->item.func = [r, body] { r->run(*body); };
        }
        k_.queue_work_on(static_cast<int>(op.n), slot->item);
        break;
      }
      case Op::Kind::Printk: k_.printk(op.name); break;
      case Op::Kind::PrintkDeferred: k_.printk_deferred(op.name); break;
      case Op::Kind::Repeat:
        for (int64_t i = 0; i < op.n; ++i) run(op.body);
        break;
      case Op::Kind::Choose: {
        double total = 0;
        for (const auto& c : op.choices) total += c.first;
        double u = rng_.uniform() * total;
        for (const auto& c : op.choices) {
          if (u < c.first) {
            run(c.second);
            break;
          }
          u -= c.first;
        }
        break;
      }
      case Op::Kind::Frame: {
        kernel::Kernel::Frame f(k_, op.name.c_str());
        run(op.body);
        break;
      }
    }
  }
}

}  // namespace quiesce
