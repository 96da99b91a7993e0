// Task contexts: every kernel task has its own stack, and a CPU's software (started on the
// cores' scheduler, sim/hw/core/scheduler.h) runs one of them at a time, switching stacks in
// context_switch() as v4.4's switch_to() does. The core's local time carries across a
// switch as on real hardware: nothing outside the CPU sees a context switch, only the
// cross-CPU interactions the tasks make.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <boost/context/detail/fcontext.hpp>

#include "sim/base/asan.h"
#include "sim/base/fiber_stack.h"
#include "sim/kernel/kernel.h"

namespace quiesce::kernel {

namespace bctx = boost::context;

struct TaskContext {
  Kernel* kernel = nullptr;
  Task* task = nullptr;                     // null: a CPU thread's own context
  bctx::stack_context stack;                // none for a CPU thread's own stack
  bctx::detail::fcontext_t fctx = nullptr;  // where it resumes, while switched out
  bool dead = false;                        // left for good: its stack goes once it is off it
  // What AddressSanitizer is told at each switch (its own fake stack; the stack's bounds).
  void* asan_fake = nullptr;
  const void* bottom = nullptr;
  size_t size = 0;

  // A task still switched out when the run ends is dropped without unwinding its stack,
  // as SystemC drops a thread that never ended.
  ~TaskContext() { free_fiber_stack(stack); }
};

void TaskContextDeleter::operator()(TaskContext* x) const { delete x; }

// The switching itself: Kernel's private parts, with the fcontext types kept out of kernel.h.
struct ContextSwitch {
  // A new task's first instructions, on its own stack.
  static void entry(bctx::detail::transfer_t from) {
    Kernel::Cpu& c = *static_cast<Kernel::Cpu*>(from.data);
    TaskContext& me = *c.running->context;
    landed(me, from);
    std::exception_ptr failure;
    try {
      me.kernel->task_entry(*me.task);  // ends in a switch away for good (do_exit)
    } catch (...) {
      failure = std::current_exception();
    }
    // Something the model cannot handle on a task's stack: hand it to the CPU's own thread,
    // which throws it on (to sc_start, as from any SystemC thread).
    Kernel::Cpu& now_on = me.kernel->cpu_of(me.task->cpu);
    now_on.failure = failure;
    me.dead = true;
    now_on.switch_from = &me;
    jump(me, *now_on.native, now_on);
  }

  // Leaves `from` for `to` on CPU `c`'s thread; returns when `from` is switched in again.
  static void jump(TaskContext& from, TaskContext& to, Kernel::Cpu& c) {
    asan_start_switch(from.dead ? nullptr : &from.asan_fake, to.bottom, to.size);
    const bctx::detail::fcontext_t target = to.fctx;
    to.fctx = nullptr;
    landed(from, bctx::detail::jump_fcontext(target, &c));
  }

  // First thing in `me` after a switch: the context left behind keeps where it stopped (or
  // loses its stack if it is done).
  static void landed(TaskContext& me, bctx::detail::transfer_t from) {
    const void* from_bottom = nullptr;
    size_t from_size = 0;
    asan_finish_switch(me.asan_fake, &from_bottom, &from_size);
    Kernel::Cpu& c = *static_cast<Kernel::Cpu*>(from.data);
    TaskContext& left = *c.switch_from;
    c.switch_from = nullptr;
    if (left.task == nullptr && left.bottom == nullptr) {
      left.bottom = from_bottom;  // a CPU thread's own stack, as SystemC told ASan of it
      left.size = from_size;
    }
    if (left.dead) {
      free_fiber_stack(left.stack);
    } else {
      left.fctx = from.fctx;
    }
  }
};

void Kernel::make_context(Task& t) {
  t.context.reset(new TaskContext);
  TaskContext& x = *t.context;
  x.kernel = this;
  x.task = &t;
  x.stack = allocate_fiber_stack(stack_bytes_);
  x.bottom = static_cast<char*>(x.stack.sp) - x.stack.size;
  x.size = x.stack.size;
  x.fctx = bctx::detail::make_fcontext(x.stack.sp, x.stack.size, &ContextSwitch::entry);
}

void Kernel::start_cpu_thread(Cpu& c) {
  c.native.reset(new TaskContext);
  c.native->kernel = this;
  core(c.id).start_software(  // a stack that only switches to the CPU's first task
      [this, &c] {
        core(c.id).enter();
        Task& first = *c.rq.curr;
        c.running = &first;
        core(c.id).set_software_word(&first);
        c.switch_from = c.native.get();
        core(c.id).on_stack(first.context->bottom, first.context->size);
        ContextSwitch::jump(*c.native, *first.context, c);
        // Back only when a task's code threw what the model does not handle.
        std::rethrow_exception(c.failure);
      },
      128 * 1024);
}

void Kernel::switch_to(Cpu& c, Task& prev, Task& next) {
  TaskContext& from = *prev.context;
  TaskContext& to = *next.context;
  from.dead = prev.state == TaskState::Dead;
  c.running = &next;
  core(c.id).set_software_word(&next);
  c.switch_from = &from;
  core(c.id).on_stack(to.bottom, to.size);
  ContextSwitch::jump(from, to, c);
}

}  // namespace quiesce::kernel
