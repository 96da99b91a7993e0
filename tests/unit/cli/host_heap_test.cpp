// sim/cli/host_heap.cpp, linked into this binary as into quiesce: before any library's
// constructor, blocks up to 16 MiB come from the brk heap, and that heap is advised for
// transparent huge pages, so that libsystemc's scratch buffer is zeroed on huge pages.
#include <gtest/gtest.h>

#include <systemc>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sim/base/asan.h"

namespace {

struct Mapping {
  uintptr_t lo = 0, hi = 0;
  std::string name, flags;
};

// The mapping of this process that holds `addr`, from /proc/self/smaps.
Mapping mapping_of(uintptr_t addr) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  Mapping m, found;
  bool in = false;
  while (std::getline(smaps, line)) {
    std::istringstream l(line);
    std::string range;
    l >> range;
    const auto dash = range.find('-');
    if (dash != std::string::npos && range.find(':') == std::string::npos) {
      m = Mapping{std::stoull(range.substr(0, dash), nullptr, 16),
                  std::stoull(range.substr(dash + 1), nullptr, 16), "", ""};
      std::string perms, offset, dev, inode;
      l >> perms >> offset >> dev >> inode >> m.name;
      in = addr >= m.lo && addr < m.hi;
    } else if (in && range == "VmFlags:") {
      m.flags = line.substr(8);
      found = m;
    }
  }
  return found;
}

TEST(HostHeap, LibsystemcsScratchBufferIsOnTheHeapAdvisedForHugePages) {
#ifdef QUIESCE_ASAN
  GTEST_SKIP() << "host_heap.cpp is off under AddressSanitizer, whose allocator replaces malloc";
#endif
  // sc_temp_heap, 3 MiB zeroed by libsystemc's constructors: glibc's default would map it
  // on its own, and the heap's head (below its first 2 MiB boundary) has no huge pages.
  const sc_core::sc_byte_heap& buffer = sc_core::sc_temp_heap;
  ASSERT_NE(buffer.m_bgn_p, nullptr);
  // Where the kernel has transparent huge pages, the buffer's pages are advised for them
  // ("hg"), its first as its last; the page size they end up with is the kernel's choice.
  const bool thp = std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled");
  for (const char* at : {buffer.m_bgn_p, buffer.m_end_p - 1}) {
    SCOPED_TRACE(at == buffer.m_bgn_p ? "its first byte" : "its last byte");
    const Mapping m = mapping_of(reinterpret_cast<uintptr_t>(at));
    EXPECT_EQ(m.name, "[heap]") << "mapped on its own, not taken from the heap";
    if (thp) {
      EXPECT_NE(m.flags.find(" hg"), std::string::npos) << "VmFlags:" << m.flags;
    }
  }
}

}  // namespace
