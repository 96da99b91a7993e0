#include "sim/kernel/locking/deadlock.h"

#include "sim/kernel/locking/spinlock.h"

namespace quiesce::kernel {

std::vector<std::pair<int, const RawSpinLock*>> DeadlockDetector::wait_begin(int cpu, const RawSpinLock* lock) {
  waiting_[static_cast<size_t>(cpu)].push_back(lock);
  std::vector<std::pair<int, const RawSpinLock*>> chain;
  int c = cpu;
  const RawSpinLock* l = lock;
  for (size_t steps = 0; steps <= waiting_.size(); ++steps) {
    chain.emplace_back(c, l);
    int owner = l->owner_cpu;
    if (owner < 0) return {};
    if (owner == cpu) return chain;
    const RawSpinLock* next = waiting_on(owner);
    if (!next) return {};
    c = owner;
    l = next;
  }
  return {};
}

void DeadlockDetector::wait_end(int cpu) { waiting_[static_cast<size_t>(cpu)].pop_back(); }

}  // namespace quiesce::kernel
