#include "sim/base/proportion.h"

#include <algorithm>
#include <cmath>

namespace quiesce {

Interval wilson(size_t k, size_t n, double z) {
  if (n == 0) return {0, 1};
  const double nn = static_cast<double>(n), p = static_cast<double>(k) / nn, z2 = z * z;
  const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / (1 + z2 / nn);
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

double zero_detection_bound(size_t n, double alpha) {
  if (n == 0) return 1;
  return 1 - std::pow(alpha, 1.0 / static_cast<double>(n));
}

size_t clean_runs_for(double level, double alpha) {
  if (level <= 0) return 0;
  if (level >= 1) return 1;
  return static_cast<size_t>(std::ceil(std::log(alpha) / std::log(1 - level) - 1e-9));
}

Survival kaplan_meier(std::vector<Observation> obs, double z) {
  Survival out;
  out.n = obs.size();
  // Events before censorings at one time: a run censored at t was still at risk at t.
  std::sort(obs.begin(), obs.end(), [](const Observation& a, const Observation& b) {
    return a.time != b.time ? a.time < b.time : a.detected > b.detected;
  });
  size_t at_risk = obs.size();
  double s = 1, greenwood = 0;
  for (size_t i = 0; i < obs.size();) {
    const double t = obs[i].time;
    size_t d = 0, c = 0;
    for (; i < obs.size() && obs[i].time == t; ++i) (obs[i].detected ? d : c) += 1;
    if (d > 0) {
      Survival::Step st;
      st.time = t;
      st.at_risk = at_risk;
      st.events = d;
      s *= 1 - static_cast<double>(d) / static_cast<double>(at_risk);
      if (at_risk > d) greenwood += static_cast<double>(d) / (static_cast<double>(at_risk) * (at_risk - d));
      st.s = s;
      if (s <= 0) {
        st.lo = st.hi = 0;
      } else if (s >= 1) {
        st.lo = st.hi = 1;
      } else {
        // log-log limits: S^exp(+-z se), se = sqrt(greenwood) / |ln S|
        const double se = std::sqrt(greenwood) / std::abs(std::log(s));
        st.lo = std::pow(s, std::exp(z * se));
        st.hi = std::pow(s, std::exp(-z * se));
      }
      out.events += d;
      out.steps.push_back(st);
    }
    at_risk -= d + c;
  }
  // A product that should be exactly 0.5 may come out a rounding above it (scripts/plot
  // uses the same tolerance).
  constexpr double kHalf = 0.5 + 1e-12;
  for (const auto& st : out.steps) {
    if (!out.median && st.s <= kHalf) out.median = st.time;
    if (!out.median_lo && st.lo <= kHalf) out.median_lo = st.time;
    if (!out.median_hi && st.hi <= kHalf) out.median_hi = st.time;
  }
  return out;
}

}  // namespace quiesce
