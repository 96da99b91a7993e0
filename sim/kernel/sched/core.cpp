// The scheduler: runqueues, __schedule and the context switch, try_to_wake_up, the tick,
// preemption, wait queues and completions.
#include <algorithm>

#include "sim/kernel/kernel.h"

namespace quiesce::kernel {

namespace {
void set_rt_active(uint64_t (&bits)[2], int prio, bool on) {
  const uint64_t b = uint64_t{1} << (prio % 64);
  bits[prio / 64] = on ? bits[prio / 64] | b : bits[prio / 64] & ~b;
}
// sched_find_first_bit(), v4.4, on the model's order (a higher rt_priority runs first).
int highest_rt_active(const uint64_t (&bits)[2]) {
  if (bits[1]) return 64 + 63 - __builtin_clzll(bits[1]);
  if (bits[0]) return 63 - __builtin_clzll(bits[0]);
  return -1;
}
}  // namespace

void Kernel::enqueue(Rq& rq, Task& p, bool head) {
  if (p.is_idle) return;
  if (p.rt()) {
    auto& q = rq.rt[static_cast<size_t>(p.rt_priority)];
    q.insert(head ? q.begin() : q.end(), &p);
    set_rt_active(rq.rt_active, p.rt_priority, true);
  } else if (head) {
    rq.normal.push_front(&p);
  } else {
    rq.normal.push_back(&p);
  }
  p.on_rq = true;
  ++rq.nr_running;
}

void Kernel::dequeue(Rq& rq, Task& p) {
  if (p.is_idle) return;
  if (p.rt()) {
    auto& q = rq.rt[static_cast<size_t>(p.rt_priority)];
    auto it = std::find(q.begin(), q.end(), &p);
    if (it == q.end()) return;
    q.erase(it);
    if (q.empty()) set_rt_active(rq.rt_active, p.rt_priority, false);
  } else {
    auto it = std::find(rq.normal.begin(), rq.normal.end(), &p);
    if (it == rq.normal.end()) return;
    rq.normal.erase(it);
  }
  --rq.nr_running;
}

// pick_next_task(), v4.4: the highest RT priority first, then the fair class, then idle.
Task* Kernel::pick_next(Rq& rq) {
  const int prio = highest_rt_active(rq.rt_active);
  Task* t = prio >= 0 ? rq.rt[static_cast<size_t>(prio)].front() : rq.normal.empty() ? nullptr : rq.normal.front();
  if (t == nullptr) return rq.idle;
  dequeue(rq, *t);
  return t;
}

bool Kernel::should_preempt(const Task& curr, const Task& p) const {
  if (curr.is_idle) return true;
  if (p.rt()) return !curr.rt() || p.rt_priority > curr.rt_priority;
  return false;
}

int Kernel::select_cpu(Task& p) {
  if (p.allowed.test(static_cast<size_t>(p.cpu))) return p.cpu;
  for (int c = 0; c < nr_cpus(); ++c) {
    if (p.allowed.test(static_cast<size_t>(c))) return c;
  }
  return p.cpu;
}

void Kernel::resched_curr(int cpu) {
  Cpu& c = cpu_of(cpu);
  if (c.need_resched) return;
  c.need_resched = true;
  if (cpu == this_cpu()) return;
  ++resched_ipis;
  send_ipi(cpu, kIpiReschedule);
}

void Kernel::set_current_state(TaskState s) {
  current().state = s;
  this_core().alu();
}

void Kernel::schedule() {
  Frame f(*this, "schedule");
  preempt_disable();
  __schedule(false);
  preempt_enable_no_resched();
}

void Kernel::preempt_schedule() {
  Frame f(*this, "preempt_schedule");
  preempt_disable();
  __schedule(true);
  preempt_enable_no_resched();
}

void Kernel::preempt_schedule_irq() {
  Frame f(*this, "preempt_schedule_irq");
  preempt_disable();
  local_irq_enable();
  __schedule(true);
  local_irq_disable();
  preempt_enable_no_resched();
}

void Kernel::cond_resched() {
  if (this_cpu_data().need_resched && preempt_count() == 0 && !irqs_disabled() && !in_interrupt()) preempt_schedule();
}

void Kernel::__schedule(bool preempt) {
  Frame f(*this, "__schedule");
  Task* prev = &current();
  if (rcu_ && !prev->is_idle) rcu_->note_context_switch(preempt);
  local_irq_disable();
  Cpu& c = this_cpu_data();
  raw_spin_lock(*c.rq.lock);
  if (!prev->is_idle) run_hook(Hook::UpdateCurr, *prev);  // put_prev_task -> update_curr
  if (prev->state != TaskState::Running && !preempt) {
    prev->on_rq = false;  // deactivate: it sleeps (or exits)
    run_hook(Hook::Dequeue, *prev);
  } else if (!prev->is_idle) {
    prev->state = TaskState::Runnable;
    enqueue(c.rq, *prev, preempt && (prev->rt() || prev->slice_left > 0));
  }
  Task* next = pick_next(c.rq);
  c.need_resched = false;
  if (next == prev) {
    prev->state = TaskState::Running;
    raw_spin_unlock(*c.rq.lock);
    local_irq_enable();
    return;
  }
  ++context_switches;
  ++next->switches;
  run_hook(Hook::SchedSwitch, *prev);  // trace_sched_switch(), before context_switch()
  // Idle left from an interrupt's preemption (the model's idle task is preemptible; Linux's
  // idle loop calls tick_nohz_idle_exit() before schedule()): the tick restarts either way.
  if (prev->is_idle && nohz_idle_) tick_nohz_idle_exit();
  if (perf_) perf_->sched_out(*prev);  // perf_event_task_sched_out, under rq->lock
  this_core().compute(static_cast<uint64_t>(switch_cost_));
  context_switch(c, prev, next);
  // prev runs again (possibly much later): finish the switch that brought it back.
  finish_task_switch(prev);
}

void Kernel::context_switch(Cpu& c, Task* prev, Task* next) {
  if (tracer_) {
    trace(TraceKind::Switch, static_cast<int>(prev->state), "", next->wake_flow, next->is_idle ? 0 : next->pid);
    next->wake_flow = 0;
  }
  c.rq.curr = next;
  c.vcd_task = next->is_idle ? 0 : next->pid;
  prev->on_cpu = false;
  next->on_cpu = true;
  next->on_rq = true;
  next->state = TaskState::Running;
  next->cpu = c.id;
  // The runqueue lock passes to the next task, which releases it in finish_task_switch.
  RawSpinLock& l = *c.rq.lock;
  auto it = std::find_if(prev->held_locks.rbegin(), prev->held_locks.rend(),
                         [&](const HeldLock& h) { return h.cls == l.cls->id; });
  if (it != prev->held_locks.rend()) {
    next->held_locks.push_back(*it);
    prev->held_locks.erase(std::next(it).base());
  }
  l.owner = next;
  if (prev->state == TaskState::Dead) prev->on_rq = false;
  switch_to(c, *prev, *next);  // for good when prev is dead
}

void Kernel::finish_task_switch(Task*) {
  Task& t = current();
  Cpu& c = cpu_of(t.cpu);
  if (perf_) perf_->sched_in(t);  // perf_event_task_sched_in, before rq->lock is released
  raw_spin_unlock(*c.rq.lock);
  local_irq_enable();
  if (t.expected_wake >= 0) {
    const Time lat = now() - t.expected_wake;
    wakeup_latency.record(lat);
    if (t.wakeup_latency) t.wakeup_latency->record(lat);
    if (t.on_wakeup_latency) t.on_wakeup_latency(lat);
    t.expected_wake = -1;
  }
}

// try_to_wake_up(), v4.4: p->pi_lock, then either the target CPU's rq->lock or, where
// TTWU_QUEUE applies (ttwu_queues), the target's wake list and a reschedule IPI.
bool Kernel::try_to_wake_up(Task& p) {
  Frame f(*this, "try_to_wake_up");
  // The wakeup-placement check; holding any spinlock means a raised preempt count, so most
  // wakeups skip the scan of the rcu_node locks.
  if (rcu_ && preempt_count() > 0 && rcu_->holds_node_lock(current())) ++rcu_->wakeups_under_rnp_lock;
  const bool flags = raw_spin_lock_irqsave(*p.pi_lock);
  bool woke = false;
  if (p.state == TaskState::Sleeping) {
    if (!p.on_cpu) run_hook(Hook::SelectTaskRq, p);
    const int cpu = p.on_cpu ? p.cpu : select_cpu(p);
    if (!p.on_cpu && !p.on_rq && ttwu_queues(this_cpu(), cpu)) {
      ttwu_queue_remote(p, cpu);
    } else {
      Rq& rq = cpu_of(cpu).rq;
      raw_spin_lock(*rq.lock);
      if (p.on_cpu || p.on_rq) {
        // Still on its CPU, on the way into schedule(): it just keeps running.
        p.state = TaskState::Running;
      } else {
        p.cpu = cpu;
        p.state = TaskState::Runnable;
        enqueue(rq, p);
        run_hook(Hook::Enqueue, p);  // ttwu_activate -> enqueue_task
        if (tracer_) {
          p.wake_flow = (uint64_t{0xff} << 56) ^ (static_cast<uint64_t>(p.pid) << 40) ^ static_cast<uint64_t>(now());
          trace(TraceKind::Wakeup, cpu, p.comm.c_str(), p.wake_flow, p.pid);
        }
        if (should_preempt(*rq.curr, p)) resched_curr(cpu);
      }
      raw_spin_unlock(*rq.lock);
    }
    this_core().compute(static_cast<uint64_t>(wakeup_cost_));
    ++wakeups;
    woke = true;
  }
  raw_spin_unlock_irqrestore(*p.pi_lock, flags);
  return woke;
}

// wake_up_process(), v4.4: try_to_wake_up() on one task; might_wake (the seed's proposal)
// annotates it as a wakeup path.
bool Kernel::wake_up_process(Task& p) {
  Frame f(*this, "wake_up_process");
  might_wake();
  return try_to_wake_up(p);
}

// ttwu_queue(): queue to a remote CPU from 3.0 (317f394160e9), and from 3.3 only to one
// that shares no cache with this one (518cd6234178): cpus_share_cache(), the platform's
// topology.llc level.
bool Kernel::ttwu_queues(int from, int to) const {
  if (!ttwu_queue_ || from == to) return false;
  if (!ttwu_queue_llc_) return true;
  return !platform_.topology().share_cache(from, to);
}

// ttwu_queue_remote(), v4.4: the task waits on the target's wake list (TASK_WAKING, not yet
// on a runqueue); only the wakeup that finds the list empty sends the IPI (llist_add).
void Kernel::ttwu_queue_remote(Task& p, int cpu) {
  Frame f(*this, "ttwu_queue_remote");
  p.cpu = cpu;
  p.state = TaskState::Runnable;
  auto& list = cpu_of(cpu).wake_list;
  const bool first = list.empty();
  list.push_back(&p);
  ++ttwu_queued;
  this_core().alu();
  if (!first) return;
  ++resched_ipis;
  send_ipi(cpu, kIpiReschedule);
}

// sched_ttwu_pending(), from scheduler_ipi(): this CPU activates the tasks queued to it
// under its own rq->lock.
void Kernel::sched_ttwu_pending() {
  Cpu& c = this_cpu_data();
  if (c.wake_list.empty()) return;
  Frame f(*this, "sched_ttwu_pending");
  std::deque<Task*> list;
  list.swap(c.wake_list);
  raw_spin_lock(*c.rq.lock);
  for (Task* p : list) {
    enqueue(c.rq, *p);
    run_hook(Hook::Enqueue, *p);
    if (tracer_) {
      p->wake_flow = (uint64_t{0xff} << 56) ^ (static_cast<uint64_t>(p->pid) << 40) ^ static_cast<uint64_t>(now());
      trace(TraceKind::Wakeup, c.id, p->comm.c_str(), p->wake_flow, p->pid);
    }
    if (should_preempt(*c.rq.curr, *p)) resched_curr(c.id);
  }
  raw_spin_unlock(*c.rq.lock);
}

void Kernel::scheduler_tick() {
  Frame f(*this, "scheduler_tick");
  if (rcu_) rcu_->check_callbacks();
  Cpu& c = this_cpu_data();
  Task* curr = c.rq.curr;
  raw_spin_lock(*c.rq.lock);
  if (curr && !curr->is_idle) run_hook(Hook::UpdateCurr, *curr);  // task_tick -> update_curr
  if (curr && !curr->is_idle && !curr->rt()) {
    curr->slice_left -= tick_period_;
    if (curr->slice_left <= 0) {
      curr->slice_left = timeslice_;
      if (!c.rq.normal.empty()) resched_curr(c.id);
    }
  }
  raw_spin_unlock(*c.rq.lock);
  if (nohz_idle_) {
    // trigger_load_balance(): an idle CPU's own tick runs the balance it was kicked for (the
    // kick flag is what nohz_idle_balance() acts on); a busy one may kick an idle CPU.
    if (curr && curr->is_idle && c.nohz_kick) raise_softirq_irqoff(SCHED_SOFTIRQ);
    nohz_balancer_kick();
  }
}

// nohz_balancer_kick() from trigger_load_balance() in the tick (hardirq): a CPU with more
// than one runnable task kicks the first CPU whose tick is stopped, once (its kick flag).
// Before 3.2 the kick is this CPU's remote_sched_softirq_cb csd sent with
// __smp_call_function_single(), whose csd_lock() spins while that csd is still queued on the
// idle CPU (ca38062e57e9's deadlock); from 3.2 it is a reschedule IPI.
void Kernel::nohz_balancer_kick() {
  Cpu& c = this_cpu_data();
  if (c.rq.nr_running < 1 || !c.rq.curr || c.rq.curr->is_idle) return;  // rq->nr_running >= 2
  int ilb = -1;
  for (int i = 0; i < nr_cpus() && ilb < 0; ++i) {
    if (i != c.id && cpu_of(i).tick_stopped) ilb = i;  // find_new_ilb()
  }
  if (ilb < 0) return;
  Cpu& t = cpu_of(ilb);
  if (t.nohz_kick) return;
  Frame f(*this, "nohz_balancer_kick");
  t.nohz_kick = true;
  ++nohz_kicks;
  this_core().alu();
  if (nohz_kick_ipi_) {
    ++resched_ipis;
    send_ipi(ilb, kIpiReschedule);  // smp_send_reschedule()
    return;
  }
  call_function_single_csd(ilb, c.kick_csd, [this] {
    Frame g(*this, "trigger_sched_softirq");
    raise_softirq_irqoff(SCHED_SOFTIRQ);
  }, false);
}

// run_rebalance_domains() -> nohz_idle_balance(): a kicked idle CPU looks at each idle CPU's
// runqueue under its lock (update_blocked_averages, load_balance; the model moves no task),
// then clears its kick flag (also when it is no longer idle, as 3.1 did).
void Kernel::run_rebalance_domains() {
  Cpu& c = this_cpu_data();
  if (!c.nohz_kick) return;
  Frame f(*this, "nohz_idle_balance");
  if (c.rq.curr && c.rq.curr->is_idle) {
    for (Cpu& o : cpus_) {
      if (o.id != c.id && !o.tick_stopped) continue;
      const bool flags = raw_spin_lock_irqsave(*o.rq.lock);
      compute(100);
      raw_spin_unlock_irqrestore(*o.rq.lock, flags);
    }
  }
  c.nohz_kick = false;
}

// --- wait queues and completions ---------------------------------------------------------------

WaitQueue Kernel::make_wait_queue(const std::string& name) {
  // One class per queue, as Linux keys each wait-queue head by its init site: unrelated
  // queues sharing a class would invent dependency cycles between them.
  WaitQueue wq;
  wq.lock = owned_locks_.emplace_back(make_lock(name + ".lock", lock_class("&" + name + "->lock"))).get();
  return wq;
}

void WaitQueue::add(Task& t) {
  if (t.wq_on == this) return;
  if (t.wq_on) throw std::logic_error(t.comm + " waits on two wait queues at once");
  t.wq_on = this;
  t.wq_next = nullptr;
  (last ? last->wq_next : first) = &t;
  last = &t;
}

void WaitQueue::remove(Task& t) {
  if (t.wq_on != this) return;
  Task* prev = nullptr;
  for (Task* w = first; w; prev = w, w = w->wq_next) {
    if (w != &t) continue;
    (prev ? prev->wq_next : first) = t.wq_next;
    if (last == &t) last = prev;
    break;
  }
  t.wq_on = nullptr;
  t.wq_next = nullptr;
}

void Kernel::wait_event(WaitQueue& wq, const std::function<bool()>& cond) {
  Frame f(*this, "wait_event");
  might_sleep();
  Task& me = current();
  while (true) {
    bool flags = raw_spin_lock_irqsave(*wq.lock);
    wq.add(me);
    set_current_state(TaskState::Sleeping);
    raw_spin_unlock_irqrestore(*wq.lock, flags);
    if (cond()) break;
    schedule();
  }
  set_current_state(TaskState::Running);
  bool flags = raw_spin_lock_irqsave(*wq.lock);
  wq.remove(me);
  raw_spin_unlock_irqrestore(*wq.lock, flags);
}

bool Kernel::wait_event_timeout(WaitQueue& wq, const std::function<bool()>& cond, Time timeout) {
  Frame f(*this, "wait_event_timeout");
  might_sleep();
  Task& me = current();
  const Time deadline = now() + timeout;
  bool armed = false, ok = false;
  while (true) {
    bool flags = raw_spin_lock_irqsave(*wq.lock);
    wq.add(me);
    set_current_state(TaskState::Sleeping);
    raw_spin_unlock_irqrestore(*wq.lock, flags);
    if (cond()) {
      ok = true;
      break;
    }
    if (now() >= deadline) break;
    if (!armed) {
      hrtimer_start(deadline, &me);
      armed = true;
    }
    schedule();
  }
  if (armed) hrtimer_cancel(&me);
  set_current_state(TaskState::Running);
  bool flags = raw_spin_lock_irqsave(*wq.lock);
  wq.remove(me);
  raw_spin_unlock_irqrestore(*wq.lock, flags);
  return ok;
}

void Kernel::wake_up(WaitQueue& wq) {
  Frame f(*this, "__wake_up");
  might_wake();
  bool flags = raw_spin_lock_irqsave(*wq.lock);
  ++wq.wakes;
  // try_to_wake_up() leaves the queue as it is: each waiter takes itself off when it runs.
  for (Task* t = wq.first; t; t = t->wq_next) try_to_wake_up(*t);
  raw_spin_unlock_irqrestore(*wq.lock, flags);
}

void Kernel::init_completion(Completion& c, const std::string& name) {
  c.done = 0;
  c.wait = make_wait_queue(name);
}

void Kernel::wait_for_completion(Completion& c) {
  Frame f(*this, "wait_for_completion");
  might_sleep();
  Task& me = current();
  bool flags = raw_spin_lock_irqsave(*c.wait.lock);
  while (c.done == 0) {
    c.wait.add(me);
    set_current_state(TaskState::Sleeping);
    raw_spin_unlock_irqrestore(*c.wait.lock, flags);
    schedule();
    flags = raw_spin_lock_irqsave(*c.wait.lock);
    c.wait.remove(me);
  }
  --c.done;
  raw_spin_unlock_irqrestore(*c.wait.lock, flags);
}

// complete(), v4.4: the queue's lock, then try_to_wake_up() of the first waiter.
void Kernel::complete(Completion& c) {
  Frame f(*this, "complete");
  might_wake();
  bool flags = raw_spin_lock_irqsave(*c.wait.lock);
  ++c.done;
  if (!c.wait.empty()) try_to_wake_up(*c.wait.first);
  raw_spin_unlock_irqrestore(*c.wait.lock, flags);
}

}  // namespace quiesce::kernel
