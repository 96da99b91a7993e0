#pragma once
// The kernel's only door to the hardware. Kernel code includes this header, never sim/hw
// directly, and drives a CPU through its Core HAL: compute, loads/stores/atomics on
// simulated addresses, interrupt-flag and preempt-count changes, IPIs, the per-CPU timer
// and WFI. Every such call is an instruction boundary where interrupts may be taken.
#include "sim/hw/core/core.h"
#include "sim/hw/irq/controller.h"
#include "sim/hw/mem/memory.h"
#include "sim/hw/platform.h"

namespace quiesce::kernel {

using quiesce::Addr;
using quiesce::Core;
using quiesce::IrqAck;
using quiesce::IrqHandler;
using quiesce::IrqId;
using quiesce::IrqKind;
using quiesce::Platform;
using quiesce::Time;

// The SGIs the kernel uses, as Linux's arm64 IPI numbers.
inline constexpr IrqId kIpiReschedule = 0;
inline constexpr IrqId kIpiCallFunction = 1;
inline constexpr IrqId kIpiIrqWork = 2;
inline constexpr IrqId kIpiTimer = quiesce::kTimerPpi;
inline constexpr IrqId kFirstDeviceIrq = quiesce::kFirstSpi;

}  // namespace quiesce::kernel
