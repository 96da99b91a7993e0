// libFuzzer target: Platform YAML bytes, loaded as `quiesce validate` loads a platform file.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/entries.h"

// libsystemc references sc_main; nothing here elaborates.
extern "C" int sc_main(int, char**) { return 3; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  quiesce::fuzz::platform(data, size);
  return 0;
}
