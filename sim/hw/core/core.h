#pragma once
// A cycle-approximate CPU core. Software (the kernel model, or a bare-metal workload) runs
// on it through the HAL below; every HAL call is an instruction boundary: the core charges
// the op's cycles and, if an unmasked interrupt has arrived, takes it there, running the
// handler nested on the calling thread's stack as hardware does. A long compute() is split
// at an interrupt's arrival so the handler starts on the arrival cycle.
//
// Time: each core keeps a local offset ahead of global time (TLM-2.0 quantum keeping):
// the cores' scheduler's time when the software runs under it (start_software), else
// SystemC's. Core-private work (compute, flag changes) only adds to it. With quantum 0
// ("exact"), conservatively as in parallel discrete-event simulation: a core does anything
// another core can see (memory, IPIs) only at a local time before the next activity of any
// other core or process (under the scheduler, at the same time only before higher CPU
// ids), synchronising first otherwise; and while its interrupts are on it never runs
// further ahead than that activity plus the controller's lookahead (the least time from
// any post to its arrival). So every interaction and every interrupt happens at its exact
// time, in the order synchronising before each would give. With a quantum q > 0 memory
// operations use local time without synchronising and a core runs up to q ahead: faster,
// approximate.
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <functional>
#include <string>

#include "sim/base/params.h"
#include "sim/base/stats.h"
#include "sim/base/units.h"
#include "sim/hw/core/scheduler.h"
#include "sim/hw/irq/controller.h"
#include "sim/hw/mem/coherence.h"
#include "sim/hw/topology.h"

namespace quiesce {

// How far past global time a core may run when no other process has anything pending.
inline constexpr Time kMaxRunAhead = 100 * kUs;

struct CoreParams : ParamGroup {
  CoreParams() : ParamGroup("core.op", "op-cost table of every core, in cycles") {}
  Param<Cycles> alu{this, "alu", "1", "one ALU instruction"};
  Param<Cycles> atomic{this, "atomic", "20",
                       "an uncontended atomic RMW (CAS, fetch-add, xchg) on a line this CPU owns: what a same-CPU CAS "
                       "loop measures; it overlaps a transfer the RMW needs (the larger of the two counts)"};
  Param<Cycles> irq_flag{this, "irq_flag", "1", "local_irq_save/restore, enable/disable"};
  Param<Cycles> preempt{this, "preempt", "1", "preempt_count increment or decrement"};
  Param<Cycles> irq_entry{this, "irq_entry", "300", "exception entry up to the first handler instruction"};
  Param<Cycles> irq_exit{this, "irq_exit", "200", "from the handler's return to the interrupted instruction"};
  Param<Cycles> ipi_send{this, "ipi_send", "150", "writing the interrupt command register (sender side)"};
  Param<Cycles> pipeline_flush{this, "pipeline_flush", "20", "a full barrier / pipeline flush"};
  Param<Cycles> timer_program{this, "timer_program", "20", "programming the per-CPU timer"};
};

class Core;

// The software side of interrupts. handle_irq runs in hardirq context with interrupts
// off; irq_return runs after EOI, interrupts still off, just before the interrupted
// context resumes: the kernel may reschedule there (preemption on irq exit).
class IrqHandler {
 public:
  virtual ~IrqHandler() = default;
  virtual void handle_irq(Core& core, const IrqAck& irq) = 0;
  virtual void irq_return(Core&) {}
};

struct CoreTiming {
  Time period = 500;     // ps per cycle
  Time quantum = 0;      // 0 = exact
  Time lookahead = 1;    // exact mode: max run-ahead with interrupts on
};

class Core : public sc_core::sc_module, public IrqTarget, public LineWatcher {
  friend class CoreScheduler;

 public:
  Core(sc_core::sc_module_name name, int id, const CoreParams& params, const CoreTiming& timing,
       InterruptController* irq, StatRegistry* stats);
  ~Core() override;

  tlm_utils::simple_initiator_socket<Core> out_mem_;

