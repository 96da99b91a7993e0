#pragma once
// The minimal kernel, in Linux's shape and names: per-CPU runqueues with rq->lock at a
// simulated address, RT FIFO above normal round-robin tasks, try_to_wake_up taking
// p->pi_lock then the target rq->lock (with a reschedule IPI to a remote CPU), preemption
// at preempt_enable and on irq exit, the tick and hrtimers, softirq (at irq exit or in
// ksoftirqd), irq_work (self-IPI), workqueues (kworker), printk (log lock, then a klogd
// wakeup), smp_call_function_single, wait queues and completions, raw spinlocks and
// mutexes checked by lockdep and by the actual-deadlock detector.
//
// Every kernel function runs on the calling task's thread and reaches the hardware only
// through arch.h. current() is the task whose thread is running. Tasks are not load
// balanced: a task runs where it was woken (its previous CPU if allowed), so a preempted
// task always resumes on the CPU it left.
#include <systemc>

#include <deque>
#include <exception>
#include <map>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/base/flat_map.h"
#include "sim/base/params.h"
#include "sim/base/rng.h"
#include "sim/base/stats.h"
#include "sim/kernel/arch.h"
#include "sim/kernel/locking/deadlock.h"
#include "sim/kernel/locking/lockdep.h"
#include "sim/kernel/locking/spinlock.h"
#include "sim/kernel/perf/perf.h"
#include "sim/kernel/rcu/rcu.h"
#include "sim/kernel/release.h"
#include "sim/kernel/sched/task.h"
#include "sim/kernel/trace.h"

