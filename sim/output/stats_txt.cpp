#include "sim/output/stats_txt.h"

#include <algorithm>
#include <vector>

#include "sim/base/config.h"
#include "sim/output/json.h"

namespace quiesce {

std::string format_stats_txt(const StatRegistry& registry) {
  // One line a figure (seven for a histogram), sorted by name: name, value, "# desc (unit)".
  // A line refers to its stat's description and unit rather than copying them: a 64-CPU
  // platform has 10k lines.
  struct Line {
    std::string name, value;
    const Stat* stat;
    const char* what;         // after the description ("" or ": samples", ...)
    const std::string* unit;  // the stat's own, or a histogram's count of samples
  };
  static const std::string kCount = "count";
  std::vector<Line> lines;
  for (const StatGroup* g : registry.groups()) {
    for (const Stat* s : g->stats()) {
      std::string name = join_path(g->prefix(), s->name());
      if (auto* c = dynamic_cast<const Counter*>(s)) {
        lines.push_back({name, std::to_string(c->value()), s, "", &s->unit()});
      } else if (auto* v = dynamic_cast<const Value*>(s)) {
        lines.push_back({name, format_number(v->value()), s, "", &s->unit()});
      } else if (auto* h = dynamic_cast<const Histogram*>(s)) {
        lines.push_back({name + ".count", std::to_string(h->count()), s, ": samples", &kCount});
        lines.push_back({name + ".min", std::to_string(h->min()), s, ": minimum", &s->unit()});
        lines.push_back({name + ".mean", format_number(h->mean()), s, ": mean", &s->unit()});
        lines.push_back(
            {name + ".p50", std::to_string(h->percentile(0.50)), s, ": median", &s->unit()});
        lines.push_back({name + ".p90", std::to_string(h->percentile(0.90)), s, ": 90th percentile",
                         &s->unit()});
        lines.push_back({name + ".p99", std::to_string(h->percentile(0.99)), s, ": 99th percentile",
                         &s->unit()});
        lines.push_back({name + ".max", std::to_string(h->max()), s, ": maximum", &s->unit()});
      }
    }
  }
  std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) { return a.name < b.name; });
  size_t w = 0, vw = 0;
  for (const auto& l : lines) {
    w = std::max(w, l.name.size());
    vw = std::max(vw, l.value.size());
  }
  size_t size = 0;
  for (const auto& l : lines) {
    size += w + vw + 8 + l.stat->desc().size() + std::char_traits<char>::length(l.what) +
            l.unit->size();
  }
  std::string out;
  out.reserve(size);
  for (const auto& l : lines) {
    out += l.name;
    out.append(w - l.name.size() + 1, ' ');
    out += l.value;
    out.append(vw - l.value.size() + 1, ' ');
    out += "# ";
    out += l.stat->desc();
    out += l.what;
    out += " (";
    out += *l.unit;
    out += ")\n";
  }
  return out;
}

}  // namespace quiesce
