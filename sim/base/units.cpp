#include "sim/base/units.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace quiesce {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "12.5 us" into 12.5 and "us". Rejects NaN, infinities and hex.
struct NumberAndSuffix {
  double value;
  std::string suffix;
  std::string number;  // the number as written
};

NumberAndSuffix split_number(std::string_view text, const char* what) {
  std::string s(trim(text));
  if (s.empty()) throw UnitError(std::string("empty ") + what);
  size_t i = 0;
  if (s[i] == '+' || s[i] == '-') ++i;
  bool digits = false;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
    digits = digits || std::isdigit(static_cast<unsigned char>(s[i]));
    ++i;
  }
  if (digits && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
      i = j;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    }
  }
  if (!digits) throw UnitError(std::string("expected a ") + what + ", got \"" + s + "\"");
  char* end = nullptr;
  std::string num = s.substr(0, i);
  double v = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size() || !std::isfinite(v)) {
    throw UnitError(std::string("expected a ") + what + ", got \"" + s + "\"");
  }
  return {v, std::string(trim(std::string_view(s).substr(i))), num};
}

// A number as split_number() accepted it, times 10^pow10, rounded to the nearest whole
// (halves up), computed exactly in decimal: a double holds whole picoseconds only up to
// 2^53 (2.5 hours), so format_time() would not parse back. Throws above kMaxInputTime.
Time exact_ps(const std::string& number, int pow10, std::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (number[i] == '+' || number[i] == '-') negative = number[i++] == '-';
  std::string digits;
  long exp10 = pow10;
  bool fraction = false;
  for (; i < number.size() && number[i] != 'e' && number[i] != 'E'; ++i) {
    if (number[i] == '.') {
      fraction = true;
      continue;
    }
    if (digits.empty() && number[i] == '0') {  // leading zeros (still shift the fraction)
      if (fraction) --exp10;
      continue;
    }
    digits += number[i];
    if (fraction) --exp10;
  }
  if (i < number.size()) exp10 += std::clamp(std::strtol(number.c_str() + i + 1, nullptr, 10), -100000L, 100000L);
  if (digits.empty()) return 0;
  if (negative) throw UnitError("negative time \"" + std::string(trim(text)) + "\"");
  const long whole = static_cast<long>(digits.size()) + exp10;  // digits before the point
  const auto too_large = [&] {
    return UnitError("time \"" + std::string(trim(text)) + "\" is too large (at most " + format_time(kMaxInputTime) + ")");
  };
  if (whole > 19) throw too_large();
  uint64_t v = 0;
  for (long d = 0; d < whole; ++d) {
    v = v * 10 + (d < static_cast<long>(digits.size()) ? static_cast<uint64_t>(digits[d] - '0') : 0);
  }
  if (whole >= 0 && whole < static_cast<long>(digits.size()) && digits[whole] >= '5') ++v;
  if (v > static_cast<uint64_t>(kMaxInputTime)) throw too_large();
  return static_cast<Time>(v);
}

bool time_pow10(const std::string& u, int* pow10) {
  if (u == "ps") *pow10 = 0;
  else if (u == "ns") *pow10 = 3;
  else if (u == "us" || u == "\xC2\xB5s") *pow10 = 6;
  else if (u == "ms") *pow10 = 9;
  else if (u == "s") *pow10 = 12;
  else return false;
  return true;
}

bool is_cycles_word(const std::string& u) { return u == "cycles" || u == "cycle"; }

}  // namespace

Time Latency::to_ps(Time period_ps) const {
  double ps = cycles ? value * static_cast<double>(period_ps) : value;
  if (!(ps < static_cast<double>(kMaxInputTime))) return kMaxInputTime;
  return ps > 0 ? static_cast<Time>(std::llround(ps)) : 0;
}

Time parse_time(std::string_view text) {
  auto [v, u, number] = split_number(text, "time such as 150ns or 2us");
  (void)v;
  int pow10 = 0;
  if (u.empty()) {
    throw UnitError("time \"" + std::string(trim(text)) + "\" needs a unit (ps, ns, us, ms, s)");
  }
  if (!time_pow10(u, &pow10)) {
    throw UnitError("unknown time unit \"" + u + "\" in \"" + std::string(trim(text)) +
                    "\" (use ps, ns, us, ms or s)");
  }
  return exact_ps(number, pow10, text);
}