  int id() const { return id_; }
  Time period() const { return period_; }
  void set_irq_handler(IrqHandler* h) { handler_ = h; }

  // --- time -----------------------------------------------------------------------
  Time now() const { return global_now() + offset_; }
  Time local_now() const override { return now(); }
  uint64_t cycles_at(Time t) const { return static_cast<uint64_t>(t / period_); }

  // --- HAL: each call is an instruction boundary -------------------------------------
  void compute(uint64_t cycles);
  void alu(uint64_t n = 1) { compute(n * static_cast<uint64_t>(cost_.alu)); }
  void barrier() { compute(static_cast<uint64_t>(cost_.pipeline_flush)); }
  uint64_t load(Addr a) { return access(MemOp::Load, a, 0, 0); }
  void store(Addr a, uint64_t v) { access(MemOp::Store, a, v, 0); }
  uint64_t cas(Addr a, uint64_t expected, uint64_t desired) { return access(MemOp::Cas, a, expected, desired); }
  uint64_t fetch_add(Addr a, uint64_t d) { return access(MemOp::FetchAdd, a, d, 0); }
  uint64_t xchg(Addr a, uint64_t v) { return access(MemOp::Xchg, a, v, 0); }
  // Re-reads the line of `a` each time another core writes it, until pred(value) holds;
  // sleeps in between (same timing as polling, one event per change). Interrupts are
  // taken while spinning when enabled.
  template <class Pred>
  uint64_t spin_until(Addr a, Pred pred) {
    while (true) {
      uint64_t v = load(a);
      if (pred(v)) return v;
      ++spin_waits;
      wait_for_line(a, seen_version_);
    }
  }

  // Compare-and-swap until it succeeds, as a CAS ping-pong spins: a failed attempt leaves
  // the line here, and the next one goes out once another CPU has taken the line to write
  // it (one event per change, same timing as retrying). Interrupts are taken meanwhile.
  void cas_until_success(Addr a, uint64_t expected, uint64_t desired) {
    while (cas(a, expected, desired) != expected) {
      ++spin_waits;
      wait_for_line(a, seen_version_);
    }
  }

  // The write count of the line of the last access when it was done (a spinner sleeps only
  // while the line's count still equals it).
  uint64_t seen_line_version() const { return seen_version_; }

  bool irqs_enabled() const { return irq_enabled_; }
  // What one interrupt-flag instruction costs (an irqs-off section ends when the enabling
  // instruction retires).
  Time irq_flag_cost() const { return cost_.irq_flag * period_; }
  void local_irq_disable();
  void local_irq_enable();
  bool local_irq_save();             // returns the previous state
  void local_irq_restore(bool was_enabled);
  // The kernel's preempt-count slot (the core only stores it and charges the op).
  int preempt_count() const { return preempt_count_; }
  void preempt_add(int delta);
  int hardirq_depth() const { return hardirq_depth_; }

  // Raises SGI `id` at `target` (returns its arrival time).
  Time send_ipi(int target, IrqId id);
  // Programs this core's timer (PPI 30) to fire at absolute time `at` (replaces any).
  void set_timer(Time at);
  void cancel_timer();
  // Sleeps until an interrupt is deliverable, then takes it if interrupts are on.
  void wait_for_interrupt();

