#pragma once
// An open-addressing hash map from 64-bit keys (all but the all-ones key) to values, for
// the simulator's hot lookups (cache lines, memory words). Never iterated, so its order
// cannot leak into behaviour or output. References stay valid until the next insertion.
#include <cstdint>
#include <utility>
#include <vector>

namespace quiesce {

template <class V>
class FlatMap {
 public:
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  FlatMap() { reset(64); }

  V* find(uint64_t key) {
    for (size_t i = index(key);; i = (i + 1) & mask()) {
      if (slots_[i].first == key) return &slots_[i].second;
      if (slots_[i].first == kEmpty) return nullptr;
    }
  }
  const V* find(uint64_t key) const { return const_cast<FlatMap*>(this)->find(key); }

  V& operator[](uint64_t key) {
    for (size_t i = index(key);; i = (i + 1) & mask()) {
      if (slots_[i].first == key) return slots_[i].second;
      if (slots_[i].first == kEmpty) {
        if ((size_ + 1) * 4 > slots_.size() * 3) {
          grow();
          return (*this)[key];
        }
        slots_[i].first = key;
        ++size_;
        return slots_[i].second;
      }
    }
  }
  size_t size() const { return size_; }

 private:
  size_t mask() const { return slots_.size() - 1; }
  size_t index(uint64_t key) const {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return static_cast<size_t>(key) & mask();
  }
  void grow() {
    std::vector<std::pair<uint64_t, V>> old;
    old.swap(slots_);
    reset(old.size() * 2);
    for (auto& s : old) {
      if (s.first != kEmpty) (*this)[s.first] = std::move(s.second);
    }
  }

  void reset(size_t n) {
    slots_.clear();
    slots_.resize(n);
    for (auto& s : slots_) s.first = kEmpty;
    size_ = 0;
  }

  std::vector<std::pair<uint64_t, V>> slots_;
  size_t size_ = 0;
};

}  // namespace quiesce
