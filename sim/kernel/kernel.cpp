#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "sim/kernel/kernel.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace quiesce::kernel {
namespace {
// An interrupt handler that finds its device idle still reads the status register.
constexpr uint64_t kStatusReadCycles = 200;
}  // namespace

const char* task_state_name(TaskState s) {
  switch (s) {
    case TaskState::Running: return "R";
    case TaskState::Runnable: return "R+";
    case TaskState::Sleeping: return "S";
    case TaskState::Dead: return "X";
  }
  return "?";
}

const std::vector<KernelConfigDoc>& kernel_configs() {
  static const std::vector<KernelConfigDoc> docs = {
      {"kernel.hz", "CONFIG_HZ", "timer ticks per second (the tick, timer_list resolution, RCU's pace)"},
      {"kernel.sched.ttwu_queue", "sched_feat(TTWU_QUEUE)", "remote wakeups queued to the target CPU: release|on|off"},
      {"kernel.nohz_idle", "CONFIG_NO_HZ_IDLE", "idle CPUs stop their tick; a busy CPU's tick kicks one to balance"},
      {"kernel.threadirqs", "threadirqs (CONFIG_IRQ_FORCED_THREADING)", "device handlers run in irq/N-NAME threads"},
      {"kernel.rcu.nocbs", "rcu_nocbs= (CONFIG_RCU_NOCB_CPU)", "none|all: callbacks invoked by rcuop/N kthreads"},
      {"kernel.lockdep.enabled", "CONFIG_PROVE_LOCKING", "lockdep's checks and reports"},
      {"kernel.watchdog.hardlockup", "CONFIG_HARDLOCKUP_DETECTOR", "irqs off this long ends the run as hard_lockup"},
      {"kernel.rcu.fanout_leaf", "CONFIG_RCU_FANOUT_LEAF", "CPUs per leaf rcu_node"},
      {"kernel.hrtimer.expired_start", "(release behaviour)", "hrtimer_start() of an expired timer, per release or forced"},
  };
  return docs;
}

const char* softirq_name(int nr) {
  static const char* names[] = {"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"};
  return nr >= 0 && nr < NR_SOFTIRQS ? names[nr] : "?";
}

namespace {
const VariantParams& default_variants() {
  static VariantParams v;
  static const bool loaded = [] {
    v.load(parse_yaml("{}", "defaults"));
    return true;
  }();
  (void)loaded;
  return v;
}
}  // namespace

Kernel::Kernel(Platform& platform, const KernelParams& p, uint64_t seed, StatRegistry* stats)
    : Kernel(platform, p, default_variants(), seed, stats) {}

