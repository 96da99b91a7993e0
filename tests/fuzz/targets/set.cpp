// libFuzzer target: Lines of `--set key=value` applied to a small kernel scenario with a sweep.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/entries.h"

// libsystemc references sc_main; nothing here elaborates.
extern "C" int sc_main(int, char**) { return 3; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  quiesce::fuzz::set(data, size);
  return 0;
}
