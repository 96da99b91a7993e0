#pragma once
// Time-valued distributions for latencies and periods, written in YAML as a single time
// ("1us" = fixed) or a mapping: {dist: fixed, value}, {dist: uniform, min, max},
// {dist: normal, mean, stddev} (redrawn below zero), {dist: lognormal, median, sigma},
// {dist: exponential, mean, min?}, {dist: empirical, values: [...], weights: [...]?}.
// Normal and lognormal draws are truncated at 6 standard deviations of the underlying
// normal (a probability of about 1e-9 per draw), so they have a real lower bound: exact
// mode's lookahead (sim/hw/core/core.h) depends on it.
#include <string>
#include <vector>

#include "sim/base/config.h"
#include "sim/base/rng.h"
#include "sim/base/units.h"

namespace quiesce {

class Distribution {
 public:
  enum class Kind { Fixed, Uniform, Normal, Lognormal, Exponential, Empirical };

  static Distribution fixed(Time t);
  static Distribution parse(const ConfigNode& node);

  Time sample(Rng& rng) const;
  double mean() const;          // ps (analytic; for normal, of the untruncated law)
  double stddev() const;        // ps
  Time lower_bound() const;     // no sample is below this
  Time upper_bound() const;     // nor above this (kMaxInputTime: unbounded)
  // Whether `t` is a value sample() can return (for empirical, one of its values).
  bool contains(Time t) const;
  // P(sample <= t), of the law as sampled (normal and lognormal truncated).
  double cdf(Time t) const;
  // The log of the density at `t` (per ps; for fixed and empirical, of the probability mass),
  // -inf outside the support.
  double log_density(Time t) const;
  // The most likely value (the density's maximum).
  Time mode() const;
  Kind kind() const { return kind_; }
  std::string describe() const;  // "lognormal(median=1.5us, sigma=0.3)"

 private:
  Kind kind_ = Kind::Fixed;
  double a_ = 0, b_ = 0, c_ = 0;  // meaning depends on kind (ps, or sigma for lognormal)
  std::vector<double> values_;    // empirical
  std::vector<double> cumulative_;
};

}  // namespace quiesce
