#include "sim/base/dist.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quiesce {
namespace {

constexpr double kTruncSigmas = 6.0;

Time time_at(const ConfigNode& node, const char* key) {
  ConfigNode n = node[key];
  if (!n.present()) n.fail(std::string("missing '") + key + "' for a " + node["dist"].scalar() + " distribution");
  try {
    return parse_time(n.scalar("a time"));
  } catch (const UnitError& e) {
    n.fail(e.what());
  }
}

double number_at(const ConfigNode& node, const char* key) {
  ConfigNode n = node[key];
  if (!n.present()) n.fail(std::string("missing '") + key + "'");
  std::string s = n.scalar("a number");
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v)) n.fail("expected a number, got \"" + s + "\"");
  return v;
}

}  // namespace

Distribution Distribution::fixed(Time t) {
  Distribution d;
  d.a_ = static_cast<double>(t);
  return d;
}

Distribution Distribution::parse(const ConfigNode& node) {
  if (node.is_scalar()) {
    try {
      return fixed(parse_time(node.scalar()));
    } catch (const UnitError& e) {
      node.fail(e.what());
    }
  }
  if (!node.is_map()) node.fail("expected a time or a mapping with 'dist:'");
  std::string kind = node["dist"].scalar("a distribution name");
  Distribution d;
  if (kind == "fixed") {
    node.expect_keys({"dist", "value"});
    d.a_ = static_cast<double>(time_at(node, "value"));
  } else if (kind == "uniform") {
    node.expect_keys({"dist", "min", "max"});
    d.kind_ = Kind::Uniform;
    d.a_ = static_cast<double>(time_at(node, "min"));
    d.b_ = static_cast<double>(time_at(node, "max"));
    if (d.b_ < d.a_) node["max"].fail("max is below min");
  } else if (kind == "normal") {
    node.expect_keys({"dist", "mean", "stddev"});
    d.kind_ = Kind::Normal;
    d.a_ = static_cast<double>(time_at(node, "mean"));
    d.b_ = static_cast<double>(time_at(node, "stddev"));
  } else if (kind == "lognormal") {
    node.expect_keys({"dist", "median", "sigma"});
    d.kind_ = Kind::Lognormal;
    d.a_ = static_cast<double>(time_at(node, "median"));
    d.b_ = number_at(node, "sigma");
    if (d.a_ <= 0) node["median"].fail("median must be positive");
    if (d.b_ < 0 || d.b_ > 5) node["sigma"].fail("sigma must lie in [0, 5]");
  } else if (kind == "exponential") {
    node.expect_keys({"dist", "mean", "min"});
    d.kind_ = Kind::Exponential;
    d.a_ = static_cast<double>(time_at(node, "mean"));
    d.c_ = node["min"].present() ? static_cast<double>(time_at(node, "min")) : 0.0;
    if (d.a_ <= 0) node["mean"].fail("mean must be positive");
  } else if (kind == "empirical") {
    node.expect_keys({"dist", "values", "weights"});
    d.kind_ = Kind::Empirical;
    ConfigNode vals = node["values"];
    if (!vals.is_list() || vals.size() == 0) vals.fail("expected a non-empty list of times");
    ConfigNode weights = node["weights"];
    if (weights.present() && (!weights.is_list() || weights.size() != vals.size())) {
      weights.fail("weights must be a list as long as values");
    }
    double total = 0;
    for (size_t i = 0; i < vals.size(); ++i) {
      try {
        d.values_.push_back(static_cast<double>(parse_time(vals[i].scalar("a time"))));
      } catch (const UnitError& e) {
        vals[i].fail(e.what());
      }
      double w = 1;
      if (weights.present()) {
        std::string s = weights[i].scalar("a weight");
        char* end = nullptr;
        w = std::strtod(s.c_str(), &end);
        if (*end != '\0' || !(w >= 0) || !std::isfinite(w)) weights[i].fail("weight must be a number >= 0");
      }
      total += w;
      d.cumulative_.push_back(total);
    }
    if (total <= 0) node.fail("weights sum to zero");
    for (auto& c : d.cumulative_) c /= total;
  } else {
    static const std::vector<std::string> kinds = {"fixed", "uniform", "normal", "lognormal", "exponential", "empirical"};
    std::string msg = "unknown distribution '" + kind + "'";
    std::string hint = did_you_mean(kind, kinds);
    if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
    node["dist"].fail(msg);
  }
  return d;
}