Kernel::Kernel(Platform& platform, const KernelParams& p, const VariantParams& variants, uint64_t, StatRegistry* stats)
    : stats_(stats, "kernel"),
      platform_(platform),
      release_(Release::parse(variants.release())),
      hz_(p.hz()),
      tick_period_(kSec / p.hz()),
      timeslice_(p.timeslice().ps),
      hardlockup_(p.hardlockup().ps),
      stall_(p.stall().ps),
      softirq_restart_(static_cast<int>(p.softirq_restart())),
      switch_cost_(p.switch_cost().value),
      wakeup_cost_(p.wakeup_cost().value),
      stack_bytes_(static_cast<size_t>(p.stack().value)),
      klogd_wake_(p.printk_wakeup().value == "direct"     ? KlogdWake::Direct
                  : p.printk_wakeup().value == "deferred" ? KlogdWake::IrqWork
                  : release_.has(Change::PrintkKlogdIrqWork) ? KlogdWake::IrqWork
                                                             : KlogdWake::Tick),
      printk_lockdep_visible_(release_.has(Change::PrintkLockdepVisible)),
      console_cost_(p.console_cost().ps),
      ttwu_queue_(p.ttwu_queue().value == "on"    ? true
                  : p.ttwu_queue().value == "off" ? false
                                                  : release_.has(Change::TtwuQueue)),
      ttwu_queue_llc_(release_.has(Change::TtwuQueueLlc)),
      nohz_idle_(p.nohz_idle()),
      threadirqs_(p.threadirqs()),
      nohz_kick_ipi_(release_.has(Change::NohzKickResched)),
      call_llist_(release_.has(Change::CallSingleLlist)),
      csd_unlock_first_(release_.has(Change::CsdUnlockBeforeAsync)),
      expired_start_(variants.hrtimer_expired_start().value == "run_in_caller" ? ExpiredStart::RunInCaller
                     : variants.hrtimer_expired_start().value == "softirq"     ? ExpiredStart::Softirq
                     : variants.hrtimer_expired_start().value == "reprogram"   ? ExpiredStart::Reprogram
                     : release_.has(Change::HrtimerNoSoftirq)                  ? ExpiredStart::Reprogram
                                                                               : ExpiredStart::Softirq),
      lockdep_(p.lockdep(), p.might_wake(),
               p.lockdep_after_report().value == "continue" ? AfterReport::Continue : AfterReport::Off),
      deadlock_(platform.cores()),
      registry_(stats),
      cpus_(static_cast<size_t>(platform.cores())),
      softirq_vec_(NR_SOFTIRQS),
      kernel_softirq_vec_(NR_SOFTIRQS) {
  // lockdep's report layout and banner as the release prints them.
  lockdep_.set_layout(lockdep_layout_for(release_.version().major, release_.version().minor));
  lockdep_.set_kernel_ident(release_.uname(), "#1");
  lockdep_.set_wait_type_checks(release_.has(Change::LockdepWaitTypes));
  LockClass& rq_cls = lock_class("&rq->lock", WaitType::RawSpin, true);
  pi_lock_class_ = &lock_class("&p->pi_lock", WaitType::RawSpin, true);
  LockClass& pool_cls = lock_class("&pool->lock", WaitType::RawSpin);
  LockClass& log_cls = lock_class("logbuf_lock", WaitType::RawSpin);
  LockClass& hrtimer_cls = lock_class("hrtimer_bases.lock", WaitType::RawSpin);
  LockClass& call_cls = lock_class("&q->lock", WaitType::RawSpin);  // call_single_queue
  LockClass& timer_cls = lock_class("&(&base->lock)->rlock", WaitType::Spin);
  siglock_class_ = &lock_class("&(&sighand->siglock)->rlock", WaitType::Spin);
  logbuf_lock_ = make_lock("logbuf_lock", log_cls);
  console_sem_lock_ = make_lock("console_sem.lock", lock_class("(console_sem).lock"));
  console_lock_class_ = &lock_class("console_lock", WaitType::Sleep);
  log_wait_ = make_wait_queue("log_wait");
  klogd_work_.name = "wake_up_klogd_work_func";
  klogd_work_.func = [this] {
    ++klogd_irq_work_wakeups;
    wake_up(log_wait_);
  };

  for (int c = 0; c < nr_cpus(); ++c) {
    Cpu& cpu = cpu_of(c);
    cpu.id = c;
    cpu.core = &platform_.core(c);
    cpu.rq.lock = make_lock("rq[" + std::to_string(c) + "].lock", rq_cls);
    cpu.rq.rt.resize(100);  // rt_priority 1..99
    cpu.pool_lock = make_lock("pool[" + std::to_string(c) + "].lock", pool_cls);

    core(c).set_irq_handler(this);
    TaskSpec idle{c, Policy::Normal, 0, false};
    Task& t = create_task("swapper/" + std::to_string(c), idle, [this] { idle_loop(); });
    t.is_idle = true;
    t.state = TaskState::Running;
    t.on_cpu = t.on_rq = true;
    cpu.rq.idle = cpu.rq.curr = &t;
    start_cpu_thread(cpu);
    cpu.ksoftirqd = &create_task("ksoftirqd/" + std::to_string(c), TaskSpec{c, Policy::Normal, 0, false},
                                 [this] { ksoftirqd_loop(); });
    cpu.kworker = &create_task("kworker/" + std::to_string(c) + ":0", TaskSpec{c, Policy::Normal, 0, false},
                               [this] { kworker_loop(); });
    cpu.ksoftirqd->kthread = cpu.kworker->kthread = true;
    // The first tick, posted before time starts (later ones the CPU programs itself).
    cpu.next_tick = tick_period_;
    cpu.programmed = tick_period_;
    platform_.irq().post(c, kIpiTimer, tick_period_, tick_period_);
  }
  kernel_softirq_vec_[TIMER_SOFTIRQ] = [this] { run_timer_softirq(); };
  kernel_softirq_vec_[HRTIMER_SOFTIRQ] = [this] { run_hrtimer_softirq(); };
  kernel_softirq_vec_[SCHED_SOFTIRQ] = [this] { run_rebalance_domains(); };
  klogd_ = &create_task("klogd", TaskSpec{}, [this] { klogd_loop(); });
  klogd_->kthread = true;
  const std::string ltc = variants.lock_task_context().value;
  const Perf::Mode perf_mode = ltc == "irq_save"          ? Perf::Mode::IrqSave
                               : ltc == "preempt_disable" ? Perf::Mode::PreemptDisable
                               : ltc == "rcu_only"        ? Perf::Mode::RcuOnly
                               : release_.has(Change::PerfIrqSave)        ? Perf::Mode::IrqSave
                               : release_.has(Change::PerfPreemptDisable) ? Perf::Mode::PreemptDisable
                                                                          : Perf::Mode::RcuOnly;
  perf_ = std::make_unique<Perf>(*this, perf_mode, variants.lookup_cost().value);
  rcu_ = std::make_unique<Rcu>(*this, variants, release_, stats);
  rcu_->start();
  // Allocated last, so the older objects keep their simulated addresses (and studies their
  // cache placement) as before these existed.
  for (Cpu& cpu : cpus_) {
    const std::string n = std::to_string(cpu.id);
    cpu.hrtimer_lock = make_lock("hrtimer_bases[" + n + "].lock", hrtimer_cls);
    cpu.timer_base_lock = make_lock("timer_base[" + n + "].lock", timer_cls);
    cpu.call_lock = make_lock("call_single_queue[" + n + "].lock", call_cls);
    cpu.kick_csd = alloc(8);
    cpu.csd_data = alloc(8);
    cpu.csd_stack = alloc(8);
    cpu.call_head = alloc(8);
  }
  start_watchdog();
}

