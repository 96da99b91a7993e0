// The process's heap on transparent huge pages, set up before any library's constructor.
//
// On the virtual machines Quiesce is measured on, the first touch of each 4 KiB page costs
// about 12 us (a guest page fault and the hypervisor's own): libsystemc's constructors
// alone zero a 3 MiB scratch buffer (sc_temp_heap) before main, 770 faults and about 9 ms of
// a standalone run's 32 ms start-up. On 2 MiB pages the same buffer costs two faults.
// glibc's malloc does this itself with GLIBC_TUNABLES=glibc.malloc.hugetlb=1, but tunables
// are read only from the environment of exec; a .preinit_array function runs before every
// shared library's constructors, so it can set the heap up in time: blocks up to 16 MiB
// come from the brk heap (not one mmap each), the heap is reserved 32 MiB at a time, and
// its first reservation is advised for huge pages. Host memory only: no simulated result
// depends on it. Off under AddressSanitizer, whose allocator replaces malloc.
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "sim/base/asan.h"

#ifndef QUIESCE_ASAN
namespace {

void* volatile heap_head = nullptr;  // volatile: a malloc whose block is never used may be dropped

void heap_on_huge_pages(int, char**, char**) {
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 32 << 20);
  void* first = std::malloc(1);  // makes the heap: one brk of 32 MiB
  if (first == nullptr) return;
  const auto at = reinterpret_cast<std::uintptr_t>(first);
  const auto lo = (at + kHuge - 1) & ~(kHuge - 1);
  const auto hi = reinterpret_cast<std::uintptr_t>(sbrk(0)) & ~(kHuge - 1);
  if (hi > lo && madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE) == 0) {
    // The heap's head, below its first 2 MiB boundary, cannot be a huge page: a block that
    // is never touched nor freed fills it (virtual memory only), so that what comes next,
    // libsystemc's buffer first, starts on huge pages.
    heap_head = std::malloc(lo - at);
  }
  std::free(first);
}

}  // namespace

// Run by the dynamic loader before the libraries' constructors (executables only).
using Preinit = void (*)(int, char**, char**);
[[gnu::used, gnu::section(".preinit_array")]] static const Preinit quiesce_heap_preinit =
    heap_on_huge_pages;
#endif
