#pragma once
// JSON through nlohmann-json (Debian's nlohmann-json3-dev): ordered_json keeps keys in the
// order written, so the same data gives the same bytes. Numbers: integral values as
// integers, others in their shortest round-trip form, non-finite ones as null. Text that is
// not valid UTF-8 (a stderr tail cut inside a character) has the bad bytes replaced by
// U+FFFD, so a file is never malformed.
#include <nlohmann/json.hpp>

#include <string>

#include "sim/base/config.h"

namespace quiesce {

using Json = nlohmann::ordered_json;

// A number as our files write it (see above).
Json json_number(double v);
// A YAML tree as JSON: maps, lists, and scalars as strings (true/false/integers typed).
Json yaml_to_json(const YAML::Node& n);
// The document, two-space indented, with a final newline.
std::string json_text(const Json& j);

// One JSON string literal, quotes included (for writers that stream their documents).
std::string json_escape(const std::string& s);
std::string format_number(double v);  // shortest round-trip; integers without ".0"

}  // namespace quiesce