  // Brings global time up to local time (a synchronisation point).
  void sync();
  // The scheduler that runs this core's software when it is started with start_software
  // (the platform's); without one, or before, the software runs on a SystemC thread of its
  // own and every wait is SystemC's.
  void set_scheduler(CoreScheduler* s) { scheduler_ = s; }
  // Runs `body` as this core's software under its scheduler, on a stack of `stack_bytes`.
  void start_software(std::function<void()> body, size_t stack_bytes);
  // The software stops here for good (what the run's end leaves it doing).
  [[noreturn]] void park();
  // The core whose software runs now: the one whose thread or fiber last started or came
  // back from a wait (one runs at a time).
  static Core* running() { return running_; }
  // Called first by the thread that runs this core's software.
  void enter() { running_ = this; }
  // A word the core's software keeps for itself and the core never reads, as Linux keeps
  // `current` in a register of each CPU (sp_el0 on arm64): one load from the running core.
  void set_software_word(void* w) { software_word_ = w; }
  void* software_word() const { return software_word_; }
  // The stack the core's software runs on now (software switching stacks on the core's
  // thread says so), for AddressSanitizer when the thread comes back from a wait.
  void on_stack(const void* bottom, size_t size) {
    stack_bottom_ = bottom;
    stack_size_ = size;
  }
  // Records irqs-disabled, preempt count and hardirq depth in a VCD; from then on the core
  // synchronises at every instruction boundary so changes land at their own time.
  void trace_vcd(sc_core::sc_trace_file* tf, const std::string& prefix);
  // Fault injection: from the first instruction boundary at or after `at`, the core
  // retires nothing and takes no interrupt for `length`.
  void inject_stall(Time at, Time length) {
    stall_at_ = at;
    stall_len_ = length;
  }
  // Progress guards (set by the platform): `ops` counts instruction boundaries of every
  // core; past `max_ops` `on_limit` runs once. Waking more than `max_deltas` delta cycles
  // at one simulated time runs `on_livelock`.
  struct Guards {
    uint64_t ops = 0, max_ops = UINT64_MAX, max_deltas = UINT64_MAX;
    std::function<void()> on_limit;
    std::function<void(Core&)> on_livelock;
  };
  void set_guards(Guards* g) { guards_ = g; }
  // This core's wakes at the simulated time it last woke (what a livelock report lists).
  Time last_wake_time() const { return wake_time_; }
  uint64_t wakes_at_last_time() const { return wakes_here_; }

  // IrqTarget / LineWatcher
  void irq_posted(Time arrival) override;
  int watcher_id() const override { return id_; }
  void line_changed(Time at) override;
  void bind_memory(class MemorySystem* mem) { mem_ = mem; }

  StatGroup stats_;
  Counter ops{&stats_, "ops", "HAL operations retired (instruction boundaries)", "count"};
  Counter mem_ops{&stats_, "mem_ops", "loads, stores and atomics", "count"};
  Counter irqs{&stats_, "irqs", "interrupts taken", "count"};
  Counter syncs{&stats_, "syncs", "synchronisations with global time (waits for the other cores)",
                "count"};
  Counter spin_waits{&stats_, "spin_waits", "sleeps while spinning on a line", "count"};
  Counter wfi{&stats_, "wfi", "waits for interrupt", "count"};
  Counter stalls{&stats_, "fault.stalls", "injected stalls (fault.core.stall)", "count"};