namespace quiesce::kernel {

// A kernel configuration parameter and the Linux option (or boot parameter) it models.
struct KernelConfigDoc {
  const char* param;
  const char* linux_option;
  const char* doc;
};
const std::vector<KernelConfigDoc>& kernel_configs();

struct KernelParams : ParamGroup {
  KernelParams() : ParamGroup("kernel", "the kernel model") {
    hz.range(10, 10000);
    softirq_restart.range(1, 100);
    printk_wakeup.choices({"release", "direct", "deferred"});
    lockdep_after_report.choices({"off", "continue"});
    ttwu_queue.choices({"release", "on", "off"});
  }
  Param<int64_t> hz{this, "hz", "1000", "timer ticks per second (CONFIG_HZ)"};
  Param<Choice> ttwu_queue{this, "sched.ttwu_queue", "release",
                           "sched_feat(TTWU_QUEUE): remote wakeups queued to the target CPU (on), or done by the waker "
                           "under the target's rq->lock (off); release: on from 3.0, across sockets only from 3.3"};
  Param<bool> nohz_idle{this, "nohz_idle", "false",
                        "CONFIG_NO_HZ_IDLE (CONFIG_NO_HZ before 3.10): an idle CPU stops its tick when nothing is due "
                        "within a tick, and a busy CPU's tick kicks an idle one to balance for it (the nohz idle-balance "
                        "kick: a cross-CPU call before 3.2, a reschedule IPI from ca38062e57e9)"};
  Param<bool> threadirqs{this, "threadirqs", "false",
                         "the threadirqs boot option (CONFIG_IRQ_FORCED_THREADING): each device interrupt's handler "
                         "runs in its SCHED_FIFO 50 thread irq/N-NAME (bh disabled, irqs on), woken from hardirq"};
  Param<Duration> timeslice{this, "sched.timeslice", "4ms", "round-robin slice of normal tasks"};
  Param<bool> lockdep{this, "lockdep.enabled", "true", "run lockdep (potential deadlock reports)"};
  Param<bool> might_wake{this, "lockdep.might_wake", "false",
                         "report wakeups (printk, wake_up, raise_softirq) under scheduler locks or locks nesting under one"};
  Param<Choice> lockdep_after_report{this, "lockdep.after_report", "off",
                                     "off: lockdep turns itself off after its first report, as Linux's "
                                     "debug_locks_off() does; continue: it goes on checking and reporting"};
  Param<Duration> hardlockup{this, "watchdog.hardlockup", "10ms",
                             "interrupts off on a CPU longer than this ends the run as hard_lockup (0 = off)"};
  Param<Duration> stall{this, "watchdog.stall", "1s",
                        "no task but idle running anywhere for this long ends the run as stall (0 = off)"};
  Param<int64_t> softirq_restart{this, "softirq.max_restart", "10",
                                 "softirq passes at irq exit before the rest goes to ksoftirqd"};
  Param<Cycles> switch_cost{this, "sched.switch_cost", "400", "cycles for switch_mm/switch_to"};
  Param<Cycles> wakeup_cost{this, "sched.wakeup_cost", "150", "cycles of try_to_wake_up's own work"};
  Param<Bytes> stack{this, "task_stack", "256KiB", "host stack of each task (a guard page below it; only the pages used are touched)"};
  Param<Duration> console_cost{this, "printk.console_cost", "0s",
                               "time the console drivers take per printk record, interrupts off (console_unlock, "
                               "v4.4); 0: no console registered"};
  Param<Choice> printk_wakeup{this, "printk.wakeup", "release",
                              "how printk wakes klogd: release (from the tick before 3.9, an irq_work after), "
                              "direct (printk wakes it itself: pi_lock, rq->lock), deferred (an irq_work)"};
};

enum SoftirqNr {
  HI_SOFTIRQ, TIMER_SOFTIRQ, NET_TX_SOFTIRQ, NET_RX_SOFTIRQ, BLOCK_SOFTIRQ, IRQ_POLL_SOFTIRQ,
  TASKLET_SOFTIRQ, SCHED_SOFTIRQ, HRTIMER_SOFTIRQ, RCU_SOFTIRQ, NR_SOFTIRQS
};
const char* softirq_name(int nr);

struct IrqWork {
  const char* name = "irq_work";
  std::function<void()> func;
  bool pending = false;
};

struct WorkItem {
  const char* name = "work";
  std::function<void()> func;
  bool pending = false;
  int running_on = -1;                  // the CPU whose worker runs it, or -1
  const Task* running_task = nullptr;   // that worker
  struct LockClass* map = nullptr;      // work->lockdep_map (flush_work), if set
};

// A wait-queue head (wait_queue_head_t, v4.4). Its waiters are linked through
// Task::wq_next, in arrival order, as v4.4 links the wait_queue_t each waiter keeps on
// its own stack (__add_wait_queue_tail): nothing is allocated, so a queue on a task's
// stack (a Completion in synchronize_rcu) owns no memory when a run ends with that task
// still waiting.
struct WaitQueue {
  RawSpinLock* lock = nullptr;  // the wait queue head's lock (class "&q->lock")
  uint64_t wakes = 0;  // wake_up() calls so far (wait_on's condition)
  Task* first = nullptr;
  Task* last = nullptr;
  bool empty() const { return first == nullptr; }
  // Adds `t` at the tail unless it is already queued here.
  void add(Task& t);
  void remove(Task& t);
};

struct Completion {
  unsigned done = 0;
  WaitQueue wait;
};

// A read-write semaphore (rwsem-xadd's behaviour): readers share, a writer excludes; the
// releaser hands the semaphore to the waiters it wakes (under sem->wait_lock before 4.7,
// after dropping it from 4.7). Lockdep sees it as a sleeping lock of its own class.
struct RwSemaphore {
  std::string name;
  LockClass* cls = nullptr;
  RawSpinLock* wait_lock = nullptr;  // "&sem->wait_lock"
  Addr addr = 0;                     // sem->count
  int readers = 0;
  Task* writer = nullptr;
  struct Waiter {
    Task* task;
    bool write;
    bool granted = false;
  };
  std::deque<Waiter*> waiters;
};

// An rwlock_t (the queued rwlock of 4.4, kernel/locking/qrwlock.c): readers share and spin
// while a writer holds it, or waits, unless they are in an interrupt (so a reader may recurse
// from an irq); a writer spins until it is free. One word at a simulated address holds the
// reader count, the writer and the waiting writers, so spinners wait on its line.
struct RwLock {
  std::string name;
  LockClass* cls = nullptr;
  Addr addr = 0;
  int readers = 0;
  Task* writer = nullptr;
  int waiting_writers = 0;
};

// A counting semaphore (kernel/locking/semaphore.c): sem->lock, a count and its sleepers;
// up() wakes the first sleeper under sem->lock and hands it the count.
struct Semaphore {
  std::string name;
  RawSpinLock* lock = nullptr;  // "(NAME).lock"
  int count = 1;
  struct Waiter {
    Task* task;
    bool up = false;
  };
  std::deque<Waiter*> waiters;
};

// An SRCU domain (kernel/rcu/srcu.c, the classic per-CPU-counter SRCU of 4.4): readers count
// on the current index; a grace period flips the index and waits for the old one's readers
// to drain, polling; call_srcu() callbacks run from a work item after a grace period.
// Lockdep holds the domain's map while a reader is inside (unchecked, as rcu_lock_acquire).
struct SrcuStruct {
  std::string name;
  LockClass* map = nullptr;   // sp->dep_map, named after the srcu_struct
  RawSpinLock* queue_lock = nullptr;  // "&sp->queue_lock"
  Addr counters = 0;          // the per-CPU c[] and seq[] lines
  int idx = 0;                // sp->completed & 1
  int readers[2] = {0, 0};
  bool gp_running = false;
  std::deque<std::function<void()>> cbs;  // call_srcu() callbacks not yet invoked
  WorkItem work;              // process_srcu
};

// A timer_list (the timer wheel: jiffies resolution, run from TIMER_SOFTIRQ) or an hrtimer
// (run from the timer interrupt, in hardirq), with the callback to run.
struct KTimer {
  std::string name;  // the callback's name: its frame, and lockdep's timer->lockdep_map
  std::function<void()> fn;
  bool hr = false;
  Time expires = 0;
  int cpu = -1;  // the CPU it is queued on, or -1
  uint64_t seq = 0;
  int running_on = -1;  // the CPU running its callback, or -1
  LockClass* map = nullptr;
};

// How a run ended, when it did not simply reach its duration.
struct KernelOutcome {
  std::string kind;  // "" (running), "deadlock", "hard_lockup", "stall"
  Time when = 0;
  std::string detail;  // readable account: chain, held locks, sites
  std::vector<int> cpus;
  std::vector<std::string> classes;
};

struct TaskSpec {
  int cpu = -1;  // pinned CPU, or -1: any (starts on the least loaded)
  Policy policy = Policy::Normal;
  int rt_priority = 0;
  bool start = true;  // wake it at once
};

class Kernel : public IrqHandler {
 public:
  // Builds per-CPU runqueues, idle tasks, ksoftirqd/N, kworker/N and klogd. Call during
  // elaboration; the tasks start when the simulation does.
  Kernel(Platform& platform, const KernelParams& params, const VariantParams& variants, uint64_t seed,
         StatRegistry* stats);
  // With every variant at its default.
  Kernel(Platform& platform, const KernelParams& params, uint64_t seed, StatRegistry* stats);
  ~Kernel() override;

