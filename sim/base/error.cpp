#include "sim/base/error.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "sim/base/internal/utf8.h"

namespace quiesce {
namespace {

// The longest where, key path and message a ConfigError carries (bytes of user text).
constexpr size_t kMaxWhere = 300;
constexpr size_t kMaxPath = 200;
constexpr size_t kMaxMessage = 600;

// Appends the escaped form of the code point (or stray byte) at text[i]; returns how many
// bytes of text it covers.
size_t escape_one(std::string_view text, size_t i, std::string* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  uint32_t cp = 0;
  const size_t len = internal::decode_utf8(s + i, text.size() - i, &cp);
  char buf[16];
  if (len == 0 || cp < 0x20 || cp == 0x7F) {
    if (cp == '\n' && len) *out += "\\n";
    else if (cp == '\t' && len) *out += "\\t";
    else if (cp == '\r' && len) *out += "\\r";
    else {
      std::snprintf(buf, sizeof buf, "\\x%02X", s[i]);
      *out += buf;
    }
    return len ? len : 1;
  }
  if ((cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029) {  // C1 controls, line breaks
    std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
    *out += buf;
  } else {
    out->append(text.substr(i, len));
  }
  return len;
}

bool continuation(std::string_view text, size_t i) {
  return i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
}

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
    : std::runtime_error(
          render(printable(where, kMaxWhere), printable(path, kMaxPath), printable(message, kMaxMessage))),
      where_(printable(where, kMaxWhere)),
      path_(printable(path, kMaxPath)),
      message_(printable(message, kMaxMessage)) {}

std::string printable(std::string_view text, size_t max_bytes) {
  // The bound is on what is printed: escaping makes a stray byte four (\xNN), so text
  // that fits in max_bytes may still be elided. Escape until the text ends or the output
  // passes the bound, remembering how much of it fits the head's share: when elided, the
  // output keeps that start and the end (where a message's closing quote and hint are).
  const size_t head_budget = max_bytes * 2 / 3, tail_budget = max_bytes - head_budget;
  std::string out;
  size_t i = 0, head = 0, head_out = 0;
  while (i < text.size() && out.size() <= max_bytes) {
    i += escape_one(text, i, &out);
    if (out.size() <= head_budget) {
      head = i;
      head_out = out.size();
    }
  }
  if (i == text.size() && out.size() <= max_bytes) return out;
  out.resize(head_out);
  size_t tail = text.size() - std::min(text.size() - head, tail_budget);
  // Not inside a character (at most 3 continuation bytes follow its first; more are strays).
  for (int k = 0; k < 3 && continuation(text, tail); ++k) ++tail;
  std::string end;
  std::vector<size_t> pieces;  // bytes of text and of escaped output, in pairs
  for (size_t j = tail; j < text.size();) {
    const size_t before = end.size();
    const size_t len = escape_one(text, j, &end);
    pieces.push_back(len);
    pieces.push_back(end.size() - before);
    j += len;
  }
  size_t drop = 0, dropped_out = 0;
  for (size_t k = 0; end.size() - dropped_out > tail_budget && k < pieces.size(); k += 2) {
    drop += pieces[k];
    dropped_out += pieces[k + 1];
  }
  tail += drop;
  out += "...(" + std::to_string(tail - head) + " bytes left out)...";
  out.append(end, dropped_out, std::string::npos);
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  // Close enough: a third of the word, at least two edits, but never the whole word.
  size_t best_d = std::min(std::max<size_t>(2, word.size() / 3) + 1, word.size());
  for (const auto& c : candidates) {
    // The distance is at least the difference in length: skip the quadratic work (a
    // megabyte-long key costs nothing).
    const size_t gap = word.size() > c.size() ? word.size() - c.size() : c.size() - word.size();
    if (gap >= best_d) continue;
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

IoError::IoError(const std::string& action, const std::string& path, int err)
    : std::runtime_error("cannot " + action + " " + printable(path, kMaxWhere) + ": " + std::strerror(err)),
      path_(path),
      errno_(err) {}

std::string valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    const size_t len = internal::decode_utf8(s + i, text.size() - i, &cp);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string utf8_tail(std::string_view text, size_t n) {
  if (text.size() <= n) return std::string(text);
  size_t from = text.size() - n;
  // Continuation bytes belong to a character that began before the cut.
  while (from < text.size() && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) ++from;
  return "..." + std::string(text.substr(from));
}

}  // namespace quiesce
