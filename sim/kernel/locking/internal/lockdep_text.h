#pragma once
// What lockdep's checks (lockdep.cpp) and its report text (lockdep_text.cpp) share: the
// usage bits and their names, and the pieces every report is written with.
#include <cstdint>
#include <string>

#include "sim/kernel/locking/lockdep.h"

namespace quiesce::kernel::lockdep_text {

constexpr uint8_t bit(Usage u) { return static_cast<uint8_t>(1u << static_cast<int>(u)); }
inline constexpr Usage kAllUsages[] = {Usage::UsedInHardirq, Usage::EnabledHardirq,
                                       Usage::UsedInSoftirq, Usage::EnabledSoftirq};
inline Usage exclusive(Usage u) { return static_cast<Usage>(static_cast<int>(u) ^ 1); }

const char* usage_str(Usage u);
// Linux's get_usage_char(): '.' never, '-' used in irq, '+' with irqs on, '?' both.
char usage_char(uint8_t usage, Usage used_in);
std::string timestamp(Time t);               // printk's "[    s.micros] "
std::string who(const LockdepContext& ctx);  // comm/pid
// print_stack_trace(trace, spaces): each frame indented by 1 + spaces.
std::string trace_lines(const LockTrace& trace, size_t spaces);
// The reports of ___might_sleep(), which is the scheduler's check, not lockdep's.
bool is_might_sleep(const std::string& kind);

}  // namespace quiesce::kernel::lockdep_text