Kernel::~Kernel() = default;

// --- context ----------------------------------------------------------------------------

bool Kernel::in_softirq() { return this_cpu_data().softirq_count > 0; }

// rcu_dynticks' view, v4.4: an idle CPU outside any interrupt is in an extended quiescent state.
bool Kernel::cpu_in_idle(int cpu) {
  const Cpu& c = cpu_of(cpu);
  return c.rq.curr && c.rq.curr->is_idle && core(cpu).hardirq_depth() == 0;
}

LockdepContext Kernel::lockdep_ctx(const Task& t) {
  Core& c = core(t.cpu);
  LockdepContext ctx;
  ctx.cpu = t.cpu;
  ctx.task = t.comm;
  ctx.pid = t.pid;
  ctx.in_hardirq = c.hardirq_depth() > 0;
  ctx.in_softirq = cpu_of(t.cpu).serving_softirq > 0 && !ctx.in_hardirq;
  ctx.hardirqs_enabled = c.irqs_enabled();
  ctx.softirqs_enabled = cpu_of(t.cpu).softirq_count == 0;
  ctx.preempt_count = c.preempt_count() + cpu_of(t.cpu).softirq_count;  // in_atomic() counts softirq too
  ctx.now = c.now();
  ctx.frames = &t.frames;
  return ctx;
}

// --- tasks ------------------------------------------------------------------------------

Task& Kernel::create_task(const std::string& comm, const TaskSpec& spec, std::function<void()> body) {
  auto owned = std::make_unique<Task>();
  Task& t = *owned;
  t.pid = next_pid_++;
  t.comm = comm;
  t.policy = spec.policy;
  t.rt_priority = spec.rt_priority;
  t.slice_left = timeslice_;
  if (spec.cpu >= 0) {
    t.allowed.set(static_cast<size_t>(spec.cpu));
    t.cpu = spec.cpu;
  } else {
    for (int c = 0; c < nr_cpus(); ++c) t.allowed.set(static_cast<size_t>(c));
    // Start on the least loaded CPU (ties: lowest id).
    int best = 0;
    for (int c = 1; c < nr_cpus(); ++c) {
      if (cpu_of(c).rq.nr_running < cpu_of(best).rq.nr_running) best = c;
    }
    t.cpu = best;
  }
  t.pi_lock = owned_locks_.emplace_back(make_lock(comm + ".pi_lock", *pi_lock_class_)).get();
  t.body = std::move(body);
  make_context(t);
  if (tracer_) tracer_->name_task(t.pid, t.comm, t.rt() ? 99 - t.rt_priority : 120);
  tasks_.push_back(std::move(owned));
  if (spec.start) {
    if (sc_core::sc_is_running()) {
      try_to_wake_up(t);
    } else {
      Cpu& c = cpu_of(t.cpu);
      t.state = TaskState::Runnable;
      enqueue(c.rq, t);
      c.need_resched = true;  // the idle task schedules at time 0
    }
  }
  return t;
}

