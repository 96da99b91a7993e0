#pragma once
// Sweeps on a Slurm cluster. `quiesce sweep S.yaml --slurm` writes a self-contained job
// directory under DIR/slurm/ (task.sh runs one shard with `quiesce sweep --shard K/N`,
// merge.sh runs `quiesce merge`, submit.sh holds the sbatch commands, manifest.json the
// shard plan and the job ids) and submits: job arrays whose tasks each run one shard into
// the same DIR (split into several arrays past the cluster's MaxArraySize), and a merge job
// that depends on all of them (afterok). --dry-run writes and prints the scripts only.
// --resume resubmits just the shards with missing or broken points, passing the total
// shard count explicitly. `quiesce status DIR` reports points and, for Slurm sweeps, the
// jobs' states (squeue and scontrol; no accounting database needed).
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/run/sweep.h"

namespace quiesce {

struct SlurmOptions {
  int points_per_task = 1;
  std::string partition;
  std::string time_limit;
  std::vector<std::string> sbatch_args;
  bool dry_run = false;
};

int slurm_sweep(const std::string& scenario_path, const SweepOptions& sweep,
                const SlurmOptions& slurm, std::ostream& out);
int sweep_status(const std::string& dir, std::ostream& out);
// Slurm's --time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S (or UNLIMITED/infinite).
bool valid_slurm_time(const std::string& t);

}  // namespace quiesce
