#pragma once
// `quiesce explain POINT_DIR`: a readable account of one point from its files: how it
// ended (the deadlock's chain, which CPU held what since when and where, the interrupt that
// opened the window), what lockdep reported first and through which lock classes, the
// longest irq-off section, and the trace lines around the end when the directory has a
// trace (trace.txt or trace.json, from run --trace).
#include <iosfwd>
#include <string>

namespace quiesce {

// Returns the exit code: 0, or 2 when the directory is not a point's.
int explain_point(const std::string& dir, std::ostream& out);

}  // namespace quiesce
