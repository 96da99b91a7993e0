#pragma once
// How sure a sweep's figures are: intervals for a detection probability estimated from n
// runs, the bound n clean runs put on it, and the Kaplan-Meier estimate of time to first
// detection when some runs end without one (censored at their length). The formulas are
// the textbook ones, named where used, so that the plots (scripts/plot) and the README
// tables (scripts/readme-tables) compute the same figures.
#include <cstddef>
#include <optional>
#include <vector>

namespace quiesce {

inline constexpr double kZ95 = 1.959963984540054;  // two-sided 95% normal quantile

struct Interval {
  double lo = 0, hi = 0;
};

// Wilson score interval for k successes in n trials (two-sided, 95% by default); [0, 1]
// when n is 0.
Interval wilson(size_t k, size_t n, double z = kZ95);

// With no detection in n runs: the exact one-sided upper confidence bound on P,
// 1 - alpha^(1/n) (Clopper-Pearson; about 3/n at 95%, the "rule of three").
double zero_detection_bound(size_t n, double alpha = 0.05);

// Runs without a detection needed for that bound to fall to `level` or below:
// ceil(ln alpha / ln(1 - level)). 299 for 1% at 95%.
size_t clean_runs_for(double level, double alpha = 0.05);

// One run's time to first detection: `time` when `detected`, else the run's length
// (right-censored there).
struct Observation {
  double time = 0;
  bool detected = false;
};

// The Kaplan-Meier estimate S(t) of "not yet detected", with Greenwood's variance and
// log-log pointwise 95% limits; the median (the first time S <= 0.5) and its interval from
// where the limits cross 0.5 (as R's survfit reports it, conf.type "log-log").
struct Survival {
  struct Step {
    double time = 0;         // an event time
    size_t at_risk = 0, events = 0;
    double s = 1, lo = 1, hi = 1;  // S just after `time`, and its limits
  };
  std::vector<Step> steps;
  size_t n = 0, events = 0;
  std::optional<double> median, median_lo, median_hi;  // none: not reached
};
Survival kaplan_meier(std::vector<Observation> obs, double z = kZ95);

}  // namespace quiesce
