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
  // iterate_chain_key()'s idea: each entry folded into one key, from kSeed, then finished.
  static constexpr uint64_t kSeed = 0xcbf29ce484222325ull;
  static uint64_t step(uint64_t key, uint64_t word) { return (key ^ word) * 0x100000001b3ull; }
  static uint64_t finish(uint64_t key) { return key ^ (key >> 29); }
  static uint64_t hash(const Chain& chain);
  // Is `chain`, whose hash is `h`, stored?
  bool contains(const Chain& chain, uint64_t h) const {
    return contains(h, chain.size(), [&](const uint64_t* words) {
      for (size_t i = 0; i < chain.size(); ++i) {
        if (words[i] != chain[i]) return false;
      }
      return true;
    });
  }
  // The same for a stack of `len` words that `equal(stored words)` compares, whatever holds
  // them (lockdep's held stack, without copying it into a Chain first).
  template <class Equal>
  bool contains(uint64_t h, size_t len, Equal&& equal) const {
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.len == 0) return false;
      if (s.hash == h && s.len == len && equal(words_.data() + s.at)) return true;
    }
  }
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