Task* Kernel::find_task(const std::string& comm) {
  for (auto& t : tasks_) {
    if (t->comm == comm) return t.get();
  }
  return nullptr;
}

void Kernel::task_entry(Task& t) {
  if (!t.is_idle) {
    Frame f(*this, "schedule_tail");
    finish_task_switch(nullptr);
    preempt_enable_no_resched();  // the switcher's schedule() disabled it
  }
  {
    Frame f(*this, t.is_idle ? "cpu_startup_entry" : "kthread");
    // A scenario program that cannot go on (an unbalanced restore, a missing operand) ends
    // the run here, on the task's own stack (an exception must not cross coroutine stacks):
    // outcome "error", exit code 2, the message on stderr.
    try {
      t.body();
    } catch (const ConfigError& e) {
      end_run("error", e.what());
      core(t.cpu).park();
    }
  }
  // do_exit: leave the CPU for good.
  Frame f(*this, "do_exit");
  // debug_check_no_locks_held(), v4.4: an exiting task holds no lock
  if (lockdep_watching()) lockdep_.check_no_locks_held(lockdep_ctx(), t.held_locks, "debug_check_no_locks_held");
  if (tracer_) trace_new_reports();
  preempt_disable();
  set_current_state(TaskState::Dead);
  __schedule(false);
}

void Kernel::idle_loop() {
  Frame f(*this, "do_idle");
  while (true) {
    Cpu& c = this_cpu_data();
    while (!c.need_resched) {
      // With NO_HZ idle, re-evaluated after every interrupt (tick_nohz_irq_exit).
      if (nohz_idle_) tick_nohz_idle_enter();
      if (c.need_resched) break;
      if (nohz_idle_) ++c.idle_entries;  // rcu_idle_enter(): an extended quiescent state begins
      this_core().wait_for_interrupt();
    }
    if (nohz_idle_) tick_nohz_idle_exit();
    schedule();
  }
}

void Kernel::compute_for(Time t) {
  Core& c = this_core();
  c.compute(static_cast<uint64_t>((t + c.period() - 1) / c.period()));
}

// --- interrupts ---------------------------------------------------------------------------

void Kernel::handle_irq(Core& core, const IrqAck& irq) {
  Cpu& c = cpu_of(core.id());
  const IrqAck outer = c.cur_irq;
  c.cur_irq = irq;
  irqs_off_begin(c, irq.taken, "irq_entry");
  if (tracer_) {
    const uint64_t flow = irq.source >= 0 ? (static_cast<uint64_t>(irq.source) << 56) ^ static_cast<uint64_t>(irq.raised) : 0;
    const char* name = irq.id == kIpiReschedule ? "IPI:reschedule" : irq.id == kIpiCallFunction ? "IPI:call_function"
                       : irq.id == kIpiIrqWork ? "IPI:irq_work" : irq.id == kIpiTimer ? "arch_timer" : "device";
    if (irq.id >= kFirstDeviceIrq) {
      size_t i = static_cast<size_t>(irq.id - kFirstDeviceIrq);
      if (i < device_handlers_.size() && device_handlers_[i].first) name = device_handlers_[i].first;
    }
    trace(TraceKind::IrqEntry, irq.id, name, flow);
  }
  switch (irq.id) {
    case kIpiReschedule: {
      Frame f(*this, "scheduler_ipi");
      // scheduler_ipi(), v4.4: finish the wakeups queued here (sched_ttwu_pending); a bare
      // reschedule IPI only asks for schedule(), unless it is a nohz idle-balance kick (3.2+):
      // then, with nothing to schedule, SCHED_SOFTIRQ balances for the idle CPUs.
      if (c.wake_list.empty()) {
        if (!c.nohz_kick) c.need_resched = true;
      } else {
        sched_ttwu_pending();
      }
      // got_nohz_idle_kick(), v4.4: a kick that finds the CPU busy (or about to schedule) is
      // dropped, its flag cleared.
      if (c.nohz_kick) {
        if (!c.need_resched && c.rq.curr && c.rq.curr->is_idle) {
          raise_softirq_irqoff(SCHED_SOFTIRQ);
        } else {
          c.nohz_kick = false;
        }
      }
      break;
    }
    case kIpiCallFunction: {
      Frame f(*this, "generic_smp_call_function_single_interrupt");
      call_function_interrupt();
      break;
    }
    case kIpiIrqWork: {
      Frame f(*this, "irq_work_interrupt");
      irq_work_run();
      break;
    }
    case kIpiTimer: {
      Frame f(*this, "hrtimer_interrupt");
      timer_interrupt();
      break;
    }
    default:
      if (irq.id >= kFirstDeviceIrq) note_interrupt(c, irq, device_irq(c, irq));
  }
  c.cur_irq = outer;
}

