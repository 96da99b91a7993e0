#include "sim/kernel/locking/chain_cache.h"

#include <algorithm>

namespace quiesce::kernel {

uint64_t ChainCache::hash(const Chain& chain) {
  uint64_t key = kSeed;
  for (uint64_t w : chain) key = step(key, w);
  return finish(key);
}

void ChainCache::place(const Slot& slot) {
  const size_t mask = slots_.size() - 1;
  size_t i = slot.hash & mask;
  while (slots_[i].len != 0) i = (i + 1) & mask;
  slots_[i] = slot;
}

void ChainCache::insert(const Chain& chain, uint64_t h) {
  if (2 * (count_ + 1) > slots_.size()) {
    std::vector<Slot> old(2 * slots_.size());
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.len != 0) place(s);
    }
  }
  place({h, static_cast<uint32_t>(words_.size()), static_cast<uint32_t>(chain.size())});
  words_.insert(words_.end(), chain.begin(), chain.end());
  ++count_;
}

}  // namespace quiesce::kernel