  int nr_cpus() const { return static_cast<int>(cpus_.size()); }
  Platform& platform() { return platform_; }
  Lockdep& lockdep() { return lockdep_; }
  Rcu& rcu() { return *rcu_; }
  // Tracing (off until enabled; see trace.h). Call before the simulation starts.
  void enable_trace(Time window, size_t max_bytes, size_t max_events);
  Tracer* tracer() { return tracer_.get(); }
  // Records an event for the current task, with the ftrace flags of the moment. Inline, so
  // that with tracing off (most runs) each lock, irq and preempt op only tests the tracer.
  void trace(TraceKind kind, int arg = 0, const char* name = "", uint64_t id = 0, int arg_pid = -1,
             int arg2 = 0) {
    if (tracer_) trace_now(kind, arg, name, id, arg_pid, arg2);
  }
  void trace_at(Time t, TraceKind kind, const char* name = "");
  // Per-CPU signals in a VCD: the cores' flags, plus softirq, current task id, spinning.
  void trace_vcd(sc_core::sc_trace_file* tf);
  // IPIs the kernel sends, traced with a flow to the handler they start.
  void send_ipi(int target, IrqId id);
  Perf& perf() { return *perf_; }
  const Release& release() const { return release_; }
  Time tick_period() const { return tick_period_; }
  // Things worth telling the user that are not metrics (first RCU violation, ...).
  void note_event(const std::string& key, const std::string& text) { notes_.emplace_back(key, text); }
  const std::vector<std::pair<std::string, std::string>>& notes() const { return notes_; }
  const KernelOutcome& outcome() const { return outcome_; }
  Time now() { return this_core().now(); }

  // --- context ------------------------------------------------------------------------
  // The task running on the CPU whose thread runs now (kernel code runs only there).
  Task& current() {
    const Core* c = Core::running();
    Task* t = c ? static_cast<Task*>(c->software_word()) : nullptr;  // set at switch_to
    if (t == nullptr) throw std::logic_error("kernel code called outside a kernel task");
    return *t;
  }
  int this_cpu() { return current().cpu; }
  Core& this_core() { return core(this_cpu()); }
  Core& core(int cpu) { return *cpu_of(cpu).core; }  // hot: no bounds check, one load
  bool in_irq() { return this_core().hardirq_depth() > 0; }
  bool in_softirq();
  bool in_interrupt() { return in_irq() || in_softirq(); }
  bool irqs_disabled() { return !this_core().irqs_enabled(); }
  // `cpu` runs its idle task outside any interrupt (dyntick-idle, as RCU sees it).
  bool cpu_in_idle(int cpu);
  // NO_HZ idle: `cpu` has stopped its tick.
  bool tick_stopped(int cpu) { return cpu_of(cpu).tick_stopped; }
  uint64_t idle_entries(int cpu) { return cpu_of(cpu).idle_entries; }
  // Lockdep is on and this task is not inside lockdep_off() (printk before 4.11).
  bool lockdep_watching() { return lockdep_watching(current()); }
  bool lockdep_watching(const Task& t) { return lockdep_.enabled() && t.lockdep_recursion == 0; }
  // An unchecked lockdep map on the held stack (rcu_lock_map): in reports' held-lock lists only.
  void lockdep_hold_unchecked(int cls) {
    if (lockdep_watching()) lockdep_.acquire_unchecked(lockdep_ctx(), current().held_locks, cls, site());
  }
  void lockdep_release_unchecked(int cls) {
    if (lockdep_watching()) lockdep_.release(current().held_locks, cls);
  }
  int preempt_count() { return this_core().preempt_count(); }

  // --- tasks and scheduling -----------------------------------------------------------
  Task& create_task(const std::string& comm, const TaskSpec& spec, std::function<void()> body);
  const std::vector<std::unique_ptr<Task>>& tasks() const { return tasks_; }
  Task* find_task(const std::string& comm);
  void schedule();
  bool try_to_wake_up(Task& p);
  bool wake_up_process(Task& p);
  void set_current_state(TaskState s);
  void sleep_for(Time d);            // hrtimer sleep; wakeup latency recorded
  void sleep_until(Time t);
  // Sleeps until woken or `d` has passed (whichever first), like schedule_timeout().
  void schedule_timeout(Time d);
  void set_need_resched() { this_cpu_data().need_resched = true; }
  // The interrupt this CPU is handling (valid inside a handler).
  const IrqAck& current_irq() { return this_cpu_data().cur_irq; }
  bool bh_disabled() { return this_cpu_data().softirq_count > 0; }
  void cond_resched();
  void compute(uint64_t cycles) { this_core().compute(cycles); }
  void compute_for(Time t);

