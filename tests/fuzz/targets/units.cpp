// libFuzzer target: A duration or unit string through every parser in sim/base/units.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/entries.h"

// libsystemc references sc_main; nothing here elaborates.
extern "C" int sc_main(int, char**) { return 3; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  quiesce::fuzz::units(data, size);
  return 0;
}
