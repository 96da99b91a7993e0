#include "sim/base/error.h"

#include <algorithm>

namespace quiesce {
namespace {

std::string render(const std::string& where, const std::string& path, const std::string& msg) {
  std::string s = where.empty() ? std::string("error: ") : where + ": error: ";
  if (!path.empty()) s += "'" + path + "': ";
  return s + msg;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

ConfigError::ConfigError(std::string where, std::string path, std::string message)
    : std::runtime_error(render(where, path, message)),
      where_(std::move(where)),
      path_(std::move(path)),
      message_(std::move(message)) {}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  // Close enough: a third of the word, at least two edits, but never the whole word.
  size_t best_d = std::min(std::max<size_t>(2, word.size() / 3) + 1, word.size());
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

}  // namespace quiesce
