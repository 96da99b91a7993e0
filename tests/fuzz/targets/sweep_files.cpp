// libFuzzer target: a sweep.json or result.json read back by status, explain and merge.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/entries.h"

// libsystemc references sc_main; nothing here elaborates.
extern "C" int sc_main(int, char**) { return 3; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  quiesce::fuzz::sweep_files(data, size);
  return 0;
}
