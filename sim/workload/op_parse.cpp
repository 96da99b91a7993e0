// Op-programs from YAML: the primitives, their operands and validation, and the tables
// `quiesce list primitives|operands` prints. (Running them: op_program.cpp.)
#include "sim/workload/op_program.h"

#include <algorithm>
#include <cstdlib>
#include <regex>

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
    {"rcu_barrier", Op::Kind::RcuBarrier},
    {"console_lock", Op::Kind::ConsoleLock},     {"console_unlock", Op::Kind::ConsoleUnlock},
};
// Lock operations and what kind of declared lock each takes.
enum class Use { Spin, Mutex, Rwsem, Semaphore, Rwlock };
struct LockOp {
  const char* name;
  Op::Kind kind;
  Use use;
};
const LockOp kLockOps[] = {
    {"lock", Op::Kind::Lock, Use::Spin},          {"unlock", Op::Kind::Unlock, Use::Spin},
    {"lock_irqsave", Op::Kind::LockIrqsave, Use::Spin}, {"unlock_irqrestore", Op::Kind::UnlockIrqrestore, Use::Spin},
    {"lock_irq", Op::Kind::LockIrq, Use::Spin},   {"unlock_irq", Op::Kind::UnlockIrq, Use::Spin},
    {"lock_bh", Op::Kind::LockBh, Use::Spin},     {"unlock_bh", Op::Kind::UnlockBh, Use::Spin},
    {"trylock", Op::Kind::Trylock, Use::Spin},    {"mutex_lock", Op::Kind::MutexLock, Use::Mutex},
    {"mutex_unlock", Op::Kind::MutexUnlock, Use::Mutex},
    {"down_read", Op::Kind::DownRead, Use::Rwsem}, {"up_read", Op::Kind::UpRead, Use::Rwsem},
    {"down_write", Op::Kind::DownWrite, Use::Rwsem}, {"up_write", Op::Kind::UpWrite, Use::Rwsem},
    {"up_read_non_owner", Op::Kind::UpReadNonOwner, Use::Rwsem}, {"rwsem_release", Op::Kind::RwsemRelease, Use::Rwsem},
    {"down", Op::Kind::Down, Use::Semaphore},     {"up", Op::Kind::Up, Use::Semaphore},
    {"down_trylock", Op::Kind::DownTrylock, Use::Semaphore},
};
const char* kKeyed[] = {"compute", "load", "store", "sleep", "wake", "wake_up", "wait_on", "complete",
                        "wait_for_completion", "raise_softirq", "queue_work", "flush_work", "printk",
                        "printk_deferred", "repeat", "choose", "frame", "lock_nested", "task_rq_lock",
                        "task_rq_unlock", "down_read_trylock", "down_write_trylock", "call_rcu", "irq_work_queue",
                        "smp_call_function_single", "smp_call_function_many", "mod_timer", "add_timer",
                        "del_timer", "del_timer_sync", "hrtimer_start", "hrtimer_cancel", "send_sig", "since",
                        "srcu_read_lock", "srcu_read_unlock", "synchronize_srcu", "call_srcu"};

std::vector<std::string> all_op_names();
}  // namespace

std::vector<std::string> primitive_names() { return all_op_names(); }

