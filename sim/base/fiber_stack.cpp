#include "sim/base/fiber_stack.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <new>
#include <vector>

#include "sim/base/asan.h"

namespace quiesce {

namespace {

struct Pool {
  std::vector<char*> free;  // stacks given back, by base (the guard page's address)
  char* fresh = nullptr;    // the latest slab's part not handed out yet
  char* fresh_end = nullptr;
  size_t next_slab = 8;  // stacks in the next slab: doubles, up to kMaxSlab
};

constexpr size_t kMaxSlab = 256;                    // stacks
constexpr size_t kMaxSlabBytes = size_t{64} << 20;  // of address space

struct Stacks {
  std::map<size_t, Pool> by_size;  // by stack size, guard page included
};

// Never destroyed: a fiber may give its stack back from a destructor that runs at exit, after
// any static of this file would be gone. The process's exit unmaps the slabs.
Stacks& stacks() {
  static Stacks* s = new Stacks;
  return *s;
}

size_t page_size() {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

}  // namespace

boost::context::stack_context allocate_fiber_stack(size_t bytes) {
  const size_t page = page_size();
  // Whole pages, and the guard page below them.
  const size_t size = ((std::max<size_t>(bytes, 1) + page - 1) / page + 1) * page;
  Pool& pool = stacks().by_size[size];
  char* base = nullptr;
  if (!pool.free.empty()) {
    base = pool.free.back();
    pool.free.pop_back();
  } else {
    if (pool.fresh == pool.fresh_end) {
      // A new slab, of at most kMaxSlabBytes unless one stack is more.
      const size_t count = std::max<size_t>(1, std::min(pool.next_slab, kMaxSlabBytes / size));
      void* at =
          ::mmap(nullptr, count * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (at == MAP_FAILED) throw std::bad_alloc();
      pool.fresh = static_cast<char*>(at);
      pool.fresh_end = pool.fresh + count * size;
      pool.next_slab = std::min(2 * pool.next_slab, kMaxSlab);
    }
    base = pool.fresh;
    if (::mprotect(base, page, PROT_NONE) != 0) throw std::bad_alloc();  // its guard page
    pool.fresh += size;
  }
  boost::context::stack_context s;
  s.size = size;
  s.sp = base + size;
  return s;
}

void free_fiber_stack(boost::context::stack_context& stack) {
  if (stack.sp == nullptr) return;
  char* base = static_cast<char*>(stack.sp) - stack.size;
  // Frames left on it when its fiber was dropped must not poison its next fiber's.
  asan_unpoison(base, stack.size);
  stacks().by_size[stack.size].free.push_back(base);
  stack = {};
}

}  // namespace quiesce