bool Kernel::device_irq(Cpu&, const IrqAck& irq) {
  const size_t i = static_cast<size_t>(irq.id - kFirstDeviceIrq);
  if (i >= device_handlers_.size() || !device_handlers_[i].second) return false;
  Frame f(*this, device_handlers_[i].first);
  // The handler reads its device's status: it has work if an event arrived by the time the
  // interrupt was acknowledged (each such arrival made this interrupt pending, or merged
  // into it). A line that is asserted with nothing behind it gets IRQ_NONE.
  DeviceLine& d = device_lines_[i];
  bool work = false;
  const Time entry = this_core().now();
  while (!d.events.empty() && d.events.front() <= irq.taken) {
    device_event_latency.record(entry - d.events.front());
    if (d.thread) d.thread_events.push_back(d.events.front());
    d.events.pop_front();
    work = true;
  }
  if (!work) {
    this_core().compute(kStatusReadCycles);
    return false;
  }
  if (d.thread) {
    // irq_default_primary_handler() -> IRQ_WAKE_THREAD: __irq_wake_thread() (the line stays
    // masked until the thread has run: IRQF_ONESHOT).
    Frame w(*this, "irq_default_primary_handler");
    wake_up_process(*d.thread);
    return true;
  }
  device_handlers_[i].second();
  return true;
}

// note_interrupt(): 99,900 unclaimed of 100,000 interrupts (unclaimed ones less than HZ/10
// apart) is a line stuck asserted: report it, disable it, and end the run as stuck_irq.
void Kernel::note_interrupt(Cpu& c, const IrqAck& irq, bool handled) {
  Frame f(*this, "note_interrupt");
  DeviceLine& d = device_lines_[static_cast<size_t>(irq.id - kFirstDeviceIrq)];
  const Time now = this_core().now();
  if (!handled) {
    ++spurious_irqs;
    d.unhandled = d.last_unhandled >= 0 && now - d.last_unhandled > kSec / 10 ? 1 : d.unhandled + 1;
    d.last_unhandled = now;
  }
  if (++d.count < 100000) return;
  d.count = 0;
  if (d.unhandled > 99900) {
    Frame report(*this, "__report_bad_irq");
    const size_t i = static_cast<size_t>(irq.id - kFirstDeviceIrq);
    std::ostringstream msg;
    msg << "irq " << irq.id << ": nobody cared (try booting with the \"irqpoll\" option)\n"
        << describe_cpu(c.id) << "\nhandlers:\n[<" << irq.id << ">] " << device_handlers_[i].first
        << "\nDisabling IRQ #" << irq.id;
    printk(msg.str());
    platform_.irq().set_enabled(c.id, irq.id, false);
    end_run("stuck_irq", msg.str());
  }
  d.unhandled = 0;
}

void Kernel::irq_return(Core& core) {
  Cpu& c = cpu_of(core.id());
  trace(TraceKind::IrqExit);
  if (core.hardirq_depth() == 0) {
    Frame f(*this, "irq_exit");
    run_hook(Hook::IrqExit, current());
    do_softirq_at_irq_exit();
    // Linux's preempt_count carries the softirq count too: no preemption inside a softirq
    // (or a bh-disabled section) that this interrupt interrupted.
    if (c.need_resched && core.preempt_count() == 0 && c.softirq_count == 0) preempt_schedule_irq();
  }
  irqs_off_end(cpu_of(core.id()), "irq_exit");
}

