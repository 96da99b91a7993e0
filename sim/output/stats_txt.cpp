#include "sim/output/stats_txt.h"

#include <algorithm>
#include <vector>

#include "sim/base/config.h"
#include "sim/output/json.h"

namespace quiesce {

std::string format_stats_txt(const StatRegistry& registry) {
  struct Line {
    std::string name, value, desc, unit;
  };
  std::vector<Line> lines;
  for (const StatGroup* g : registry.groups()) {
    for (const Stat* s : g->stats()) {
      std::string name = join_path(g->prefix(), s->name());
      if (auto* c = dynamic_cast<const Counter*>(s)) {
        lines.push_back({name, std::to_string(c->value()), s->desc(), s->unit()});
      } else if (auto* v = dynamic_cast<const Value*>(s)) {
        lines.push_back({name, format_number(v->value()), s->desc(), s->unit()});
      } else if (auto* h = dynamic_cast<const Histogram*>(s)) {
        lines.push_back({name + ".count", std::to_string(h->count()), s->desc() + ": samples", "count"});
        lines.push_back({name + ".min", std::to_string(h->min()), s->desc() + ": minimum", s->unit()});
        lines.push_back({name + ".mean", format_number(h->mean()), s->desc() + ": mean", s->unit()});
        lines.push_back({name + ".p50", std::to_string(h->percentile(0.50)), s->desc() + ": median", s->unit()});
        lines.push_back({name + ".p90", std::to_string(h->percentile(0.90)), s->desc() + ": 90th percentile", s->unit()});
        lines.push_back({name + ".p99", std::to_string(h->percentile(0.99)), s->desc() + ": 99th percentile", s->unit()});
        lines.push_back({name + ".max", std::to_string(h->max()), s->desc() + ": maximum", s->unit()});
      }
    }
  }
  std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) { return a.name < b.name; });
  size_t w = 0, vw = 0;
  for (const auto& l : lines) {
    w = std::max(w, l.name.size());
    vw = std::max(vw, l.value.size());
  }
  std::string out;
  for (const auto& l : lines) {
    out += l.name + std::string(w - l.name.size() + 1, ' ') + l.value + std::string(vw - l.value.size() + 1, ' ') +
           "# " + l.desc + " (" + l.unit + ")\n";
  }
  return out;
}

}  // namespace quiesce