Time Distribution::sample(Rng& rng) const {
  double v = a_;
  switch (kind_) {
    case Kind::Fixed:
      break;
    case Kind::Uniform:
      v = rng.uniform(a_, b_);
      break;
    case Kind::Normal:
      // Redraw negatives (a latency cannot be); after 64 tries, clamp.
      for (int i = 0; i < 64; ++i) {
        v = a_ + b_ * rng.normal();
        if (v >= 0) break;
      }
      v = std::clamp(v, std::max(0.0, a_ - kTruncSigmas * b_), a_ + kTruncSigmas * b_);
      break;
    case Kind::Lognormal:
      v = a_ * std::exp(b_ * std::clamp(rng.normal(), -kTruncSigmas, kTruncSigmas));
      break;
    case Kind::Exponential:
      v = c_ + rng.exponential(a_);
      break;
    case Kind::Empirical: {
      double u = rng.uniform();
      auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
      size_t i = std::min<size_t>(static_cast<size_t>(it - cumulative_.begin()), values_.size() - 1);
      v = values_[i];
      break;
    }
  }
  if (!(v < static_cast<double>(kMaxInputTime))) return kMaxInputTime;  // (and NaN)
  return static_cast<Time>(std::llround(v));
}

double Distribution::mean() const {
  switch (kind_) {
    case Kind::Fixed: return a_;
    case Kind::Uniform: return (a_ + b_) / 2;
    case Kind::Normal: return a_;
    case Kind::Lognormal: return a_ * std::exp(b_ * b_ / 2);
    case Kind::Exponential: return c_ + a_;
    case Kind::Empirical: {
      double m = 0, prev = 0;
      for (size_t i = 0; i < values_.size(); ++i) {
        m += values_[i] * (cumulative_[i] - prev);
        prev = cumulative_[i];
      }
      return m;
    }
  }
  return a_;
}

double Distribution::stddev() const {
  switch (kind_) {
    case Kind::Fixed: return 0;
    case Kind::Uniform: return (b_ - a_) / std::sqrt(12.0);
    case Kind::Normal: return b_;
    case Kind::Lognormal: return mean() * std::sqrt(std::exp(b_ * b_) - 1);
    case Kind::Exponential: return a_;
    case Kind::Empirical: {
      double m = mean(), var = 0, prev = 0;
      for (size_t i = 0; i < values_.size(); ++i) {
        var += (values_[i] - m) * (values_[i] - m) * (cumulative_[i] - prev);
        prev = cumulative_[i];
      }
      return std::sqrt(var);
    }
  }
  return 0;
}

Time Distribution::lower_bound() const {
  switch (kind_) {
    case Kind::Fixed: return static_cast<Time>(a_);
    case Kind::Uniform: return static_cast<Time>(a_);
    case Kind::Exponential: return static_cast<Time>(c_);
    case Kind::Empirical: return static_cast<Time>(*std::min_element(values_.begin(), values_.end()));
    case Kind::Normal: return static_cast<Time>(std::max(0.0, a_ - kTruncSigmas * b_));
    case Kind::Lognormal: return static_cast<Time>(std::floor(a_ * std::exp(-kTruncSigmas * b_)));
  }
  return 0;
}

Time Distribution::upper_bound() const {
  switch (kind_) {
    case Kind::Fixed: return static_cast<Time>(a_);
    case Kind::Uniform: return static_cast<Time>(b_);
    case Kind::Exponential: return kMaxInputTime;
    case Kind::Empirical: return static_cast<Time>(*std::max_element(values_.begin(), values_.end()));
    case Kind::Normal: return static_cast<Time>(a_ + kTruncSigmas * b_);
    case Kind::Lognormal: return static_cast<Time>(std::ceil(a_ * std::exp(kTruncSigmas * b_)));
  }
  return 0;
}

bool Distribution::contains(Time t) const {
  if (kind_ == Kind::Fixed) return static_cast<double>(t) == std::round(a_);
  if (kind_ == Kind::Empirical) {
    return std::any_of(values_.begin(), values_.end(), [t](double v) { return std::llround(v) == t; });
  }
  return t >= lower_bound() && t <= upper_bound();
}

namespace {

double std_normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// log of the standard normal density.
double std_normal_log_pdf(double z) { return -0.5 * z * z - 0.5 * std::log(2 * M_PI); }

}  // namespace

