#pragma once
// Injected hardware faults, set like any platform parameter (`--set fault.ipi.loss=0.01`).
// Every fault is off by default, and a fault that is off draws no random numbers, so a run
// with every probability at 0 is the fault-free run, byte for byte.
//
// - IPIs (SGIs) may be lost, delayed by an extra distribution, or delivered twice (the
//   copy arrives a gap after the original; the receiver's handler runs again and finds
//   nothing new). Faults draw from their own RNG stream, "fault.ipi".
// - One core may stall for a window: from `fault.core.stall.at` it retires nothing and
//   takes no interrupt for `fault.core.stall.for` (an SMI, a hypervisor, a hung bus). The
//   stall starts at the core's first instruction boundary at or after `at`.
// - One device line may stick asserted from `fault.irq.stuck.at`: it raises its SPI on
//   its CPU, and again at every EOI (level-triggered), with no device event behind it.
#include "sim/base/dist.h"
#include "sim/base/params.h"

namespace quiesce {

struct FaultParams : ParamGroup {
  FaultParams() : ParamGroup("fault", "injected hardware faults (all off by default)") {
    ipi_loss.range(0, 1);
    ipi_delay_probability.range(0, 1);
    ipi_duplicate.range(0, 1);
    stall_cpu.range(-1, 1e6);
    stuck_irq.range(-1, 1e6);
    stuck_cpu.range(0, 1e6);
  }
  Param<double> ipi_loss{this, "ipi.loss", "0", "probability that an IPI is never delivered"};
  Param<double> ipi_delay_probability{
      this, "ipi.delay_probability", "0",
      "probability that an IPI is delayed by fault.ipi.delay on top of its latency"};
  Param<Distribution> ipi_delay{this, "ipi.delay", "10us",
                                "the extra delay of a delayed IPI (a distribution)"};
  Param<double> ipi_duplicate{this, "ipi.duplicate", "0",
                              "probability that an IPI is delivered twice"};
  Param<Distribution> ipi_duplicate_gap{
      this, "ipi.duplicate_gap", "2us",
      "time from an IPI's arrival to its duplicate's (a distribution)"};
  Param<int64_t> stall_cpu{this, "core.stall.cpu", "-1", "the core that stalls (-1 = none)"};
  Param<Duration> stall_at{this, "core.stall.at", "0ns", "when the stall begins"};
  Param<Duration> stall_for{this, "core.stall.for", "0ns",
                            "how long the core retires nothing and takes no interrupt"};
  Param<int64_t> stuck_irq{
      this, "irq.stuck.id", "-1",
      "interrupt id of a device line stuck asserted (an SPI: 32 is the scenario's first "
      "device; -1 = none)"};
  Param<int64_t> stuck_cpu{this, "irq.stuck.cpu", "0", "the CPU the stuck line is routed to"};
  Param<Duration> stuck_at{this, "irq.stuck.at", "0ns", "when the line sticks"};

  bool ipi_faults() const {
    return ipi_loss() > 0 || ipi_delay_probability() > 0 || ipi_duplicate() > 0;
  }
};

}  // namespace quiesce