namespace {
// rwlock_t operations: {read|write}_{lock|unlock}[_irq|_irqsave/_irqrestore|_bh].
struct RwlockOp {
  std::string name;
  bool write, release;
  int flavor;
};
const std::vector<RwlockOp>& rwlock_ops() {
  static const std::vector<RwlockOp> ops = [] {
    std::vector<RwlockOp> v;
    for (bool write : {false, true}) {
      const std::string side = write ? "write_" : "read_";
      const char* lock_sfx[] = {"lock", "lock_irq", "lock_irqsave", "lock_bh"};
      const char* unlock_sfx[] = {"unlock", "unlock_irq", "unlock_irqrestore", "unlock_bh"};
      for (int f = 0; f < 4; ++f) {
        v.push_back({side + lock_sfx[f], write, false, f});
        v.push_back({side + unlock_sfx[f], write, true, f});
      }
    }
    return v;
  }();
  return ops;
}

std::vector<std::string> all_op_names() {
  std::vector<std::string> v;
  for (const auto& r : rwlock_ops()) v.push_back(r.name);
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

const char* use_name(Use u) {
  switch (u) {
    case Use::Spin: return "spinlock";
    case Use::Mutex: return "mutex";
    case Use::Rwsem: return "rwsem";
    case Use::Semaphore: return "semaphore";
    case Use::Rwlock: return "rwlock";
  }
  return "?";
}

bool fits(const std::string& kind, Use u) {
  switch (u) {
    case Use::Spin: return kind == "raw_spin" || kind == "spin";
    case Use::Mutex: return kind == "mutex";
    case Use::Rwsem: return kind == "rwsem";
    case Use::Semaphore: return kind == "semaphore";
    case Use::Rwlock: return kind == "rwlock";
  }
  return false;
}

// Every task an operand may name: the scenario's, the kernel's threads, and `current`.
std::vector<std::string> known_tasks(const WorkloadEnv& env) {
  std::vector<std::string> names = env.task_names;
  kernel::Release r;
  try {
    r = kernel::Release::parse(env.release);
  } catch (const std::invalid_argument&) {
  }
  for (auto& n : kernel::Kernel::kernel_thread_names(env.topology.cores, r)) names.push_back(std::move(n));
  names.push_back("current");
  return names;
}

void check_task(const ConfigNode& n, const std::string& name, const WorkloadEnv& env) {
  std::vector<std::string> names = known_tasks(env);
  if (std::find(names.begin(), names.end(), name) != names.end()) return;
  std::string msg = "no task named '" + name + "' (a scenario task, a kernel thread or current)";
  std::string hint = did_you_mean(name, names);
  if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
  n.fail(msg);
}

const char* kKernelLockForms =
    "this_rq()->lock, cpu_rq(N)->lock, task_rq(TASK)->lock, TASK->pi_lock, TASK->perf_event_ctxp->lock, "
    "TASK->sighand->siglock, rcu_get_root()->lock, rcu_node(N)->lock, rdp(CPU)->mynode->lock";

int cpu_arg(const ConfigNode& n, const std::string& s, const WorkloadEnv& env) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || v < 0 || v >= env.topology.cores) {
    n.fail("CPU '" + s + "' is not one of 0.." + std::to_string(env.topology.cores - 1));
  }
  return static_cast<int>(v);
}

// A lock operand: a declared lock of the right kind, or (spinlocks) a kernel lock.
LockRef parse_lock(const ConfigNode& n, const WorkloadEnv& env, Use use) {
  LockRef r;
  r.text = n.scalar("a lock");
  r.name = r.text;
  for (const auto& d : env.locks) {
    if (d.name != r.text) continue;
    if (!fits(d.kind, use)) {
      n.fail("lock '" + r.text + "' is a " + d.kind + ", not a " + use_name(use));
    }
    return r;
  }
  std::smatch m;
  static const std::regex this_rq(R"(this_rq(\(\))?->lock)"), cpu_rq(R"(cpu_rq\((\d+)\)->lock)"),
      task_rq(R"(task_rq\((.+)\)->lock)"), perf(R"((.+)->perf_event_ctxp->lock)"),
      sig(R"((.+)->sighand->siglock)"), pi(R"((.+)->pi_lock)"), root(R"(rcu_get_root\(\)->lock)"),
      node(R"(rcu_node\((\d+)\)->lock)"), leaf(R"(rdp\((\d+)\)->mynode->lock)");
  const bool kernel_form = r.text.find("->") != std::string::npos;
  if (kernel_form && use != Use::Spin) {
    n.fail("'" + r.text + "' is one of the kernel's spinlocks, not a " + std::string(use_name(use)));
  }
  if (std::regex_match(r.text, this_rq)) {
    r.kind = LockRef::Kind::ThisRq;
  } else if (std::regex_match(r.text, m, cpu_rq)) {
    r.kind = LockRef::Kind::CpuRq;
    r.n = cpu_arg(n, m[1], env);
  } else if (std::regex_match(r.text, m, task_rq)) {
    r.kind = LockRef::Kind::TaskRq;
    r.name = m[1];
    check_task(n, r.name, env);
  } else if (std::regex_match(r.text, m, perf)) {
    r.kind = LockRef::Kind::PerfCtx;
    r.name = m[1];
    check_task(n, r.name, env);
  } else if (std::regex_match(r.text, m, sig)) {
    r.kind = LockRef::Kind::Siglock;
    r.name = m[1];
    check_task(n, r.name, env);
  } else if (std::regex_match(r.text, m, pi)) {
    r.kind = LockRef::Kind::PiLock;
    r.name = m[1];
    check_task(n, r.name, env);
  } else if (std::regex_match(r.text, root)) {
    r.kind = LockRef::Kind::RcuNode;
    r.n = 0;
  } else if (std::regex_match(r.text, m, node)) {
    r.kind = LockRef::Kind::RcuNode;
    r.n = std::atoi(m[1].str().c_str());
  } else if (std::regex_match(r.text, m, leaf)) {
    r.kind = LockRef::Kind::RcuLeaf;
    r.n = cpu_arg(n, m[1], env);
  } else if (kernel_form) {
    n.fail("'" + r.text + "' is no kernel lock the model has; its locks are " + kKernelLockForms);
  } else {
    std::vector<std::string> names;
    for (const auto& d : env.locks) names.push_back(d.name);
    std::string msg = std::string(use == Use::Spin ? "lock" : use_name(use)) + " '" + r.text +
                      "' is not declared under the scenario's 'locks:'";
    std::string hint = did_you_mean(r.text, names);
    if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
    if (use == Use::Spin) msg += std::string(" (the kernel's own locks: ") + kKernelLockForms + ")";
    n.fail(msg);
  }
  return r;
}

