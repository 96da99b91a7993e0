#pragma once
// The fuzzed entry points, shared by the libFuzzer targets (tests/fuzz/targets/, clang with
// ASan+UBSan) and the regression test that replays tests/fuzz/regressions/<target>/ in the
// normal build. Each takes raw bytes and returns kAccepted or kRefused (a ConfigError or
// UnitError: bad input, told clearly). Anything else escapes: an unexpected exception, a
// crash or a broken invariant (abort) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace quiesce::fuzz {

enum Outcome { kAccepted = 0, kRefused = 1 };

// Scenario YAML bytes -> loaded and validated scenario (and its sweep's values, when few).
Outcome scenario(const uint8_t* data, size_t size);
// Platform YAML bytes -> PlatformConfig::load, as `quiesce validate` does.
Outcome platform(const uint8_t* data, size_t size);
// Lines of `--set key=value` applied to a small kernel scenario with a sweep.
Outcome set(const uint8_t* data, size_t size);
// A duration or unit string through every parser in sim/base/units, with round trips.
Outcome units(const uint8_t* data, size_t size);
// The YAML of a `sweep:` mapping -> its axes, point count and a few points.
Outcome sweep(const uint8_t* data, size_t size);

// Our own output files read back: the first byte chooses which ('0': a sweep's sweep.json,
// else a point's result.json), the rest is its text; read by status (census), explain of
// the sweep and of the point, and merge, the readers resume uses too.
Outcome sweep_files(const uint8_t* data, size_t size);

struct Target {
  const char* name;  // the directory name under tests/fuzz/regressions/
  Outcome (*run)(const uint8_t*, size_t);
};
const std::vector<Target>& targets();

}  // namespace quiesce::fuzz
