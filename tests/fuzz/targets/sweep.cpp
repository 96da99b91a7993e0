// libFuzzer target: The YAML of a `sweep:` mapping, expanded to its point count and points.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/entries.h"

// libsystemc references sc_main; nothing here elaborates.
extern "C" int sc_main(int, char**) { return 3; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  quiesce::fuzz::sweep(data, size);
  return 0;
}
