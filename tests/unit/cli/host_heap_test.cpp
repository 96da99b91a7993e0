// sim/cli/host_heap.cpp, linked into this binary as into quiesce: before any library's
// constructor, blocks up to 16 MiB come from the brk heap, and that heap is advised for
// transparent huge pages.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
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

TEST(HostHeap, LibsystemcsScratchBufferSizeComesFromTheHeapOnHugePages) {
#ifdef QUIESCE_ASAN
  GTEST_SKIP() << "host_heap.cpp is off under AddressSanitizer, whose allocator replaces malloc";
#endif
  // 3 MiB, as libsystemc's sc_temp_heap: glibc's default would map it on its own.
  std::unique_ptr<char[]> block(new char[3 << 20]);
  const auto middle = reinterpret_cast<uintptr_t>(block.get()) + (3 << 19);
  const Mapping m = mapping_of(middle);
  EXPECT_EQ(m.name, "[heap]") << "a 3 MiB block is mapped on its own, not taken from the heap";
  EXPECT_LT(middle, reinterpret_cast<uintptr_t>(sbrk(0)));
  // Where the kernel has transparent huge pages, the heap's pages are advised for them
  // ("hg"); the page size they end up with is the kernel's choice.
  if (std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
    EXPECT_NE(m.flags.find(" hg"), std::string::npos) << "VmFlags:" << m.flags;
  }
}

}  // namespace
