#include "sim/hw/core/core.h"

#include <algorithm>

#include "sim/base/asan.h"
#include "sim/hw/mem/memory.h"

namespace quiesce {

Core::Core(sc_core::sc_module_name name, int id, const CoreParams& p, const CoreTiming& timing,
           InterruptController* irq, StatRegistry* stats)
    : sc_module(name),
      out_mem_("out_mem"),
      stats_(stats, "cpu" + std::to_string(id)),
      id_(id),
      period_(timing.period),
      quantum_(timing.quantum),
      lookahead_(std::max<Time>(timing.lookahead, 1)),
      cost_{p.alu().value,      p.atomic().value,         p.irq_flag().value,
            p.preempt().value,  p.irq_entry().value,      p.irq_exit().value,
            p.ipi_send().value, p.pipeline_flush().value, p.timer_program().value},
      clock_(&sc_core::sc_get_curr_simcontext()->time_stamp()),
      irq_(irq),
      attention_(irq->attention_of(id)) {
  payload_.set_data_ptr(reinterpret_cast<unsigned char*>(&data_));
  payload_.set_data_length(8);
  payload_.set_streaming_width(8);
  payload_.set_byte_enable_ptr(nullptr);
  payload_.set_dmi_allowed(false);
  payload_.set_extension(&ext_);
  ext_.requester = id;
  horizon_ = quantum_ > 0 ? quantum_ : lookahead_;
  irq_->attach(id, this);
}

// The payload would free() its extensions; ext_ is a member, not heap-allocated.
Core::~Core() { payload_.clear_extension(&ext_); }

Time Core::ask_quiet_until(Time g, uint64_t delta, int proc) {
  quiet_ = CoreScheduler::systemc_next_activity();
  quiet_delta_ = delta;
  quiet_at_ = g;
  quiet_proc_ = proc;
  quiet_notifies_ = notifies_;
  return quiet_;
}

bool Core::extend_horizon(Time t) {
  if (quantum_ > 0) return false;
  const Time quiet = others_quiet_until();
  // Even when nobody else will ever act, run ahead only so far: a core that never stops
  // (an interrupt storm, a spin with nothing to wait for) must still let SystemC time reach
  // the end of the run.
  const Time cand = quiet == kTimeMax ? global_now() + kMaxRunAhead : quiet + lookahead_;
  if (t >= cand) return false;
  horizon_ = cand;
  return true;
}

void Core::before_shared() {
  if (quantum_ > 0) return;
  if (sched_ != nullptr) {
    // Under the scheduler also at the same time: a lower CPU id due then goes first.
    const Time t = now();
    if (!sched_->may_act(id_, t)) {
      if (offset_ > 0) ++syncs;
      sched_->wake(*this, t);
      offset_ = 0;
      sched_->block(*this);
      horizon_ = global_now() + lookahead_;
    }
    return;
  }
  if (offset_ == 0) return;
  if (now() >= others_quiet_until()) sync();
}

void Core::after_shared() {
  if (quantum_ > 0) return;
  // The operation may have woken another core (a notification: asked again).
  const Time quiet = others_quiet_until();
  if (quiet != kTimeMax) horizon_ = std::min(horizon_, std::max(quiet, global_now()) + lookahead_);
}

void Core::trace_vcd(sc_core::sc_trace_file* tf, const std::string& prefix) {
  sc_core::sc_trace(tf, irqs_disabled_, prefix + ".irqs_disabled");
  sc_core::sc_trace(tf, preempt_count_, prefix + ".preempt_count");
  sc_core::sc_trace(tf, hardirq_depth_, prefix + ".in_hardirq");
  sync_every_op_ = true;
  if (scheduler_ != nullptr) scheduler_->set_lockstep();
}

void Core::stall() {
  // Nothing retires and no interrupt is taken: the core's time just moves on. The time is
  // charged before the next look at interrupts, so those that arrived meanwhile wait.
  ++stalls;
  offset_ += stall_len_;
  stall_len_ = 0;
  sync();  // frozen in place: nothing this core does is seen before the stall ends
}

void Core::resumed() {
  running_ = this;
  asan_on_stack(stack_bottom_, stack_size_);
}

void Core::wait_event(sc_core::sc_event& e) {
  if (sched_ != nullptr) {
    sched_->block(*this);  // woken by notify_wake_at
    return;
  }
  wait(e);
  resumed();
}

void Core::wait_time(Time t) {
  if (sched_ != nullptr) {
    sched_->wake(*this, global_now() + t);
    sched_->block(*this);
    return;
  }
  wait(sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(t)));
  resumed();
}

