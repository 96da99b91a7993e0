#pragma once
// The actual-deadlock detector: a wait-for graph over spinning CPUs and lock owners. A CPU
// that starts spinning on a lock adds the edge cpu -> lock; a lock's owner gives lock ->
// cpu. If following owners from the new edge comes back to the spinning CPU (including a
// CPU spinning on a lock it holds itself), no CPU in the cycle can ever progress: that is
// a deadlock, reported with the chain.
#include <string>
#include <vector>

namespace quiesce::kernel {

struct RawSpinLock;

class DeadlockDetector {
 public:
  explicit DeadlockDetector(int cpus) : waiting_(static_cast<size_t>(cpus)) {}
  // `cpu` starts spinning on `lock`. Returns the cycle (as (cpu, lock) pairs, starting
  // with this one) when it closes one, else empty.
  std::vector<std::pair<int, const RawSpinLock*>> wait_begin(int cpu, const RawSpinLock* lock);
  // `cpu` stops spinning on its innermost wait (acquired it).
  void wait_end(int cpu);
  const RawSpinLock* waiting_on(int cpu) const {
    const auto& w = waiting_[static_cast<size_t>(cpu)];
    return w.empty() ? nullptr : w.back();
  }

 private:
  // Per CPU, the stack of locks it spins on (an interrupt handler may spin on top of an
  // interrupted spin); only the innermost can be blocking.
  std::vector<std::vector<const RawSpinLock*>> waiting_;
};

}  // namespace quiesce::kernel
