#include "sim/run/internal/plot.h"

#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <vector>

#include "sim/hw/platform.h"
#include "sim/run/internal/spawn.h"

namespace fs = std::filesystem;

namespace quiesce::run_internal {
namespace {

std::string source_root() {
  if (const char* root = std::getenv("QUIESCE_ROOT")) return root;
  return fs::path(platforms_dir()).parent_path().string();
}

// Runs argv (no shell): stdout to /dev/null, stderr to `stderr_path`. Whether it exited 0.
bool run_quietly(const std::vector<std::string>& argv, const std::string& stderr_path = "/dev/null") {
  return run_argv(argv, nullptr, stderr_path) == 0;
}

}  // namespace

void maybe_plot(const std::string& dir, bool plot, std::ostream& human, bool quiet) {
  if (!plot) return;
  const std::string script = source_root() + "/scripts/plot";
  std::error_code ec;
  if (!fs::exists(script, ec)) return;
  // Debian's matplotlib belongs to /usr/bin/python3, which may not be the python3 on PATH;
  // scripts/plot finds it either way.
  if (!run_quietly({"python3", "-c", "import matplotlib"}) &&
      !run_quietly({"/usr/bin/python3", "-c", "import matplotlib"})) {
    if (!quiet) human << "plots skipped: python3-matplotlib is not installed (scripts/plot " << dir << " makes them)\n";
    return;
  }
  if (run_quietly({script, dir}, dir + "/plot.stderr")) {
    fs::remove(dir + "/plot.stderr", ec);
    if (!quiet) human << "plots written by scripts/plot (listed in " << dir << "/plots.txt)\n";
  } else if (!quiet) {
    human << "scripts/plot failed; see " << dir << "/plot.stderr\n";
  }
}

}  // namespace quiesce::run_internal
