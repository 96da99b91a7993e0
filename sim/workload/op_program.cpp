// Running op-programs on the kernel model (parsing them: op_parse.cpp).
#include "sim/workload/op_program.h"

namespace quiesce {

using kernel::Kernel;

ProgramRunner::ProgramRunner(Kernel& k, SharedObjects& shared, uint64_t seed, const std::string& stream, bool atomic)
    : k_(k), shared_(shared), rng_(seed, stream), atomic_(atomic), seed_(seed), stream_(stream) {}

ProgramRunner::~ProgramRunner() = default;

// Whether a sleeping primitive may sleep here. In an interrupt, or in an atomic runner (a
// hook) with irqs or preemption off, it is reported as Linux's might_sleep() does and
// skipped: the model never schedules from inside the scheduler.
bool ProgramRunner::may_sleep() {
  if (k_.in_interrupt() || (atomic_ && (k_.irqs_disabled() || k_.preempt_count() > 0))) {
    k_.might_sleep();
    return false;
  }
  return true;
}

kernel::Task& ProgramRunner::task_of(const Op& op, const std::string& name) {
  if (name == "current") return k_.current();
  auto it = shared_.tasks.find(name);
  if (it != shared_.tasks.end()) return *it->second;
  if (kernel::Task* t = k_.find_task(name)) return *t;
  throw ConfigError(op.where, "", "no task named '" + name + "' in this kernel");
}

kernel::RawSpinLock& ProgramRunner::lock_of(const Op& op) {
  const LockRef& r = op.lock;
  switch (r.kind) {
    case LockRef::Kind::Declared: return *shared_.locks.at(r.name);
    case LockRef::Kind::ThisRq: return k_.rq_lock(k_.this_cpu());
    case LockRef::Kind::CpuRq: return k_.rq_lock(r.n);
    case LockRef::Kind::TaskRq: return k_.rq_lock(task_of(op, r.name).cpu);
    case LockRef::Kind::PiLock: return *task_of(op, r.name).pi_lock;
    case LockRef::Kind::PerfCtx: return *k_.perf().attach(task_of(op, r.name)).lock;
    case LockRef::Kind::Siglock: return k_.siglock(task_of(op, r.name));
    case LockRef::Kind::RcuNode:
      if (r.n >= k_.rcu().nodes()) {
        throw ConfigError(op.where, "", "rcu_node(" + std::to_string(r.n) + ") does not exist: this tree has " +
                                            std::to_string(k_.rcu().nodes()) + " nodes (0 is the root)");
      }
      return k_.rcu().node_lock(r.n);
    case LockRef::Kind::RcuLeaf: return k_.rcu().node_lock(k_.rcu().leaf_of(r.n));
  }
  throw std::logic_error("lock_of");
}

kernel::KTimer& ProgramRunner::timer_of(const Op& op, bool hr) {
  auto& t = shared_.timers[op.name];
  if (!t) {
    t = std::make_unique<kernel::KTimer>();
    k_.init_timer(*t, op.name, hr, [] {});
  }
  if (t->hr != hr) {
    throw ConfigError(op.where, "", "timer '" + op.name + "' is " + (t->hr ? "an hrtimer" : "a timer_list") +
                                        ": use " + (t->hr ? "hrtimer_start/hrtimer_cancel" : "mod_timer/del_timer"));
  }
  return *t;
}

kernel::RawSpinLock& ProgramRunner::acquired(const Op& op) {
  kernel::RawSpinLock& l = lock_of(op);
  if (op.lock.kind == LockRef::Kind::TaskRq) task_rq_held_[op.lock.name].push_back(&l);
  return l;
}

kernel::RawSpinLock& ProgramRunner::released(const Op& op) {
  if (op.lock.kind != LockRef::Kind::TaskRq) return lock_of(op);
  auto& stack = task_rq_held_[op.lock.name];
  if (stack.empty()) return lock_of(op);  // not taken here: the unlock reports a bad unlock
  kernel::RawSpinLock* l = stack.back();
  stack.pop_back();
  return *l;
}

ProgramRunner& ProgramRunner::sub(const Op& op, int cpu, bool atomic) {
  auto& r = subs_[{&op, cpu}];
  if (!r) {
    r = std::make_unique<ProgramRunner>(k_, shared_, seed_, stream_ + ".cb" + std::to_string(subs_.size()), atomic);
  }
  return *r;
}

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
      case Op::Kind::ConsoleLock:
        if (may_sleep()) k_.console_lock();
        break;
      case Op::Kind::ConsoleUnlock: k_.console_unlock(); break;
      case Op::Kind::MightSleep: k_.might_sleep(); break;
      case Op::Kind::MightWake: k_.might_wake(); break;
      case Op::Kind::Wait:
        k_.might_sleep();
        if (!may_sleep()) break;
        k_.set_current_state(kernel::TaskState::Sleeping);
        k_.schedule();
        break;
      case Op::Kind::RcuReadLock: k_.rcu().rcu_read_lock(); break;
      case Op::Kind::RcuReadUnlock: k_.rcu().rcu_read_unlock(); break;
      case Op::Kind::SynchronizeRcu:
        if (may_sleep()) k_.rcu().synchronize_rcu();
        break;
      case Op::Kind::SynchronizeRcuExpedited:
        if (may_sleep()) k_.rcu().synchronize_rcu_expedited();
        break;
      case Op::Kind::RcuBarrier:
        if (may_sleep()) k_.rcu().rcu_barrier();
        break;
      case Op::Kind::Lock: k_.raw_spin_lock(acquired(op)); break;
      case Op::Kind::LockNested: k_.raw_spin_lock_nested(acquired(op), static_cast<int>(op.n)); break;
      case Op::Kind::Unlock: k_.raw_spin_unlock(released(op)); break;
      case Op::Kind::LockIrqsave: saved_flags_.push_back(k_.raw_spin_lock_irqsave(acquired(op))); break;
      case Op::Kind::UnlockIrqrestore: {
        if (saved_flags_.empty()) throw ConfigError(op.where, "", "unlock_irqrestore without lock_irqsave");
        const bool f = saved_flags_.back();
        saved_flags_.pop_back();
        k_.raw_spin_unlock_irqrestore(released(op), f);
        break;
      }
      case Op::Kind::LockIrq: k_.raw_spin_lock_irq(acquired(op)); break;
      case Op::Kind::UnlockIrq: k_.raw_spin_unlock_irq(released(op)); break;
      case Op::Kind::LockBh: k_.raw_spin_lock_bh(acquired(op)); break;
      case Op::Kind::UnlockBh: k_.raw_spin_unlock_bh(released(op)); break;
      case Op::Kind::Trylock: {
        kernel::RawSpinLock& l = lock_of(op);
        if (k_.raw_spin_trylock(l) && op.lock.kind == LockRef::Kind::TaskRq) task_rq_held_[op.lock.name].push_back(&l);
        break;
      }
      case Op::Kind::TaskRqLock: saved_flags_.push_back(k_.task_rq_lock(task_of(op, op.name))); break;
      case Op::Kind::TaskRqUnlock: {
        if (saved_flags_.empty()) throw ConfigError(op.where, "", "task_rq_unlock without task_rq_lock");
        const bool f = saved_flags_.back();
        saved_flags_.pop_back();
        k_.task_rq_unlock(task_of(op, op.name), f);
        break;
      }
      case Op::Kind::MutexLock:
        if (may_sleep()) k_.mutex_lock(*shared_.mutexes.at(op.name));
        break;
      case Op::Kind::MutexUnlock: k_.mutex_unlock(*shared_.mutexes.at(op.name)); break;
      case Op::Kind::DownRead:
        if (may_sleep()) k_.down_read(*shared_.rwsems.at(op.name));
        break;
      case Op::Kind::DownWrite:
        if (may_sleep()) k_.down_write(*shared_.rwsems.at(op.name));
        break;
      case Op::Kind::DownReadTrylock:
      case Op::Kind::DownWriteTrylock: {
        kernel::RwSemaphore& sem = *shared_.rwsems.at(op.name);
        const bool got = op.kind == Op::Kind::DownReadTrylock ? k_.down_read_trylock(sem) : k_.down_write_trylock(sem);
        if (got) run(op.body);
        break;
      }
      case Op::Kind::UpRead: k_.up_read(*shared_.rwsems.at(op.name)); break;
      case Op::Kind::UpReadNonOwner: k_.up_read_non_owner(*shared_.rwsems.at(op.name)); break;
      case Op::Kind::RwsemRelease: k_.lock_map_release(*shared_.rwsems.at(op.name)->cls); break;
      case Op::Kind::UpWrite: k_.up_write(*shared_.rwsems.at(op.name)); break;
      case Op::Kind::Down:
        if (may_sleep()) k_.down(*shared_.semaphores.at(op.name));
        break;
      case Op::Kind::DownTrylock: k_.down_trylock(*shared_.semaphores.at(op.name)); break;
      case Op::Kind::Up: k_.up(*shared_.semaphores.at(op.name)); break;
      case Op::Kind::Compute: k_.compute(static_cast<uint64_t>(op.n)); break;
      case Op::Kind::ComputeTime: k_.compute_for(op.t); break;
      case Op::Kind::Load: k_.this_core().load(shared_.var(op.name)); break;
      case Op::Kind::Store: k_.this_core().store(shared_.var(op.name), 1); break;
      case Op::Kind::Sleep:
        if (may_sleep()) k_.sleep_for(op.dist->sample(rng_));
        break;
      case Op::Kind::Wake: k_.wake_up_process(task_of(op, op.name)); break;
      case Op::Kind::SendSig: k_.send_sig(task_of(op, op.name)); break;
      case Op::Kind::WakeUp: k_.wake_up(shared_.queue(op.name)); break;
      case Op::Kind::WaitOn: {
        k_.might_sleep();
        if (!may_sleep()) break;
        kernel::WaitQueue& q = shared_.queue(op.name);
        const uint64_t seen = q.wakes;
        k_.wait_event(q, [&q, seen] { return q.wakes > seen; });
        break;
      }
      case Op::Kind::Complete: k_.complete(shared_.completion(op.name)); break;
      case Op::Kind::WaitForCompletion:
        if (may_sleep()) k_.wait_for_completion(shared_.completion(op.name));
        break;
      case Op::Kind::RaiseSoftirq: k_.raise_softirq(static_cast<int>(op.n)); break;
      case Op::Kind::QueueWork: {
        auto& slot = works_[&op];
        if (!slot) {
          slot = std::make_unique<QueuedWork>();
          slot->runner = std::make_unique<ProgramRunner>(k_, shared_, seed_, stream_ + ".work" + std::to_string(works_.size()));
          slot->item.name = op.name.empty() ? "op_program_work" : op.name.c_str();
          if (!op.name.empty()) {
            slot->item.map = &k_.lock_class("(" + op.name + ")", kernel::WaitType::Sleep);
            shared_.works[op.name] = &slot->item;
          }
          ProgramRunner* r = slot->runner.get();
          const std::vector<Op>* body = &op.body;
          slot->item.func = [r, body] { r->run(*body); };
        }
        k_.queue_work_on(op.n < 0 ? k_.this_cpu() : static_cast<int>(op.n), slot->item);
        break;
      }
      case Op::Kind::FlushWork: {
        auto it = shared_.works.find(op.name);
        if (it == shared_.works.end()) {
          throw ConfigError(op.where, "", "flush_work: no work item named '" + op.name + "' has been queued yet");
        }
        if (may_sleep()) k_.flush_work(*it->second);
        break;
      }
      case Op::Kind::CallRcu: {
        ProgramRunner* r = &sub(op, k_.this_cpu(), true);
        k_.rcu().call_rcu([r, &op] { r->run(op.body); });
        break;
      }
      case Op::Kind::IrqWorkQueue: {
        auto& w = irq_works_[{&op, k_.this_cpu()}];
        if (!w) {
          w = std::make_unique<kernel::IrqWork>();
          w->name = "op_program_irq_work";
          ProgramRunner* r = &sub(op, k_.this_cpu(), true);
          w->func = [r, &op] { r->run(op.body); };
        }
        k_.irq_work_queue(*w);
        break;
      }
      case Op::Kind::SmpCallSingle: {
        const int cpu = static_cast<int>(op.n);
        ProgramRunner* r = &sub(op, cpu, true);
        k_.smp_call_function_single(cpu, [r, &op] { r->run(op.body); }, op.flag);
        break;
      }
      case Op::Kind::SmpCallMany: {
        std::vector<int> cpus = op.cpus;
        if (cpus.empty()) {
          for (int c = 0; c < k_.nr_cpus(); ++c) cpus.push_back(c);
        }
        for (int c : cpus) sub(op, c, true);
        k_.smp_call_function_many(cpus, [this, &op] { sub(op, k_.this_cpu(), true).run(op.body); }, op.flag);
        break;
      }
      case Op::Kind::ModTimer:
      case Op::Kind::HrtimerStart: {
        const bool hr = op.kind == Op::Kind::HrtimerStart;
        kernel::KTimer& t = timer_of(op, hr);
        ProgramRunner* r = &sub(op, k_.this_cpu(), true);
        t.fn = [r, &op] { r->run(op.body); };
        if (hr) {
          k_.hrtimer_start(t, k_.now() + op.t);
        } else {
          k_.mod_timer(t, k_.now() + op.t);
        }
        break;
      }
      case Op::Kind::DelTimer: k_.del_timer(timer_of(op, false)); break;
      case Op::Kind::DelTimerSync: k_.del_timer_sync(timer_of(op, false)); break;
      case Op::Kind::HrtimerCancel: k_.hrtimer_cancel(timer_of(op, true)); break;
      case Op::Kind::Rwlock: {
        kernel::RwLock& l = *shared_.rwlocks.at(op.name);
        if (!op.release) {
          if (op.flavor == 1) k_.local_irq_disable();
          if (op.flavor == 2) saved_flags_.push_back(k_.local_irq_save());
          if (op.flavor == 3) k_.local_bh_disable();
          if (op.flag) {
            k_.write_lock(l);
          } else {
            k_.read_lock(l);
          }
          break;
        }
        if (op.flavor == 2 && saved_flags_.empty()) {
          throw ConfigError(op.where, "", "an _irqrestore without its _irqsave");
        }
        if (op.flag) {
          k_.write_unlock(l);
        } else {
          k_.read_unlock(l);
        }
        if (op.flavor == 1) k_.local_irq_enable();
        if (op.flavor == 2) {
          k_.local_irq_restore(saved_flags_.back());
          saved_flags_.pop_back();
        }
        if (op.flavor == 3) k_.local_bh_enable();
        break;
      }
      case Op::Kind::SrcuReadLock: srcu_idx_[op.name].push_back(k_.srcu_read_lock(shared_.srcu(op.name))); break;
      case Op::Kind::SrcuReadUnlock: {
        auto& stack = srcu_idx_[op.name];
        if (stack.empty()) throw ConfigError(op.where, "", "srcu_read_unlock(" + op.name + ") without srcu_read_lock");
        k_.srcu_read_unlock(shared_.srcu(op.name), stack.back());
        stack.pop_back();
        break;
      }
      case Op::Kind::SynchronizeSrcu:
        if (may_sleep()) k_.synchronize_srcu(shared_.srcu(op.name));
        break;
      case Op::Kind::CallSrcu: {
        ProgramRunner* r = &sub(op, k_.this_cpu(), false);
        k_.call_srcu(shared_.srcu(op.name), [r, &op] { r->run(op.body); });
        break;
      }
      case Op::Kind::Printk: k_.printk(op.name); break;
      case Op::Kind::PrintkDeferred: k_.printk_deferred(op.name); break;
      case Op::Kind::Repeat:
        for (int64_t i = 0; i < op.n; ++i) run(op.body);
        break;
      case Op::Kind::Since:
        run(k_.release().version() >= op.version ? op.body : op.other);
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