  // --- interrupts and preemption -------------------------------------------------------
  void preempt_disable();
  void preempt_enable();
  void preempt_enable_no_resched();
  bool local_irq_save();
  void local_irq_restore(bool flags);
  void local_irq_disable();
  void local_irq_enable();
  void local_bh_disable();
  void local_bh_enable();

  // --- locks --------------------------------------------------------------------------
  LockClass& lock_class(const std::string& name, WaitType wait = WaitType::RawSpin, bool scheduler = false);
  // A lock on its own cache line, or on `share_line_with`'s line (false sharing knob).
  std::unique_ptr<RawSpinLock> make_lock(const std::string& name, LockClass& cls,
                                         const RawSpinLock* share_line_with = nullptr);
  std::unique_ptr<Mutex> make_mutex(const std::string& name, LockClass& cls);
  void raw_spin_lock(RawSpinLock& l);
  // spin_lock_nested(): lockdep sees subclass 1..7 as class "<name>/<subclass>" (0: plain).
  void raw_spin_lock_nested(RawSpinLock& l, int subclass);
  bool raw_spin_trylock(RawSpinLock& l);
  void raw_spin_unlock(RawSpinLock& l);
  bool raw_spin_lock_irqsave(RawSpinLock& l);
  void raw_spin_unlock_irqrestore(RawSpinLock& l, bool flags);
  void raw_spin_lock_irq(RawSpinLock& l);
  void raw_spin_unlock_irq(RawSpinLock& l);
  void raw_spin_lock_bh(RawSpinLock& l);
  void raw_spin_unlock_bh(RawSpinLock& l);
  void mutex_lock(Mutex& m);
  void mutex_unlock(Mutex& m);
  void might_sleep();
  void might_wake();

  // --- waiting ------------------------------------------------------------------------
  WaitQueue make_wait_queue(const std::string& name);
  // Sleeps until `cond` holds (checked under no lock, as wait_event does).
  void wait_event(WaitQueue& wq, const std::function<bool()>& cond);
  // The same, giving up after `timeout`: returns whether `cond` held (wait_event_timeout).
  bool wait_event_timeout(WaitQueue& wq, const std::function<bool()>& cond, Time timeout);
  void wake_up(WaitQueue& wq);
  void init_completion(Completion& c, const std::string& name);
  void wait_for_completion(Completion& c);
  void complete(Completion& c);
  // rw_semaphores and semaphores (kernel/locking/rwsem.c, semaphore.c).
  std::unique_ptr<RwSemaphore> make_rwsem(const std::string& name, LockClass& cls);
  void down_read(RwSemaphore& s);
  bool down_read_trylock(RwSemaphore& s);
  void up_read(RwSemaphore& s);
  // up_read_non_owner(): the release without lockdep's (it was dropped by rwsem_release()).
  void up_read_non_owner(RwSemaphore& s);
  void down_write(RwSemaphore& s);
  bool down_write_trylock(RwSemaphore& s);
  void up_write(RwSemaphore& s);
  std::unique_ptr<Semaphore> make_semaphore(const std::string& name, int count);
  // rwlock_t: read_lock()/write_lock() as raw_spin_lock(), lockdep seeing readers as
  // recursive reads; the _irq/_irqsave/_bh flavours are composed by the caller.
  std::unique_ptr<RwLock> make_rwlock(const std::string& name, LockClass& cls);
  void read_lock(RwLock& l);
  void read_unlock(RwLock& l);
  void write_lock(RwLock& l);
  void write_unlock(RwLock& l);
  std::unique_ptr<SrcuStruct> make_srcu(const std::string& name);
  int srcu_read_lock(SrcuStruct& s);
  void srcu_read_unlock(SrcuStruct& s, int idx);
  void synchronize_srcu(SrcuStruct& s);
  void call_srcu(SrcuStruct& s, std::function<void()> fn);
  void down(Semaphore& s);
  bool down_trylock(Semaphore& s);
  void up(Semaphore& s);
  // Signals: send_sig() takes the target's sighand->siglock (irqs off) and wakes it if it
  // sleeps (signal_wake_up -> try_to_wake_up), under the siglock.
  RawSpinLock& siglock(Task& t);
  void send_sig(Task& t);
  // lock_map_acquire()/lock_map_release(): a lockdep map with no lock behind it (a timer's,
  // a work item's), so lockdep sees "waits for the callback" as taking it.
  void lock_map_acquire(LockClass& map);
  void lock_map_release(LockClass& map);
  // A kernel WARN_ONCE at `where` (file and function): printed once per key (the log,
  // kernel.warnings), the run goes on.
  void warn_once(const std::string& key, const std::string& where, const std::string& what);