void Kernel::request_irq(IrqId irq, const char* name, std::function<void()> handler, int cpu) {
  size_t i = static_cast<size_t>(irq - kFirstDeviceIrq);
  if (irq < kFirstDeviceIrq || irq >= platform_.irq().ids()) {
    throw std::out_of_range("device irq " + std::to_string(irq) + " is not an SPI of this platform");
  }
  if (device_handlers_.size() <= i) device_handlers_.resize(i + 1);
  if (device_lines_.size() <= i) device_lines_.resize(i + 1);
  device_handlers_[i] = {name, std::move(handler)};
  if (!threadirqs_) return;
  // irq_setup_forced_threading(), v4.4: the handler becomes the thread function of irq/N-NAME,
  // SCHED_FIFO 50; irq_forced_thread_fn() runs it with bh disabled.
  DeviceLine& d = device_lines_[i];
  d.thread = &create_task("irq/" + std::to_string(irq) + "-" + name, TaskSpec{cpu, Policy::Fifo, 50, true}, [this, i] {
    Frame f(*this, "irq_thread");
    while (true) {
      DeviceLine& line = device_lines_[i];  // re-indexed: the vector may grow
      set_current_state(TaskState::Sleeping);
      if (line.thread_events.empty()) schedule();
      set_current_state(TaskState::Running);
      if (line.thread_events.empty()) continue;
      Frame g(*this, "irq_forced_thread_fn");
      const Time start = now();
      while (!line.thread_events.empty()) {
        irq_thread_latency.record(start - line.thread_events.front());
        line.thread_events.pop_front();
      }
      local_bh_disable();
      Frame h(*this, device_handlers_[i].first);
      device_handlers_[i].second();
      local_bh_enable();
    }
  });
  d.thread->kthread = true;
}

void Kernel::raise_device_irq(int cpu, IrqId irq, Time arrival) {
  device_lines_.at(static_cast<size_t>(irq - kFirstDeviceIrq)).events.push_back(arrival);
  platform_.irq().post(cpu, irq, arrival, arrival);
}

// --- interrupt and preemption flags, with the irqsoff/preemptoff tracers ----------------------

void Kernel::irqs_off_begin(Cpu& c, Time at, const char* site) {
  if (c.irqoff_since >= 0) return;
  c.irqoff_since = at;
  c.irqoff_site = site;
  trace_at(at, TraceKind::IrqsOff, site);
}

void Kernel::irqs_off_end(Cpu& c, const char* site, Time extra) {
  if (c.irqoff_since < 0) return;
  const Time now = core(c.id).now() + extra;
  const Time len = now - c.irqoff_since;
  trace_at(now, TraceKind::IrqsOn, site);
  irqs_off.record(len);
  if (len > max_irqoff_.length) max_irqoff_ = Section{len, c.irqoff_since, c.id, c.irqoff_site, site};
  // Sites are static names: key by pointer on this hot path, join equal names for output.
  auto& by_site = irqoff_by_site_[reinterpret_cast<uintptr_t>(c.irqoff_site)];
  if (!by_site) {
    by_site = std::make_unique<Histogram>(&irqoff_sites_, c.irqoff_site, "irq-off sections it began", "ps");
    irqoff_by_site_list_.push_back(by_site.get());
  }
  by_site->record(len);
  const Time since = c.irqoff_since;
  c.irqoff_since = -1;
  // A core runs ahead with interrupts off, so the section may end before the periodic
  // watchdog looks: judge it here too, at the time the NMI watchdog would have fired.
  if (hardlockup_ > 0 && len > hardlockup_) {
    end_run("hard_lockup", "NMI watchdog: Watchdog detected hard LOCKUP on cpu " + std::to_string(c.id) +
                               ": interrupts off from " + format_time(since) + " (" + max_irqoff_.begin_site +
                               ") for " + format_time(len) + "\n" + describe_cpu(c.id) + "\n",
            since + hardlockup_);
  }
}

std::map<std::string, Histogram*> Kernel::irqs_off_by_site() const {
  std::map<std::string, Histogram*> out;
  for (const auto& h : irqoff_by_site_list_) {
    auto& slot = out[h->name()];
    if (!slot) {
      slot = h;
    } else {
      slot->merge(*h);  // the same name from two places: one row
    }
  }
  return out;
}

