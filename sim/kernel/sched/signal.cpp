// Signals, as far as their locks and wakeups go (kernel/signal.c).
#include "sim/kernel/kernel.h"

namespace quiesce::kernel {

// t->sighand->siglock: one per task here (Linux shares it among a process's threads).
RawSpinLock& Kernel::siglock(Task& t) {
  auto& l = siglocks_[&t];
  if (!l) l = make_lock(t.comm + ".sighand.siglock", *siglock_class_);
  return *l;
}

// send_sig() -> send_signal(), v4.4: lock_task_sighand() (siglock, irqs saved), queue the
// signal, complete_signal() -> signal_wake_up() -> wake_up_state(): try_to_wake_up() of a
// sleeping target, under the siglock.
void Kernel::send_sig(Task& t) {
  Frame f(*this, "send_sig");
  ++signals;
  RawSpinLock& l = siglock(t);
  const bool flags = raw_spin_lock_irqsave(l);
  this_core().alu();
  {
    Frame w(*this, "signal_wake_up_state");
    might_wake();
    if (t.state == TaskState::Sleeping) try_to_wake_up(t);
  }
  raw_spin_unlock_irqrestore(l, flags);
}

}  // namespace quiesce::kernel