int64_t parse_cycles(std::string_view text) {
  auto [v, u, number] = split_number(text, "cycle count");
  if (!u.empty() && !is_cycles_word(u)) {
    throw UnitError("expected a cycle count such as 300 or \"300 cycles\", got \"" +
                    std::string(trim(text)) + "\"");
  }
  if (v < 0) throw UnitError("negative cycle count \"" + std::string(trim(text)) + "\"");
  if (v != std::floor(v)) throw UnitError("cycle count must be whole: \"" + std::string(trim(text)) + "\"");
  if (v > 1e15) throw UnitError("cycle count \"" + std::string(trim(text)) + "\" is too large");
  return static_cast<int64_t>(v);
}

Latency parse_latency(std::string_view text) {
  auto [v, u, number] = split_number(text, "latency such as 150ns or 300 cycles");
  if (u.empty() || is_cycles_word(u)) return {static_cast<double>(parse_cycles(text)), true};
  return {static_cast<double>(parse_time(text)), false};
}

double parse_frequency(std::string_view text) {
  auto [v, u, number] = split_number(text, "frequency such as 2GHz");
  double mult = 0;
  if (u == "Hz") mult = 1;
  else if (u == "kHz") mult = 1e3;
  else if (u == "MHz") mult = 1e6;
  else if (u == "GHz") mult = 1e9;
  else throw UnitError("frequency \"" + std::string(trim(text)) + "\" needs a unit (Hz, kHz, MHz, GHz)");
  double hz = v * mult;
  if (hz < 1) throw UnitError("frequency must be at least 1 Hz: \"" + std::string(trim(text)) + "\"");
  if (hz > 1e12) throw UnitError("frequency \"" + std::string(trim(text)) + "\" is above 1 THz");
  return hz;
}

int64_t parse_size(std::string_view text) {
  auto [v, u, number] = split_number(text, "size such as 32KiB");
  double mult = 0;
  if (u.empty() || u == "B") mult = 1;
  else if (u == "KiB") mult = 1024.0;
  else if (u == "MiB") mult = 1024.0 * 1024;
  else if (u == "GiB") mult = 1024.0 * 1024 * 1024;
  else throw UnitError("unknown size unit \"" + u + "\" (use B, KiB, MiB, GiB)");
  double b = v * mult;
  if (b < 0 || b != std::floor(b)) throw UnitError("size must be a whole number of bytes: \"" + std::string(trim(text)) + "\"");
  if (b > 1e15) throw UnitError("size \"" + std::string(trim(text)) + "\" is too large");
  return static_cast<int64_t>(b);
}

std::string format_time(Time t) {
  static const struct { Time mult; const char* unit; } kUnits[] = {
      {kSec, "s"}, {kMs, "ms"}, {kUs, "us"}, {kNs, "ns"}};
  // The magnitude as unsigned: -t overflows for the most negative time.
  const uint64_t m = t < 0 ? 0 - static_cast<uint64_t>(t) : static_cast<uint64_t>(t);
  const std::string sign = t < 0 ? "-" : "";
  for (const auto& u : kUnits) {
    const auto mult = static_cast<uint64_t>(u.mult);
    if (m >= mult) {
      // Exact: the integer part, then the remainder's digits without trailing zeros.
      std::string s = sign + std::to_string(m / mult);
      if (const uint64_t rem = m % mult) {
        std::string frac = std::to_string(rem);
        int width = 0;
        for (Time x = u.mult; x > 1; x /= 10) ++width;
        frac = std::string(static_cast<size_t>(width) - frac.size(), '0') + frac;
        while (!frac.empty() && frac.back() == '0') frac.pop_back();
        s += "." + frac;
      }
      return s + u.unit;
    }
  }
  return std::to_string(t) + "ps";
}

std::string format_time_approx(double ps) {
  static const struct { double mult; const char* unit; } kUnits[] = {
      {1e12, "s"}, {1e9, "ms"}, {1e6, "us"}, {1e3, "ns"}};
  char buf[64];
  for (const auto& u : kUnits) {
    if (std::fabs(ps) >= u.mult) {
      std::snprintf(buf, sizeof buf, "%.4g%s", ps / u.mult, u.unit);
      return buf;
    }
  }
  std::snprintf(buf, sizeof buf, "%.4gps", ps);
  return buf;
}

}  // namespace quiesce