void Kernel::preempt_off_begin(Cpu& c, const char* site) {
  if (c.preemptoff_since >= 0) return;
  c.preemptoff_since = core(c.id).now();
  c.preemptoff_site = site;
  trace(TraceKind::PreemptOff, 0, site);
}

void Kernel::preempt_off_end(Cpu& c, const char* site) {
  if (c.preemptoff_since < 0) return;
  const Time len = core(c.id).now() - c.preemptoff_since;
  trace(TraceKind::PreemptOn, 0, site);
  preempt_off.record(len);
  if (len > max_preemptoff_.length) max_preemptoff_ = Section{len, c.preemptoff_since, c.id, c.preemptoff_site, site};
  c.preemptoff_since = -1;
}

// These run at every irq-off section: the current task is looked up once (no interrupt is
// taken between, so nothing reschedules it).
bool Kernel::local_irq_save() {
  const Task& t = current();
  Core& core = this->core(t.cpu);
  const bool was = core.local_irq_save();
  if (was) irqs_off_begin(cpu_of(t.cpu), core.now(), site_of(t));
  return was;
}

void Kernel::local_irq_restore(bool flags) {
  if (flags) {
    local_irq_enable();
  } else {
    this_core().local_irq_restore(false);
  }
}

void Kernel::local_irq_disable() {
  const Task& t = current();
  Core& core = this->core(t.cpu);
  const bool was = core.irqs_enabled();
  core.local_irq_disable();
  if (was) irqs_off_begin(cpu_of(t.cpu), core.now(), site_of(t));
}

void Kernel::local_irq_enable() {
  Task& t = current();
  Core& core = this->core(t.cpu);
  const bool was = core.irqs_enabled();
  if (!was) irqs_off_end(cpu_of(t.cpu), site_of(t), core.irq_flag_cost());
  if (!was && lockdep_watching(t) && !t.held_locks.empty()) {
    // Held locks become hardirq-unsafe (trace_hardirqs_on); check before the enabling
    // instruction, which may take an interrupt at once.
    LockdepContext ctx = lockdep_ctx(t);
    ctx.hardirqs_enabled = true;
    lockdep_.irqs_enabled(ctx, t.held_locks, site_of(t));
  }
  core.local_irq_enable();
}

// These three run at every lock, unlock and preempt section: the current task is looked up
// once. Its CPU is read again after a boundary that may have rescheduled it.
void Kernel::preempt_disable() {
  const Task& t = current();
  Core& core = this->core(t.cpu);
  core.preempt_add(1);
  if (core.preempt_count() == 1) preempt_off_begin(cpu_of(t.cpu), site_of(t));
}

void Kernel::preempt_enable_no_resched() { preempt_enable_no_resched(current()); }

void Kernel::preempt_enable_no_resched(const Task& t) {
  Core& core = this->core(t.cpu);
  if (core.preempt_count() == 1) preempt_off_end(cpu_of(t.cpu), site_of(t));
  core.preempt_add(-1);
}

void Kernel::preempt_enable() {
  const Task& t = current();
  preempt_enable_no_resched(t);
  Core& core = this->core(t.cpu);
  if (core.preempt_count() == 0 && cpu_of(t.cpu).need_resched && core.irqs_enabled() &&
      !in_interrupt()) {
    preempt_schedule();
  }
}

void Kernel::local_bh_disable() {
  preempt_off_begin(this_cpu_data(), site());
  ++this_cpu_data().softirq_count;
  this_core().alu();
}

void Kernel::local_bh_enable() {
  Cpu& c = this_cpu_data();
  --c.softirq_count;
  Task& t = current();
  if (c.softirq_count == 0 && lockdep_watching() && !t.held_locks.empty()) {
    lockdep_.irqs_enabled(lockdep_ctx(), t.held_locks, site());
  }
  this_core().alu();
  if (c.softirq_count == 0 && this_core().preempt_count() == 0) preempt_off_end(c, site());
  if (c.softirq_count == 0 && !in_irq() && c.softirq_pending) {
    const bool flags = local_irq_save();
    __do_softirq();
    local_irq_restore(flags);
  }
  if (c.need_resched && this_core().preempt_count() == 0 && c.softirq_count == 0 && this_core().irqs_enabled() &&
      !in_irq()) {
    preempt_schedule();
  }
}

// --- tracing ------------------------------------------------------------------------------

