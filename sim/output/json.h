#pragma once
// A small deterministic JSON writer: keys in the order written, numbers in their shortest
// round-trip form, two-space indentation. Same data, same bytes.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "sim/base/config.h"

namespace quiesce {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(const std::string& k);
  JsonWriter& value(const std::string& v);
  JsonWriter& value(const char* v) { return value(std::string(v)); }
  JsonWriter& value(double v);
  JsonWriter& value(int64_t v);
  JsonWriter& value(uint64_t v);
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(bool v);
  JsonWriter& null();
  // A YAML tree as JSON: maps, lists, and scalars as strings (true/false/integers typed).
  JsonWriter& yaml(const YAML::Node& n);
  std::string str() const { return out_.str() + "\n"; }

 private:
  void before_value();
  void newline();
  std::ostringstream out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// Text as valid UTF-8: each byte that does not begin a well-formed character (a tail cut
// inside one, overlong forms, surrogates) becomes U+FFFD. JSON and XML readers reject
// anything else.
std::string valid_utf8(const std::string& s);
// The last `n` bytes of `s` or fewer, starting at a character boundary, "..." before them
// when something was left out.
std::string utf8_tail(const std::string& s, size_t n);
std::string json_escape(const std::string& s);
std::string format_number(double v);  // shortest round-trip; integers without ".0"

}  // namespace quiesce