  // --- deferred work ------------------------------------------------------------------
  void open_softirq(int nr, std::function<void()> action);
  void raise_softirq(int nr);
  void raise_softirq_irqoff(int nr);
  bool irq_work_queue(IrqWork& w);
  bool queue_work_on(int cpu, WorkItem& w);
  // flush_work(), v4.4: lockdep takes the work's map (the worker holds it while the work
  // runs), then waits until the work is neither pending nor running.
  bool flush_work(WorkItem& w);
  // Timers. add_timer/mod_timer queue (or move) a timer_list on this CPU, expiring at the
  // first tick at or after `expires`; del_timer_sync also waits for a running callback
  // (lockdep: it takes the timer's map). hrtimer_start queues an hrtimer on this CPU under
  // hrtimer_bases.lock; one already expired behaves as kernel.hrtimer.expired_start says.
  void init_timer(KTimer& t, const std::string& name, bool hr, std::function<void()> fn);
  bool mod_timer(KTimer& t, Time expires);
  bool del_timer(KTimer& t);
  bool del_timer_sync(KTimer& t);
  void hrtimer_start(KTimer& t, Time expires);
  bool hrtimer_cancel(KTimer& t);
  void printk(const std::string& text);
  void printk_deferred(const std::string& text);
  // console_lock() sleeps on console_sem until it is free (down()); console_unlock() ups
  // it, waking the first sleeper under the semaphore's lock. Lockdep sees console_lock as
  // a sleeping lock (console_lock_dep_map, 3.9+).
  void console_lock();
  void console_unlock();
  // Runs `fn` on `cpu` in hardirq context (call-function IPI); waits when `wait`.
  void smp_call_function_single(int cpu, std::function<void()> fn, bool wait);
  // Runs `fn` on every CPU in `cpus` but this one; waits for all when `wait`.
  void smp_call_function_many(const std::vector<int>& cpus, std::function<void()> fn, bool wait);

  // --- the kernel's own objects, as scenarios reach them ----------------------------------
  // cpu_rq(cpu)->lock.
  RawSpinLock& rq_lock(int cpu) { return *cpu_of(cpu).rq.lock; }
  // task_rq_lock(), v4.4: p->pi_lock (irqs saved), then the rq->lock of the CPU p is on,
  // retried if p moved meanwhile. Returns the flags for task_rq_unlock().
  bool task_rq_lock(Task& p);
  void task_rq_unlock(Task& p, bool flags);
  // A wait queue the kernel owns, by name ("log_wait": klogd's; "rsp->gp_wq": the RCU GP
  // kthread's), or null.
  WaitQueue* kernel_wait_queue(const std::string& name);
  // The kernel threads a kernel of `cores` CPUs as `release` has (for validation).
  static std::vector<std::string> kernel_thread_names(int cores, const Release& release);
  // The lockdep classes the model's own locks use, each with the operand that reaches the
  // real lock: a scenario's declared lock may not borrow these names.
  struct KernelLockClass {
    const char* cls;
    const char* operand;
  };
  static const std::vector<KernelLockClass>& kernel_lock_classes();
  // Hook points: where Linux calls out to tracepoints, perf events and programs attached to
  // them, with the kernel's locks held. A hook runs on the CPU that reaches it, with the
  // task concerned; like bpf_prog_active, a hook reached from inside a hook on the same CPU
  // is skipped (counted in hook_recursion).
  enum class Hook { SchedSwitch, Enqueue, Dequeue, UpdateCurr, SelectTaskRq, Tick, IrqExit, Count };
  static const char* hook_name(Hook h);
  static const char* hook_doc(Hook h);
  void attach_hook(Hook h, std::function<void(Task&)> fn);

  // --- devices ------------------------------------------------------------------------
  // Handler for device interrupt `irq` (an SPI), run in hardirq context, or with threadirqs
  // in its irq thread (pinned to `cpu` when given: the CPU the line is routed to).
  void request_irq(IrqId irq, const char* name, std::function<void()> handler, int cpu = -1);
  // Posts device interrupt `irq` to `cpu` at `arrival` (from a device model).
  void raise_device_irq(int cpu, IrqId irq, Time arrival);

  // --- simulated memory ---------------------------------------------------------------
  Addr alloc(int64_t bytes);  // line-aligned, never freed

  // --- call sites -----------------------------------------------------------------------
  // RAII: names the kernel-model function the current task is in (sites, backtraces).
  class Frame {
   public:
    Frame(Kernel& k, const char* fn) : t_(k.current()) { t_.frames.push_back(fn); }
    ~Frame() { t_.frames.pop_back(); }
    Frame(const Frame&) = delete;
    Frame& operator=(const Frame&) = delete;

   private:
    Task& t_;
  };
  const char* site() { return site_of(current()); }

  // IrqHandler
  void handle_irq(Core& core, const IrqAck& irq) override;
  void irq_return(Core& core) override;

  // --- what a run reports -------------------------------------------------------------
  struct Section {
    Time length = 0;
    Time start = 0;
    int cpu = -1;
    std::string begin_site, end_site;
  };
  const Section& max_irqs_off() const { return max_irqoff_; }
  const Section& max_preempt_off() const { return max_preemptoff_; }
  // Irq-off sections by the function that began them (sorted by name). Computed at the end
  // of a run: it may merge histograms.
  std::map<std::string, Histogram*> irqs_off_by_site() const;
  std::vector<std::string> log() const;  // printk records
  std::string describe_cpu(int cpu);