 private:
  struct Costs {
    int64_t alu, atomic, irq_flag, preempt, irq_entry, irq_exit, ipi_send, pipeline_flush, timer_program;
  };
  // The global time: the scheduler's while it runs this core, else SystemC's, read in place
  // (sc_time_stamp() is an out-of-line call, and now() runs at every instruction boundary).
  Time global_now() const {
    if (sched_ != nullptr && sched_->now() >= 0) return sched_->now();
    return static_cast<Time>(clock_->value());
  }
  uint64_t access(MemOp op, Addr a, uint64_t x, uint64_t y);
  void wait_for_line(Addr a, uint64_t seen_version);
  void charge(int64_t cycles) { offset_ += cycles * period_; }
  // End of an instruction: synchronise if past the horizon, take a pending interrupt.
  void boundary() {
    ++ops;
    if (++guards_->ops > guards_->max_ops) guards_->on_limit();
    if (stall_len_ > 0 && now() >= stall_at_) stall();
    if (sync_every_op_) sync();
    check_point();
  }
  void stall();
  void set_irqs(bool on) {
    irq_enabled_ = on;
    irqs_disabled_ = !on;
  }
  void check_point() {
    Time t = now();
    if (t >= horizon_ && (irq_enabled_ || quantum_ > 0) && !extend_horizon(t)) sync();
    if (offset_ > kMaxRunAhead) sync();  // however long interrupts stay off
    if (irq_enabled_ && t >= *attention_) take_interrupts();
  }
  // Exact mode: the global time before which no other process can act (kTimeMax if none
  // has anything pending). Under the scheduler, the scheduler's answer (one load). Else
  // asked of SystemC once per delta cycle and process: while one process runs nothing else
  // does, so only the cores' notifications (notifies_) change it. The check of the cached
  // answer is inline: it runs before and after every shared op.
  Time others_quiet_until() {
    if (sched_ != nullptr) return sched_->others_next();
    const Time g = global_now();
    const uint64_t delta = sc_core::sc_delta_count();
    const sc_core::sc_process_b* p = sc_core::sc_get_current_process_b();
    const int proc = p ? p->proc_id : -1;
    if (delta == quiet_delta_ && g == quiet_at_ && proc == quiet_proc_ &&
        notifies_ == quiet_notifies_)
      return quiet_;
    return ask_quiet_until(g, delta, proc);
  }
  Time ask_quiet_until(Time g, uint64_t delta, int proc);
  // Exact mode: a later horizon when nobody else can act before `t`; false otherwise.
  bool extend_horizon(Time t);
  // Exact mode, before a shared operation at local time `t`: synchronise unless nobody
  // else can act first. After it (it may have woken someone), pull the horizon in.
  void before_shared();
  void after_shared();
  void take_interrupts();
  void sleep_on_wake_event();
  // Sleeps (until ev_wake_) a core whose local time is `local`; wakes no earlier than that.
  void sleep_from(Time local);
  void notify_wake_at(Time at);
  // Every SystemC wait of the core's software goes through here.
  void wait_event(sc_core::sc_event& e);
  void wait_time(Time t);
  void resumed();

  const int id_;
  const Time period_;
  const Time quantum_;
  const Time lookahead_;
  const Costs cost_;
  const sc_core::sc_time* const clock_;
  InterruptController* irq_;
  const Time* const attention_;  // irq_->attention(id_), read in place
  CoreScheduler* scheduler_ = nullptr;
  CoreScheduler* sched_ = nullptr;  // set once the software runs under scheduler_
  int sched_slot_ = -1;
  class MemorySystem* mem_ = nullptr;
  IrqHandler* handler_ = nullptr;

  Time offset_ = 0;
  Time horizon_ = 0;
  // The cache's key: SystemC's delta and time, the process that asked (by id: a process
  // that ends and one spawned in the same delta may share an address; a harness drives
  // one core from several processes) and the cores' notifications since.
  uint64_t quiet_delta_ = UINT64_MAX, quiet_notifies_ = 0;
  int quiet_proc_ = -1;
  Time quiet_at_ = -1, quiet_ = 0;
  bool irq_enabled_ = true;
  bool irqs_disabled_ = false;  // the same, as a signal for VCD tracing
  bool sync_every_op_ = false;
  int preempt_count_ = 0;
  int hardirq_depth_ = 0;
  bool sleeping_ = false;
  sc_core::sc_event ev_wake_;
  tlm::tlm_generic_payload payload_;
  CoherenceExt ext_;
  uint64_t data_ = 0;
  uint64_t seen_version_ = 0;  // the line's write count when the last load was served
  Time stall_at_ = 0, stall_len_ = 0;  // an injected stall still to come (length 0 = none)
  Guards own_guards_;
  Guards* guards_ = &own_guards_;
  const void* stack_bottom_ = nullptr;
  size_t stack_size_ = 0;
  void* software_word_ = nullptr;
  inline static Core* running_ = nullptr;
  // Every SystemC notification the cores make (a wake of a sleeping core): the only way a
  // core's thread changes SystemC's pending activity while it runs.
  inline static uint64_t notifies_ = 0;
  Time wake_time_ = -1;
  uint64_t wake_delta0_ = 0, wakes_here_ = 0;
};

}  // namespace quiesce
