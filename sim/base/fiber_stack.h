#pragma once
// Host stacks for fibers (the cores' scheduler's and the kernel tasks'), laid out as
// Boost.Context's protected_fixedsize_stack lays them out: a guard page below each, so that
// an overflow faults instead of writing over a neighbour; `size` counts the guard page and
// `sp` is the top. They are cut from slabs, one mapping for many stacks, and a stack given
// back goes to a free list of its size for the next fiber, not back to the system: mapping
// and unmapping each stack on its own cost a 1024-core point 10,000 system calls, and on
// the virtual machines we measure on an unmapping is dear (a TLB flush each). The slabs stay
// until the process exits; a process holds at most the stacks of its busiest run, touched
// pages included. Single-threaded, as the simulation is.
#include <boost/context/stack_context.hpp>

#include <cstddef>

namespace quiesce {

// A stack of at least `bytes` usable bytes (rounded up to whole pages), plus its guard page.
boost::context::stack_context allocate_fiber_stack(size_t bytes);
// Gives `stack` back for reuse (its memory stays mapped, its contents are dead) and clears
// it; an empty stack_context is ignored.
void free_fiber_stack(boost::context::stack_context& stack);

}  // namespace quiesce
