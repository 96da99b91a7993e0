#include "sim/workload/workload.h"

#include <algorithm>

#include "sim/workload/hw_pingpong.h"
#include "sim/workload/kernel_tasks.h"
#include "sim/workload/rcu_tasks.h"

namespace quiesce {

const std::vector<WorkloadType>& workload_types() {
  static const std::vector<WorkloadType> types = {hw_pingpong_type(), program_type(), sleeper_type(),
                                                  cyclictest_type(), irq_type(), softirq_type(), hook_type(),
                                                  perf_monitor_type(), exp_gp_updater_type(), gp_updater_type(),
                                                  rcu_reader_type()};
  return types;
}

const WorkloadType* find_workload_type(const std::string& name) {
  for (const auto& t : workload_types()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

namespace {
// DESIGN.md's `task: irq_load` is a device interrupt source, like an `irq:` entry.
bool is_irq_entry(const ConfigNode& e) {
  return e["irq"].present() || (e["task"].is_scalar() && e["task"].scalar() == "irq_load");
}
}  // namespace

const WorkloadType& entry_type(const ConfigNode& entry) {
  const WorkloadType* t = is_irq_entry(entry)          ? find_workload_type("irq")
                          : entry["softirq"].present() ? find_workload_type("softirq")
                          : entry["hook"].present()    ? find_workload_type("hook")
                                                       : find_workload_type(entry["task"].scalar());
  if (!t) throw std::logic_error("entry_type on an unvalidated entry");
  return *t;
}

const WorkloadType& validate_workload_entry(const ConfigNode& entry, const WorkloadEnv& env) {
  if (!entry.is_map()) entry.fail("a workload entry is a mapping with 'task:' (or 'irq:' for a device)");
  const WorkloadType* t = nullptr;
  if (is_irq_entry(entry)) {
    t = find_workload_type("irq");
  } else if (entry["softirq"].present()) {
    t = find_workload_type("softirq");
  } else if (entry["hook"].present()) {
    t = find_workload_type("hook");
  } else {
    ConfigNode task = entry["task"];
    if (!task.present()) entry.fail("missing 'task:' (the workload type) or 'irq:' (a device)");
    std::string name = task.scalar("a workload type name");
    if (name == "custom") name = "program";  // DESIGN.md's spelling
    t = find_workload_type(name);
    if (!t || t->name == "irq" || t->name == "softirq" || t->name == "hook") {
      std::vector<std::string> names;
      for (const auto& w : workload_types()) {
        if (w.name != "irq" && w.name != "softirq" && w.name != "hook") names.push_back(w.name);
      }
      std::string msg = "unknown workload type '" + name + "'";
      std::string hint = did_you_mean(name, names);
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      task.fail(msg);
    }
  }
  auto params = t->params();
  check_known_keys(entry, {params.get()}, t->extra_keys);
  params->load(entry);
  t->make(entry, env);
  return *t;
}

std::string kernel_class_operand(const std::string& cls) {
  std::string base = cls;
  const size_t slash = base.rfind('/');
  if (slash != std::string::npos && slash + 1 < base.size() &&
      base.find_first_not_of("0123456789", slash + 1) == std::string::npos) {
    base = base.substr(0, slash);  // "&rq->lock/1": a subclass of the kernel's class
  }
  const std::string bare = !base.empty() && base[0] == '&' ? base.substr(1) : base;
  for (const auto& k : kernel::Kernel::kernel_lock_classes()) {
    const std::string kc = k.cls;
    const std::string kbare = !kc.empty() && kc[0] == '&' ? kc.substr(1) : kc;
    if (base == kc || bare == kbare) return k.operand;
  }
  if (bare.rfind("rcu_node_", 0) == 0) return "rcu_get_root()->lock, rcu_node(N)->lock or rdp(CPU)->mynode->lock";
  return "";
}

std::vector<LockDecl> parse_locks(const ConfigNode& node) {
  std::vector<LockDecl> out;
  if (!node.present()) return out;
  if (!node.is_map()) node.fail("'locks:' maps lock names to {class, kind, share_line_with, count}");
  for (const auto& name : node.keys()) {
    ConfigNode d = node[name];
    LockDecl decl;
    decl.name = name;
    decl.cls = name;
    if (d.present()) {
      d.expect_keys({"class", "kind", "share_line_with", "count"});
      if (d["class"].present()) decl.cls = d["class"].scalar("a lock class name");
      if (d["kind"].present()) {
        decl.kind = d["kind"].scalar("raw_spin, spin, rwlock, mutex, rwsem or semaphore");
        if (decl.kind != "raw_spin" && decl.kind != "spin" && decl.kind != "mutex" && decl.kind != "rwsem" &&
            decl.kind != "semaphore" && decl.kind != "rwlock") {
          d["kind"].fail("kind is raw_spin, spin, rwlock, mutex, rwsem or semaphore, not '" + decl.kind + "'");
        }
      }
      if (d["share_line_with"].present()) decl.share_line_with = d["share_line_with"].scalar("a lock name");
      if (d["count"].present()) {
        if (decl.kind != "semaphore") d["count"].fail("only a semaphore has a count");
        std::string c = d["count"].scalar("a count");
        char* end = nullptr;
        long v = std::strtol(c.c_str(), &end, 10);
        if (c.empty() || *end || v < 0 || v > 1000000) d["count"].fail("a semaphore's count is 0 to 1000000");
        decl.count = static_cast<int>(v);
      }
    }
    ConfigNode at = d.present() && d["class"].present() ? d["class"] : node;
    if (std::string real = kernel_class_operand(decl.cls); !real.empty()) {
      at.fail("lock '" + name + "' would borrow the kernel's lock class '" + decl.cls +
              "': a declared lock is a different lock that only looks like the kernel's (it can never "
              "really deadlock with it). Use the kernel's own lock: " + real);
    }
    out.push_back(decl);
  }
  for (const auto& d : out) {
    if (d.share_line_with.empty()) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const LockDecl& o) { return o.name == d.share_line_with; });
    ConfigNode at = node[d.name]["share_line_with"];
    if (it == out.end()) at.fail("no lock named '" + d.share_line_with + "'");
    const auto spin = [](const std::string& k) { return k == "raw_spin" || k == "spin"; };
    if (!spin(it->kind) || !spin(d.kind)) at.fail("only spinlocks share cache lines");
    if (!it->share_line_with.empty()) at.fail("'" + d.share_line_with + "' itself shares another lock's line");
  }
  return out;
}

std::vector<std::string> entry_task_names(const ConfigNode& entry, size_t index, const Topology& topology) {
  if (!entry.is_map() || is_irq_entry(entry) || entry["softirq"].present() || entry["hook"].present()) return {};
  ConfigNode task = entry["task"];
  if (!task.is_scalar()) return {};
  std::string type = task.scalar();
  std::string name = entry["name"].is_scalar() ? entry["name"].scalar() : type + std::to_string(index);
  if (type == "cyclictest") {
    std::vector<std::string> names;
    for (int c = 0; c < topology.cores; ++c) names.push_back(name + "/" + std::to_string(c));
    return names;
  }
  if (type == "hw_pingpong") return {};
  return {name};
}

Addr SharedObjects::var(const std::string& name) {
  auto it = vars.find(name);
  if (it != vars.end()) return it->second;
  Addr a = kernel->alloc(8);
  vars[name] = a;
  return a;
}

kernel::WaitQueue& SharedObjects::queue(const std::string& name) {
  if (kernel::WaitQueue* k = kernel->kernel_wait_queue(name)) return *k;
  auto& q = queues[name];
  if (!q) q = std::make_unique<kernel::WaitQueue>(kernel->make_wait_queue(name));
  return *q;
}

kernel::SrcuStruct& SharedObjects::srcu(const std::string& name) {
  auto& s = srcus[name];
  if (!s) s = kernel->make_srcu(name);
  return *s;
}

kernel::Completion& SharedObjects::completion(const std::string& name) {
  auto& c = completions[name];
  if (!c) {
    c = std::make_unique<kernel::Completion>();
    kernel->init_completion(*c, name);
  }
  return *c;
}

void SharedObjects::create_locks(const std::vector<LockDecl>& decls) {
  for (const auto& d : decls) {
    if (d.kind == "mutex") {
      mutexes[d.name] = kernel->make_mutex(d.name, kernel->lock_class(d.cls, kernel::WaitType::Sleep));
    } else if (d.kind == "rwsem") {
      rwsems[d.name] = kernel->make_rwsem(d.name, kernel->lock_class(d.cls, kernel::WaitType::Sleep));
    } else if (d.kind == "rwlock") {
      rwlocks[d.name] = kernel->make_rwlock(d.name, kernel->lock_class(d.cls, kernel::WaitType::Spin));
    } else if (d.kind == "semaphore") {
      semaphores[d.name] = kernel->make_semaphore(d.cls, d.count);
    }
  }
  for (int pass = 0; pass < 2; ++pass) {  // hosts first, then the locks sharing their lines
    for (const auto& d : decls) {
      if ((d.kind != "raw_spin" && d.kind != "spin") || d.share_line_with.empty() != (pass == 0)) continue;
      kernel::WaitType w = d.kind == "spin" ? kernel::WaitType::Spin : kernel::WaitType::RawSpin;
      const kernel::RawSpinLock* host = d.share_line_with.empty() ? nullptr : locks.at(d.share_line_with).get();
      locks[d.name] = kernel->make_lock(d.name, kernel->lock_class(d.cls, w), host);
    }
  }
}

}  // namespace quiesce
