#pragma once
// `quiesce hunt`: a directed search of the timing the simulator controls for a run that
// detects (a lockdep report or a deadlock). Each run is a child process (as a sweep's
// points are) that also records its IPIs and the windows where an interrupt would land
// inside an RCU reader with interrupts on (sim/output/timing_windows.h); readers that end
// holding a spinlock come first.
// The search then forces one IPI's end-to-end latency, a value its configured distribution
// can draw, so that it arrives inside such a window; the run is the same up to that IPI's
// send, so the aim holds, and the next run's record shows where it landed (a miss is aimed
// again from the new record; an IPI kind that lands without effect is tried last). When no
// IPI can reach a window, the next seed starts over. The first detecting run's scenario,
// `timing:` and all, is written as DIR/reproducer.yaml: a plain `quiesce run` of it
// reproduces the detection. DIR/hunt.json says what was forced and how likely it is under
// its distribution. `--target deadlock` also needs the other half of the cycle: it aims only
// at readers whose report (when it takes the last lock of the chain) meets another CPU that
// then holds that lock and goes on to take the reader's lock (the record's lock holds, the
// classes of a lockdep report's chain), and moves to the next seed when none is in reach.
// With a fixed IPI latency there is nothing to aim: hunt says so and tries seeds.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace quiesce {

struct HuntOptions {
  std::string out_dir;               // default results/<scenario name>-hunt
  uint64_t budget = 100;             // most runs, the base runs counted
  std::string target = "detection";  // detection | lockdep | deadlock
  std::optional<uint64_t> point;  // a sweep point whose values to hunt at (default: none, as `run`)
  std::optional<uint64_t> seed;   // the first seed (default the point's)
  int aims_per_seed = 8;          // aimed runs on one seed before the next seed
  bool quiet = false;
  std::vector<std::string> sets;  // --set key=value
};

// Exit code: 0 found (reproducer written), 1 not within the budget.
int run_hunt(const std::string& scenario_path, const HuntOptions& options, std::ostream& human);

}  // namespace quiesce