  StatGroup stats_;
  Counter context_switches{&stats_, "context_switches", "context switches", "count"};
  Counter wakeups{&stats_, "wakeups", "try_to_wake_up calls that woke a task", "count"};
  Counter resched_ipis{&stats_, "resched_ipis", "reschedule IPIs sent", "count"};
  Counter ttwu_queued{&stats_, "ttwu_queued", "remote wakeups queued to the target CPU (TTWU_QUEUE)", "count"};
  Counter klogd_tick_wakeups{&stats_, "klogd_tick_wakeups", "klogd wakeups from the tick (printk_tick)", "count"};
  Counter klogd_irq_work_wakeups{&stats_, "klogd_irq_work_wakeups", "klogd wakeups from an irq_work", "count"};
  Counter softirqs{&stats_, "softirqs", "softirq handler runs", "count"};
  Counter ksoftirqd_wakeups{&stats_, "ksoftirqd_wakeups", "softirq work handed to ksoftirqd", "count"};
  Counter irq_works{&stats_, "irq_works", "irq_work items run", "count"};
  Counter works{&stats_, "works", "workqueue items run", "count"};
  Counter printks{&stats_, "printks", "printk records", "count"};
  Counter ticks{&stats_, "ticks", "scheduler ticks", "count"};
  Counter hook_runs{&stats_, "hook_runs", "programs run at hook points", "count"};
  Counter hook_recursion{&stats_, "hook_recursion", "hooks skipped because the CPU was already inside one", "count"};
  Counter warnings{&stats_, "warnings", "kernel WARNINGs printed (misuse of a primitive)", "count"};
  Counter timers_run{&stats_, "timers", "timer_list callbacks run (TIMER_SOFTIRQ)", "count"};
  Counter hrtimers_run{&stats_, "hrtimers", "hrtimer callbacks run (hardirq)", "count"};
  Counter signals{&stats_, "signals", "signals sent (send_sig)", "count"};
  Counter nohz_kicks{&stats_, "nohz_kicks", "nohz idle-balance kicks sent", "count"};
  Counter spurious_irqs{&stats_, "spurious_irqs", "device interrupts no handler claimed (IRQ_NONE)", "count"};
  Histogram wakeup_latency{&stats_, "wakeup_latency", "timer expiry to the woken task running", "ps"};
  Histogram device_event_latency{&stats_, "device_event_latency",
                                 "device event arrival to its handler's entry, every event (arrivals merged into "
                                 "one interrupt each count)", "ps"};
  Histogram irq_thread_latency{&stats_, "irq_thread_latency",
                               "threadirqs: device event arrival to its irq thread's handler, every event", "ps"};
  Histogram irqs_off{&stats_, "irqs_off", "interrupts-off sections", "ps"};
  Histogram preempt_off{&stats_, "preempt_off", "preemption-off sections", "ps"};
  Value lockdep_reports{&stats_, "lockdep_reports", "distinct lockdep reports", "count"};

 private:
  // One event at time `t` with the current CPU's flags of now.
  void trace_record(Time t, TraceKind kind, int arg, std::string_view name, uint64_t id = 0,
                    int arg_pid = -1, int arg2 = 0);
  void trace_now(TraceKind kind, int arg, const char* name, uint64_t id, int arg_pid,
                 int arg2);  // trace(), on
  struct HrTimer {
    Time expires;
    uint64_t seq;
    Task* task;  // wakes this task, or runs:
    KTimer* timer;
    bool operator>(const HrTimer& o) const { return expires != o.expires ? expires > o.expires : seq > o.seq; }
  };
  struct Rq {
    std::unique_ptr<RawSpinLock> lock;
    Task* curr = nullptr;
    Task* idle = nullptr;
    // The RT queues by rt_priority and, as v4.4's rt_prio_array keeps beside them, a bitmap
    // of those that hold a task, so that picking the next task is one bit search.
    std::vector<std::vector<Task*>> rt;
    uint64_t rt_active[2] = {0, 0};
    std::deque<Task*> normal;
    int nr_running = 0;
  };
  struct Cpu {
    int id = 0;
    Core* core = nullptr;  // the platform's core of this id
    Rq rq;
    // The task whose stack the CPU's thread runs on (rq.curr changes a little earlier, in
    // context_switch; also kept in the core's software word, for current()), the context
    // being left in a switch, the thread's own context, and what a task threw that the
    // model does not handle (thrown on from the thread).
    Task* running = nullptr;
    TaskContext* switch_from = nullptr;
    TaskContextPtr native;
    std::exception_ptr failure;
    bool need_resched = false;
    int softirq_count = 0;    // bh-disable depth, including while serving softirqs
    int serving_softirq = 0;  // inside __do_softirq (lockdep's softirq context)
    IrqAck cur_irq;
    int vcd_task = 0;         // the current task's pid (0: idle), for VCD
    bool vcd_spinning = false;
    // The spinlocks this CPU holds, oldest first (whatever lockdep sees), for reports.
    std::vector<const RawSpinLock*> spinlocks_held;
    uint32_t softirq_pending = 0;
    Task* ksoftirqd = nullptr;
    std::deque<Task*> wake_list;  // rq->wake_list: remote wakeups for this CPU to finish (TTWU_QUEUE)
    bool printk_pending = false;  // before 3.9: wake klogd at the next tick (printk_tick)
    Task* kworker = nullptr;
    std::vector<IrqWork*> irq_work_list;
    std::unique_ptr<RawSpinLock> pool_lock;
    std::deque<WorkItem*> worklist;
    std::vector<HrTimer> timers;  // min-heap
    std::unique_ptr<RawSpinLock> hrtimer_lock;  // hrtimer_bases.lock
    std::unique_ptr<RawSpinLock> timer_base_lock;  // the timer wheel's base->lock
    std::vector<KTimer*> wheel;
    std::vector<KTimer*> softirq_hrtimers;  // expired at hrtimer_start (2.6.29-4.1)
    KTimer* running_timer = nullptr;
    Time next_tick = 0;
    Time programmed = -1;
    std::deque<std::function<void()>> call_queue;  // each entry runs its function, then unlocks its csd
    std::unique_ptr<RawSpinLock> call_lock;
    Time irqoff_since = -1;
    const char* irqoff_site = "";
    Time last_tick = 0;  // the last timer interrupt served (the hard-lockup watchdog's count)
    Time preemptoff_since = -1;
    const char* preemptoff_site = "";
    bool in_hook = false;  // bpf_prog_active
    bool tick_stopped = false;  // NO_HZ idle: in nohz.idle_cpus_mask
    uint64_t idle_entries = 0;  // NO_HZ idle: rdtp->dynticks (changes as the CPU enters idle)
    bool nohz_kick = false;     // rq->nohz_balance_kick / NOHZ_BALANCE_KICK
    Addr kick_csd = 0;          // remote_sched_softirq_cb's flags word (before 3.2)
    Addr csd_data = 0;          // csd_data: this CPU's csd for asynchronous cross-CPU calls
    Addr csd_stack = 0;         // the on-stack csd of a waiting smp_call_function_single()
    Addr call_head = 0;         // call_single_queue's head word (llist_add's target)
    std::vector<Addr> cfd_csd;  // smp_call_function_many()'s csd per target (cfd_data)
  };
  friend class KernelTestPeer;
  friend struct ContextSwitch;

