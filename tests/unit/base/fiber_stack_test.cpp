// Fiber stacks (sim/base/fiber_stack.h): Boost.Context's layout, a guard page that faults,
// and reuse of a stack given back instead of a new mapping.
#include "sim/base/fiber_stack.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

namespace quiesce {
namespace {

const size_t kPage = static_cast<size_t>(::sysconf(_SC_PAGESIZE));

char* base_of(const boost::context::stack_context& s) { return static_cast<char*>(s.sp) - s.size; }

TEST(FiberStack, WholePagesAndAGuardPageAsBoostLaysThemOut) {
  boost::context::stack_context s = allocate_fiber_stack(10000);
  EXPECT_EQ(s.size, 4 * kPage) << "10000 bytes: 3 pages of 4 KiB, and the guard page";
  EXPECT_EQ(reinterpret_cast<uintptr_t>(base_of(s)) % kPage, 0u);
  // Every usable byte can be written, from the top down to the page above the guard.
  char* top = static_cast<char*>(s.sp);
  std::fill(base_of(s) + kPage, top, char{0x5a});
  EXPECT_EQ(top[-1], 0x5a);
  free_fiber_stack(s);
  EXPECT_EQ(s.sp, nullptr) << "given back: cleared";
  free_fiber_stack(s);  // an empty one is ignored
}

TEST(FiberStackDeathTest, WritingIntoTheGuardPageFaults) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  boost::context::stack_context s = allocate_fiber_stack(kPage);
  volatile char* guard = base_of(s) + kPage - 1;
  EXPECT_DEATH(*guard = 1, "");
  free_fiber_stack(s);
}

TEST(FiberStack, AStackGivenBackIsTheNextOneOfItsSize) {
  boost::context::stack_context a = allocate_fiber_stack(64 * 1024);
  char* const at = base_of(a);
  free_fiber_stack(a);
  boost::context::stack_context other_size = allocate_fiber_stack(32 * 1024);
  EXPECT_NE(base_of(other_size), at) << "sizes do not mix";
  boost::context::stack_context b = allocate_fiber_stack(64 * 1024);
  EXPECT_EQ(base_of(b), at) << "reused, not mapped again";
  free_fiber_stack(b);
  free_fiber_stack(other_size);
}

TEST(FiberStack, StacksHandedOutTogetherNeverOverlap) {
  constexpr size_t kBytes = 16 * 1024;
  std::vector<boost::context::stack_context> live;
  for (int i = 0; i < 600; ++i) live.push_back(allocate_fiber_stack(kBytes));  // several slabs
  std::set<uintptr_t> bases;
  for (const auto& s : live) bases.insert(reinterpret_cast<uintptr_t>(base_of(s)));
  ASSERT_EQ(bases.size(), live.size());
  for (auto it = bases.begin(); std::next(it) != bases.end(); ++it) {
    EXPECT_GE(*std::next(it) - *it, live.front().size);
  }
  for (auto& s : live) free_fiber_stack(s);
}

}  // namespace
}  // namespace quiesce