double Distribution::cdf(Time t) const {
  const double x = static_cast<double>(t);
  switch (kind_) {
    case Kind::Fixed: return x >= a_ ? 1.0 : 0.0;
    case Kind::Uniform: return b_ > a_ ? std::clamp((x - a_) / (b_ - a_), 0.0, 1.0) : (x >= a_ ? 1.0 : 0.0);
    case Kind::Exponential: return x <= c_ ? 0.0 : -std::expm1(-(x - c_) / a_);
    case Kind::Empirical: {
      double p = 0, prev = 0;
      for (size_t i = 0; i < values_.size(); ++i) {
        if (values_[i] <= x) p += cumulative_[i] - prev;
        prev = cumulative_[i];
      }
      return p;
    }
    case Kind::Normal: {
      if (b_ <= 0) return x >= a_ ? 1.0 : 0.0;
      const double lo = std::max(0.0, a_ - kTruncSigmas * b_), hi = a_ + kTruncSigmas * b_;
      const double flo = std_normal_cdf((lo - a_) / b_), fhi = std_normal_cdf((hi - a_) / b_);
      return std::clamp((std_normal_cdf((std::clamp(x, lo, hi) - a_) / b_) - flo) / (fhi - flo), 0.0, 1.0);
    }
    case Kind::Lognormal: {
      if (b_ <= 0) return x >= a_ ? 1.0 : 0.0;
      if (x <= 0) return 0.0;
      const double z = std::clamp(std::log(x / a_) / b_, -kTruncSigmas, kTruncSigmas);
      const double f6 = std_normal_cdf(-kTruncSigmas);
      return std::clamp((std_normal_cdf(z) - f6) / (1 - 2 * f6), 0.0, 1.0);
    }
  }
  return 0;
}

double Distribution::log_density(Time t) const {
  const double ninf = -std::numeric_limits<double>::infinity();
  if (!contains(t)) return ninf;
  const double x = static_cast<double>(t);
  switch (kind_) {
    case Kind::Fixed: return 0.0;
    case Kind::Uniform: return b_ > a_ ? -std::log(b_ - a_) : 0.0;
    case Kind::Exponential: return -std::log(a_) - (x - c_) / a_;
    case Kind::Empirical: {
      double p = 0, prev = 0;
      for (size_t i = 0; i < values_.size(); ++i) {
        if (std::llround(values_[i]) == t) p += cumulative_[i] - prev;
        prev = cumulative_[i];
      }
      return p > 0 ? std::log(p) : ninf;
    }
    case Kind::Normal: return b_ > 0 ? std_normal_log_pdf((x - a_) / b_) - std::log(b_) : 0.0;
    case Kind::Lognormal: return b_ > 0 ? std_normal_log_pdf(std::log(x / a_) / b_) - std::log(x * b_) : 0.0;
  }
  return ninf;
}

Time Distribution::mode() const {
  switch (kind_) {
    case Kind::Fixed: return static_cast<Time>(std::llround(a_));
    case Kind::Uniform: return static_cast<Time>(std::llround((a_ + b_) / 2));
    case Kind::Exponential: return static_cast<Time>(std::llround(c_));
    case Kind::Normal: return static_cast<Time>(std::llround(std::max(a_, 0.0)));
    case Kind::Lognormal: return static_cast<Time>(std::llround(a_ * std::exp(-b_ * b_)));
    case Kind::Empirical: {
      size_t best = 0;
      double best_p = -1, prev = 0;
      for (size_t i = 0; i < values_.size(); ++i) {
        if (cumulative_[i] - prev > best_p) best_p = cumulative_[i] - prev, best = i;
        prev = cumulative_[i];
      }
      return static_cast<Time>(std::llround(values_[best]));
    }
  }
  return 0;
}

std::string Distribution::describe() const {
  auto t = [](double ps) { return format_time(static_cast<Time>(std::llround(ps))); };
  switch (kind_) {
    case Kind::Fixed: return "fixed(" + t(a_) + ")";
    case Kind::Uniform: return "uniform(" + t(a_) + ", " + t(b_) + ")";
    case Kind::Normal: return "normal(mean=" + t(a_) + ", stddev=" + t(b_) + ")";
    case Kind::Lognormal: return "lognormal(median=" + t(a_) + ", sigma=" + std::to_string(b_).substr(0, 5) + ")";
    case Kind::Exponential: return "exponential(mean=" + t(a_) + (c_ > 0 ? ", min=" + t(c_) : "") + ")";
    case Kind::Empirical: return "empirical(" + std::to_string(values_.size()) + " values)";
  }
  return "?";
}

}  // namespace quiesce