void Kernel::enable_trace(Time window, size_t max_bytes, size_t max_events) {
  tracer_ = std::make_unique<Tracer>(window, max_bytes, max_events);
  for (const auto& t : tasks_) tracer_->name_task(t->is_idle ? 0 : t->pid, t->comm, t->rt() ? 99 - t->rt_priority : 120);
}

void Kernel::trace_now(TraceKind kind, int arg, const char* name, uint64_t id, int arg_pid,
                       int arg2) {
  trace_record(this_core().now(), kind, arg, name, id, arg_pid, arg2);
}

void Kernel::trace_record(Time t, TraceKind kind, int arg, std::string_view name, uint64_t id, int arg_pid,
                          int arg2) {
  Task& cur = current();
  Core& c = core(cur.cpu);
  const Cpu& d = cpu_of(cur.cpu);
  TraceEvent e;
  e.t = t;
  e.cpu = cur.cpu;
  e.kind = kind;
  e.pid = cur.is_idle ? 0 : cur.pid;
  e.arg = arg;
  e.arg2 = arg2;
  e.arg_pid = arg_pid;
  e.id = id;
  e.irqs_off = !c.irqs_enabled();
  e.need_resched = d.need_resched;
  e.hardirq = c.hardirq_depth() > 0;
  e.softirq = d.serving_softirq > 0;
  e.preempt_depth = static_cast<int16_t>(c.preempt_count());
  e.nr_running = d.rq.nr_running;
  tracer_->record(e, name);
}

void Kernel::trace_at(Time t, TraceKind kind, const char* name) {
  if (!tracer_) return;
  Task& cur = current();
  TraceEvent e;
  e.t = t;
  e.cpu = cur.cpu;
  e.kind = kind;
  e.pid = cur.is_idle ? 0 : cur.pid;
  e.irqs_off = kind == TraceKind::IrqsOff;
  e.preempt_depth = static_cast<int16_t>(core(cur.cpu).preempt_count());
  tracer_->record(e, name);
}

void Kernel::trace_new_reports() {
  if (!tracer_) return;
  const auto& reports = lockdep_.reports();
  for (; traced_reports_ < reports.size(); ++traced_reports_) {
    // At the report's own moment (the acquisition that lockdep checked), which is where the
    // window ends: the core has run on since, and the event must not fall after the end.
    const auto& r = reports[traced_reports_];
    tracer_->trigger(r.when);
    trace_record(r.when, TraceKind::Report, 0, r.title);
  }
}

void Kernel::trace_vcd(sc_core::sc_trace_file* tf) {
  for (int c = 0; c < nr_cpus(); ++c) {
    const std::string p = "cpu" + std::to_string(c);
    core(c).trace_vcd(tf, p);
    sc_core::sc_trace(tf, cpu_of(c).serving_softirq, p + ".in_softirq");
    sc_core::sc_trace(tf, cpu_of(c).vcd_task, p + ".task");
    sc_core::sc_trace(tf, cpu_of(c).vcd_spinning, p + ".spinning");
  }
}

void Kernel::send_ipi(int target, IrqId id) {
  Core& c = this_core();
  if (tracer_) {
    const uint64_t flow = (static_cast<uint64_t>(this_cpu()) << 56) ^ static_cast<uint64_t>(c.now());
    trace(TraceKind::IpiRaise, target, "", flow, -1, id);
  }
  c.send_ipi(target, id);
}

void Kernel::warn_once(const std::string& key, const std::string& where, const std::string& what) {
  if (std::find(warned_.begin(), warned_.end(), key) != warned_.end()) return;
  warned_.push_back(key);
  // WARN_ONCE()'s first line: "WARNING: CPU: 0 PID: 11 at kernel/smp.c ...", then the text.
  const std::string text = "WARNING: CPU: " + std::to_string(this_cpu()) + " PID: " + std::to_string(current().pid) +
                           " at " + where + ": " + what;
  ++warnings;
  note_event("kernel.warning", text);
  log_.push_back(text);
}

// --- memory -------------------------------------------------------------------------------

Addr Kernel::alloc(int64_t bytes) {
  const int64_t line = platform_.mem().line_size();
  Addr a = next_addr_;
  next_addr_ += static_cast<Addr>(((bytes + line - 1) / line) * line);
  return a;
}

}  // namespace quiesce::kernel
