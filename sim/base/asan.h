#pragma once
// Telling AddressSanitizer about stack switches it cannot see (the kernel model switches
// task stacks on a CPU's SystemC thread). No-ops in builds without ASan.
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define QUIESCE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QUIESCE_ASAN 1
#endif
#endif

#ifdef QUIESCE_ASAN
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace quiesce {

// Before switching to the stack [bottom, bottom + size): `fake` keeps this context's fake
// stack for its return (nullptr: this context never runs again).
inline void asan_start_switch([[maybe_unused]] void** fake, [[maybe_unused]] const void* bottom,
                              [[maybe_unused]] size_t size) {
#ifdef QUIESCE_ASAN
  __sanitizer_start_switch_fiber(fake, bottom, size);
#endif
}

// First thing after a switch lands: `fake` is what this context saved when it left (nullptr
// on its first run); the stack switched from comes back in `from_bottom`/`from_size`.
inline void asan_finish_switch([[maybe_unused]] void* fake, [[maybe_unused]] const void** from_bottom,
                               [[maybe_unused]] size_t* from_size) {
#ifdef QUIESCE_ASAN
  __sanitizer_finish_switch_fiber(fake, from_bottom, from_size);
#endif
}

// After a switch ASan was told of wrongly (SystemC resuming its thread knows only the
// thread's own stack): the code runs on [bottom, bottom + size).
inline void asan_on_stack([[maybe_unused]] const void* bottom, [[maybe_unused]] size_t size) {
#ifdef QUIESCE_ASAN
  if (bottom == nullptr) return;
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, bottom, size);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
}

// Back on the calling thread's own stack, e.g. once sc_start has returned: SystemC's switch
// back from its last coroutine is one ASan was not told of, and without this ASan keeps
// that coroutine's stack bounds, ignores the next throw's request to unpoison the frames it
// unwinds ("ASan is ignoring requested __asan_handle_no_return") and then reports their
// stale poison as stack-use-after-scope.
inline void asan_on_thread_stack() {
#ifdef QUIESCE_ASAN
  pthread_attr_t attr;
  if (::pthread_getattr_np(::pthread_self(), &attr) != 0) return;
  void* bottom = nullptr;
  size_t size = 0;
  const int got = ::pthread_attr_getstack(&attr, &bottom, &size);
  ::pthread_attr_destroy(&attr);
  if (got == 0) asan_on_stack(bottom, size);
#endif
}

// Memory that held a stack, before it is unmapped: stale poison must not outlive it.
inline void asan_unpoison([[maybe_unused]] const void* p, [[maybe_unused]] size_t size) {
#ifdef QUIESCE_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, size);
#endif
}

}  // namespace quiesce
