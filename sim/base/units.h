#pragma once
// Time and units. Simulated time is a signed 64-bit count of picoseconds (SystemC's default
// resolution); values are always written with their unit in YAML ("150ns", "2us",
// "300 cycles", "2GHz", "32KiB"). Parsers throw UnitError with a message that names the
// accepted forms; callers attach the YAML location.
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace quiesce {

using Time = int64_t;  // picoseconds
inline constexpr Time kPs = 1;
inline constexpr Time kNs = 1000;
inline constexpr Time kUs = 1000 * kNs;
inline constexpr Time kMs = 1000 * kUs;
inline constexpr Time kSec = 1000 * kMs;
inline constexpr Time kTimeMax = std::numeric_limits<Time>::max();
// The largest time any input may give, about 11.6 days: far beyond any run (at most
// kMaxDuration), and small enough that sums of a few such times never overflow 64 bits.
inline constexpr Time kMaxInputTime = 1000000 * kSec;

class UnitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A latency that may be written in time units or in cycles of the clock that runs it.
struct Latency {
  double value = 0;
  bool cycles = false;
  // Picoseconds at the given clock period (ps per cycle); rounds to the nearest ps and
  // saturates at kMaxInputTime (1e15 cycles of a slow clock would overflow).
  Time to_ps(Time period_ps) const;
};

// "150ns", "2 us", "1.5ms", "3s", "500ps". A bare number is an error (units are required), as
// is a negative time or one above kMaxInputTime.
Time parse_time(std::string_view text);
// "300", "300 cycles", "1 cycle".
int64_t parse_cycles(std::string_view text);
// Either of the above forms; a bare number means cycles.
Latency parse_latency(std::string_view text);
// "2GHz", "800 MHz", "100kHz", "50Hz": returns hertz, from 1 Hz to 1 THz.
double parse_frequency(std::string_view text);
// "64", "64B", "32KiB", "8MiB", "1GiB": returns bytes.
int64_t parse_size(std::string_view text);

// Shortest exact rendering with a unit: 1500000 -> "1.5us", 7 -> "7ps".
std::string format_time(Time t);
// Rounded rendering for humans: 1234567 -> "1.235us".
std::string format_time_approx(double ps);

}  // namespace quiesce
