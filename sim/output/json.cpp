#include "sim/output/json.h"

#include <charconv>
#include <cmath>

namespace quiesce {

namespace {

// Length of the well-formed UTF-8 character at s[i] (RFC 3629's table), or 0.
size_t utf8_char_length(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

std::string valid_utf8(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_char_length(s, i);
    if (n == 0) {
      o += "\xEF\xBF\xBD";
      ++i;
    } else {
      o.append(s, i, n);
      i += n;
    }
  }
  return o;
}

std::string utf8_tail(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t from = s.size() - n;
  // Skip continuation bytes: the character they belong to began before the cut.
  for (size_t k = 0; k < 3 && from < s.size() && (static_cast<unsigned char>(s[from]) & 0xC0) == 0x80; ++k) ++from;
  return "..." + s.substr(from);
}

std::string json_escape(const std::string& text) {
  const std::string s = valid_utf8(text);
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      case '\r': o += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o + "\"";
}

std::string format_number(double v) {
  if (!std::isfinite(v)) return "null";
  if (v == std::floor(v) && std::fabs(v) < 9e15) return std::to_string(static_cast<int64_t>(v));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void JsonWriter::newline() {
  out_ << "\n";
  for (size_t i = 0; i < first_.size(); ++i) out_ << "  ";
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (first_.empty()) return;
  if (!first_.back()) out_ << ",";
  first_.back() = false;
  newline();
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_ << "{";
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_ << "}";
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_ << "[";
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_ << "]";
  return *this;
}

JsonWriter& JsonWriter::key(const std::string& k) {
  before_value();
  out_ << json_escape(k) << ": ";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(const std::string& v) {
  before_value();
  out_ << json_escape(v);
  return *this;
}

JsonWriter& JsonWriter::value(double v) {
  before_value();
  out_ << format_number(v);
  return *this;
}

JsonWriter& JsonWriter::value(int64_t v) {
  before_value();
  out_ << v;
  return *this;
}

JsonWriter& JsonWriter::value(uint64_t v) {
  before_value();
  out_ << v;
  return *this;
}

JsonWriter& JsonWriter::value(bool v) {
  before_value();
  out_ << (v ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ << "null";
  return *this;
}

JsonWriter& JsonWriter::yaml(const YAML::Node& n) {
  if (n.IsMap()) {
    begin_object();
    for (const auto& kv : n) {
      key(kv.first.IsScalar() ? kv.first.Scalar() : std::string("?"));
      yaml(kv.second);
    }
    return end_object();
  }
  if (n.IsSequence()) {
    begin_array();
    for (const auto& item : n) yaml(item);
    return end_array();
  }
  if (!n.IsDefined() || n.IsNull()) return null();
  const std::string& s = n.Scalar();
  if (s == "true" || s == "false") return value(s == "true");
  if (!s.empty() && s.size() < 16 && s.find_first_not_of("-0123456789") == std::string::npos &&
      s != "-") {
    return value(static_cast<int64_t>(std::stoll(s)));
  }
  return value(s);
}

}  // namespace quiesce
