#pragma once
// The sweep's plots: scripts/plot (matplotlib) over a sweep directory, started from an
// argument vector; skipped, saying why, when matplotlib is missing.
#include <iosfwd>
#include <string>

namespace quiesce::run_internal {

void maybe_plot(const std::string& dir, bool plot, std::ostream& human, bool quiet);

}  // namespace quiesce::run_internal
