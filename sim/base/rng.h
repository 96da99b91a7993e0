#pragma once
// Seeded random streams, one per component. A stream's state depends only on the run seed
// and the stream's name, so adding a component never shifts another's draws. The
// generator (xoshiro256**) and every distribution are implemented here rather than taken
// from <random>, whose distributions differ between standard libraries.
#include <cstdint>
#include <string_view>

namespace quiesce {

class Rng {
 public:
  Rng(uint64_t seed, std::string_view stream);
  uint64_t next();
  double uniform();                  // [0, 1)
  double uniform(double lo, double hi);
  uint64_t below(uint64_t n);        // [0, n), n > 0
  double normal();                   // mean 0, sd 1
  double exponential(double mean);

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

uint64_t hash_name(std::string_view s);  // FNV-1a, stable across runs and hosts

}  // namespace quiesce
