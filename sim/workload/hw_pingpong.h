#pragma once
// The hardware microbenchmark: for each distance the platform has (same cluster, same
// socket, cross-socket), one pair of cores passes a token through a CAS on a shared line
// (like the core-to-core latency tools people run on real machines), then bounces an IPI.
// Pairs run one after another so they do not disturb each other. Runs bare-metal: no
// kernel, one harness thread per core.
#include "sim/workload/workload.h"

namespace quiesce {

struct HwPingpongParams : ParamGroup {
  HwPingpongParams() : ParamGroup("", "hw_pingpong: CAS and IPI ping-pong per core distance") {
    rounds.range(1, 1e6);
    ipi_rounds.range(0, 1e6);
    first_cpu.range(0, 255);
  }
  Param<std::string> task{this, "task", "hw_pingpong", "workload type"};
  Param<int64_t> rounds{this, "rounds", "200", "CAS round trips per pair"};
  Param<int64_t> ipi_rounds{this, "ipi_rounds", "50", "IPI round trips per pair"};
  Param<int64_t> first_cpu{this, "first_cpu", "0", "the CPU every pair starts from"};
};

WorkloadType hw_pingpong_type();

}  // namespace quiesce