bool yes_no(const ConfigNode& n) {
  std::string s = n.scalar("true or false");
  if (s == "true" || s == "yes") return true;
  if (s == "false" || s == "no") return false;
  n.fail("expected true or false, got \"" + s + "\"");
}

Time time_arg(const ConfigNode& n) {
  try {
    Latency l = parse_latency(n.scalar("a time"));
    if (l.cycles) n.fail("expected a time (e.g. 1ms), not cycles");
    return static_cast<Time>(l.value);
  } catch (const UnitError& e) {
    n.fail(e.what());
  }
}

kernel::Version version_arg(const ConfigNode& n) {
  std::string s = n.scalar("a Linux release (e.g. 5.5)");
  static const std::regex re(R"((\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?)");
  std::smatch m;
  if (!std::regex_match(s, m, re)) n.fail("expected a Linux release like 5.5 or 2.6.32, got \"" + s + "\"");
  kernel::Version v;
  v.major = std::atoi(m[1].str().c_str());
  v.minor = std::atoi(m[2].str().c_str());
  v.patch = m[3].matched ? std::atoi(m[3].str().c_str()) : 0;
  return v;
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
  if (key == "since") {
    ConfigNode v = n["since"];
    n.expect_keys({"since", "commit", "do", "before"});
    op.kind = Op::Kind::Since;
    op.version = version_arg(v);
    if (n["commit"].present()) op.name = n["commit"].scalar("a commit id");
    if (!n["do"].present() && !n["before"].present()) n.fail("'since:' needs 'do:' (from that release on) or 'before:'");
    if (n["do"].present()) op.body = parse_list(n["do"], env);
    if (n["before"].present()) op.other = parse_list(n["before"], env);
    return op;
  }
  if (keys.size() != 1) n.fail("a primitive is a one-key mapping (e.g. {lock: A})");
  ConfigNode v = n[key];
  for (const auto& s : kLockOps) {
    if (key == s.name) {
      op.kind = s.kind;
      op.lock = parse_lock(v, env, s.use);
      op.name = op.lock.name;
      return op;
    }
  }
  for (const auto& r : rwlock_ops()) {
    if (key == r.name) {
      op.kind = Op::Kind::Rwlock;
      op.lock = parse_lock(v, env, Use::Rwlock);
      op.name = op.lock.name;
      op.flag = r.write;
      op.release = r.release;
      op.flavor = r.flavor;
      return op;
    }
  }
  if (key == "lock_nested") {
    op.kind = Op::Kind::LockNested;
    if (!v.is_map()) v.fail("expected {lock: LOCK, subclass: 0..7}");
    v.expect_keys({"lock", "subclass"});
    op.lock = parse_lock(v["lock"], env, Use::Spin);
    op.name = op.lock.name;
    op.n = whole(v["subclass"], "a lockdep subclass", 0, kernel::kLockdepSubclasses - 1);
    return op;
  }
  if (key == "task_rq_lock" || key == "task_rq_unlock" || key == "send_sig") {
    op.kind = key == "task_rq_lock" ? Op::Kind::TaskRqLock : key == "task_rq_unlock" ? Op::Kind::TaskRqUnlock
                                                                                     : Op::Kind::SendSig;
    op.name = v.scalar("a task name");
    check_task(v, op.name, env);
    return op;
  }
  if (key == "down_read_trylock" || key == "down_write_trylock") {
    op.kind = key == "down_read_trylock" ? Op::Kind::DownReadTrylock : Op::Kind::DownWriteTrylock;
    if (v.is_map()) {  // {sem: S, do: [...]}: the body runs only if the semaphore was taken
      v.expect_keys({"sem", "do"});
      op.lock = parse_lock(v["sem"], env, Use::Rwsem);
      op.body = parse_list(v["do"], env);
    } else {
      op.lock = parse_lock(v, env, Use::Rwsem);
    }
    op.name = op.lock.name;
    return op;
  }
  if (key == "srcu_read_lock" || key == "srcu_read_unlock" || key == "synchronize_srcu") {
    op.kind = key == "srcu_read_lock" ? Op::Kind::SrcuReadLock : key == "srcu_read_unlock" ? Op::Kind::SrcuReadUnlock
                                                                                           : Op::Kind::SynchronizeSrcu;
    op.name = v.scalar("an SRCU domain name");
    return op;
  }
  if (key == "call_srcu") {
    op.kind = Op::Kind::CallSrcu;
    if (!v.is_map()) v.fail("expected {srcu: NAME, do: [...]}");
    v.expect_keys({"srcu", "do"});
    op.name = v["srcu"].scalar("an SRCU domain name");
    op.body = parse_list(v["do"], env);
    return op;
  }
  if (key == "call_rcu" || key == "irq_work_queue") {
    op.kind = key == "call_rcu" ? Op::Kind::CallRcu : Op::Kind::IrqWorkQueue;
    op.body = parse_list(v, env);
    return op;
  }
  if (key == "smp_call_function_single") {
    op.kind = Op::Kind::SmpCallSingle;
    v.expect_keys({"cpu", "wait", "do"});
    op.n = whole(v["cpu"], "a CPU", 0, env.topology.cores - 1);
    op.flag = v["wait"].present() ? yes_no(v["wait"]) : true;
    op.body = parse_list(v["do"], env);
    return op;
  }
  if (key == "smp_call_function_many") {
    op.kind = Op::Kind::SmpCallMany;
    v.expect_keys({"cpus", "wait", "do"});
    if (v["cpus"].present() && !(v["cpus"].is_scalar() && v["cpus"].scalar() == "all")) {
      if (!v["cpus"].is_list()) v["cpus"].fail("expected `all` or a list of CPUs");
      for (const auto& c : v["cpus"].items()) op.cpus.push_back(static_cast<int>(whole(c, "a CPU", 0, env.topology.cores - 1)));
    }
    op.flag = v["wait"].present() ? yes_no(v["wait"]) : true;
    op.body = parse_list(v["do"], env);
    return op;
  }
  if (key == "mod_timer" || key == "add_timer" || key == "hrtimer_start") {
    op.kind = key == "hrtimer_start" ? Op::Kind::HrtimerStart : Op::Kind::ModTimer;
    if (!v.is_map()) v.fail("expected {timer: NAME, after: TIME, do: [...]}");
    v.expect_keys({"timer", "after", "do"});
    op.name = v["timer"].scalar("a timer name");
    op.t = v["after"].present() ? time_arg(v["after"]) : 0;
    op.body = parse_list(v["do"], env);
    return op;
  }
  if (key == "del_timer" || key == "del_timer_sync" || key == "hrtimer_cancel" || key == "flush_work") {
    op.kind = key == "del_timer" ? Op::Kind::DelTimer : key == "del_timer_sync" ? Op::Kind::DelTimerSync
              : key == "hrtimer_cancel" ? Op::Kind::HrtimerCancel : Op::Kind::FlushWork;
    op.name = v.scalar(key == "flush_work" ? "a work name" : "a timer name");
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
    check_task(v, op.name, env);
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
    v.expect_keys({"cpu", "name", "do"});
    op.n = v["cpu"].present() && v["cpu"].scalar() != "this" ? whole(v["cpu"], "a CPU", 0, env.topology.cores - 1) : -1;
    if (v["name"].present()) op.name = v["name"].scalar("a work name");
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

const std::vector<std::pair<std::string, std::string>>& kernel_operand_docs() {
  static const std::vector<std::pair<std::string, std::string>> docs = {
      {"this_rq()->lock", "the runqueue lock of the CPU the program runs on (&rq->lock)"},
      {"cpu_rq(N)->lock", "CPU N's runqueue lock"},
      {"task_rq(TASK)->lock", "the runqueue lock of the CPU TASK is on (plain; {task_rq_lock: TASK} takes pi_lock first)"},
      {"TASK->pi_lock", "TASK's pi_lock (&p->pi_lock), which try_to_wake_up takes first"},
      {"TASK->perf_event_ctxp->lock", "TASK's perf context lock (&ctx->lock; the context is made on first use)"},
      {"TASK->sighand->siglock", "TASK's signal lock (&(&sighand->siglock)->rlock), which send_sig takes"},
      {"rcu_get_root()->lock", "the root rcu_node's lock (rcu_node_0; rcu_node_level_0 before 3.7)"},
      {"rcu_node(N)->lock", "rcu_node N's lock (0 is the root, leaves come last)"},
      {"rdp(CPU)->mynode->lock", "the lock of CPU's leaf rcu_node"},
  };
  return docs;
}

const std::vector<PrimitiveDoc>& primitive_docs() {
  static const std::vector<PrimitiveDoc> docs = {
      {"local_irq_save / local_irq_restore", "arch_local_irq_save", "irqs off / back as saved (a stack per runner)"},
      {"local_irq_disable / local_irq_enable", "local_irq_disable", "irqs off / on (lockdep marks held locks irq-unsafe at enable)"},
      {"preempt_disable / preempt_enable", "preempt_disable", "preemption off / on (enable may reschedule)"},
      {"local_bh_disable / local_bh_enable", "local_bh_disable", "softirqs off / on (enable runs pending softirqs)"},
      {"might_sleep", "might_sleep", "reports 'sleeping function called from invalid context' where sleeping is illegal"},
      {"might_wake", "(the 2015 proposal)", "with kernel.lockdep.might_wake: reports a wakeup under a scheduler lock or one nesting under it"},
      {"wait", "schedule", "sleeps until woken (wake, send_sig)"},
      {"rcu_read_lock / rcu_read_unlock", "__rcu_read_lock (preemptible RCU)", "a reader; the unlock may run rcu_read_unlock_special (rnp->lock, wakeups)"},
      {"synchronize_rcu / synchronize_rcu_expedited", "synchronize_rcu", "waits for a (expedited) grace period; sleeps"},
      {"rcu_barrier", "_rcu_barrier (4.4)", "barrier_mutex, a waiting cross-CPU call to each CPU with callbacks, waits for them all; sleeps"},
      {"{srcu_read_lock|srcu_read_unlock: DOMAIN}", "__srcu_read_lock (4.4)",
       "an SRCU reader of a named domain (lockdep holds the domain's map, unchecked)"},
      {"{synchronize_srcu: DOMAIN}", "__synchronize_srcu (4.4)",
       "flips the index under &sp->queue_lock and waits (polling, sleeps) for the old readers; inside a reader of "
       "the same domain (or RCU): lockdep's suspicious RCU usage, and the wait never ends"},
      {"{call_srcu: {srcu: DOMAIN, do: [...]}}", "call_srcu (4.4)",
       "queues the body; a work item (process_srcu) runs the grace period, then the callbacks with bh off"},
      {"{call_rcu: [...]}", "call_rcu", "queues the body as a callback on this CPU; it runs from RCU_SOFTIRQ after a grace period"},
      {"console_lock / console_unlock", "console_lock", "down(&console_sem) (sleeps) / up, waking a console waiter under (console_sem).lock"},
      {"{lock|unlock|lock_irqsave|unlock_irqrestore|lock_irq|unlock_irq|lock_bh|unlock_bh|trylock: LOCK}", "raw_spin_lock*",
       "a spinlock: declared, or the kernel's own (operands)"},
      {"{lock_nested: {lock: LOCK, subclass: 1..7}}", "spin_lock_nested", "lockdep sees class \"<class>/<subclass>\""},
      {"{task_rq_lock: TASK} / {task_rq_unlock: TASK}", "task_rq_lock (4.4)", "TASK's pi_lock (irqs saved), then the rq->lock of its CPU"},
      {"{mutex_lock|mutex_unlock: MUTEX}", "mutex_lock", "a declared mutex (kind: mutex); sleeps; wakes a waiter under its wait_lock"},
      {"{down_read|up_read|down_write|up_write: RWSEM}", "down_read / rwsem_wake", "a declared rwsem; the releaser wakes the waiters it grants (under sem->wait_lock before 4.7, after it from 4.7)"},
      {"{up_read_non_owner: RWSEM} / {rwsem_release: RWSEM}", "up_read_non_owner / rwsem_release",
       "the release without lockdep / lockdep's release alone (a read lock handed to another context, as bpf's irq_work does)"},
      {"{down_read_trylock|down_write_trylock: {sem: RWSEM, do: [...]}}", "down_read_trylock", "never sleeps; the body runs only if it got the semaphore"},
      {"{down|up|down_trylock: SEM}", "down / __up", "a declared semaphore (kind: semaphore, count); up() wakes the first sleeper under sem->lock"},
      {"{read_lock|read_unlock|write_lock|write_unlock[_irq|_irqsave/_irqrestore|_bh]: RWLOCK}", "queued_read_lock (4.4)",
       "a declared rwlock (kind: rwlock): readers share (an interrupt's reader passes a waiting writer), a writer "
       "waits for all; lockdep sees readers as recursive reads (their irq usage not tracked)"},
      {"{compute: CYCLES or TIME}", "-", "runs on the core (interruptible where irqs are on)"},
      {"{load|store: VAR}", "-", "a memory access to a named shared variable (coherence traffic)"},
      {"{sleep: TIME or distribution}", "schedule_hrtimeout", "sleeps on an hrtimer"},
      {"{wake: TASK}", "wake_up_process", "TASK's pi_lock, then its rq->lock (or TTWU_QUEUE); any task, kernel threads included"},
      {"{send_sig: TASK}", "send_sig -> signal_wake_up (4.4)", "TASK's sighand->siglock (irqs off), then try_to_wake_up under it if TASK sleeps"},
      {"{wake_up: QUEUE} / {wait_on: QUEUE}", "__wake_up / wait_event", "a named wait queue (its &NAME->lock), or the kernel's log_wait, rsp->gp_wq"},
      {"{complete: NAME} / {wait_for_completion: NAME}", "complete", "a named completion; complete wakes the first waiter under its lock"},
      {"{raise_softirq: NR or NAME}", "raise_softirq", "marks a softirq pending (wakes ksoftirqd outside interrupts)"},
      {"{irq_work_queue: [...]}", "irq_work_queue", "the body runs in hardirq from a self-IPI on this CPU (one pending at a time)"},
      {"{smp_call_function_single: {cpu: N, wait: BOOL, do: [...]}}", "smp_call_function_single", "the body runs on CPU N in hardirq (call-function IPI); waits for it by default"},
      {"{smp_call_function_many: {cpus: all|[N...], wait: BOOL, do: [...]}}", "smp_call_function_many (4.4)", "the body on every other listed CPU; WARNs with irqs off"},
      {"{mod_timer|add_timer: {timer: NAME, after: TIME, do: [...]}}", "mod_timer (4.4)", "a timer_list on this CPU, run from TIMER_SOFTIRQ at tick resolution under the timer's lockdep map; base->lock taken"},
      {"{del_timer: NAME} / {del_timer_sync: NAME}", "del_timer_sync (4.4)", "takes it off; _sync takes the timer's lockdep map and waits for a running callback (WARN from its own callback or hardirq)"},
      {"{hrtimer_start: {timer: NAME, after: TIME, do: [...]}}", "hrtimer_start_range_ns", "the body runs in hardirq at expiry; hrtimer_bases.lock taken; `after: 0` is already expired (kernel.hrtimer.expired_start)"},
      {"{hrtimer_cancel: NAME}", "hrtimer_cancel", "takes it off, waiting for a running callback (WARN from its own callback)"},
      {"{queue_work: {cpu: N|this, name: NAME, do: [...]}}", "queue_work_on", "the body runs in kworker/N:0; pool->lock, the worker's wakeup under it; a named work has a lockdep map"},
      {"{flush_work: NAME}", "flush_work (4.4)", "takes the work's lockdep map, then waits until it is neither pending nor running; sleeps"},
      {"{printk: TEXT} / {printk_deferred: TEXT}", "vprintk_emit", "logbuf_lock, console_sem, klogd's wakeup as the release has them"},
      {"{repeat: N, do: [...]}", "-", "the body N times"},
      {"{choose: [{weight: W, do: [...]}, ...]}", "-", "one body, at random by weight (the runner's own stream)"},
      {"{frame: FUNCTION, do: [...]}", "-", "names a kernel function for lockdep's sites and backtraces"},
      {"{since: RELEASE, commit: ID, do: [...], before: [...]}", "-", "do: from kernel.release RELEASE on; before: in earlier releases (code that changed in commit ID)"},
  };
  return docs;
}

}  // namespace quiesce