void Core::start_software(std::function<void()> body, size_t stack_bytes) {
  if (scheduler_ == nullptr)
    throw std::logic_error(std::string(name()) + ": no scheduler to start software on");
  scheduler_->start(*this, std::move(body), stack_bytes);
  sched_ = scheduler_;
}

void Core::park() {
  if (sched_ != nullptr) {
    while (true) sched_->block(*this);  // never due again
  }
  sc_core::sc_event never;
  while (true) sc_core::wait(never);
}

void Core::sync() {
  if (offset_ > 0) {
    ++syncs;
    wait_time(offset_);
    offset_ = 0;
  }
  horizon_ = global_now() + (quantum_ > 0 ? quantum_ : lookahead_);
}

void Core::compute(uint64_t cycles) {
  while (cycles > 0 && irq_enabled_) {
    const Time t = now();
    const Time limit = std::min(*attention_, horizon_);
    const Time end = t + static_cast<Time>(cycles) * period_;
    if (end <= limit) break;
    // Stop on the first cycle boundary at or after the limit, then look.
    const uint64_t k = limit <= t ? 0 : static_cast<uint64_t>((limit - t + period_ - 1) / period_);
    if (k >= cycles) break;
    offset_ += static_cast<Time>(k) * period_;
    cycles -= k;
    check_point();
  }
  offset_ += static_cast<Time>(cycles) * period_;
  boundary();
}

uint64_t Core::access(MemOp op, Addr a, uint64_t x, uint64_t y) {
  if (a % 8 != 0) throw std::invalid_argument("unaligned simulated access at " + std::to_string(a));
  before_shared();  // another core can see this: do it at its exact time
  ++mem_ops;
  ext_.op = op;
  ext_.time = now();
  ext_.arg0 = x;
  ext_.arg1 = y;
  ext_.hold = (op == MemOp::Load || op == MemOp::Store) ? 0 : cost_.atomic * period_;
  payload_.set_address(a);
  payload_.set_command(op == MemOp::Load ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND);
  payload_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  out_mem_->b_transport(payload_, delay);
  offset_ += static_cast<Time>(delay.value());
  const uint64_t result = ext_.result;
  seen_version_ = ext_.version;
  after_shared();
  boundary();
  return result;
}

void Core::local_irq_disable() {
  charge(cost_.irq_flag);
  set_irqs(false);
  boundary();
}

void Core::local_irq_enable() {
  charge(cost_.irq_flag);
  set_irqs(true);
  boundary();
}

bool Core::local_irq_save() {
  bool was = irq_enabled_;
  charge(cost_.irq_flag);
  set_irqs(false);
  boundary();
  return was;
}

void Core::local_irq_restore(bool was_enabled) {
  charge(cost_.irq_flag);
  set_irqs(was_enabled);
  boundary();
}

void Core::preempt_add(int delta) {
  charge(cost_.preempt);
  preempt_count_ += delta;
  boundary();
}

Time Core::send_ipi(int target, IrqId id) {
  before_shared();
  const Time raised = now();
  const Time cost = cost_.ipi_send * period_;
  offset_ += cost;
  Time arrival = irq_->send_sgi(id_, target, id, raised, cost);
  after_shared();
  boundary();
  return arrival;
}

void Core::set_timer(Time at) {
  charge(cost_.timer_program);
  irq_->cancel(id_, kTimerPpi);
  irq_->post(id_, kTimerPpi, std::max(at, now()), std::max(at, now()));
  boundary();
}

