#pragma once
// lockdep's chain cache, as lookup_chain_cache() keeps it in v4.4: the held-lock stacks whose
// acquisition was checked already. A stack is a sequence of words, one per held entry (its
// class and flags), the new entry last. An open-addressed table holds the stacks' hashes
// (chain_key's idea), each pointing at its stack's words in one arena: no allocation per
// stack and no pointer chase per look-up. Whole stacks are compared, never hashes alone, so
// two stacks that collide are both kept.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace quiesce::kernel {

class ChainCache {
 public:
  using Chain = std::vector<uint64_t>;
  // iterate_chain_key()'s idea: each entry folded into one key.
  static uint64_t hash(const Chain& chain);
  // Is `chain`, whose hash is `h`, stored?
  bool contains(const Chain& chain, uint64_t h) const;
  // Stores `chain` (not stored yet, at least one entry), whose hash is `h`.
  void insert(const Chain& chain, uint64_t h);
  // Stacks stored (/proc/lockdep_stats' "lock-chains").
  size_t size() const { return count_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t at = 0, len = 0;  // len 0: empty
  };
  void place(const Slot& slot);  // into the first free slot from its hash

  std::vector<Slot> slots_ = std::vector<Slot>(1024);  // a power of two, at most half full
  std::vector<uint64_t> words_;
  size_t count_ = 0;
};

}  // namespace quiesce::kernel
