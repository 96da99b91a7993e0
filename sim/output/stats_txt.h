#pragma once
// stats.txt: one `name value # description (unit)` a line, sorted by name. Histograms
// expand to .count .min .mean .p50 .p90 .p99 .max lines.
#include <string>

#include "sim/base/stats.h"

namespace quiesce {

std::string format_stats_txt(const StatRegistry& registry);

}  // namespace quiesce