void Core::cancel_timer() {
  charge(cost_.timer_program);
  irq_->cancel(id_, kTimerPpi);
  boundary();
}

void Core::take_interrupts() {
  while (irq_enabled_) {
    std::optional<IrqAck> ack = irq_->acknowledge(id_, now());
    if (!ack) return;
    ++irqs;
    ack->taken = now();
    set_irqs(false);
    ++hardirq_depth_;
    charge(cost_.irq_entry);
    if (irq_kind(ack->id) == IrqKind::Sgi) charge(irq_->receive_cost_cycles());
    irq_->record_entry(id_, *ack, now());
    // The handler's (or a rescheduled task's) own accesses must not replace the interrupted
    // spin's view of its line, or its wait_for_line could sleep through a write.
    const uint64_t interrupted_seen = seen_version_;
    if (handler_) handler_->handle_irq(*this, *ack);
    irq_->eoi(id_, ack->id);
    --hardirq_depth_;
    if (handler_) handler_->irq_return(*this);
    seen_version_ = interrupted_seen;
    charge(cost_.irq_exit);
    set_irqs(true);
    // The return itself is a boundary: keep the horizon honest before looking again.
    if (now() >= horizon_) sync();
  }
}

void Core::sleep_on_wake_event() {
  sleeping_ = true;
  wait_event(ev_wake_);
  sleeping_ = false;
  // Every zero-time loop in the model wakes some core again and again at one time.
  // Under the scheduler its rounds stand in for SystemC's delta cycles.
  const Time g = global_now();
  const uint64_t rounds = sched_ != nullptr ? sched_->resumes() : sc_core::sc_delta_count();
  if (g != wake_time_) {
    wake_time_ = g;
    wake_delta0_ = rounds;
    wakes_here_ = 1;
  } else if (++wakes_here_, rounds - wake_delta0_ > guards_->max_deltas && guards_->on_livelock) {
    guards_->on_livelock(*this);
  }
  horizon_ = global_now() + (quantum_ > 0 ? quantum_ : lookahead_);
}

// One wait per observed write: the spinner does not first catch SystemC time up with its
// own and then sleep; it sleeps at once, woken when the line is next written (at the write's
// completion) or an interrupt is due, and its local time never goes back: a write that
// completes before the spinner's own time is seen at that time, as a sync-then-sleep sees it.
void Core::wait_for_line(Addr a, uint64_t seen_version) {
  if (mem_->line_version(a) != seen_version) return;  // written since the load: look again
  const Time local = now();
  mem_->watch(a, this);
  if (irq_enabled_) {
    const Time att = *attention_;
    if (att <= local) {
      take_interrupts();
      return;
    }
    if (att != kTimeMax) notify_wake_at(att);
  }
  sleep_from(local);
  if (irq_enabled_ && now() >= *attention_) take_interrupts();
}

// An idle core sleeps straight to its next interrupt (no catching up with SystemC first).
void Core::wait_for_interrupt() {
  ++wfi;
  while (true) {
    const Time local = now();
    irq_->poll(id_, local);
    const Time att = *attention_;
    if (att <= local) break;
    if (att != kTimeMax) notify_wake_at(att);
    sleep_from(local);
  }
  boundary();
}

void Core::notify_wake_at(Time at) {
  if (sched_ != nullptr) {
    sched_->wake(*this, std::max(at, global_now()));
    return;
  }
  ++notifies_;
  ev_wake_.notify(sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(std::max<Time>(at - global_now(), 0))));
}

void Core::sleep_from(Time local) {
  if (offset_ > 0) ++syncs;  // the sleep also brings SystemC time up to the core's
  offset_ = 0;
  sleep_on_wake_event();
  offset_ = std::max<Time>(local - global_now(), 0);
}

void Core::irq_posted(Time arrival) {
  if (sleeping_) notify_wake_at(arrival);
}

void Core::line_changed(Time at) {
  if (sleeping_) notify_wake_at(at);
}

}  // namespace quiesce