  Cpu& cpu_of(int c) { return cpus_[static_cast<size_t>(c)]; }
  Cpu& this_cpu_data() { return cpu_of(this_cpu()); }
  static const char* site_of(const Task& t) { return t.frames.empty() ? "?" : t.frames.back(); }
  LockdepContext lockdep_ctx() { return lockdep_ctx(current()); }
  LockdepContext lockdep_ctx(const Task& t);      // t: the current task
  void preempt_enable_no_resched(const Task& t);  // t: the current task
  void task_entry(Task& t);
  void idle_loop();
  void ksoftirqd_loop();
  void kworker_loop();
  void klogd_loop();

  // scheduler internals (sched/core.cpp)
  void __schedule(bool preempt);
  void preempt_schedule();
  void preempt_schedule_irq();
  void enqueue(Rq& rq, Task& p, bool head = false);
  void dequeue(Rq& rq, Task& p);
  Task* pick_next(Rq& rq);
  void resched_curr(int cpu);
  bool should_preempt(const Task& curr, const Task& p) const;
  int select_cpu(Task& p);
  void context_switch(Cpu& c, Task* prev, Task* next);
  // Task contexts (sched/context.cpp): a task's stack; the CPU's thread, which starts on
  // its first task; the stack switch itself.
  void make_context(Task& t);
  void start_cpu_thread(Cpu& c);
  void switch_to(Cpu& c, Task& prev, Task& next);
  void finish_task_switch(Task* prev);
  void scheduler_tick();
  bool ttwu_queues(int from, int to) const;
  void ttwu_queue_remote(Task& p, int cpu);
  void sched_ttwu_pending();

  // the tick, task hrtimers, NO_HZ idle (time/tick.cpp)
  void hrtimer_start(Time expires, Task* t);
  void hrtimer_cancel(Task* t);
  void program_timer(Cpu& c);
  void timer_interrupt();
  // NO_HZ idle (tick-sched.c): stop the tick entering idle when nothing is due within a tick;
  // restart it, aligned, leaving idle.
  void tick_nohz_idle_enter();
  void tick_nohz_idle_exit();
  // The nohz idle balance: a busy CPU's tick kicks an idle CPU (nohz_balancer_kick), which
  // balances on behalf of the idle CPUs from SCHED_SOFTIRQ (nohz_idle_balance).
  void nohz_balancer_kick();
  void run_rebalance_domains();
  // __smp_call_function_single(): csd_lock() (spin while the csd is still queued), then
  // generic_exec_single(): queue under the target's call_single_queue lock, irqs restored,
  // then the IPI if the queue was empty.
  void call_function_single_csd(int cpu, Addr csd, std::function<void()> fn, bool sync);
  void rwsem_wake_up(const std::vector<Task*>& woken, RawSpinLock& wait_lock, bool flags);
  void rwsem_down(RwSemaphore& s, bool write);
  bool rwsem_trylock(RwSemaphore& s, bool write);
  void run_timer_softirq();
  void run_hrtimer_softirq();
  void run_hrtimer(Cpu& c, KTimer& t);
  void hrtimer_remove(KTimer& t);
  void detach_timer(KTimer& t);
  void detach_hrtimer(KTimer& t);

  // deferred work (softirq.cpp)
  void do_softirq_at_irq_exit();
  void __do_softirq();
  void wakeup_softirqd();
  void irq_work_run();
  void call_function_interrupt();
  void log_store(const std::string& text, bool traced);
  void wake_up_klogd();
  bool console_trylock();
  void up_console_sem();

