#include "sim/output/json.h"

#include <charconv>
#include <cmath>

namespace quiesce {

std::string json_escape(const std::string& s) {
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
