#pragma once
// The hardware microbenchmark, measuring what published tools measure. For each distance
// the platform has (SMT siblings, each topology level, across them all), one pair of CPUs
// passes a token on a shared line: with both spinning on compare-exchange (a blind CAS
// ping-pong, as nviennot/core-to-core-latency does), then spinning on loads and CASing
// (test-and-test-and-set); printed as round trip and one-way = round trip / 2. Then the
// pair bounces an IPI (one-way = raise to handler entry). One CPU alone times an
// uncontended CAS and a ticket lock+unlock. Runs bare metal, one pair at a time: no
// kernel, one harness thread per core.
#include "sim/workload/workload.h"

namespace quiesce {

struct HwPingpongParams : ParamGroup {
  HwPingpongParams() : ParamGroup("", "hw_pingpong: CAS and IPI ping-pong per core distance") {
    rounds.range(1, 1e6);
    ipi_rounds.range(0, 1e6);
    first_cpu.range(0, 1023);
  }
  Param<std::string> task{this, "task", "hw_pingpong", "workload type"};
  Param<int64_t> rounds{this, "rounds", "200", "token round trips per pair and mode (blind CAS, load then CAS), and same-CPU operations timed"};
  Param<int64_t> ipi_rounds{this, "ipi_rounds", "50", "IPI round trips per pair"};
  Param<int64_t> first_cpu{this, "first_cpu", "0", "the CPU every pair starts from"};
};

WorkloadType hw_pingpong_type();

}  // namespace quiesce