  // tracing (kernel.cpp)
  void irqs_off_begin(Cpu& c, Time at, const char* site);
  void irqs_off_end(Cpu& c, const char* site, Time extra = 0);
  void preempt_off_begin(Cpu& c, const char* site);
  void preempt_off_end(Cpu& c, const char* site);

  // locks (locking/spinlock.cpp)
  void lock_acquired(RawSpinLock& l, Time wait_start, bool contended);
  bool unlocking_own(const Task* owner, ClassId cls);
  void do_raw_spin_unlock(RawSpinLock& l);
  void run_hook(Hook h, Task& subject);
  void report_deadlock(const std::vector<std::pair<int, const RawSpinLock*>>& chain);
  void end_run(const std::string& kind, const std::string& detail, Time when = -1);
  void start_watchdog();
  // The stall watchdog's tests: nothing runs and nothing pending (timer, device, softirq,
  // irq_work, work, cross-CPU call) can wake a sleeping task; and who sleeps where.
  bool nothing_can_wake() const;
  std::string sleepers() const;

  Platform& platform_;
  const Release release_;
  const int64_t hz_;
  const Time tick_period_;
  const Time timeslice_;
  const Time hardlockup_;
  const Time stall_;
  const int softirq_restart_;
  const int64_t switch_cost_;
  const int64_t wakeup_cost_;
  const size_t stack_bytes_;
  enum class KlogdWake { Tick, IrqWork, Direct };
  const KlogdWake klogd_wake_;
  const bool printk_lockdep_visible_;  // PrintkLockdepVisible (4.11)
  const Time console_cost_;
  const bool ttwu_queue_, ttwu_queue_llc_;
  const bool nohz_idle_;
  const bool threadirqs_;
  const bool nohz_kick_ipi_;  // ca38062e57e9 (3.2)
  const bool call_llist_;     // 6897fc22ea01 (3.14)
  const bool csd_unlock_first_;  // 8053871d0f7f (4.1)
  enum class ExpiredStart { RunInCaller, Softirq, Reprogram };
  const ExpiredStart expired_start_;
  Lockdep lockdep_;
  DeadlockDetector deadlock_;
  StatRegistry* registry_;
  std::vector<std::unique_ptr<LockClass>> classes_;
  std::vector<Cpu> cpus_;
  std::vector<std::unique_ptr<Task>> tasks_;
  std::vector<std::function<void()>> softirq_vec_;  // open_softirq(): the scenario's (and RCU's) handlers
  // The model's own handlers of TIMER, HRTIMER and SCHED, run before a scenario's handler of
  // the same vector (which may also be declared).
  std::vector<std::function<void()>> kernel_softirq_vec_;
  std::vector<std::pair<const char*, std::function<void()>>> device_handlers_;
  // Per device line: its events (arrival times) not yet served, and note_interrupt()'s
  // spurious-interrupt bookkeeping (kernel/irq/spurious.c).
  struct DeviceLine {
    std::deque<Time> events;
    Task* thread = nullptr;           // threadirqs: irq/N-NAME
    std::deque<Time> thread_events;   // events its thread has not handled yet
    uint64_t count = 0, unhandled = 0;
    Time last_unhandled = -1;
  };
  std::vector<DeviceLine> device_lines_;
  bool device_irq(Cpu& c, const IrqAck& irq);
  void note_interrupt(Cpu& c, const IrqAck& irq, bool handled);
  LockClass* pi_lock_class_ = nullptr;
  std::vector<std::unique_ptr<RawSpinLock>> task_pi_locks_;
  std::unique_ptr<RawSpinLock> logbuf_lock_;
  // console_sem: a semaphore (count, waiters) whose own lock is "(console_sem).lock".
  std::unique_ptr<RawSpinLock> console_sem_lock_;
  int console_sem_count_ = 1;
  std::deque<Task*> console_sem_waiters_;
  LockClass* console_lock_class_ = nullptr;  // console_lock_dep_map
  std::vector<std::string> log_;
  size_t log_read_ = 0;
  WaitQueue log_wait_;
  std::unique_ptr<RawSpinLock> log_wait_lock_;
  Task* klogd_ = nullptr;
  IrqWork klogd_work_;
  Addr next_addr_ = 0x10000000;
  uint64_t timer_seq_ = 0;
  int next_pid_ = 1;
  Section max_irqoff_, max_preemptoff_;
  StatGroup irqoff_sites_{nullptr, "irqs_off_by_site"};
  FlatMap<std::unique_ptr<Histogram>> irqoff_by_site_;  // by the site's address
  std::vector<Histogram*> irqoff_by_site_list_;         // in first-seen order
  KernelOutcome outcome_;
  Time last_progress_ = 0;
  std::vector<std::unique_ptr<RawSpinLock>> owned_locks_;
  std::vector<std::pair<std::string, std::string>> notes_;
  std::vector<std::string> warned_;
  std::map<const Task*, std::unique_ptr<RawSpinLock>> siglocks_;
  LockClass* siglock_class_ = nullptr;

  std::vector<std::function<void(Task&)>> hooks_[static_cast<int>(Hook::Count)];
  std::unique_ptr<Rcu> rcu_;
  std::unique_ptr<Perf> perf_;
  std::unique_ptr<Tracer> tracer_;
  size_t traced_reports_ = 0;
  void trace_new_reports();
};

}  // namespace quiesce::kernel
